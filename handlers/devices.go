package handlers

import (
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
	actviews "portier/views/activity"
	devviews "portier/views/devices"
)

// deviceSummary turns a device into what the pages show; keys are translated by the views.
func (h *Handler) deviceSummary(d models.Device) devviews.Summary {
	s := devviews.Summary{ID: d.ID, Name: d.Name, KindKey: d.Type.LabelKey(), Online: d.Reported.Online, Favorite: d.Favorite, Kind: kindOf(d.Type)}
	st := d.Reported
	s.StateKey, s.StateClass = stateKey(d.Type, st.State)
	if d.Type == models.DeviceOpener && st.Mode == 3 {
		s.ModeKey = "devices.mode.continuous"
	}
	if st.DoorState != nil {
		s.DoorKey = doorKey(*st.DoorState)
	}
	if st.BatteryCharge != nil {
		s.Battery = fmt.Sprintf("%d %%", *st.BatteryCharge)
	}
	s.BatteryKey, s.BatteryBad = "devices.battery_ok", false
	if st.BatteryCritical {
		s.BatteryKey, s.BatteryBad = "devices.battery_critical", true
	} else if st.BatteryCharge != nil && *st.BatteryCharge <= models.BatteryLowPercent {
		s.BatteryKey, s.BatteryBad = "devices.battery_low", true
	}
	if !s.Online {
		s.StateClass = string(models.LookDanger)
	}
	if a, ok := h.Devices.Action(d.ID); ok && a.Pending {
		s.Pending = true
	}
	return s
}

// kindOf names the icon of a device type.
func kindOf(t models.DeviceType) string {
	switch t {
	case models.DeviceOpener:
		return "opener"
	case models.DeviceBox:
		return "box"
	case models.DeviceSmartDoor:
		return "door"
	}
	return "lock"
}

// stateKey names a reported state (a message key) and how it looks (models.ReportedState).
func stateKey(t models.DeviceType, state int) (string, string) {
	known, look := models.ReportedState(t, state)
	if t == models.DeviceOpener {
		return fmt.Sprintf("devices.state.opener.%d", known), string(look)
	}
	return fmt.Sprintf("devices.state.lock.%d", known), string(look)
}

func doorKey(door int) string {
	return fmt.Sprintf("devices.door.%d", models.ReportedDoorState(door))
}

// DeviceIndex is GET /devices: every device of the account as tiles or a list.
func (h *Handler) DeviceIndex(c echo.Context) error {
	p, err := h.deviceIndexProps(c)
	if err != nil {
		return err
	}
	shell, err := h.appShell(c, "devices.title", "/devices")
	if err != nil {
		return err
	}
	p.App = shell
	return render(c, http.StatusOK, devviews.IndexPage(p))
}

func (h *Handler) deviceIndexProps(c echo.Context) (devviews.Index, error) {
	rq := h.request(c)
	login, account := rq.Login, rq.Account
	p := devviews.Index{View: login.DevicesView, Sort: login.DevicesSort, Version: h.Devices.Version(account.ID),
		CanAdd: login.EffectiveRights().Has(models.RightAddDevices)}
	devs, err := h.visibleDevices(c, db.DeviceSort(login.DevicesSort))
	if err != nil {
		return p, err
	}
	operate := login.EffectiveRights().Has(models.RightOperateDevices)
	for _, d := range devs {
		s := h.deviceSummary(d)
		if caps, running := h.Devices.Capabilities(d.ConnectionID); operate && running && caps.Actions && d.Reported.Online {
			a := models.MainAction(d.Type, d.Reported)
			s.Main = &devviews.Action{Value: int(a), LabelKey: models.ActionLabelKey(d.Type, a), OpensDoor: models.OpensDoor(d.Type, a)}
		}
		p.Devices = append(p.Devices, s)
	}
	return p, nil
}

// DeviceList is GET /devices/list?v=N, the devices page's poll: 204 while nothing changed
// since version N, else the fresh list.
func (h *Handler) DeviceList(c echo.Context) error {
	if c.QueryParam("v") == strconv.FormatUint(h.Devices.Version(h.request(c).Account.ID), 10) {
		return c.NoContent(http.StatusNoContent)
	}
	p, err := h.deviceIndexProps(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, devviews.List(p))
}

