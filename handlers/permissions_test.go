package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// permEnv is an app with the demo devices and a user created on the web.
type permEnv struct {
	app     *apptest.App
	c       *apptest.Client
	account int64
	devs    []models.Device
	user    models.AccountUser
}

func newPermEnv(t *testing.T) permEnv {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	res := c.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"dora@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var id int64
	_, err = fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
	require.NoError(t, err)
	u, err := app.Store.FindAccountUser(context.Background(), login.AccountID, id)
	require.NoError(t, err)
	return permEnv{app: app, c: c, account: login.AccountID, devs: devs, user: u}
}

func (e permEnv) device(t *testing.T, name string) models.Device { return deviceNamed(t, e.devs, name) }

func (e permEnv) userURL(rest string) string { return fmt.Sprintf("/users/%d%s", e.user.ID, rest) }

// perms returns the user's permissions (revoked ones until the device confirms) by device.
func (e permEnv) perms(t *testing.T) map[int64]models.Authorization {
	t.Helper()
	auths, err := e.app.Store.FindUserAuthorizations(context.Background(), e.account, e.user.ID)
	require.NoError(t, err)
	out := map[int64]models.Authorization{}
	for _, a := range auths {
		out[a.DeviceID] = a
	}
	return out
}

// waitFor waits until the permission on the device has the push status.
func (e permEnv) waitFor(t *testing.T, d models.Device, want models.PushStatus) models.Authorization {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a := e.perms(t)[d.ID]
		if a.PushStatus == want {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("permission on %s: want %s, have %s (%s)", d.Name, want, a.PushStatus, a.PushReason)
		}
	}
}

// onDevice returns what the simulated device holds of an authorization.
func (e permEnv) onDevice(t *testing.T, d models.Device, id uint32) (sim.Authorization, bool) {
	t.Helper()
	auths, err := e.app.Devices.Simulator(d.ConnectionID).Authorizations(d.Type, d.NukiID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.ID == id {
			return a, true
		}
	}
	return sim.Authorization{}, false
}

func (e permEnv) auditKinds(t *testing.T) []string {
	t.Helper()
	audit, err := e.app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: e.account})
	require.NoError(t, err)
	var kinds []string
	for _, a := range audit {
		kinds = append(kinds, a.Kind)
	}
	return kinds
}

// hasAttr reports whether the first element matching sel has the attribute.
func hasAttr(res apptest.Response, sel, attr string) bool {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
	if err != nil {
		return false
	}
	_, ok := doc.Find(sel).Attr(attr)
	return ok
}

func webKeyForm(devices ...models.Device) url.Values {
	v := url.Values{"kind": {"app"}, "remote": {"1"}, "language": {"en"}}
	for _, d := range devices {
		v.Add("device", fmt.Sprint(d.ID))
	}
	return v
}

// A permission on two devices: two rows, pending until each device has it, then applied, with
// the restrictions on the device's clock (Europe/Berlin) and the viewer's (UTC) beside them.
func TestCreatePermissionOnTwoDevices(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front, back := e.device(t, "Front door"), e.device(t, "Back door")
	page := e.c.Get(e.userURL("/permissions/new"))
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.TestID(t, "device-choices"), "Front door")
	assert.Contains(t, page.TestID(t, "fob-note"), "Fobs are paired on the device")
	assert.Contains(t, page.TestID(t, "times-hint"), "Europe/Berlin")
	assert.Contains(t, page.TestID(t, "times-hint"), "your time zone is UTC")
	assert.True(t, hasAttr(page, `input[name="remote"]`, "checked"), "remote access is on by default for a web key")

	form := webKeyForm(front, back)
	form["weekday"] = []string{"1", "2"}
	form.Set("from_time", "08:00")
	form.Set("until_time", "17:00")
	form.Set("language", "de")
	res := e.c.PostForm(e.userURL("/permissions"), form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, e.userURL(""), res.Header.Get("Location"))

	perms := e.perms(t)
	require.Len(t, perms, 2)
	for _, d := range []models.Device{front, back} {
		a := perms[d.ID]
		assert.Contains(t, []models.PushStatus{models.PushPending, models.PushApplied}, a.PushStatus)
		assert.Equal(t, models.AuthTypeApp, a.Type)
		assert.Equal(t, "Dora Weiß", a.Name)
		assert.Equal(t, 64|32, a.AllowedWeekdays)
		assert.Equal(t, 8*60, a.AllowedFromTime)
		assert.Equal(t, 17*60, a.AllowedUntilTime)
		assert.True(t, a.RemoteAllowed)
		applied := e.waitFor(t, d, models.PushApplied)
		require.NotNil(t, applied.DeviceAuthID)
		held, ok := e.onDevice(t, d, *applied.DeviceAuthID)
		require.True(t, ok, "%s holds the permission", d.Name)
		assert.Equal(t, 64|32, held.AllowedWeekdays)
		assert.Equal(t, 8*60, held.AllowedFromTime)
	}

	page = e.c.Get(e.userURL(""))
	assert.Contains(t, page.TestID(t, "flash"), "Created the permission on 2 devices")
	list := page.TestID(t, "permissions")
	assert.Contains(t, list, "Front door")
	assert.Contains(t, list, "Back door")
	assert.Contains(t, list, "App or web key · Dora Weiß")
	assert.Contains(t, list, "Mon, Tue · 08:00–17:00 (Europe/Berlin)")
	assert.Contains(t, list, "07:00–16:00 your time (UTC)", "Berlin is an hour ahead in March")
	for _, d := range []models.Device{front, back} {
		assert.Equal(t, "Applied", page.TestID(t, fmt.Sprintf("perm-status-%d", perms[d.ID].ID)))
	}
	assert.Empty(t, page.TestID(t, "perm-pending"), "nothing pending: no poller")
	assert.Equal(t, "Deutsch", page.TestID(t, "user-language"), "the invitation language is kept on the user")
	assert.Contains(t, e.auditKinds(t), models.AuditPermissionCreated)
	assert.Contains(t, e.c.Get("/users?q=dora").TestID(t, "user-list"), "Back door, Front door")
}

