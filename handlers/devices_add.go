package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/devices"
	"portier/devices/nukibridge"
	"portier/i18n"
	"portier/models"
	devviews "portier/views/devices"
)

// Session keys of a bridge being added: its address and sealed token, between "connect" and
// "add chosen devices".
const (
	sessBridgeHost   = "bridge_host"
	sessBridgePort   = "bridge_port"
	sessBridgeHashed = "bridge_hashed"
	sessBridgeToken  = "bridge_token"
	sessBridgeUntil  = "bridge_until"
	bridgeAddValid   = 15 * time.Minute
)

func bridgeTokenContext(loginID int64) string { return "bridge-add:login:" + itoa(loginID) }

// DeviceNew is GET /devices/new: add a simulated bridge or connect a Nuki Bridge.
func (h *Handler) DeviceNew(c echo.Context) error {
	return h.renderAddDevices(c, http.StatusOK, devviews.Add{SimName: h.request(c).Locale.T("devices.add.sim_default_name"), Port: "8080", Hashed: true})
}

func (h *Handler) renderAddDevices(c echo.Context, status int, p devviews.Add) error {
	shell, err := h.appShell(c, "devices.add.title", "/devices")
	if err != nil {
		return err
	}
	p.App = shell
	return render(c, status, devviews.AddPage(p))
}

// DeviceSimulatedCreate is POST /devices/simulated: a simulated bridge with the demo devices.
func (h *Handler) DeviceSimulatedCreate(c echo.Context) error {
	rq := h.request(c)
	name := c.FormValue("sim_name")
	_, devs, err := h.App.AddSimulatedBridge(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, name)
	var invalid app.FieldErrors
	if errors.As(err, &invalid) {
		return h.renderAddDevices(c, http.StatusUnprocessableEntity, devviews.Add{SimName: strings.TrimSpace(name), Port: "8080", Hashed: true,
			Errors: map[string]string{"sim_name": invalid["name"]}})
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("devices.added_devices", i18n.Args{"Count": len(devs)})); err != nil {
		return err
	}
	return redirect(c, "/devices")
}

// bridgeForm is the "Connect a Nuki Bridge" form.
type bridgeForm struct {
	Host   string `form:"host"`
	Port   string `form:"port"` // as typed: the form shows it again
	Token  string `form:"token"`
	Hashed bool   `form:"hashed"` // use the hashed token (ticked: "1")
	Step   string `form:"step"`   // "token": ask the bridge for a token with its button
	port   int    // Port, checked by validate
}

func (f *bridgeForm) validate(needToken bool) map[string]string {
	errs := map[string]string{}
	f.Host = strings.TrimSpace(f.Host)
	switch {
	case f.Host == "":
		errs["host"] = "invalid.bridge_host_required"
	case len(f.Host) > 253 || strings.ContainsAny(f.Host, "/:@ ?#") && net.ParseIP(f.Host) == nil:
		errs["host"] = "invalid.bridge_host"
	}
	port, err := strconv.Atoi(strings.TrimSpace(f.Port))
	if err != nil || port < 1 || port > 65535 {
		errs["port"] = "invalid.bridge_port"
	}
	f.port = port
	f.Token = strings.TrimSpace(f.Token)
	if needToken && f.Token == "" {
		errs["token"] = "invalid.bridge_token_required"
	}
	if len(f.Token) > 100 {
		errs["token"] = "invalid.bridge_token"
	}
	return errs
}

// A failed connection from the form answers when its deadline is up, never sooner, and with
// one message whatever went wrong (the reason goes to the log): otherwise a refused connection,
// an HTTP server that is not a bridge and a host that does not answer would each look
// different, and the form would tell what listens at any local address and port. The one
// exception is a refused token (401, the bridge's answer to a wrong token or, hashed, a wrong
// clock): it is answered at once with what to fix (bridgeTokenRefused), as only something that
// speaks the Bridge HTTP API's authentication answers so, and that is what the person typed in.
const (
	// BridgeConnectDeadline bounds connecting with a token: one /list (the client's request
	// timeout is 8 s) or the retries after refused connections (0.5 + 1 + 2 s plus jitter).
	// A real bridge answers /list from its cache within a second or two.
	BridgeConnectDeadline = 10 * time.Second
	// BridgeTokenDeadline bounds asking for a token: the bridge holds /auth open for 30 s
	// while someone walks to its button, so that is how long a failure takes anyway.
	BridgeTokenDeadline = 40 * time.Second
)