// DevicesLayout is POST /devices/layout: tiles or list, sorted by name or date added,
// remembered for the login.
func (h *Handler) DevicesLayout(c echo.Context) error {
	rq := h.request(c)
	err := h.App.SetDevicesLayout(rq.Ctx, rq.Actor, rq.Login, c.FormValue("view"), db.DeviceSort(c.FormValue("sort")))
	var invalid app.FieldErrors
	if errors.As(err, &invalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	if err != nil {
		return err
	}
	return redirect(c, "/devices")
}

// findDevice loads the device named by the :id parameter of the signed-in account, if the
// login sees it (visibleDevice).
func (h *Handler) findDevice(c echo.Context) (models.Device, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.Device{}, errNotFound
	}
	return h.visibleDevice(c, id)
}

// DeviceShow is GET /devices/:id.
func (h *Handler) DeviceShow(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	p := h.devicePanel(c, d)
	// ?confirm=N: the question before an action that opens the door (see DeviceAct).
	if n, err := strconv.Atoi(c.QueryParam("confirm")); err == nil && models.HasAction(d.Type, models.LockAction(n)) && models.OpensDoor(d.Type, models.LockAction(n)) {
		a := models.LockAction(n)
		p.Confirm = &devviews.Action{Value: n, LabelKey: models.ActionLabelKey(d.Type, a), OpensDoor: true}
	}
	return h.renderDevice(c, d, http.StatusOK, p)
}