// While a device cannot be reached the permission is pending with the reason, the page polls,
// and the poller stops once the device has it.
func TestPermissionStatusPoller(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	back := e.device(t, "Back door")
	b := e.app.Devices.Simulator(back.ConnectionID)
	require.NoError(t, b.SetOnline(back.Type, back.NukiID, false))
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(back)).StatusCode)
	var a models.Authorization
	require.Eventually(t, func() bool {
		a = e.perms(t)[back.ID]
		return a.PushReason == "offline"
	}, 10*time.Second, 10*time.Millisecond)
	page := e.c.Get(e.userURL(""))
	status := page.TestID(t, fmt.Sprintf("perm-status-%d", a.ID))
	assert.Contains(t, status, "Pending: device offline")
	assert.Contains(t, status, "sends it again")
	poll, ok := page.Doc(t).Find(`[data-testid="perm-pending"]`).Attr("hx-get")
	require.True(t, ok, "the page polls while a permission is pending")
	assert.Contains(t, poll, fmt.Sprintf("p=%d", a.ID))

	require.NoError(t, b.SetOnline(back.Type, back.NukiID, true))
	e.app.Devices.RetryPermissions()
	e.waitFor(t, back, models.PushApplied)
	res := e.c.Get(poll)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, `hx-swap-oob="true"`)
	assert.Equal(t, "Applied", res.TestID(t, fmt.Sprintf("perm-status-%d", a.ID)))
	_, polling := res.Doc(t).Find(`#perm-poller`).Attr("hx-get")
	assert.False(t, polling, "the poller stops when nothing is pending")
	assert.Empty(t, e.c.Get(e.userURL("/permissions/status?p=999999&p=x")).TestID(t, "perm-status-999999"), "unknown ids are left out")
}

// One permission per user per device: a device the user has is refused by name and nothing
// is stored; bad input is refused next to its field, with the values kept.
func TestCreatePermissionRefusals(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front, garden := e.device(t, "Front door"), e.device(t, "Garden gate")
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(front)).StatusCode)
	page := e.c.Get(e.userURL("/permissions/new"))
	assert.True(t, hasAttr(page, fmt.Sprintf(`input[name="device"][value="%d"]`, front.ID), "disabled"), "a device the user has is not offered")
	assert.Contains(t, page.TestID(t, fmt.Sprintf("device-%d", front.ID)), "Dora Weiß already has a permission on this device")

	res := e.c.PostForm(e.userURL("/permissions"), webKeyForm(garden, front))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Dora Weiß already has a permission on Front door.", res.TestID(t, "error-devices"))
	assert.Len(t, e.perms(t), 1, "nothing stored, not even on the garden gate")

	other, _ := e.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "another long password")
	_, foreign, err := e.app.Devices.AddSimulatedBridge(context.Background(), other.ID, "Theirs", sim.DemoDevices()[:1],
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)

	with := func(change func(url.Values)) url.Values {
		v := webKeyForm(garden)
		change(v)
		return v
	}
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"no device", with(func(v url.Values) { v.Del("device") }), "devices", "Choose at least one device"},
		{"unknown device", with(func(v url.Values) { v.Set("device", "999999") }), "devices", "Choose among the offered devices"},
		{"another account's device", with(func(v url.Values) { v.Set("device", fmt.Sprint(foreign[0].ID)) }), "devices", "Choose among the offered devices"},
		{"not a date", with(func(v url.Values) { v.Set("from_date", "2026-02-30") }), "from_date", "Enter a date"},
		{"until before from", with(func(v url.Values) { v.Set("from_date", "2026-05-10"); v.Set("until_date", "2026-05-09") }), "until_date", "cannot be before"},
		{"until over", with(func(v url.Values) { v.Set("until_date", "2026-03-01") }), "until_date", "This day is over"},
		{"one time", with(func(v url.Values) { v.Set("from_time", "08:00") }), "until_time", "Enter both times"},
		{"times reversed", with(func(v url.Values) { v.Set("from_time", "17:00"); v.Set("until_time", "08:00") }), "until_time", "after the from time"},
		{"not a time", with(func(v url.Values) { v.Set("from_time", "25:00"); v.Set("until_time", "26:00") }), "from_time", "Enter a time"},
		{"bad weekday", with(func(v url.Values) { v.Set("weekday", "8") }), "weekday", "offered weekdays"},
		{"bad language", with(func(v url.Values) { v.Set("language", "tlh") }), "language", "offered languages"},
	} {
		res := e.c.PostForm(e.userURL("/permissions"), tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		assert.Contains(t, res.TestID(t, "error-"+tc.field), tc.msg, tc.name)
		assert.NotEmpty(t, res.TestID(t, "form-error"), tc.name)
	}
	// Every field says what is wrong at once.
	res = e.c.PostForm(e.userURL("/permissions"), with(func(v url.Values) {
		v.Del("device")
		v.Set("from_date", "2026-05-10")
		v.Set("until_date", "2026-05-09")
	}))
	assert.NotEmpty(t, res.TestID(t, "error-devices"))
	assert.Contains(t, res.TestID(t, "error-until_date"), "cannot be before")
	res = e.c.PostForm(e.userURL("/permissions"), with(func(v url.Values) {
		v.Set("from_time", "17:00")
		v.Set("until_time", "08:00")
		v.Set("from_date", "2026-05-10")
	}))
	doc := res.Doc(t)
	assert.Equal(t, "2026-05-10", doc.Find(`#from_date`).AttrOr("value", ""), "values are kept")
	assert.Equal(t, "17:00", doc.Find(`#from_time`).AttrOr("value", ""))
	assert.True(t, hasAttr(res, fmt.Sprintf(`input[name="device"][value="%d"]`, garden.ID), "checked"))
	assert.Len(t, e.perms(t), 1, "nothing stored")

	assert.Equal(t, http.StatusNotFound, e.c.PostForm("/users/999999/permissions", webKeyForm(garden)).StatusCode)
	assert.Equal(t, http.StatusNotFound, e.c.Get("/users/999999/permissions/new").StatusCode)
}

