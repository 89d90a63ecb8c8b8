package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/devices"
	"portier/i18n"
	"portier/models"
	keyviews "portier/views/webkey"
)

// The web key (PRODUCT.md U6): a person who accepted an invitation operates the devices their
// permissions allow, only while they allow it. The page offers buttons only then, and every
// action checks everything again on the server (webKeyCheck): the page is never trusted.
//
// Lock actions of a web key are logged with origin "web" (the activity table's CHECK allows
// device, web and api; a new origin would need a table rebuild) and the person's name and login.

// webKeyActions are the actions a web key offers: a smart lock's unlock, lock and unlatch; an
// opener's open; a box's open. Lock 'n' go and the opener's modes stay with the admins.
func webKeyActions(t models.DeviceType) []models.LockAction {
	switch t {
	case models.DeviceOpener:
		return []models.LockAction{models.ActionOpenerOpen}
	case models.DeviceBox:
		return []models.LockAction{models.ActionBoxOpen}
	}
	var out []models.LockAction
	for _, a := range []models.LockAction{models.ActionUnlock, models.ActionLock, models.ActionUnlatch} {
		if models.HasAction(t, a) {
			out = append(out, a)
		}
	}
	return out
}

// keyDevice is a device of a web key with the holder's permission on it, checked at one time.
type keyDevice struct {
	device models.Device
	auth   models.Authorization
	// person is whose permission it is: the holder, or the resident of a further unit they hold.
	person models.AccountUser
	zone   *time.Location
	// refusal is why no action may run now: a message key, "" when one may.
	refusal string
}

// Why a web key may not act (message keys).
const (
	keyNoPermission = "webkey.refused.no_permission"
	keyDeactivated  = "webkey.refused.deactivated"
	keySuspended    = "webkey.refused.suspended"
	keyNoRemote     = "webkey.refused.no_remote"
	keyNotNow       = "webkey.refused.not_now"
)

// webKeyRefusal says why permission a allows no action at now in zone ("" when it allows one).
func webKeyRefusal(a models.Authorization, now time.Time, zone *time.Location) string {
	switch {
	case a.Type != models.AuthTypeApp || a.RevokedAt != nil:
		return keyNoPermission
	case a.SuspendedUntil != nil && now.Before(*a.SuspendedUntil):
		return keySuspended
	case !a.Enabled:
		return keyDeactivated
	case !a.RemoteAllowed:
		return keyNoRemote
	case !a.AllowedAt(now, zone):
		return keyNotNow
	}
	return ""
}

// webKeyDevices returns, by device name, the devices of the holder's permissions checked at now.
// With listed, only those a web key lists (app permissions, not revoked, on, not suspended,
// remote access allowed): restrictions decide only whether actions are offered now. Without,
// every app permission of the holder comes back, for webKeyCheck to say what is wrong. A
// resident who redeemed several units holds a person of each (Store.FindKeyHoldings), possibly
// in several accounts: their devices come together.
func (h *Handler) webKeyDevices(ctx context.Context, login models.Login, now time.Time, listed bool) ([]keyDevice, error) {
	holdings, err := h.Store.FindKeyHoldings(ctx, login)
	if err != nil {
		return nil, err
	}
	var out []keyDevice
	seen := map[int64]int{} // device id → index in out
	for _, k := range holdings {
		devs, err := h.keyHoldingDevices(ctx, k, now, listed)
		if err != nil {
			return nil, err
		}
		for _, d := range devs {
			// Two units of one address open the same doors: the permission that allows wins.
			if i, ok := seen[d.device.ID]; ok {
				if out[i].refusal != "" && d.refusal == "" {
					out[i] = d
				}
				continue
			}
			seen[d.device.ID] = len(out)
			out = append(out, d)
		}
	}
	if len(holdings) > 1 {
		slices.SortStableFunc(out, func(a, b keyDevice) int {
			return strings.Compare(models.NameKey(a.device.Name), models.NameKey(b.device.Name))
		})
	}
	return out, nil
}

