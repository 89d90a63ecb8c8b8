package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// unitFixture is a box account with a box (with keypad) and a lock in one address.
type unitFixture struct {
	app     *apptest.App
	manager *apptest.Client
	owner   models.Login
	box     models.Device
	lock    models.Device
	address string // its page
}

func newUnitFixture(t *testing.T) unitFixture {
	t.Helper()
	return newUnitFixtureIn(t, apptest.New(t, apptest.Options{}), "Hausverwaltung", "verwaltung@example.com", "Hof", "Entrance box", "Garage")
}

// newUnitFixtureIn makes the fixture's box account in app, with its manager's email, the
// address's name and the names of its box and lock.
func newUnitFixtureIn(t *testing.T, app *apptest.App, company, managerEmail, address, box, lock string) unitFixture {
	t.Helper()
	_, owner := app.CreateAccount(models.AccountBox, company, managerEmail, "box owner password")
	_, devs, err := app.Devices.AddSimulatedBridge(context.Background(), owner.AccountID, "Entrances", []sim.DeviceSpec{
		{Type: models.DeviceBox, Name: box, Keypad: true, Charge: 90},
		{Type: models.DeviceSmartLock3, Name: lock, Charge: 80},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(managerEmail, "box owner password").StatusCode)
	res := c.PostForm("/addresses", url.Values{"name": {address}, "time_zone": {"Europe/Vienna"}, "device": {fmt.Sprint(devs[0].ID), fmt.Sprint(devs[1].ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	return unitFixture{app: app, manager: c, owner: owner, box: devs[0], lock: devs[1], address: res.Header.Get("Location")}
}

var unitCode = regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`)

// addUnit adds a unit and returns its id and invite code from the printable sheet.
func (f unitFixture) addUnit(t *testing.T, name string) (int64, string) {
	t.Helper()
	res := f.manager.PostForm(f.address+"/units", url.Values{"unit_name": {name}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	units, err := f.app.Store.FindUnits(context.Background(), f.owner.AccountID, addressID(t, f.address))
	require.NoError(t, err)
	u := units[len(units)-1]
	require.Equal(t, name, u.Name)
	res = f.manager.Get(fmt.Sprintf("%s/units/%d/sheet", f.address, u.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	code := res.TestID(t, "unit-code")
	require.Regexp(t, unitCode, code)
	assert.Contains(t, res.TestID(t, "unit-link"), "/unit?code="+code)
	return u.ID, code
}

func addressID(t *testing.T, path string) int64 {
	t.Helper()
	var id int64
	_, err := fmt.Sscanf(path, "/addresses/%d", &id)
	require.NoError(t, err)
	return id
}

func redeemForm(code, name, email string) url.Values {
	return url.Values{"code": {code}, "step": {"redeem"}, "name": {name}, "email": {email}, "keypad": {"1"}, "language": {"de"}}
}

var finishLink = regexp.MustCompile(`https?://\S+/unit/finish\?t=[A-Za-z0-9_-]+`)

// redeemMail returns the newest email about a unit's code sent to the address.
func redeemMail(t *testing.T, app *apptest.App, to string) models.OutboxMessage {
	t.Helper()
	mails, err := app.Store.FindMailTo(context.Background(), to)
	require.NoError(t, err)
	require.NotEmpty(t, mails, "an email to %s", to)
	return mails[0]
}

// redeemByEmail posts the public form, follows the emailed link and sets the password, as the
// party does; it returns the final response (a redirect to /key).
func redeemByEmail(t *testing.T, app *apptest.App, c *apptest.Client, form url.Values) apptest.Response {
	t.Helper()
	res := c.PostForm("/unit", form)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	require.NotEmpty(t, res.TestID(t, "redeem-check-email"))
	link := finishLink.FindString(redeemMail(t, app, form.Get("email")).Text)
	require.NotEmpty(t, link, "the email has the link to finish")
	u, err := url.Parse(link)
	require.NoError(t, err)
	res = c.Get(u.RequestURI())
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	return c.PostForm("/unit/finish", url.Values{"t": {u.Query().Get("t")}, "password": {"a resident password"},
		"password_confirm": {"a resident password"}})
}

// A unit locks the address's name; its code, redeemed once on the public page, gives the party a
// web key for the address's devices and a keypad code; the manager sees how many, not who; a
// used code, a wrong one and one of a deleted unit are refused; deleting the unit ends it all.
func TestUnitInviteCodeRedemption(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	unitID, code := f.addUnit(t, "Top 4 – Müller")

	// The name is locked now: the form says why, and a forged rename is refused.
	res := f.manager.Get(f.address + "/edit")
	assert.NotEmpty(t, res.TestID(t, "name-locked"))
	res = f.manager.PostForm(f.address, url.Values{"name": {"Renamed"}, "time_zone": {"Europe/Vienna"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-name"), "cannot be changed")
	res = f.manager.PostForm(f.address, url.Values{"name": {"Hof"}, "city": {"Wien"}, "time_zone": {"Europe/Vienna"},
		"device": {fmt.Sprint(f.box.ID), fmt.Sprint(f.lock.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "other fields still change")
	res = f.manager.PostForm(f.address+"/delete", nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, "not while it has units")

	// The printed link leads to the form with the address and its devices.
	resident := f.app.NewClient()
	res = resident.Get("/unit?code=" + url.QueryEscape(strings.ToLower(code)))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "redeem-unit"), "Top 4 – Müller")
	assert.Contains(t, res.TestID(t, "redeem-devices"), "Entrance box")
	assert.NotEmpty(t, res.Doc(t).Find(`[data-testid="want-keypad"]`).Nodes, "the box has a keypad")

	// Bad input is refused and nothing is used up.
	bad := redeemForm(code, "", "not-an-email")
	bad.Set("password_confirm", "something else")
	res = resident.PostForm("/unit", bad)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-name"))
	assert.NotEmpty(t, res.TestID(t, "error-email"))
	res = redeemByEmail(t, f.app, resident, redeemForm(code, "Maria Müller", "maria@example.com"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	res = resident.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "Entrance box")
	assert.Contains(t, res.Body, "Garage")
	assert.Regexp(t, `Ihr Keypad-Code für Entrance box ist \d{6}`, res.Body, "German, as chosen")

	// The resident opens the box from the web key: the manager's log says "Resident", and the
	// stored row holds no trace of who.
	res = resident.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	require.Less(t, res.StatusCode, 400, res.Body)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM activity WHERE device_id = ? AND resident = 1`, f.box.ID).Scan(&n))
		return n == 1
	}, 5*time.Second, 20*time.Millisecond)
	var authID, loginID sql.NullInt64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT NULLIF(auth_id, 0), login_id FROM activity WHERE device_id = ? AND resident = 1`, f.box.ID).Scan(&authID, &loginID))
	assert.False(t, authID.Valid || loginID.Valid, "no resident identity in the log row")
	res = f.manager.Get(fmt.Sprintf("/activity?device=%d", f.box.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "A resident")
	assert.NotContains(t, res.Body, "Maria")
	assert.NotContains(t, res.Body, "maria@example.com")
	var auditLeaks int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM audit_log WHERE actor LIKE '%maria%' OR detail LIKE '%Maria%'
		OR login_id = (SELECT id FROM logins WHERE email = 'maria@example.com')`).Scan(&auditLeaks))
	assert.Zero(t, auditLeaks, "the audit trail does not name the resident either")

	// The manager sees one person and one keypad code, never who.
	res = f.manager.Get(f.address)
	row := res.TestID(t, fmt.Sprintf("unit-%d", unitID))
	assert.NotContains(t, row, "Maria")
	assert.Equal(t, "1", res.TestID(t, "unit-people"))
	assert.Equal(t, "1", res.TestID(t, "unit-keypad-codes"))
	assert.NotContains(t, f.manager.Get("/users").Body, "Maria", "residents are not listed as users")
	assert.Equal(t, http.StatusGone, f.manager.Get(fmt.Sprintf("%s/units/%d/sheet", f.address, unitID)).StatusCode, "no sheet once redeemed")

	// Used once: a second party cannot use it.
	other := f.app.NewClient()
	res = other.PostForm("/unit", url.Values{"code": {code}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	res = other.PostForm("/unit", redeemForm(code, "Eve", "eve@example.com"))
	assert.Equal(t, http.StatusGone, res.StatusCode)
	link := finishLink.FindString(redeemMail(t, f.app, "maria@example.com").Text)
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, http.StatusGone, other.Get(u.RequestURI()).StatusCode, "the emailed link works once")

	// Another unit of the same name is refused: its residents could not tell the sheets apart.
	res = f.manager.PostForm(f.address+"/units", url.Values{"unit_name": {"top 4 – MÜLLER"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-unit_name"), "top 4 – MÜLLER")
	units, err := f.app.Store.FindUnits(context.Background(), f.owner.AccountID, addressID(t, f.address))
	require.NoError(t, err)
	assert.Len(t, units, 1, "nothing written")

	// A deleted unit's code is closed too.
	unit2, code2 := f.addUnit(t, "Top 5")
	res = f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, unit2), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusGone, other.PostForm("/unit", url.Values{"code": {code2}}).StatusCode)

	// Deleting the redeemed unit ends the web key at once and revokes the permissions.
	res = f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, unitID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = resident.Get("/key")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signed out")
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"))
	var live int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM authorizations a JOIN account_users u ON u.id = a.account_user_id
		WHERE u.unit_id = ? AND a.revoked_at IS NULL`, unitID).Scan(&live))
	assert.Zero(t, live)
	res = f.manager.Get(f.address)
	assert.NotEmpty(t, res.TestID(t, "units-empty"))
}

// Guessing codes is throttled per address: after 10 wrong codes even the right one waits.
func TestUnitCodeBruteForceIsThrottled(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	_, code := f.addUnit(t, "Top 1")
	c := f.app.NewClient()
	for i := range 10 {
		res := c.PostForm("/unit", url.Values{"code": {fmt.Sprintf("AAAA-AAAA-%04d", i)}})
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	}
	res := c.PostForm("/unit", url.Values{"code": {code}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, res.Body, "Too many wrong codes")
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/unit", url.Values{"code": {"  "}}).StatusCode)
}

// Units need the authorizations right and a box account.
func TestUnitRights(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	f.app.CreateSubAccount(f.owner, "devices@example.com", models.Grant{Rights: models.RightManageDevices})
	c := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login("devices@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Empty(t, c.Get(f.address).Doc(t).Find(`[data-testid="unit-form"]`).Nodes)
	assert.Equal(t, http.StatusForbidden, c.PostForm(f.address+"/units", url.Values{"unit_name": {"X"}}).StatusCode)
	res := f.manager.PostForm(f.address+"/units", url.Values{"unit_name": {" "}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-unit_name"))
}

// redeem redeems a new unit's code as a resident and returns the signed-in client.
func (f unitFixture) redeem(t *testing.T, unit, email string) *apptest.Client {
	t.Helper()
	_, code := f.addUnit(t, unit)
	c := f.app.NewClient()
	form := redeemForm(code, "Maria Müller", email)
	form.Del("keypad")
	res := redeemByEmail(t, f.app, c, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	return c
}

// The resident shares with family members, each invited by email to a web key of their own; a
// family member cannot share further; the 101st is refused; a removed member's key ends.
func TestFamilySharing(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	resident := f.redeem(t, "Top 4", "maria@example.com")
	res := resident.Get("/key")
	assert.NotEmpty(t, res.TestID(t, "family-link"))
	res = resident.Get("/key/family")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "family-empty"))

	res = resident.PostForm("/key/family", url.Values{"name": {""}, "email": {"nope"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-name"))
	assert.NotEmpty(t, res.TestID(t, "error-email"))

	res = resident.PostForm("/key/family", url.Values{"name": {"Jonas Müller"}, "email": {"jonas@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = resident.PostForm("/key/family", url.Values{"name": {"Jonas again"}, "email": {"JONAS@example.com"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	mails, err := f.app.Store.FindMailTo(context.Background(), "jonas@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "Maria Müller", "the invitation names the resident")
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)

	jonas := f.app.NewClient()
	res = jonas.PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = jonas.Get("/key")
	assert.Contains(t, res.Body, "Entrance box")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="family-link"]`).Nodes, "a family member does not share further")
	assert.Equal(t, http.StatusNotFound, jonas.Get("/key/family").StatusCode)

	// The manager sees two people and no names, in the unit and in the audit trail.
	res = f.manager.Get(f.address)
	assert.Equal(t, "2", res.TestID(t, "unit-people"))
	var leaks int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM audit_log WHERE actor LIKE '%jonas%' OR detail LIKE '%Jonas%' OR actor LIKE '%maria%'
		OR detail LIKE '%Maria%'`).Scan(&leaks))
	if !assert.Zero(t, leaks) {
		rows, _ := f.app.DB.Reader.Query(`SELECT actor, kind, detail FROM audit_log`)
		for rows.Next() {
			var a, k, d string
			_ = rows.Scan(&a, &k, &d)
			t.Log(a, k, d)
		}
		rows.Close()
	}

	// 100 family members at most.
	var residentUser int64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT account_user_id FROM logins WHERE email = 'maria@example.com'`).Scan(&residentUser))
	for i := 2; i <= models.MaxFamilyMembers; i++ {
		_, err := f.app.Handler.App.AddFamilyMember(context.Background(), models.Actor{Origin: models.ActorSystem},
			models.KeyHolding{AccountID: f.owner.AccountID, PersonID: residentUser}, fmt.Sprintf("Member %d", i), fmt.Sprintf("member%d@example.com", i), "en")
		require.NoError(t, err)
	}
	res = resident.Get("/key/family")
	assert.NotEmpty(t, res.TestID(t, "family-full"))
	res = resident.PostForm("/key/family", url.Values{"name": {"One too many"}, "email": {"extra@example.com"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "100 Familienmitgliedern")
	var n int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM account_users WHERE email = 'extra@example.com'`).Scan(&n))
	assert.Zero(t, n, "nothing written")

	// Removing Jonas ends his web key.
	var jonasID int64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT id FROM account_users WHERE email = 'jonas@example.com'`).Scan(&jonasID))
	res = resident.PostForm(fmt.Sprintf("/key/family/%d/remove", jonasID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, jonas.Get("/key").StatusCode, "signed out")
	assert.Equal(t, http.StatusNotFound, resident.PostForm(fmt.Sprintf("/key/family/%d/remove", jonasID), nil).StatusCode)
	// Another unit's resident cannot remove members of this one.
	other := f.redeem(t, "Top 5", "otto@example.com")
	var member2 int64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT id FROM account_users WHERE email = 'member2@example.com'`).Scan(&member2))
	assert.Equal(t, http.StatusNotFound, other.PostForm(fmt.Sprintf("/key/family/%d/remove", member2), nil).StatusCode)
}

// Deleting a unit takes its access off the devices: a device that is online lets the resident's
// authorizations go at once; one that is offline keeps them until it comes back, and Portier
// tells it then (and the resident's web key is gone at once either way).
func TestUnitDeletionRevokesOnDevicesIncludingOfflineOnes(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	unitID, code := f.addUnit(t, "Top 7")
	c := f.app.NewClient()
	res := redeemByEmail(t, f.app, c, redeemForm(code, "Ilse Roth", "ilse@example.com"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	b := f.app.Devices.Simulator(f.box.ConnectionID)
	require.NotNil(t, b)
	held := func(d models.Device) []string {
		auths, err := b.Authorizations(d.Type, d.NukiID)
		require.NoError(t, err)
		var names []string
		for _, a := range auths {
			if a.Name == "Ilse Roth" {
				names = append(names, fmt.Sprintf("%d", a.Type))
			}
		}
		return names
	}
	f.app.Devices.RetryPermissions()
	require.Eventually(t, func() bool { return len(held(f.box)) == 2 && len(held(f.lock)) == 1 }, 10*time.Second, 20*time.Millisecond,
		"the box holds the web key and the keypad code, the garage lock the web key")

	require.NoError(t, b.SetOnline(f.lock.Type, f.lock.NukiID, false))
	res = f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, unitID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, c.Get("/key").StatusCode, "the web key is gone at once")
	require.Eventually(t, func() bool { return len(held(f.box)) == 0 }, 10*time.Second, 20*time.Millisecond, "the box lets go at once")
	var pending int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM authorizations a JOIN account_users u ON u.id = a.account_user_id
		WHERE u.unit_id = ? AND a.device_id = ? AND a.deleted_at IS NULL`, unitID, f.lock.ID).Scan(&pending))
	assert.Equal(t, 1, pending, "the offline lock's removal waits")

	require.NoError(t, b.SetOnline(f.lock.Type, f.lock.NukiID, true))
	f.app.Devices.RetryPermissions()
	require.Eventually(t, func() bool { return len(held(f.lock)) == 0 }, 10*time.Second, 20*time.Millisecond, "told when it is back")
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM authorizations a JOIN account_users u ON u.id = a.account_user_id
			WHERE u.unit_id = ? AND a.deleted_at IS NULL`, unitID).Scan(&n))
		return n == 0
	}, 10*time.Second, 20*time.Millisecond, "every removal confirmed")
}

// An address may show the unit of a resident in the log, never the resident; the choice applies
// to entries stored while it is on.
func TestResidentUnitInTheLog(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	_, code := f.addUnit(t, "Top 9")
	res := f.manager.PostForm(f.address, url.Values{"name": {"Hof"}, "time_zone": {"Europe/Vienna"}, "show_unit_in_log": {"1"},
		"device": {fmt.Sprint(f.box.ID), fmt.Sprint(f.lock.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	_, hasBox := f.manager.Get(f.address + "/edit").Doc(t).Find(`[data-testid="show-unit-in-log"]`).Attr("checked")
	assert.True(t, hasBox)
	resident := f.app.NewClient()
	form := redeemForm(code, "Rosa Weiß", "rosa@example.com")
	form.Set("language", "en")
	require.Equal(t, http.StatusSeeOther, redeemByEmail(t, f.app, resident, form).StatusCode)
	act := func() {
		res := resident.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
		require.Less(t, res.StatusCode, 400, res.Body)
	}
	count := func() int {
		var n int
		require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM activity WHERE device_id = ? AND resident = 1`, f.box.ID).Scan(&n))
		return n
	}
	act()
	require.Eventually(t, func() bool { return count() == 1 }, 5*time.Second, 20*time.Millisecond)
	res = f.manager.Get(fmt.Sprintf("/activity?device=%d", f.box.ID))
	assert.Contains(t, res.Body, "A resident of Top 9")
	assert.NotContains(t, res.Body, "Rosa")

	res = f.manager.PostForm(f.address, url.Values{"name": {"Hof"}, "time_zone": {"Europe/Vienna"},
		"device": {fmt.Sprint(f.box.ID), fmt.Sprint(f.lock.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Eventually(t, func() bool {
		r := resident.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
		return r.StatusCode < 400 // the first action may still be finishing
	}, 5*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return count() == 2 }, 5*time.Second, 20*time.Millisecond)
	var units []string
	rows, err := f.app.DB.Reader.Query(`SELECT resident_unit FROM activity WHERE device_id = ? AND resident = 1 ORDER BY id`, f.box.ID)
	require.NoError(t, err)
	for rows.Next() {
		var u string
		require.NoError(t, rows.Scan(&u))
		units = append(units, u)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, []string{"Top 9", ""}, units, "the unit is kept only while the address shows it")
}

// A resident sends at most 10 family invitations an hour: the 11th is refused (429, a message
// on the form) and writes nothing; an hour later it works again. A name longer than person names
// may be is a field error, counted against nothing.
func TestFamilyInvitationsAreLimited(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	resident := f.redeem(t, "Top 4", "maria@example.com")

	res := resident.PostForm("/key/family", url.Values{"name": {strings.Repeat("x", 101)}, "email": {"long@example.com"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-name"))

	for i := 1; i <= 10; i++ {
		res := resident.PostForm("/key/family", url.Values{"name": {fmt.Sprintf("Member %d", i)}, "email": {fmt.Sprintf("member%d@example.com", i)}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "invitation %d: %s", i, res.Body)
	}
	res = resident.PostForm("/key/family", url.Values{"name": {"Eleven"}, "email": {"eleven@example.com"}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "10 Familienmitglieder")
	var n int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM account_users WHERE email IN ('eleven@example.com', 'long@example.com')`).Scan(&n))
	assert.Zero(t, n, "nothing written")
	mails, err := f.app.Store.FindMailTo(context.Background(), "eleven@example.com")
	require.NoError(t, err)
	assert.Empty(t, mails, "no invitation sent")

	f.app.Clock.Advance(time.Hour + time.Minute)
	resident = f.app.NewClient() // the session has ended meanwhile
	require.Equal(t, http.StatusSeeOther, resident.Login("maria@example.com", "a resident password").StatusCode)
	res = resident.PostForm("/key/family", url.Values{"name": {"Eleven"}, "email": {"eleven@example.com"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
}

// Switching "show the unit in the log" on tells every resident and family member of the
// address's units once, in their language, and not the manager's outbox page; the web key says
// what the log shows, and the address form says that residents are told.
func TestShowingTheUnitInTheLogTellsResidents(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	ctx := context.Background()
	resident := f.redeem(t, "Top 4", "maria@example.com")
	res := resident.PostForm("/key/family", url.Values{"name": {"Paul Müller"}, "email": {"paul@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	f.redeem(t, "Top 5", "rosa@example.com")

	res = resident.Get("/key")
	assert.Contains(t, res.TestID(t, "unit-in-log-hidden"), "nur \"ein Bewohner\"")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="unit-in-log-shown"]`).Nodes)
	assert.Contains(t, f.manager.Get(f.address+"/edit").TestID(t, "show-unit-in-log-hint"), "told by email")

	mailsTo := func(to string) []models.OutboxMessage {
		mails, err := f.app.Store.FindMailTo(ctx, to)
		require.NoError(t, err)
		var out []models.OutboxMessage
		for _, m := range mails {
			if strings.Contains(m.Subject, "Aktivitätsprotokoll") || strings.Contains(m.Subject, "activity log") {
				out = append(out, m)
			}
		}
		return out
	}
	turnOn := url.Values{"name": {"Hof"}, "time_zone": {"Europe/Vienna"}, "show_unit_in_log": {"1"},
		"device": {fmt.Sprint(f.box.ID), fmt.Sprint(f.lock.ID)}}
	require.Equal(t, http.StatusSeeOther, f.manager.PostForm(f.address, turnOn).StatusCode)
	require.Equal(t, http.StatusSeeOther, f.manager.PostForm(f.address, turnOn).StatusCode, "saved again while on: nobody told twice")

	for _, to := range []string{"maria@example.com", "paul@example.com", "rosa@example.com"} {
		mails := mailsTo(to)
		require.Len(t, mails, 1, to)
		assert.Contains(t, mails[0].Subject, "Aktivitätsprotokoll von Hof", to)
		assert.Nil(t, mails[0].AccountID, "not on the manager's outbox page")
	}
	assert.Contains(t, mailsTo("maria@example.com")[0].Text, "ein Bewohner von Top 4")
	assert.Contains(t, mailsTo("rosa@example.com")[0].Text, "ein Bewohner von Top 5")
	assert.NotContains(t, f.manager.Get("/settings/outbox").Body, "maria@example.com")

	res = resident.Get("/key")
	assert.Contains(t, res.TestID(t, "unit-in-log-shown"), "ein Bewohner von Top 4")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="unit-in-log-hidden"]`).Nodes)
}

// The public /unit form never tells whether an email signs in already: the same page for a new
// address and for a login's, the code still open afterwards either way, and one email each —
// the link to finish for the new one, "sign in and enter the code again" for the login's.
func TestUnitRedeemDoesNotRevealLogins(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	_, code := f.addUnit(t, "Top 6")

	answer := func(email string) (int, string) {
		res := f.app.NewClient().PostForm("/unit", redeemForm(code, "Otto", email))
		return res.StatusCode, strings.ReplaceAll(res.Body, email, "EMAIL")
	}
	newStatus, newPage := answer("otto@example.com")
	loginStatus, loginPage := answer("verwaltung@example.com")
	assert.Equal(t, http.StatusOK, newStatus)
	assert.Equal(t, newStatus, loginStatus)
	assert.Equal(t, newPage, loginPage, "the same page whether the email signs in or not")
	assert.Equal(t, http.StatusOK, f.app.NewClient().Get("/unit?code="+url.QueryEscape(code)).StatusCode, "nothing used up either way")

	toNew := redeemMail(t, f.app, "otto@example.com")
	assert.Regexp(t, finishLink, toNew.Text)
	assert.Nil(t, toNew.AccountID, "on no account's outbox page")
	toLogin := redeemMail(t, f.app, "verwaltung@example.com")
	assert.NotRegexp(t, finishLink, toLogin.Text, "no second login for an address that signs in")
	assert.Contains(t, toLogin.Text, "mit einer anderen E-Mail-Adresse")
	assert.Contains(t, toLogin.Text, "/unit")
	assert.Nil(t, toLogin.AccountID)

	// An altered link finishes nothing.
	u, err := url.Parse(finishLink.FindString(toNew.Text))
	require.NoError(t, err)
	tampered := u.Query().Get("t")
	tampered = tampered[:len(tampered)-2] + "AA"
	assert.Equal(t, http.StatusGone, f.app.NewClient().Get("/unit/finish?t="+tampered).StatusCode)
	// An expired one neither.
	f.app.Clock.Advance(49 * time.Hour)
	assert.Equal(t, http.StatusGone, f.app.NewClient().Get(u.RequestURI()).StatusCode)
}

// The public form of one unit sends at most 10 emails an hour, whatever the addresses.
func TestUnitRedeemEmailsAreLimited(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	_, code := f.addUnit(t, "Top 8")
	for i := 1; i <= 10; i++ {
		res := f.app.NewClient().PostForm("/unit", redeemForm(code, "Otto", fmt.Sprintf("otto%d@example.com", i)))
		require.Equal(t, http.StatusOK, res.StatusCode, "email %d", i)
	}
	res := f.app.NewClient().PostForm("/unit", redeemForm(code, "Otto", "eleven@example.com"))
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "10 emails")
	mails, err := f.app.Store.FindMailTo(context.Background(), "eleven@example.com")
	require.NoError(t, err)
	assert.Empty(t, mails)
	f.app.Clock.Advance(time.Hour + time.Minute)
	assert.Equal(t, http.StatusOK, f.app.NewClient().PostForm("/unit", redeemForm(code, "Otto", "eleven@example.com")).StatusCode)
}