// Keypad codes: six digits 1–9 not starting with 12, unique per device, a name of at most 20
// characters, only on devices with a keypad; Generate proposes a valid code none of the chosen
// devices has.
func TestKeypadCodePermissions(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front, back := e.device(t, "Front door"), e.device(t, "Back door")
	page := e.c.Get(e.userURL("/permissions/new?kind=keypad"))
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.TestID(t, fmt.Sprintf("device-%d", back.ID)), "No keypad is paired with it")
	assert.True(t, hasAttr(page, fmt.Sprintf(`input[name="device"][value="%d"]`, back.ID), "disabled"))
	assert.False(t, hasAttr(page, fmt.Sprintf(`input[name="device"][value="%d"]`, front.ID), "disabled"))
	assert.Equal(t, "Dora Weiß", page.Doc(t).Find(`#name`).AttrOr("value", ""), "the name defaults to the user's")

	keypad := func(code, name string, devs ...models.Device) url.Values {
		v := url.Values{"kind": {"keypad"}, "code": {code}, "name": {name}}
		for _, d := range devs {
			v.Add("device", fmt.Sprint(d.ID))
		}
		return v
	}
	for _, tc := range []struct {
		form  url.Values
		field string
		msg   string
	}{
		{keypad("12345", "Dora", front), "code", "Enter six digits."},
		{keypad("1234567", "Dora", front), "code", "Enter six digits."},
		{keypad("103456", "Dora", front), "code", "Use only the digits 1 to 9."},
		{keypad("12a456", "Dora", front), "code", "Use only the digits 1 to 9."},
		{keypad("123456", "Dora", front), "code", "cannot start with 12"},
		{keypad("468357", "Dora", front), "code", "already used on Front door"},
		{keypad("987654", strings.Repeat("x", 21), front), "name", "at most 20 characters"},
		{keypad("987654", "  ", front), "name", "Enter a name."},
		{keypad("987654", "Dora", back), "devices", "No keypad code on Back door"},
	} {
		res := e.c.PostForm(e.userURL("/permissions"), tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.form.Encode())
		assert.Contains(t, res.TestID(t, "error-"+tc.field), tc.msg, tc.form.Encode())
	}
	assert.Empty(t, e.perms(t), "nothing stored")

	for range 20 {
		res := e.c.Get(e.userURL(fmt.Sprintf("/permissions/keypad-code?device=%d", front.ID)))
		require.Equal(t, http.StatusOK, res.StatusCode)
		code := res.Doc(t).Find(`#code`).AttrOr("value", "")
		n, err := models.ParseKeypadCode(code)
		require.NoError(t, err, code)
		inUse, err := e.app.Store.KeypadCodeInUse(context.Background(), front.ID, n)
		require.NoError(t, err)
		assert.False(t, inUse, code)
	}
	// Without JavaScript the Generate button reloads the form with a code and the values kept.
	res := e.c.Get(e.userURL(fmt.Sprintf("/permissions/new?kind=keypad&generate=1&device=%d&name=Dora+D&from_time=09:00", front.ID)))
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	_, err := models.ParseKeypadCode(doc.Find(`#code`).AttrOr("value", ""))
	assert.NoError(t, err)
	assert.Equal(t, "Dora D", doc.Find(`#name`).AttrOr("value", ""))
	assert.Equal(t, "09:00", doc.Find(`#from_time`).AttrOr("value", ""))

	res = e.c.PostForm(e.userURL("/permissions"), keypad("987654", "Dora", front))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	a := e.waitFor(t, front, models.PushApplied)
	held, ok := e.onDevice(t, front, *a.DeviceAuthID)
	require.True(t, ok)
	assert.Equal(t, 987654, held.Code)
	assert.Equal(t, sim.AuthKeypadCode, held.Type)
	page = e.c.Get(e.userURL(""))
	assert.Equal(t, "987654", page.TestID(t, "perm-code"), "admins see the code to hand it over")
	assert.NotContains(t, page.TestID(t, "permissions"), "Remote access", "keypad codes have no remote access")
}