// keyHoldingDevices is webKeyDevices for one person the web key holds.
func (h *Handler) keyHoldingDevices(ctx context.Context, k models.KeyHolding, now time.Time, listed bool) ([]keyDevice, error) {
	// Merged into someone else since the invitation: the permissions are that person's now.
	person, err := h.Store.FindPerson(ctx, k.AccountID, k.PersonID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	auths, err := h.Store.FindUserAuthorizations(ctx, k.AccountID, person.ID)
	if err != nil {
		return nil, err
	}
	devs, err := h.Store.FindDevices(ctx, k.AccountID, db.SortByName)
	if err != nil {
		return nil, err
	}
	fallback := time.UTC
	if owner, err := h.Store.FindMainLogin(ctx, k.AccountID); err == nil {
		if loc, err := time.LoadLocation(owner.TimeZone); err == nil {
			fallback = loc
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	zones, err := h.Store.FindDeviceZones(ctx, k.AccountID, fallback)
	if err != nil {
		return nil, err
	}
	var out []keyDevice
	for _, d := range devs {
		var best *keyDevice
		for _, a := range auths {
			if a.DeviceID != d.ID || a.Type != models.AuthTypeApp || a.RevokedAt != nil {
				continue
			}
			k := keyDevice{device: d, auth: a, person: person, zone: zones[d.ID], refusal: webKeyRefusal(a, now, zones[d.ID])}
			if listed && (k.refusal != "" && k.refusal != keyNotNow) {
				continue
			}
			// One device, two permissions (people merged): the one that allows wins.
			if best == nil || best.refusal != "" && k.refusal == "" {
				best = &k
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	}
	return out, nil
}

// webKeyCheck finds device id among the holder's permissions and says whether an action may run
// on it now: "" or the message key of why not. A device of another account, one without a
// permission or with a revoked one is keyNoPermission.
func (h *Handler) webKeyCheck(ctx context.Context, login models.Login, id int64, now time.Time) (keyDevice, error) {
	all, err := h.webKeyDevices(ctx, login, now, false)
	if err != nil {
		return keyDevice{}, err
	}
	for _, k := range all {
		if k.device.ID == id {
			return k, nil
		}
	}
	return keyDevice{refusal: keyNoPermission}, nil
}

// refusalText is a refusal in words, with the restrictions in the device's time.
func (h *Handler) refusalText(loc *i18n.Locale, k keyDevice, now time.Time) string {
	switch k.refusal {
	case keySuspended:
		return loc.T(keySuspended, i18n.Args{"When": loc.DateTime(*k.auth.SuspendedUntil)})
	case keyNotNow:
		dev := deviceLocale(loc, k.zone)
		text := loc.T(keyNotNow, i18n.Args{"Allowed": restrictionsIn(dev, k.auth.Restrictions), "Zone": dev.ZoneName()})
		if next, ok := k.auth.NextChange(now, k.zone); ok {
			text += " " + loc.T("webkey.next_from", i18n.Args{"When": dev.DateTime(next)})
		}
		return text
	}
	return loc.T(k.refusal)
}

// deviceLocale is the viewer's language with a device's time zone.
func deviceLocale(loc *i18n.Locale, zone *time.Location) *i18n.Locale {
	if zone == nil {
		zone = time.UTC
	}
	return i18n.New(loc.Lang, zone.String())
}

// keyList builds the refreshing part of the web key. confirm asks about one action of one device.
func (h *Handler) keyList(rq request, confirmDevice int64, confirm models.LockAction) (keyviews.List, error) {
	ctx, loc, login := rq.Ctx, rq.Locale, rq.Login
	now := h.Now()
	holdings, err := h.Store.FindKeyHoldings(ctx, login)
	if err != nil {
		return keyviews.List{}, err
	}
	// The list changes with the devices (of every account the key opens in) and, for
	// restrictions, with the minute.
	version := strconv.FormatInt(now.Unix()/60, 10)
	for _, k := range holdings {
		version += fmt.Sprintf(".%d", h.Devices.Version(k.AccountID))
	}
	l := keyviews.List{Version: version}
	list, err := h.webKeyDevices(ctx, login, now, true)
	if err != nil {
		return l, err
	}
	for _, k := range list {
		s := h.deviceSummary(k.device)
		d := keyviews.Device{ID: k.device.ID, Name: k.device.Name, KindKey: s.KindKey, StateKey: s.StateKey, StateClass: s.StateClass, Online: s.Online}
		if s.ModeKey != "" {
			d.StateKey = s.ModeKey
		}
		if !k.auth.Unrestricted() {
			dev := deviceLocale(loc, k.zone)
			d.When = loc.T("webkey.allowed", i18n.Args{"Allowed": restrictionsIn(dev, k.auth.Restrictions), "Zone": dev.ZoneName()})
		}
		caps, running := h.Devices.Capabilities(k.device.ConnectionID)
		switch {
		case k.refusal != "":
			d.NotNow = h.refusalText(loc, k, now)
			d.When = ""
		case !running:
			d.NotNow = loc.T("devices.not_connected")
		case !caps.Actions:
			d.NotNow = loc.T("devices.not_capable")
		default:
			for _, a := range webKeyActions(k.device.Type) {
				d.Actions = append(d.Actions, keyviews.Action{Value: int(a), LabelKey: models.ActionLabelKey(k.device.Type, a),
					OpensDoor: models.OpensDoor(k.device.Type, a)})
				if k.device.ID == confirmDevice && a == confirm && models.OpensDoor(k.device.Type, a) {
					d.Confirm = &keyviews.Action{Value: int(a), LabelKey: models.ActionLabelKey(k.device.Type, a), OpensDoor: true}
				}
			}
		}
		if st, ok := h.Devices.Action(k.device.ID); ok {
			if st.Pending {
				d.PendingKey = models.ActionLabelKey(k.device.Type, st.Action)
			} else if now.Sub(st.EndedAt) < outcomeShownFor {
				d.Outcome, d.OutcomeOK = "devices.outcome."+string(st.Outcome), st.Outcome == devices.OutcomeOK
			}
		}
		l.Devices = append(l.Devices, d)
	}
	return l, nil
}

// keyShell is what every web key page shows around its content.
func (h *Handler) keyShell(c echo.Context, titleKey string) (keyviews.Shell, error) {
	rq := h.request(c)
	flash, err := h.takeFlash(c)
	if err != nil {
		return keyviews.Shell{}, err
	}
	return keyviews.Shell{Title: rq.Locale.T(titleKey), Name: rq.Login.Name, Email: rq.Login.Email, AccountName: rq.Account.Name, Flash: flash,
		Admin: !rq.Login.WebKey()}, nil
}

func (h *Handler) renderKey(c echo.Context, status int, confirmDevice int64, confirm models.LockAction, message string) error {
	rq := h.request(c)
	list, err := h.keyList(rq, confirmDevice, confirm)
	if err != nil {
		return err
	}
	shell, err := h.keyShell(c, "webkey.title")
	if err != nil {
		return err
	}
	units, err := h.unitsInLog(rq)
	if err != nil {
		return err
	}
	return render(c, status, keyviews.KeyPage(keyviews.Page{Shell: shell, List: list, Message: message, Family: h.familyLink(c), Units: units}))
}

// unitsInLog says, for a resident's web key, whether the manager's activity log names each of
// their units: residents were promised anonymity, and unit names often carry surnames.
func (h *Handler) unitsInLog(rq request) ([]keyviews.UnitInLog, error) {
	ctx := rq.Ctx
	holdings, err := h.Store.FindKeyHoldings(ctx, rq.Login)
	if err != nil {
		return nil, err
	}
	var out []keyviews.UnitInLog
	for _, k := range holdings {
		units, err := h.Store.FindResidentUnitsInLog(ctx, k.AccountID, k.PersonID)
		if err != nil {
			return nil, err
		}
		for _, u := range units {
			row := keyviews.UnitInLog{Unit: u.Unit, Address: u.Address, Shown: u.Shown}
			if !u.Shown {
				row.Unit = "" // "not your unit" is said once per address
			}
			if !slices.Contains(out, row) {
				out = append(out, row)
			}
		}
	}
	return out, nil
}

// KeyShow is GET /key: the devices the person may operate. ?device=ID&confirm=N asks before an
// action that opens the door (see KeyAct).
func (h *Handler) KeyShow(c echo.Context) error {
	dev, _ := strconv.ParseInt(c.QueryParam("device"), 10, 64)
	n, _ := strconv.Atoi(c.QueryParam("confirm"))
	return h.renderKey(c, http.StatusOK, dev, models.LockAction(n), "")
}

// KeyDevices is GET /key/devices?v=V, the web key's poll: 204 while nothing changed.
func (h *Handler) KeyDevices(c echo.Context) error {
	rq := h.request(c)
	list, err := h.keyList(rq, 0, 0)
	if err != nil {
		return err
	}
	if c.QueryParam("v") == list.Version {
		return c.NoContent(http.StatusNoContent)
	}
	return render(c, http.StatusOK, keyviews.ListView(list))
}

// KeyAct is POST /key/devices/:id/actions/:action. Everything is checked again now, on the
// server: the permission exists and is one the holder holds, is on, not suspended, allows
// remote access, and its restrictions allow this minute in the device's time zone. Otherwise 403
// with why. An action that opens the door asks first ("confirm=1").
func (h *Handler) KeyAct(c echo.Context) error {
	rq := h.request(c)
	ctx, loc, login := rq.Ctx, rq.Locale, rq.Login
	now := h.Now()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		id = 0 // no such device: refused below like any other device without a permission
	}
	k, err := h.webKeyCheck(ctx, login, id, now)
	if err != nil {
		return err
	}
	if k.refusal != "" {
		h.Log.Warn("web key action refused", "login", login.ID, "device", id, "why", k.refusal)
		return h.renderKey(c, http.StatusForbidden, 0, 0, h.refusalText(loc, k, now))
	}
	n, err := strconv.Atoi(c.Param("action"))
	a := models.LockAction(n)
	if err != nil || !slices.Contains(webKeyActions(k.device.Type), a) {
		return h.renderKey(c, http.StatusUnprocessableEntity, 0, 0, loc.T("devices.action_none"))
	}
	if models.OpensDoor(k.device.Type, a) && c.FormValue("confirm") != "1" {
		// Ask on the page itself, so a reload shows the question again rather than posting twice.
		return redirect(c, fmt.Sprintf("/key?device=%d&confirm=%d", k.device.ID, a))
	}
	// The person as the admins of the device's account call them now, acting on the key (an
	// admin login's key too).
	who := rq.Actor
	who.Name, who.Resident, who.Origin = k.person.Name, k.person.Resident(), models.ActorWebKey
	// The web key's checks above are what let the holder open this device now.
	switch err := h.App.RequestLockAction(ctx, models.WebKeyOperator(login, []int64{k.device.ID}), who, k.device.ID, a); {
	case errors.Is(err, devices.ErrActionPending):
		return h.renderKey(c, http.StatusLocked, 0, 0, loc.T("devices.action_pending"))
	case errors.Is(err, devices.ErrNotConnected):
		return h.renderKey(c, http.StatusConflict, 0, 0, loc.T("devices.not_connected"))
	case errors.Is(err, devices.ErrNotCapable):
		return h.renderKey(c, http.StatusConflict, 0, 0, loc.T("devices.not_capable"))
	case err != nil:
		return err
	}
	return redirect(c, "/key")
}

// KeyPasswordShow is GET /key/password. An admin login that holds a key changes its password
// in its settings, with everything else about the login.
func (h *Handler) KeyPasswordShow(c echo.Context) error {
	if !h.request(c).Login.WebKey() {
		return redirect(c, "/settings/account")
	}
	return h.renderKeyPassword(c, http.StatusOK, nil)
}

func (h *Handler) renderKeyPassword(c echo.Context, status int, errs map[string]string) error {
	shell, err := h.keyShell(c, "webkey.change_password")
	if err != nil {
		return err
	}
	return render(c, status, keyviews.PasswordPage(keyviews.Password{Shell: shell, Errors: errs}))
}

// KeyPasswordUpdate is POST /key/password: the current password (throttled like every
// "current password" field), the new one twice; the holder's other sessions end.
func (h *Handler) KeyPasswordUpdate(c echo.Context) error {
	rq := h.request(c)
	if !rq.Login.WebKey() {
		return echo.NewHTTPError(http.StatusForbidden, "webkey.password_in_settings")
	}
	again := c.FormValue("password_confirm")
	err := h.App.ChangePassword(rq.Ctx, rq.Actor, rq.Login,
		app.PasswordChange{Current: c.FormValue("current_password"), New: c.FormValue("new_password"), Repeat: &again}, currentSessionHash(c))
	if errs, ok := formErrors(err, nil); ok {
		return h.renderKeyPassword(c, http.StatusUnprocessableEntity, errs)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("settings.password.changed")); err != nil {
		return err
	}
	return redirect(c, "/key")
}
