package handlers

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/i18n"
	"portier/models"
	boxviews "portier/views/boxes"
)

// Set up Nuki Box and Manage Nuki Box (PRODUCT.md B1), for box accounts.

// boxPINContext seals a PIN typed in the wizard's third step until its last: only the same login
// can open it, and only as a box PIN.
func boxPINContext(loginID int64) string { return "box-pin:login:" + strconv.FormatInt(loginID, 10) }

// BoxNew is GET /boxes/new: the wizard's first step.
func (h *Handler) BoxNew(c echo.Context) error {
	return h.renderWizard(c, http.StatusOK, boxviews.Wizard{Step: 1, Keypad: true})
}

func (h *Handler) renderWizard(c echo.Context, status int, p boxviews.Wizard) error {
	shell, err := h.appShell(c, "boxes.setup_title", "/boxes/new")
	if err != nil {
		return err
	}
	p.App = shell
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	return render(c, status, boxviews.WizardPage(p))
}

// BoxWizard is POST /boxes/new: checks the step's answers and shows the next step, or the same
// step with what is wrong; "back" goes one step back. The last step makes the box and ends on
// its page.
func (h *Handler) BoxWizard(c echo.Context) error {
	rq := h.request(c)
	ctx, loc, login := rq.Ctx, rq.Locale, rq.Login
	step, err := strconv.Atoi(c.FormValue("step"))
	if err != nil || step < 1 || step > 4 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "boxes.bad_step")
	}
	p := boxviews.Wizard{Step: step, Name: strings.Join(strings.Fields(c.FormValue("name")), " "), Location: c.FormValue("location"),
		Latitude: c.FormValue("latitude"), Longitude: c.FormValue("longitude"), PINSealed: c.FormValue("pin_sealed"),
		Keypad: c.FormValue("keypad") == "1", Errors: map[string]string{}}
	if c.FormValue("back") != "" && step > 1 {
		p.Step = step - 1
		p.PINSealed = ""
		return h.renderWizard(c, http.StatusOK, p)
	}
	// Every step checks everything before it again: the hidden fields are the client's.
	if key := models.ValidateDeviceName(p.Name); key != "" {
		p.Errors["name"] = loc.T(key)
		p.Step = 1
		return h.renderWizard(c, http.StatusUnprocessableEntity, p)
	}
	if step == 1 {
		p.Step = 2
		return h.renderWizard(c, http.StatusOK, p)
	}
	where, errs := models.ParseBoxLocation(p.Location, p.Latitude, p.Longitude)
	if len(errs) > 0 {
		for f, key := range errs {
			p.Errors[f] = loc.T(key)
		}
		p.Step = 2
		return h.renderWizard(c, http.StatusUnprocessableEntity, p)
	}
	if step == 2 {
		p.Step = 3
		return h.renderWizard(c, http.StatusOK, p)
	}
	var pin string
	if step == 3 {
		pin = c.FormValue("pin")
		if key := models.ValidateBoxPIN(pin); key != "" {
			p.Errors["pin"] = loc.T(key)
		} else if pin != c.FormValue("pin_confirm") {
			p.Errors["pin_confirm"] = loc.T("boxes.pin_mismatch")
		}
		if len(p.Errors) > 0 {
			return h.renderWizard(c, http.StatusUnprocessableEntity, p)
		}
		p.Step = 4
		p.PINSealed = base64.RawURLEncoding.EncodeToString(h.Secrets.Seal([]byte(pin), boxPINContext(login.ID)))
		return h.renderWizard(c, http.StatusOK, p)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(p.PINSealed)
	var plain []byte
	if err == nil {
		plain, err = h.Secrets.Open(sealed, boxPINContext(login.ID))
	}
	if err != nil || models.ValidateBoxPIN(string(plain)) != "" {
		p.Step, p.PINSealed = 3, ""
		p.Errors["pin"] = loc.T("boxes.pin_again_please")
		return h.renderWizard(c, http.StatusUnprocessableEntity, p)
	}
	if c.FormValue("connection") != "simulated" {
		p.Errors["form"] = loc.T("boxes.connection_unavailable")
		return h.renderWizard(c, http.StatusUnprocessableEntity, p)
	}
	hash, err := h.Hasher.Hash(ctx, string(plain))
	if err != nil {
		return err
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	d, err := h.App.AddSimulatedBox(ctx, op, rq.Actor, p.Name, p.Keypad, models.BoxSetup{BoxLocation: where, PINHash: hash})
	if err != nil {
		return err
	}
	msg := loc.T("boxes.created", i18n.Args{"Name": d.Name})
	devs, err := h.Store.FindDeviceNames(ctx, rq.Account.ID)
	if err != nil {
		return err
	}
	var others []string
	for _, x := range devs {
		if x.ID != d.ID {
			others = append(others, x.Name)
		}
	}
	if models.SharesName(d.Name, others) {
		msg += " " + loc.T("boxes.same_name", i18n.Args{"Name": d.Name})
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d", d.ID))
}

// findBox reads the box :id of the account that the login sees.
func (h *Handler) findBox(c echo.Context) (models.Device, models.BoxSetup, error) {
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.Device{}, models.BoxSetup{}, errNotFound
	}
	d, err := h.visibleDevice(c, id)
	if err != nil {
		return d, models.BoxSetup{}, err
	}
	b, err := h.Store.FindBox(rq.Ctx, rq.Account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return d, b, errNotFound
	}
	return d, b, err
}

func formatCoordinate(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func (h *Handler) renderManageBox(c echo.Context, status int, d models.Device, p boxviews.Manage) error {
	shell, err := h.appShell(c, "boxes.manage_title", "/devices")
	if err != nil {
		return err
	}
	p.App, p.ID, p.Name = shell, d.ID, d.Name
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	return render(c, status, boxviews.ManagePage(p))
}

func manageFromBox(b models.BoxSetup) boxviews.Manage {
	return boxviews.Manage{Location: b.Text, Latitude: formatCoordinate(b.Latitude), Longitude: formatCoordinate(b.Longitude)}
}

// BoxManage is GET /devices/:id/box: Manage Nuki Box.
func (h *Handler) BoxManage(c echo.Context) error {
	d, b, err := h.findBox(c)
	if err != nil {
		return err
	}
	p := manageFromBox(b)
	p.LocationSet = c.QueryParam("saved") == "location"
	p.PINChanged = c.QueryParam("saved") == "pin"
	return h.renderManageBox(c, http.StatusOK, d, p)
}

// boxFieldErrors translates the refusals of a box change to the form's messages.
func boxFieldErrors(loc *i18n.Locale, invalid app.FieldErrors) map[string]string {
	errs := map[string]string{}
	for f, key := range invalid {
		errs[f] = loc.T(key)
	}
	return errs
}

// BoxLocationUpdate is POST /devices/:id/box/location.
func (h *Handler) BoxLocationUpdate(c echo.Context) error {
	rq := h.request(c)
	d, _, err := h.findBox(c)
	if err != nil {
		return err
	}
	p := boxviews.Manage{Location: c.FormValue("location"), Latitude: c.FormValue("latitude"), Longitude: c.FormValue("longitude")}
	err = h.App.UpdateBoxLocation(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID, p.Location, p.Latitude, p.Longitude)
	var invalid app.FieldErrors
	switch {
	case errors.As(err, &invalid):
		p.Errors = boxFieldErrors(rq.Locale, invalid)
		return h.renderManageBox(c, http.StatusUnprocessableEntity, d, p)
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d/box?saved=location", d.ID))
}

// BoxPINUpdate is POST /devices/:id/box/pin: a new PIN needs the old one (wrong ones are
// throttled per login, as every secret typed when signed in).
func (h *Handler) BoxPINUpdate(c echo.Context) error {
	rq := h.request(c)
	d, b, err := h.findBox(c)
	if err != nil {
		return err
	}
	p := manageFromBox(b)
	// Counted before the old PIN is checked, so concurrent posts get no more checks than the limit.
	key := "box-pin:login:" + strconv.FormatInt(rq.Login.ID, 10)
	if allowed, err := h.Store.ThrottleAttempt(rq.Ctx, db.ThrottleCheck{Key: key, Rule: models.ThrottleConfirmPerLogin}); err != nil {
		return err
	} else if !allowed {
		p.PINError = rq.Locale.T("invalid.too_many")
		return h.renderManageBox(c, http.StatusTooManyRequests, d, p)
	}
	err = h.App.ChangeBoxPIN(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID, c.FormValue("old_pin"), c.FormValue("pin"), c.FormValue("pin_confirm"))
	var invalid app.FieldErrors
	if errors.As(err, &invalid) {
		if _, wrong := invalid["old_pin"]; !wrong {
			if err := h.Store.ClearThrottle(rq.Ctx, key); err != nil {
				return err
			}
		}
		p.Errors = boxFieldErrors(rq.Locale, invalid)
		p.PINError = rq.Locale.T("error.check_fields")
		return h.renderManageBox(c, http.StatusUnprocessableEntity, d, p)
	}
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := h.Store.ClearThrottle(rq.Ctx, key); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d/box?saved=pin", d.ID))
}