// Deactivate, reactivate, suspend and remove: each stored, audited and sent to the device.
func TestPermissionActions(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front := e.device(t, "Front door")
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(front)).StatusCode)
	a := e.waitFor(t, front, models.PushApplied)
	act := func(what string, v url.Values) apptest.Response {
		return e.c.PostForm(e.userURL(fmt.Sprintf("/permissions/%d/%s", a.ID, what)), v)
	}
	held := func() sim.Authorization {
		h, ok := e.onDevice(t, front, *a.DeviceAuthID)
		require.True(t, ok)
		return h
	}

	require.Equal(t, http.StatusSeeOther, act("deactivate", nil).StatusCode)
	assert.False(t, e.perms(t)[front.ID].Enabled)
	e.waitFor(t, front, models.PushApplied)
	assert.False(t, held().Enabled, "the device has it deactivated")
	page := e.c.Get(e.userURL(""))
	assert.Contains(t, page.TestID(t, "flash"), "deactivated")
	assert.Equal(t, "Deactivated", page.TestID(t, "perm-state"))
	assert.NotEmpty(t, page.TestID(t, "perm-reactivate"))

	require.Equal(t, http.StatusSeeOther, act("reactivate", nil).StatusCode)
	e.waitFor(t, front, models.PushApplied)
	assert.True(t, held().Enabled)
	assert.Equal(t, "Active", e.c.Get(e.userURL("")).TestID(t, "perm-state"))

	// Suspend: in the device's time zone (Berlin, UTC+1); the clock stands at 2 March 09:00 UTC.
	for _, tc := range []struct{ date, time, msg string }{
		{"", "", "Enter the date"},
		{"2026-03-02", "09:30", "in the future"}, // 08:30 UTC: past
		{"2026-02-30", "08:00", "Enter a date and a time"},
		{"2026-03-05", "8 o'clock", "Enter a date and a time"},
	} {
		res := act("suspend", url.Values{"date": {tc.date}, "time": {tc.time}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc)
		assert.Contains(t, res.TestID(t, "error-suspend"), tc.msg, tc)
		assert.True(t, hasAttr(res, `details.perm-suspend`, "open"), "the form stays open")
	}
	assert.True(t, e.perms(t)[front.ID].Enabled, "nothing changed")
	require.Equal(t, http.StatusSeeOther, act("suspend", url.Values{"date": {"2026-03-05"}, "time": {"08:00"}}).StatusCode)
	s := e.perms(t)[front.ID]
	assert.False(t, s.Enabled)
	require.NotNil(t, s.SuspendedUntil)
	assert.Equal(t, time.Date(2026, 3, 5, 7, 0, 0, 0, time.UTC), s.SuspendedUntil.UTC())
	e.waitFor(t, front, models.PushApplied)
	assert.False(t, held().Enabled)
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "perm-state"), "Suspended until 5 Mar 2026, 08:00 (Europe/Berlin)")
	e.app.Clock.Advance(72 * time.Hour)
	e.app.Devices.RetryPermissions()
	require.Equal(t, http.StatusSeeOther, e.c.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode, "the session ended meanwhile")
	assert.True(t, e.perms(t)[front.ID].Enabled, "on again by itself")
	e.waitFor(t, front, models.PushApplied)
	assert.True(t, held().Enabled)

	// Remove asks first, then the device deletes it.
	res := act("remove", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "confirm-remove"), "Remove the permission on Front door?")
	assert.Len(t, e.perms(t), 1, "asking removes nothing")
	res = e.c.Get(e.userURL(fmt.Sprintf("?remove=%d", a.ID)))
	assert.Contains(t, res.TestID(t, "confirm-remove"), "The device deletes it")
	require.Equal(t, http.StatusSeeOther, act("remove", url.Values{"confirm": {"1"}}).StatusCode)
	require.Eventually(t, func() bool { return len(e.perms(t)) == 0 }, 10*time.Second, 10*time.Millisecond, "gone once the device confirms")
	_, still := e.onDevice(t, front, *a.DeviceAuthID)
	assert.False(t, still)
	assert.Equal(t, http.StatusNotFound, act("deactivate", nil).StatusCode, "a removed permission is gone")

	kinds := e.auditKinds(t)
	assert.Contains(t, kinds, models.AuditPermissionChanged)
	assert.Contains(t, kinds, models.AuditPermissionRevoked)
}

// Unknown ids, another user's permission and another account's are not found, and nothing
// changes.
func TestPermissionActionsOnlyOnOwnPermissions(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front := e.device(t, "Front door")
	ctx := context.Background()
	// Postman's keypad code, found on the front door, belongs to another user of the account.
	postman := deviceAuthorization(t, e, front, "Postman")
	other, _ := e.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "another long password")
	_, theirs, err := e.app.Devices.AddSimulatedBridge(ctx, other.ID, "Theirs", sim.DemoDevices()[:1],
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	foreign, err := e.app.Store.FindDeviceAuthorizations(ctx, other.ID, theirs[0].ID)
	require.NoError(t, err)
	require.NotEmpty(t, foreign)

	for _, pid := range []string{"999999", "abc", fmt.Sprint(postman.ID), fmt.Sprint(foreign[0].ID)} {
		for _, what := range []string{"deactivate", "reactivate", "suspend", "remove", "edit"} {
			res := e.c.PostForm(e.userURL("/permissions/"+pid+"/"+what), url.Values{"confirm": {"1"}, "date": {"2027-01-01"}, "name": {"x"}})
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s", what, pid)
		}
		assert.Equal(t, http.StatusNotFound, e.c.Get(e.userURL("/permissions/"+pid+"/edit")).StatusCode, pid)
	}
	after, err := e.app.Store.FindAuthorization(ctx, e.account, postman.ID)
	require.NoError(t, err)
	assert.True(t, after.Enabled)
	assert.Nil(t, after.RevokedAt)
}