func (h *Handler) renderDevice(c echo.Context, d models.Device, status int, panel devviews.Panel) error {
	ctx := c.Request().Context()
	rq := h.request(c)
	loc, login, account := rq.Locale, rq.Login, rq.Account
	shell, err := h.appShell(c, "devices.title", "/devices")
	if err != nil {
		return err
	}
	shell.Title = d.Name
	p := devviews.Show{App: shell, Device: panel.Device, Panel: panel, CanEdit: login.EffectiveRights().Has(models.RightManageDevices)}
	if account.Kind == models.AccountBox && d.Type == models.DeviceBox && login.EffectiveRights().Has(models.RightManageDevices) {
		_, err := h.Store.FindBox(ctx, account.ID, d.ID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		p.ManageBox = err == nil // set up by the wizard: it has a PIN and a location
	}
	conn, err := h.Store.FindConnection(ctx, account.ID, d.ConnectionID)
	if err != nil {
		return err
	}
	// The Bridge HTTP API can neither read nor change a device's settings, so Manage device is
	// not offered for a bridge's devices (its page, opened anyway, says why).
	p.CanConfigure = login.EffectiveRights().Has(models.RightDeviceConfig) && len(models.ConfigSettings(d.Type)) > 0 &&
		conn.Kind != models.ConnectionNukiBridge
	p.Facts = []devviews.Fact{
		{LabelKey: "devices.connection", Value: conn.Name},
		{LabelKey: "devices.firmware", Value: d.Firmware},
	}
	if conn.Kind == models.ConnectionNukiBridge {
		p.Facts = append(p.Facts, h.bridgeFacts(loc, d)...)
	} else {
		p.Facts = append(p.Facts, devviews.Fact{LabelKey: "devices.hardware", Value: d.Hardware})
	}
	p.Facts = append(p.Facts, devviews.Fact{LabelKey: "devices.added", Value: loc.Date(d.CreatedAt)})
	if f, ok := h.updatesFact(loc, d.ConnectionID); ok {
		p.Facts = append(p.Facts, f)
	}
	if login.EffectiveRights().Has(models.RightAuthorizations) {
		perms, err := h.devicePermissions(c, d)
		if err != nil {
			return err
		}
		p.Permissions = &perms
	}
	if p.Activity, err = h.deviceActivity(c, d); err != nil {
		return err
	}
	return render(c, status, devviews.ShowPage(p))
}

// deviceActivity is the device's recent activity for its page (nil: the login may not read the
// activity log).
func (h *Handler) deviceActivity(c echo.Context, d models.Device) (*actviews.List, error) {
	rq := h.request(c)
	if !rq.Login.EffectiveRights().Has(models.RightActivityLog) {
		return nil, nil
	}
	list, err := h.embeddedLog(c, models.LogFilter{AccountID: rq.Account.ID, DeviceID: d.ID, Limit: 10}, "device", []models.Device{d})
	if err != nil {
		return nil, err
	}
	return &list, nil
}

// renderPanel answers an htmx request of the device page with its live part, and with the
// recent activity beside it (swapped out of band): an action's result shows in both at once.
func (h *Handler) renderPanel(c echo.Context, d models.Device, status int, p devviews.Panel) error {
	activity, err := h.deviceActivity(c, d)
	if err != nil {
		return err
	}
	return render(c, status, devviews.PanelUpdate(p, activity))
}

// devicePermissions is who has access to device d, for its page (PRODUCT.md D3), for a login
// that may see people (the authorizations right): each permission with its person (linked to
// their page), restrictions and whether the device holds it, as on the person's page. Residents
// of units stay anonymous (PRODUCT.md B4): their permissions are only counted.
func (h *Handler) devicePermissions(c echo.Context, d models.Device) (devviews.Permissions, error) {
	rq := h.request(c)
	p := devviews.Permissions{DeviceID: d.ID}
	auths, err := h.Store.FindDeviceAuthorizations(rq.Ctx, d.AccountID, d.ID)
	if err != nil {
		return p, err
	}
	zones, err := h.Store.FindDeviceZones(rq.Ctx, d.AccountID, rq.Locale.Zone)
	if err != nil {
		return p, err
	}
	people := map[int64]models.AccountUser{}
	residents := map[int64]bool{}
	now := h.Now()
	for _, a := range auths {
		row := devviews.Access{ID: a.ID, Person: a.Name}
		if a.AccountUserID != nil {
			u, ok := people[*a.AccountUserID]
			if !ok {
				if u, err = h.Store.FindAccountUser(rq.Ctx, d.AccountID, *a.AccountUserID); err != nil {
					return p, err
				}
				people[u.ID] = u
			}
			if u.Resident() {
				residents[u.ID] = true
				continue
			}
			row.UserID, row.Person = u.ID, u.Name
		}
		perm := permissionView(rq.Locale, a, d, zones[d.ID], now)
		row.KindKey, row.Code, row.Restrictions, row.Local = perm.KindKey, perm.Code, perm.Restrictions, perm.Local
		row.Enabled, row.Suspended = perm.Enabled, perm.Suspended
		row.StatusClass, row.StatusText, row.StatusNote = perm.Status.Class, perm.Status.Text, perm.Status.Note
		p.Rows = append(p.Rows, row)
	}
	p.Residents = len(residents)
	slices.SortStableFunc(p.Rows, func(a, b devviews.Access) int {
		return strings.Compare(strings.ToLower(a.Person), strings.ToLower(b.Person))
	})
	users, _, err := h.Store.FindUsersPage(rq.Ctx, db.UserQuery{AccountID: d.AccountID, Limit: maxPermissionChoices, NamesOnly: true})
	if err != nil {
		return p, err
	}
	for _, r := range users {
		p.People = append(p.People, devviews.Option{Value: strconv.FormatInt(r.User.ID, 10), Label: r.User.Name})
	}
	return p, nil
}

// maxPermissionChoices bounds the people offered on a device page for a new permission; beyond,
// the person's own page (Users) is the way.
const maxPermissionChoices = 500

// DevicePermissionNew is GET /devices/:id/permissions/new?user=N: the new permission form of
// person N with the device ticked.
func (h *Handler) DevicePermissionNew(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.QueryParam("user"), 10, 64)
	if err != nil {
		return errNotFound
	}
	u, err := h.Store.FindAccountUser(h.request(c).Ctx, d.AccountID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (u.Resident() || u.MergedInto != nil) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d/permissions/new?device=%d", u.ID, d.ID))
}

// devicePanel is the live part of the device page.
func (h *Handler) devicePanel(c echo.Context, d models.Device) devviews.Panel {
	rq := h.request(c)
	loc, login, account := rq.Locale, rq.Login, rq.Account
	p := devviews.Panel{Device: h.deviceSummary(d), Version: h.Devices.Version(account.ID), LastSeen: loc.T("devices.never")}
	st := d.Reported
	if st.ReportedAt != nil {
		p.LastSeen = loc.DateTime(*st.ReportedAt)
	}
	if st.BatteryCharging != nil && *st.BatteryCharging {
		p.Batteries = append(p.Batteries, devviews.Fact{LabelKey: "devices.battery", Value: loc.T("devices.charging")})
	}
	for _, acc := range []struct {
		label string
		low   *bool
	}{{"devices.keypad_battery", st.KeypadBatteryCritical}, {"devices.sensor_battery", st.DoorsensorBatteryCritical}} {
		if acc.low == nil {
			continue
		}
		f := devviews.Fact{LabelKey: acc.label, Value: loc.T("devices.battery_ok")}
		if *acc.low {
			f.Value, f.Bad = loc.T("devices.battery_critical"), true
		}
		p.Batteries = append(p.Batteries, f)
	}
	if st, ok := h.Devices.BridgeStatus(d.ConnectionID); ok && st.ClockSkew != nil {
		p.Problem = clockSkewText(loc, st.ClockSkew, "devices.clock_behind", "devices.clock_ahead")
	}
	caps, running := h.Devices.Capabilities(d.ConnectionID)
	switch {
	case !login.EffectiveRights().Has(models.RightOperateDevices):
		p.WhyNot = "devices.not_operable"
	case !running:
		p.WhyNot = "devices.not_connected"
	case !caps.Actions:
		p.WhyNot = "devices.not_capable"
	default:
		for _, a := range models.OfferedActions(d.Type, d.Reported) {
			p.Actions = append(p.Actions, devviews.Action{Value: int(a), LabelKey: models.ActionLabelKey(d.Type, a), OpensDoor: models.OpensDoor(d.Type, a)})
		}
		if len(p.Actions) == 0 {
			p.WhyNot = "devices.no_actions"
		}
	}
	if a, ok := h.Devices.Action(d.ID); ok {
		if a.Pending {
			p.PendingKey = models.ActionLabelKey(d.Type, a.Action)
		} else if h.Now().Sub(a.EndedAt) < outcomeShownFor {
			p.Outcome, p.OutcomeOK = "devices.outcome."+string(a.Outcome), a.Outcome == devices.OutcomeOK
		}
	}
	return p
}

// outcomeShownFor is how long the device page keeps showing how the last action ended.
const outcomeShownFor = 2 * time.Minute

// DevicePanel is GET /devices/:id/panel?v=N, the device page's poll (204 while nothing changed).
func (h *Handler) DevicePanel(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	if c.QueryParam("v") == strconv.FormatUint(h.Devices.Version(h.request(c).Account.ID), 10) {
		return c.NoContent(http.StatusNoContent)
	}
	return h.renderPanel(c, d, http.StatusOK, h.devicePanel(c, d))
}

// DeviceAct is POST /devices/:id/actions/:action. An action that opens the door asks first;
// "confirm=1" is the answer.
func (h *Handler) DeviceAct(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	loc := h.request(c).Locale
	n, err := strconv.Atoi(c.Param("action"))
	a := models.LockAction(n)
	if err != nil || !models.HasAction(d.Type, a) {
		return h.answerAction(c, d, http.StatusUnprocessableEntity, loc.T("devices.action_none"))
	}
	if models.OpensDoor(d.Type, a) && c.FormValue("confirm") != "1" {
		p := h.devicePanel(c, d)
		p.Confirm = &devviews.Action{Value: int(a), LabelKey: models.ActionLabelKey(d.Type, a), OpensDoor: true}
		if isHTMX(c) {
			return h.renderPanel(c, d, http.StatusOK, p)
		}
		// Without htmx (or a click that beat it): ask on the device page itself, so a reload
		// shows the question again rather than sending the form a second time.
		return redirect(c, fmt.Sprintf("/devices/%d?confirm=%d", d.ID, a))
	}
	rq := h.request(c)
	switch err := h.App.RequestLockAction(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID, a); {
	case errors.Is(err, models.ErrReach):
		return reachHTTPError(err)
	case errors.Is(err, devices.ErrActionPending):
		return h.answerAction(c, d, http.StatusLocked, loc.T("devices.action_pending"))
	case errors.Is(err, devices.ErrNotConnected):
		return h.answerAction(c, d, http.StatusConflict, loc.T("devices.not_connected"))
	case errors.Is(err, devices.ErrNotCapable):
		return h.answerAction(c, d, http.StatusConflict, loc.T("devices.not_capable"))
	case err != nil:
		return err
	}
	if c.FormValue("back") == "list" {
		// From a tile of the devices page: back to the list, which shows the action pending.
		if isHTMX(c) {
			p, err := h.deviceIndexProps(c)
			if err != nil {
				return err
			}
			return render(c, http.StatusOK, devviews.List(p))
		}
		return redirect(c, "/devices")
	}
	if isHTMX(c) {
		return h.renderPanel(c, d, http.StatusOK, h.devicePanel(c, d))
	}
	return redirect(c, fmt.Sprintf("/devices/%d", d.ID))
}

// answerAction shows why an action was not started, next to the actions (or, asked from a
// tile, on the devices page).
func (h *Handler) answerAction(c echo.Context, d models.Device, status int, msg string) error {
	if c.FormValue("back") == "list" {
		// From a tile: the devices page says why, at its top.
		if err := h.setFlash(c, msg); err != nil {
			return err
		}
		return redirect(c, "/devices")
	}
	p := h.devicePanel(c, d)
	p.Message = msg
	if isHTMX(c) {
		return h.renderPanel(c, d, status, p)
	}
	return h.renderDevice(c, d, status, p)
}

// DeviceSettingsShow is GET /devices/:id/settings.
func (h *Handler) DeviceSettingsShow(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	return h.renderDeviceSettings(c, d, http.StatusOK, deviceSettingsForm{Name: d.Name, Favorite: d.Favorite, Warnings: d.WarningsEnabled}, nil)
}

// deviceSettingsForm is the device settings form: a box ticked is "1".
type deviceSettingsForm struct {
	Name     string `form:"name"`
	Favorite bool   `form:"favorite"`
	Warnings bool   `form:"warnings"`
}

func (h *Handler) renderDeviceSettings(c echo.Context, d models.Device, status int, f deviceSettingsForm, errs map[string]string) error {
	shell, err := h.appShell(c, "devices.settings", "/devices")
	if err != nil {
		return err
	}
	rq := h.request(c)
	return render(c, status, devviews.SettingsPage(devviews.Settings{App: shell, Device: h.deviceSummary(d), Name: f.Name, Favorite: f.Favorite,
		Warnings: f.Warnings, Errors: errs, CanDelete: rq.Login.EffectiveRights().Has(models.RightManageDevices)}))
}

// DeviceSettingsUpdate is POST /devices/:id/settings: display name, favorite, warnings.
func (h *Handler) DeviceSettingsUpdate(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	var f deviceSettingsForm
	if err := (&echo.DefaultBinder{}).BindBody(c, &f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	rq := h.request(c)
	_, err = h.App.UpdateDeviceSettings(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID,
		app.DeviceSettings{Name: &f.Name, Favorite: &f.Favorite, Warnings: &f.Warnings})
	var invalid app.FieldErrors
	if errors.As(err, &invalid) {
		f.Name = strings.TrimSpace(f.Name)
		return h.renderDeviceSettings(c, d, http.StatusUnprocessableEntity, f, invalid)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("devices.saved")); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d", d.ID))
}

// DeviceDelete is POST /devices/:id/delete. The device leaves the account; its history stays.
func (h *Handler) DeviceDelete(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	if d, err = h.App.DeleteDevice(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID); err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("devices.deleted", i18n.Args{"Name": d.Name})); err != nil {
		return err
	}
	return redirect(c, "/devices")
}