// DeviceBridgeConnect is POST /devices/bridge: reach the bridge (or ask it for a token with
// its button), list what it has paired, and offer those devices. Nothing is stored yet.
func (h *Handler) DeviceBridgeConnect(c echo.Context) error {
	started := h.Now()
	rq := h.request(c)
	login, account, loc := rq.Login, rq.Account, rq.Locale
	var f bridgeForm
	if err := (&echo.DefaultBinder{}).BindBody(c, &f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	wantToken := f.Step == "token"
	p := devviews.Add{SimName: loc.T("devices.add.sim_default_name"), Host: f.Host, Port: f.Port, Hashed: f.Hashed}
	if errs := f.validate(!wantToken); len(errs) > 0 {
		p.Errors = errs
		return h.renderAddDevices(c, http.StatusUnprocessableEntity, p)
	}
	deadline := BridgeConnectDeadline
	if wantToken {
		deadline = BridgeTokenDeadline
	}
	ctx := c.Request().Context()
	ip, err := devices.ResolveBridgeHost(ctx, f.Host)
	switch {
	case errors.Is(err, devices.ErrBridgeHostNotPrivate):
		p.Errors = map[string]string{"host": "invalid.bridge_host_private"}
		return h.renderAddDevices(c, http.StatusUnprocessableEntity, p)
	case err != nil:
		return h.bridgeConnectFailed(c, p, started.Add(deadline), f.Host, f.port, err)
	}
	// From here on the checked address is dialled and kept, never the name again.
	f.Host = ip.String()
	if wantToken {
		tctx, cancel := context.WithTimeout(ctx, BridgeTokenDeadline)
		token, err := h.Devices.RequestBridgeToken(tctx, f.Host, f.port)
		cancel()
		if err != nil {
			return h.bridgeConnectFailed(c, p, started.Add(deadline), f.Host, f.port, fmt.Errorf("asking for a token: %w", err))
		}
		f.Token = token
		p.Notice = loc.T("devices.add.token_received")
	}
	pctx, cancel := context.WithTimeout(ctx, BridgeConnectDeadline)
	found, err := h.Devices.ProbeBridge(pctx, devices.BridgeAddress{Host: f.Host, Port: f.port, Token: f.Token, Hashed: f.Hashed})
	cancel()
	if errors.Is(err, nukibridge.ErrUnauthorized) {
		return h.bridgeTokenRefused(c, p, f.Host, f.port, err)
	}
	if err != nil {
		return h.bridgeConnectFailed(c, p, started.Add(deadline), f.Host, f.port, err)
	}
	sess := session(c)
	sess.Values[sessBridgeHost] = f.Host
	sess.Values[sessBridgePort] = f.port
	sess.Values[sessBridgeHashed] = f.Hashed
	sess.Values[sessBridgeToken] = h.Secrets.Seal([]byte(f.Token), bridgeTokenContext(login.ID))
	sess.Values[sessBridgeUntil] = h.Now().Add(bridgeAddValid).Unix()
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	p.FoundHost = f.Host
	p.BridgeName = "Nuki Bridge " + f.Host
	p.Found, err = h.foundDevices(ctx, account.ID, found)
	if err != nil {
		return err
	}
	return h.renderAddDevices(c, http.StatusOK, p)
}

// bridgeConnectFailed logs why a bridge could not be used and, no sooner than notBefore, answers
// with the one message every such failure gets.
func (h *Handler) bridgeConnectFailed(c echo.Context, p devviews.Add, notBefore time.Time, host string, port int, err error) error {
	h.Log.Warn("connecting a Nuki Bridge failed", "host", host, "port", port, "err", err)
	if wait := notBefore.Sub(h.Now()); wait > 0 {
		h.sleep(c.Request().Context(), wait)
	}
	p.FoundHost, p.Notice = "", ""
	p.FormError = h.request(c).Locale.T("devices.add.err_connect")
	return h.renderAddDevices(c, http.StatusBadGateway, p)
}

// bridgeTokenRefused answers a bridge that refused the token (401), at once and with 422: the
// token is the form's input to correct. A refused hashed token from a bridge whose clock is off
// (the Date header of its answer) names the clock instead, as the token may well be right.
func (h *Handler) bridgeTokenRefused(c echo.Context, p devviews.Add, host string, port int, err error) error {
	h.Log.Warn("connecting a Nuki Bridge failed", "host", host, "port", port, "err", err)
	loc := h.request(c).Locale
	p.FoundHost, p.Notice = "", ""
	p.FormError = loc.T("devices.add.err_token_refused")
	var skew *nukibridge.ClockSkewError
	if errors.As(err, &skew) {
		p.FormError = clockSkewText(loc, skew, "devices.clock_behind", "devices.clock_ahead") + " " + loc.T("devices.add.err_clock_hint")
	}
	return h.renderAddDevices(c, http.StatusUnprocessableEntity, p)
}

// foundDevices marks which of a bridge's devices the account already has.
func (h *Handler) foundDevices(ctx context.Context, accountID int64, found []nukibridge.Device) ([]devviews.Found, error) {
	have, err := h.Store.FindDevices(ctx, accountID, "name")
	if err != nil {
		return nil, err
	}
	var out []devviews.Found
	for _, d := range found {
		t := models.DeviceType(d.DeviceType)
		if !t.Valid() {
			continue
		}
		f := devviews.Found{Key: fmt.Sprintf("%d:%d", d.DeviceType, d.NukiID), Name: d.Name, KindKey: t.LabelKey()}
		for _, x := range have {
			if x.Type == t && x.NukiID == d.NukiID {
				f.Added = true
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// DeviceBridgeAdd is POST /devices/bridge/add: store the bridge with the chosen devices.
func (h *Handler) DeviceBridgeAdd(c echo.Context) error {
	started := h.Now()
	rq := h.request(c)
	login, account, loc := rq.Login, rq.Account, rq.Locale
	sess := session(c)
	host, _ := sess.Values[sessBridgeHost].(string)
	port, _ := sess.Values[sessBridgePort].(int)
	hashed, _ := sess.Values[sessBridgeHashed].(bool)
	sealed, _ := sess.Values[sessBridgeToken].([]byte)
	until, _ := sess.Values[sessBridgeUntil].(int64)
	token, err := h.Secrets.Open(sealed, bridgeTokenContext(login.ID))
	if host == "" || err != nil || h.Now().Unix() > until {
		p := devviews.Add{SimName: loc.T("devices.add.sim_default_name"), Port: "8080", Hashed: true, FormError: loc.T("devices.add.err_expired")}
		return h.renderAddDevices(c, http.StatusUnprocessableEntity, p)
	}
	addr := devices.BridgeAddress{Host: host, Port: port, Token: string(token), Hashed: hashed}
	p := devviews.Add{SimName: loc.T("devices.add.sim_default_name"), Host: host, Port: strconv.Itoa(port), Hashed: hashed, FoundHost: host,
		BridgeName: strings.TrimSpace(c.FormValue("bridge_name")), Errors: map[string]string{}}
	ctx := c.Request().Context()
	pctx, cancel := context.WithTimeout(ctx, BridgeConnectDeadline)
	found, err := h.Devices.ProbeBridge(pctx, addr)
	cancel()
	if errors.Is(err, nukibridge.ErrUnauthorized) {
		return h.bridgeTokenRefused(c, p, host, port, err)
	}
	if err != nil {
		return h.bridgeConnectFailed(c, p, started.Add(BridgeConnectDeadline), host, port, err)
	}
	if p.Found, err = h.foundDevices(ctx, account.ID, found); err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, k := range c.Request().Form["device"] {
		chosen[k] = true
	}
	var pick []nukibridge.Device
	for i, d := range found {
		if chosen[fmt.Sprintf("%d:%d", d.DeviceType, d.NukiID)] && !p.Found[i].Added && models.DeviceType(d.DeviceType).Valid() {
			pick = append(pick, d)
		}
	}
	_, devs, err := h.App.AddNukiBridge(ctx, models.SessionOperator(rq.Login), rq.Actor, p.BridgeName, addr, pick)
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		if key, ok := invalid["name"]; ok {
			p.Errors["bridge_name"] = key
		}
		if key, ok := invalid["devices"]; ok {
			p.Errors["devices"] = key
		}
		return h.renderAddDevices(c, http.StatusUnprocessableEntity, p)
	case errors.As(err, &conflict):
		p.FormError = loc.T(conflict.Key)
		return h.renderAddDevices(c, http.StatusConflict, p)
	case err != nil:
		return err
	}
	for _, k := range []string{sessBridgeHost, sessBridgePort, sessBridgeHashed, sessBridgeToken, sessBridgeUntil} {
		delete(sess.Values, k)
	}
	sess.Values[sessFlash] = loc.T("devices.added_devices", i18n.Args{"Count": len(devs)})
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return redirect(c, "/devices")
}