// deviceAuthorization finds the authorization a device reported under a name.
func deviceAuthorization(t *testing.T, e permEnv, d models.Device, name string) models.Authorization {
	t.Helper()
	auths, err := e.app.Store.FindDeviceAuthorizations(context.Background(), e.account, d.ID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no authorization %q on %s", name, d.Name)
	return models.Authorization{}
}

// Editing a permission: the form shows it on the device's clock; a change is refused next to
// its field or stored, made pending and sent.
func TestEditPermission(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front := e.device(t, "Front door")
	form := url.Values{"kind": {"keypad"}, "code": {"987654"}, "name": {"Dora"}, "device": {fmt.Sprint(front.ID)},
		"weekday": {"1", "5"}, "from_time": {"07:30"}, "until_time": {"18:00"}, "from_date": {"2026-04-01"}, "until_date": {"2026-04-30"}}
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), form).StatusCode)
	a := e.waitFor(t, front, models.PushApplied)
	require.NotNil(t, a.AllowedFrom)
	assert.Equal(t, time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), a.AllowedFrom.UTC(), "midnight in Berlin (summer time)")
	assert.Equal(t, time.Date(2026, 4, 30, 21, 59, 59, 0, time.UTC), a.AllowedUntil.UTC(), "the end of the last day in Berlin")
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "permissions"), "from 1 April 2026 · until 30 April 2026 · Mon, Fri")

	edit := e.userURL(fmt.Sprintf("/permissions/%d/edit", a.ID))
	page := e.c.Get(edit)
	require.Equal(t, http.StatusOK, page.StatusCode)
	doc := page.Doc(t)
	assert.Equal(t, "2026-04-01", doc.Find(`#from_date`).AttrOr("value", ""))
	assert.Equal(t, "2026-04-30", doc.Find(`#until_date`).AttrOr("value", ""))
	assert.Equal(t, "07:30", doc.Find(`#from_time`).AttrOr("value", ""))
	assert.Equal(t, "987654", doc.Find(`#code`).AttrOr("value", ""))
	assert.Equal(t, 2, doc.Find(`input[name="weekday"][checked]`).Length())
	assert.Zero(t, doc.Find(`input[name="remote"]`).Length(), "no remote access for keypad codes")

	change := func(k, v string) url.Values {
		f := url.Values{"code": {"987654"}, "name": {"Dora"}, "from_date": {"2026-04-01"}, "until_date": {"2026-04-30"},
			"weekday": {"1", "5"}, "from_time": {"07:30"}, "until_time": {"18:00"}}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct{ k, v, field, msg string }{
		{"code", "468357", "code", "already used on Front door"},
		{"code", "12", "code", "Enter six digits."},
		{"name", "", "name", "Enter a name."},
		{"until_time", "06:00", "until_time", "after the from time"},
	} {
		res := e.c.PostForm(edit, change(tc.k, tc.v))
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc)
		assert.Contains(t, res.TestID(t, "error-"+tc.field), tc.msg, tc)
	}
	assert.Equal(t, 987654, *e.perms(t)[front.ID].Code, "nothing changed")

	res := e.c.PostForm(edit, change("until_time", "20:00"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	after := e.perms(t)[front.ID]
	assert.Equal(t, 20*60, after.AllowedUntilTime)
	assert.True(t, a.AllowedFrom.Equal(*after.AllowedFrom), "unchanged dates keep their moment")
	a = e.waitFor(t, front, models.PushApplied)
	held, ok := e.onDevice(t, front, *a.DeviceAuthID)
	require.True(t, ok)
	assert.Equal(t, 20*60, held.AllowedUntilTime)
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "flash"), "The permission on Front door is saved")
}

// A user's page shows the activity of their authorizations; edit is refused next to the field
// (422) or for an email another user has (409); delete asks, then revokes the permissions,
// removes them from the devices and keeps the names in the activity log.
func TestEditAndDeleteUser(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	ctx := context.Background()
	front := e.device(t, "Front door")
	postman := deviceAuthorization(t, e, front, "Postman")
	_, err := e.app.Store.CreateActivity(ctx, models.Activity{AccountID: e.account, DeviceID: front.ID, At: e.app.Clock.Now(),
		Action: int(models.ActionUnlock), Trigger: 255, AuthID: *postman.DeviceAuthID, Name: "Postman", Origin: models.OriginDevice, EventID: "kp-1"})
	require.NoError(t, err)
	postmanURL := fmt.Sprintf("/users/%d", *postman.AccountUserID)
	page := e.c.Get(postmanURL)
	assert.Contains(t, page.TestID(t, "user-activity"), "Front door")
	assert.Contains(t, page.TestID(t, "user-activity"), "Unlock")
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "user-activity"), "Nothing in the activity log")

	res := e.c.Get(e.userURL("/edit"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "dora@example.com", res.Doc(t).Find(`#email`).AttrOr("value", ""))
	require.Equal(t, http.StatusSeeOther, e.c.PostForm("/users", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "language": {"en"}}).StatusCode)
	for _, tc := range []struct {
		form   url.Values
		status int
		field  string
	}{
		{url.Values{"name": {""}, "email": {"dora@example.com"}, "language": {"en"}}, http.StatusUnprocessableEntity, "name"},
		{url.Values{"name": {"Dora"}, "email": {""}, "language": {"en"}}, http.StatusUnprocessableEntity, "email"},
		{url.Values{"name": {"Dora"}, "email": {"nope"}, "language": {"en"}}, http.StatusUnprocessableEntity, "email"},
		{url.Values{"name": {"Dora"}, "email": {"dora@example.com"}, "language": {"xx"}}, http.StatusUnprocessableEntity, "language"},
		{url.Values{"name": {"Dora"}, "email": {"EVE@example.com"}, "language": {"en"}}, http.StatusConflict, "email"},
	} {
		res := e.c.PostForm(e.userURL(""), tc.form)
		assert.Equal(t, tc.status, res.StatusCode, tc.form.Encode())
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), tc.form.Encode())
	}
	res = e.c.PostForm(e.userURL(""), url.Values{"name": {"Dora Weiss"}, "email": {"DORA.W@example.com"}, "language": {"fr"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	page = e.c.Get(e.userURL(""))
	assert.Equal(t, "Dora Weiss", page.TestID(t, "user-name"))
	assert.Equal(t, "dora.w@example.com", page.TestID(t, "user-email"))
	assert.Equal(t, "Français", page.TestID(t, "user-language"))
	// A person found on a device may stay without an email.
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(postmanURL, url.Values{"name": {"Postman"}, "email": {""}, "language": {"de"}}).StatusCode)

	// Delete: asked first, saying what happens.
	res = e.c.PostForm(postmanURL+"/delete", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	confirm := res.TestID(t, "confirm-delete")
	assert.Contains(t, confirm, "Their permissions are removed from these devices: Front door.")
	assert.Contains(t, confirm, "The activity log keeps their name")
	assert.Contains(t, e.c.Get(postmanURL+"?confirm=delete").TestID(t, "confirm-delete"), "Delete Postman?")
	_, err = e.app.Store.FindAccountUser(ctx, e.account, *postman.AccountUserID)
	require.NoError(t, err, "asking deletes nothing")

	res = e.c.PostForm(postmanURL+"/delete", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/users", res.Header.Get("Location"))
	list := e.c.Get("/users")
	assert.Contains(t, list.TestID(t, "flash"), "Postman was deleted")
	assert.NotContains(t, userNames(t, list), "Postman")
	assert.Equal(t, http.StatusNotFound, e.c.Get(postmanURL).StatusCode, "a deleted user's address is gone")
	assert.Equal(t, http.StatusNotFound, e.c.Get(postmanURL+"/edit").StatusCode)
	assert.Equal(t, http.StatusNotFound, e.c.PostForm(postmanURL+"/delete", url.Values{"confirm": {"1"}}).StatusCode)
	require.Eventually(t, func() bool {
		_, held := e.onDevice(t, front, *postman.DeviceAuthID)
		return !held
	}, 10*time.Second, 10*time.Millisecond, "the front door no longer has the Postman's code")
	require.Eventually(t, func() bool {
		_, err := e.app.Store.FindAuthorization(ctx, e.account, postman.ID)
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "the revocation is confirmed")
	acts, err := e.app.Store.FindDeviceActivity(ctx, e.account, front.ID, 50)
	require.NoError(t, err)
	var names []string
	for _, a := range acts {
		names = append(names, a.Name)
	}
	assert.Contains(t, names, "Postman", "the history keeps the name")
	kinds := e.auditKinds(t)
	assert.Contains(t, kinds, models.AuditUserUpdated)
	assert.Contains(t, kinds, models.AuditUserDeleted)
}

// A login without the right to manage users gets 403 on every route of users and
// permissions.
func TestUserRoutesNeedTheRight(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front := e.device(t, "Front door")
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(front)).StatusCode)
	a := e.perms(t)[front.ID]
	hash, err := e.app.Handler.Hasher.Hash(context.Background(), "sub account password")
	require.NoError(t, err)
	now := e.app.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	_, err = e.app.DB.Writer.ExecContext(context.Background(), `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
		VALUES (?, 'sam@example.com', 'Sam', ?, 0, ?, ?, ?)`, e.account, hash, models.RightsAll&^models.RightAuthorizations, now, now)
	require.NoError(t, err)
	sam := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, sam.Login("sam@example.com", "sub account password").StatusCode)
	require.Equal(t, http.StatusOK, sam.Get("/devices").StatusCode, "signed in")

	ids := strings.NewReplacer(":id", fmt.Sprint(e.user.ID), ":pid", fmt.Sprint(a.ID))
	checked := 0
	for _, r := range e.app.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/users") {
			continue
		}
		path := ids.Replace(r.Path)
		var res apptest.Response
		if r.Method == http.MethodGet {
			res = sam.Get(path)
		} else {
			res = sam.PostForm(path, url.Values{"confirm": {"1"}, "name": {"x"}, "date": {"2027-01-01"}})
		}
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s", r.Method, r.Path)
		checked++
	}
	assert.GreaterOrEqual(t, checked, 19)
	after := e.perms(t)[front.ID]
	assert.True(t, after.Enabled)
	assert.Nil(t, after.RevokedAt)
	_, err = e.app.Store.FindAccountUser(context.Background(), e.account, e.user.ID)
	assert.NoError(t, err)
}

// A device behind a Nuki Bridge cannot hold permissions (the Bridge HTTP API has none): a web
// key there is "Portier only" and says why; keypad codes are not offered.
func TestPermissionsBehindANukiBridgeArePortierOnly(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addBridge(t, app, c, newSimBridge(t, sim.Options{}, sim.HTTPOptions{}))
	front := deviceNamed(t, devs, "Front door")
	res := c.PostForm("/users", url.Values{"name": {"Ida"}, "email": {"ida@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	user := res.Header.Get("Location")

	page := c.Get(user + "/permissions/new")
	assert.Contains(t, page.TestID(t, fmt.Sprintf("device-%d", front.ID)), "works with Portier's web key only")
	page = c.Get(user + "/permissions/new?kind=keypad")
	assert.Contains(t, page.TestID(t, fmt.Sprintf("device-%d", front.ID)), "cannot manage keypad codes")
	res = c.PostForm(user+"/permissions", url.Values{"kind": {"keypad"}, "code": {"987654"}, "name": {"Ida"}, "device": {fmt.Sprint(front.ID)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-devices"), "Nuki Bridge")

	require.Equal(t, http.StatusSeeOther, c.PostForm(user+"/permissions", webKeyForm(front)).StatusCode)
	page = c.Get(user)
	list := page.TestID(t, "permissions")
	assert.Contains(t, list, "Portier only")
	assert.Contains(t, list, "The Bridge HTTP API has no permissions")
	assert.Empty(t, page.TestID(t, "perm-pending"), "nothing to wait for")
	href, ok := page.Doc(t).Find(`[data-testid="perm-remove"]`).Attr("href")
	require.True(t, ok)
	var pid int64
	_, err := fmt.Sscanf(href[strings.Index(href, "remove=")+len("remove="):], "%d", &pid)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, c.PostForm(fmt.Sprintf("%s/permissions/%d/remove", user, pid), url.Values{"confirm": {"1"}}).StatusCode)
	page = c.Get(user)
	assert.Contains(t, page.TestID(t, "flash"), "The permission on Front door was removed.", "nothing to wait for on the device")
	assert.Contains(t, page.TestID(t, "permissions"), "No permissions")
}

// Creating a web-key permission invites the person, in the language chosen on the form; a second
// one while the invitation is open sends a fresh one (the old link dies); once the web key is
// active, a new device needs no invitation. A keypad code invites nobody, and a user without an
// email is told why no invitation went.
func TestCreatingAWebKeyPermissionInvites(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	ctx := context.Background()
	mails := func() []models.OutboxMessage {
		t.Helper()
		m, err := e.app.Store.FindMailTo(ctx, "dora@example.com")
		require.NoError(t, err)
		return m
	}
	form := webKeyForm(e.device(t, "Front door"))
	form.Set("language", "fr")
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), form).StatusCode)
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "flash"), "An invitation to the web key went to dora@example.com")
	require.Len(t, mails(), 1)
	assert.Contains(t, mails()[0].Text, "Front door")
	assert.Contains(t, mails()[0].Text, "/invite/")
	assert.NotEqual(t, "Hello Dora Weiß,", strings.SplitN(mails()[0].Text, "\n", 2)[0], "in French, the language chosen")

	code := url.Values{"kind": {"keypad"}, "code": {"735921"}, "name": {"Dora"}, "device": {fmt.Sprint(e.device(t, "Front door").ID)}}
	other, err := createTestUser(e.app.Store, models.AccountUser{AccountID: e.account, Name: "Emil", Email: "emil@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(fmt.Sprintf("/users/%d/permissions", other.ID), code).StatusCode)
	emil, err := e.app.Store.FindMailTo(ctx, "emil@example.com")
	require.NoError(t, err)
	assert.Empty(t, emil, "a keypad code invites nobody")

	// Another device while the invitation is open: a fresh invitation names both, the old link dies.
	first := linkPattern.FindStringSubmatch(mails()[0].Text)
	require.NotNil(t, first)
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(e.device(t, "Back door"))).StatusCode)
	require.Len(t, mails(), 2)
	assert.Equal(t, http.StatusGone, e.app.NewClient().Get("/invite/"+first[1]).StatusCode, "the first link died")
	var latest models.OutboxMessage
	for _, m := range mails() {
		if m.ID > latest.ID {
			latest = m
		}
	}
	assert.Contains(t, latest.Text, "Back door")
	assert.Contains(t, latest.Text, "Front door")

	// Accepted: the next device goes onto the active web key without a new invitation.
	link := linkPattern.FindStringSubmatch(latest.Text)
	require.NotNil(t, link)
	holder := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, holder.PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(e.device(t, "Office"))).StatusCode)
	assert.Contains(t, e.c.Get(e.userURL("")).TestID(t, "flash"), "already active and now opens these devices too")
	assert.Len(t, mails(), 2, "no further invitation")
	assert.Contains(t, keyDeviceIDs(t, holder.Get("/key")), "Office")

	// Found on a device, without an email: told why nothing was sent.
	users, err := e.app.Store.FindActiveUsers(ctx, e.account)
	require.NoError(t, err)
	var carla models.AccountUser
	for _, u := range users {
		if u.Name == "Carla Rossi" {
			carla = u
		}
	}
	require.NotZero(t, carla.ID)
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(fmt.Sprintf("/users/%d/permissions", carla.ID), webKeyForm(e.device(t, "Front door"))).StatusCode)
	assert.Contains(t, e.c.Get(fmt.Sprintf("/users/%d", carla.ID)).TestID(t, "flash"), "No invitation was sent: This user has no email address")
}

// An open invitation is withdrawn with the person's last permission a web key can use (issue
// 20, item 16): its link and code stop working at once, and the flash says so. Removing one of
// two keeps it open. The same through the Web API.
func TestRemovingTheLastWebKeyPermissionWithdrawsTheInvitation(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	ctx := context.Background()
	front, office := e.device(t, "Front door"), e.device(t, "Office")
	latestLink := func() string {
		t.Helper()
		mails, err := e.app.Store.FindMailTo(ctx, e.user.Email)
		require.NoError(t, err)
		var latest models.OutboxMessage
		for _, m := range mails {
			if m.ID > latest.ID {
				latest = m
			}
		}
		link := linkPattern.FindStringSubmatch(latest.Text)
		require.NotNil(t, link, latest.Text)
		return "/invite/" + link[1]
	}
	state := func() models.InvitationState {
		t.Helper()
		list, err := e.app.Store.FindUserInvitations(ctx, e.account, e.user.ID)
		require.NoError(t, err)
		require.NotEmpty(t, list)
		return list[0].State(e.app.Clock.Now())
	}
	remove := func(d models.Device) apptest.Response {
		t.Helper()
		res := e.c.PostForm(e.userURL(fmt.Sprintf("/permissions/%d/remove", e.perms(t)[d.ID].ID)), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		return e.c.Get(e.userURL(""))
	}

	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(front, office)).StatusCode)
	link := latestLink()
	require.Equal(t, models.InvitationPending, state())

	page := remove(front)
	assert.NotContains(t, page.TestID(t, "flash"), "withdrawn")
	assert.Equal(t, models.InvitationPending, state(), "Office still opens with a web key")
	assert.Equal(t, http.StatusOK, e.app.NewClient().Get(link).StatusCode)

	page = remove(office)
	assert.Contains(t, page.TestID(t, "flash"), "the open invitation was withdrawn")
	assert.Equal(t, models.InvitationRevoked, state())
	assert.Contains(t, page.TestID(t, "invitation-state"), "Revoked")
	assert.Equal(t, http.StatusGone, e.app.NewClient().Get(link).StatusCode, "the link died with it")

	// Through the Web API.
	_, token := e.app.CreateToken(e.app.OwnerLogin(), models.Scopes{models.ScopeSmartlockAuth}, nil)
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), webKeyForm(front)).StatusCode)
	require.Equal(t, models.InvitationPending, state())
	apiCall(t, e.app.NewClient(), http.MethodDelete, fmt.Sprintf("/api/smartlock/%d/auth/%d", front.SmartlockID(), e.perms(t)[front.ID].ID),
		token, ``, http.StatusNoContent)
	assert.Equal(t, models.InvitationRevoked, state())
}

// A permission's first and last day lie between the year 2000 and ten years from today (issue
// 20, item 15): 31 Dec 9999 is a typo, not a wish. The same rule on the page (at the field) and
// in the Web API (400 with the Nuki error body), for creating and for changing; nothing is
// stored.
func TestPermissionDatesAreBounded(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front, office := e.device(t, "Front door"), e.device(t, "Office")
	now := e.app.Clock.Now()
	day := func(years int) string { return now.AddDate(years, 0, 0).Format("2006-01-02") }

	for _, tc := range []struct {
		name, field, value, msg string
	}{
		{"from in 1999", "from_date", "1999-12-01", "2000 or later"},
		{"until 31 Dec 9999", "until_date", "9999-12-31", "at most 10 years"},
		{"until eleven years ahead", "until_date", day(11), "at most 10 years"},
		{"from eleven years ahead", "from_date", day(11), "at most 10 years"},
	} {
		form := webKeyForm(front)
		form.Set(tc.field, tc.value)
		res := e.c.PostForm(e.userURL("/permissions"), form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		assert.Contains(t, res.TestID(t, "error-"+tc.field), tc.msg, tc.name)
	}
	assert.Empty(t, e.perms(t), "nothing stored")

	form := webKeyForm(front)
	form.Set("from_date", day(0))
	form.Set("until_date", day(10))
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(e.userURL("/permissions"), form).StatusCode, "ten years ahead is fine")
	onFront := e.perms(t)[front.ID]
	edit := webKeyForm()
	edit.Set("name", "Dora")
	edit.Set("until_date", "9999-12-31")
	res := e.c.PostForm(e.userURL(fmt.Sprintf("/permissions/%d/edit", onFront.ID)), edit)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-until_date"), "at most 10 years")
	assert.Equal(t, onFront.AllowedUntil, e.perms(t)[front.ID].AllowedUntil, "unchanged")

	_, token := e.app.CreateToken(e.app.OwnerLogin(), models.Scopes{models.ScopeSmartlockAuth}, nil)
	api := e.app.NewClient()
	refused := func(method, path, body, want string) {
		t.Helper()
		res := apiCall(t, api, method, path, token, body, http.StatusBadRequest)
		var nuki struct {
			DetailMessage string `json:"detailMessage"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &nuki), res.Body)
		assert.Contains(t, nuki.DetailMessage, want)
	}
	create := fmt.Sprintf("/api/smartlock/%d/auth", office.SmartlockID())
	refused(http.MethodPut, create, fmt.Sprintf(`{"name":"Dora","accountUserId":%d,"remoteAllowed":true,"allowedUntilDate":"9999-12-31T00:00:00.000Z"}`,
		e.user.ID), "allowedUntilDate must be at most 10 years ahead")
	refused(http.MethodPut, "/api/smartlock/auth", fmt.Sprintf(`{"smartlockIds":[%d],"name":"Courier","type":13,"code":629145,"allowedFromDate":"1970-01-01T00:00:00.000Z"}`,
		office.SmartlockID()), "allowedFromDate must be in 2000 or later")
	refused(http.MethodPost, fmt.Sprintf("/api/smartlock/%d/auth/%d", front.SmartlockID(), onFront.ID),
		`{"allowedUntilDate":"9999-12-31T00:00:00.000Z"}`, "allowedUntilDate must be at most 10 years ahead")
	refused(http.MethodPost, "/api/smartlock/auth", fmt.Sprintf(`[{"id":"%d","allowedFromDate":"1999-01-01T00:00:00.000Z"}]`, onFront.ID),
		"allowedFromDate must be in 2000 or later")
	assert.Len(t, e.perms(t), 1, "nothing stored")
	assert.Equal(t, onFront.AllowedUntil, e.perms(t)[front.ID].AllowedUntil, "unchanged")
}
