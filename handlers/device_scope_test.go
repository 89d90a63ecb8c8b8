package handlers_test

import (
	"context"
	"encoding/csv"
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
	"portier/models"
)

// scopeEnv is an account with the demo devices and Sam, a sub-account with every right but
// limited to the front door (PRODUCT.md R2). The office is a device Sam does not see; foreign
// is a device of another account, which Sam's answers about the office must look exactly like.
type scopeEnv struct {
	app     *apptest.App
	owner   *apptest.Client
	sam     *apptest.Client
	main    models.Login
	samL    models.Login
	devs    []models.Device
	front   models.Device // seen
	office  models.Device // not seen
	foreign models.Device // another account's
	account int64
}

func newScopeEnv(t *testing.T) *scopeEnv {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	main, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	// The office gets a name the account's ("ACME Office") does not contain.
	office := deviceNamed(t, devs, "Office")
	require.NoError(t, app.Store.InTx(context.Background(), func(tx *db.Tx) error {
		return tx.UpdateDeviceSettings(context.Background(), main.AccountID, office.ID, "Server room", false, true)
	}))
	devs = accountDevices(t, app, main.AccountID)
	e := &scopeEnv{app: app, owner: owner, main: main, devs: devs, front: deviceNamed(t, devs, "Front door"),
		office: deviceNamed(t, devs, "Server room"), account: main.AccountID}
	e.samL = app.CreateSubAccount(main, "sam@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{e.front.ID}})
	e.sam = app.NewClient()
	require.Equal(t, http.StatusSeeOther, e.sam.Login("sam@example.com", apptest.SubAccountPassword).StatusCode)
	_, other := app.CreateAccount(models.AccountWeb, "Other", "olga@example.com", "olgas long password here")
	_, foreign, err := app.Store.CreateConnection(context.Background(), models.Connection{AccountID: other.AccountID, Kind: models.ConnectionSimulated, Name: "Theirs"},
		[]models.Device{{Type: models.DeviceSmartLock5, NukiID: 77, Name: "Their office"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	e.foreign = foreign[0]
	// The devices name Ben on each of his three devices: one person, as a merge makes him.
	users, err := app.Store.FindActiveUsers(context.Background(), e.account)
	require.NoError(t, err)
	byName := map[string]int64{}
	for _, u := range users {
		if keep, ok := byName[u.Name]; ok {
			_, err := mergeTestUsers(app.Store, e.account, keep, u.ID)
			require.NoError(t, err)
			continue
		}
		byName[u.Name] = u.ID
	}
	return e
}

// accountDevices returns the account's devices.
func accountDevices(t *testing.T, app *apptest.App, accountID int64) []models.Device {
	t.Helper()
	devs, err := app.Store.FindDevices(context.Background(), accountID, db.SortByName)
	require.NoError(t, err)
	return devs
}

// person returns the account user of that name.
func (e *scopeEnv) person(t *testing.T, name string) models.AccountUser {
	t.Helper()
	users, err := e.app.Store.FindActiveUsers(context.Background(), e.account)
	require.NoError(t, err)
	for _, u := range users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no person %q", name)
	return models.AccountUser{}
}

// permissionOn returns the person's permission on the device.
func (e *scopeEnv) permissionOn(t *testing.T, u models.AccountUser, d models.Device) models.Authorization {
	t.Helper()
	auths, err := e.app.Store.FindUserAuthorizations(context.Background(), e.account, u.ID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.DeviceID == d.ID {
			return a
		}
	}
	t.Fatalf("%s has no permission on %s", u.Name, d.Name)
	return models.Authorization{}
}

// hidden asserts that a request about the office answers as the same request about another
// account's device does: 404 with the same page.
func (e *scopeEnv) hidden(t *testing.T, method, pattern string, form url.Values) {
	t.Helper()
	do := func(d models.Device) apptest.Response {
		path := fmt.Sprintf(pattern, d.ID)
		if method == http.MethodGet {
			return e.sam.Get(path)
		}
		return e.sam.PostForm(path, form)
	}
	res, theirs := do(e.office), do(e.foreign)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s", method, pattern)
	assert.Equal(t, theirs.StatusCode, res.StatusCode, "%s %s: as another account's device", method, pattern)
	assert.Equal(t, theirs.Body, res.Body, "%s %s: the same page as for another account's device", method, pattern)
	assert.NotContains(t, res.Body, "Server room")
}

// Every page, fragment and action of a device Sam does not see is 404, as another account's
// device; the front door works. Nothing about the office changes.
func TestLimitedLoginDevicePagesAndActions(t *testing.T) {
	t.Parallel()
	e := newScopeEnv(t)
	for _, path := range []string{"/devices/%d", "/devices/%d/panel", "/devices/%d/settings", "/devices/%d/config", "/devices/%d/config/status",
		"/devices/%d?confirm=3"} {
		e.hidden(t, http.MethodGet, path, nil)
		res := e.sam.Get(fmt.Sprintf(path, e.front.ID))
		assert.Equal(t, http.StatusOK, res.StatusCode, "%s of the front door", path)
	}
	e.sam.Header.Set("HX-Request", "true")
	e.hidden(t, http.MethodGet, "/devices/%d/panel", nil)
	e.hidden(t, http.MethodPost, "/devices/%d/actions/1", url.Values{"confirm": {"1"}})
	e.sam.Header.Del("HX-Request")
	e.hidden(t, http.MethodPost, "/devices/%d/actions/1", url.Values{"confirm": {"1"}})
	e.hidden(t, http.MethodPost, "/devices/%d/actions/3", nil)
	e.hidden(t, http.MethodPost, "/devices/%d/settings", url.Values{"name": {"Mine now"}, "favorite": {"1"}})
	e.hidden(t, http.MethodPost, "/devices/%d/delete", url.Values{"confirm": {"1"}})
	e.hidden(t, http.MethodPost, "/devices/%d/config", url.Values{"ledEnabled": {"0"}})
	e.hidden(t, http.MethodPost, "/devices/%d/config/admin-pin", url.Values{"admin_pin": {"1234"}})

	office, err := e.app.Store.FindDevice(context.Background(), e.account, e.office.ID)
	require.NoError(t, err, "not deleted")
	assert.Equal(t, "Server room", office.Name)
	assert.False(t, office.Favorite)
	_, acted := e.app.Devices.Action(e.office.ID)
	assert.False(t, acted, "no action was started on the office")
	page, err := e.app.Store.FindLogEntries(context.Background(), models.LogFilter{AccountID: e.account, DeviceID: e.office.ID})
	require.NoError(t, err)
	assert.Empty(t, page.Entries)

	// The front door can be renamed and operated.
	res := e.sam.PostForm(fmt.Sprintf("/devices/%d/settings", e.front.ID), url.Values{"name": {"Front door"}, "favorite": {"1"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = e.sam.PostForm(fmt.Sprintf("/devices/%d/actions/2", e.front.ID), nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)

	// The devices page and its poll list only the front door.
	for _, path := range []string{"/devices", "/devices/list?v=x"} {
		res := e.sam.Get(path)
		require.Equal(t, http.StatusOK, res.StatusCode)
		doc := res.Doc(t)
		assert.Equal(t, 1, doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, e.front.ID)).Length(), path)
		assert.Equal(t, 1, doc.Find(`[data-testid="device-list"] [data-testid^="device-"]`).Length(), "%s: one device", path)
		for _, d := range e.devs {
			if d.ID != e.front.ID {
				assert.NotContains(t, res.Body, d.Name, path)
			}
		}
	}
	// The owner still sees them all.
	assert.Contains(t, e.owner.Get("/devices").TestID(t, "device-list"), "Server room")
}

// Sam's activity log, its export, the device page's and a person's page's logs list only the
// front door's entries; a filter or a page cursor of the office is refused as another account's.
func TestLimitedLoginActivityLog(t *testing.T) {
	t.Parallel()
	e := newScopeEnv(t)
	ctx := context.Background()
	ben := e.person(t, "Ben Schulz")
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var officeEntry int64
	for i, x := range []struct {
		d    models.Device
		name string
	}{{e.front, "Ben at the front"}, {e.office, "Ben at the office"}, {e.front, "Ben again at the front"}, {e.office, "Ben again at the office"}} {
		a := e.permissionOn(t, ben, x.d)
		entry := models.Activity{AccountID: e.account, DeviceID: x.d.ID, At: at.Add(time.Duration(i) * time.Minute), Action: models.LogUnlock,
			AuthID: *a.DeviceAuthID, Name: x.name, Origin: models.OriginDevice, EventID: fmt.Sprintf("scope-%d", i)}
		_, err := e.app.Store.CreateActivity(ctx, entry)
		require.NoError(t, err)
	}
	page, err := e.app.Store.FindLogEntries(ctx, models.LogFilter{AccountID: e.account, DeviceID: e.office.ID, Limit: 1})
	require.NoError(t, err)
	officeEntry = page.Entries[0].ID
	_, otherAccount := e.app.CreateAccount(models.AccountWeb, "Third", "theo@example.com", "theos long password here")
	_, theirs, err := e.app.Store.CreateConnection(ctx, models.Connection{AccountID: otherAccount.AccountID, Kind: models.ConnectionSimulated, Name: "T"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 5, Name: "T"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, err = e.app.Store.CreateActivity(ctx, models.Activity{AccountID: otherAccount.AccountID, DeviceID: theirs[0].ID, At: at, Action: 1, Origin: models.OriginDevice, EventID: "x"})
	require.NoError(t, err)
	theirPage, err := e.app.Store.FindLogEntries(ctx, models.LogFilter{AccountID: otherAccount.AccountID})
	require.NoError(t, err)
	theirEntry := theirPage.Entries[0].ID

	seen := func(t *testing.T, body string, what string) {
		t.Helper()
		assert.Contains(t, body, "Ben at the front", what)
		assert.Contains(t, body, "Ben again at the front", what)
		assert.NotContains(t, body, "at the office", what)
	}
	for _, path := range []string{"/activity", fmt.Sprintf("/activity?user=%d", ben.ID), fmt.Sprintf("/activity?device=%d", e.front.ID), "/activity?action=1"} {
		res := e.sam.Get(path)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		seen(t, res.TestID(t, "activity-log"), path)
		assert.Equal(t, 2, res.Doc(t).Find(`[data-testid="activity-row"]`).Length(), path)
	}
	// The device filter offers only the front door.
	res := e.sam.Get("/activity")
	var offered []string
	res.Doc(t).Find(`[data-testid="filter-device"] option`).Each(func(_ int, s *goquery.Selection) {
		if v := s.AttrOr("value", ""); v != "" {
			offered = append(offered, s.Text())
		}
	})
	assert.Equal(t, []string{"Front door"}, offered)
	assert.NotContains(t, res.Body, "Server room")

	// The office as a filter, or one of its entries as a page cursor: refused as another account's.
	for _, pair := range [][2]string{
		{fmt.Sprintf("device=%d", e.office.ID), fmt.Sprintf("device=%d", e.foreign.ID)},
		{fmt.Sprintf("before=%d", officeEntry), fmt.Sprintf("before=%d", theirEntry)},
		{fmt.Sprintf("after=%d", officeEntry), fmt.Sprintf("after=%d", theirEntry)},
	} {
		mine, other := e.sam.Get("/activity?"+pair[0]), e.sam.Get("/activity?"+pair[1])
		assert.Equal(t, http.StatusUnprocessableEntity, mine.StatusCode, pair[0])
		assert.Equal(t, other.TestID(t, "activity-errors"), mine.TestID(t, "activity-errors"), pair[0])
		assert.NotContains(t, mine.TestID(t, "activity-log"), "Ben", pair[0])
		exp := e.sam.Get("/activity/export.csv?" + pair[0])
		if strings.HasPrefix(pair[0], "device") {
			assert.Equal(t, http.StatusUnprocessableEntity, exp.StatusCode)
		}
		assert.NotContains(t, exp.Body, "at the office")
	}

	// The export has the same two entries.
	res = e.sam.Get("/activity/export.csv")
	require.Equal(t, http.StatusOK, res.StatusCode)
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	assert.Len(t, records, 3, "a header and the front door's two entries")
	seen(t, res.Body, "export")

	// The front door's page and Ben's page embed only the front door's entries.
	res = e.sam.Get(fmt.Sprintf("/devices/%d", e.front.ID))
	seen(t, res.TestID(t, "activity"), "device page")
	res = e.sam.Get(fmt.Sprintf("/users/%d", ben.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	seen(t, res.TestID(t, "user-activity"), "user page")

	// The owner sees all four.
	res = e.owner.Get("/activity")
	assert.Equal(t, 4, res.Doc(t).Find(`[data-testid="activity-row"]`).Length())
}

// People are listed, but only with their permissions on the front door; permissions on the
// office cannot be seen, made, changed or removed; a person who holds some cannot be deleted.
func TestLimitedLoginUsersAndPermissions(t *testing.T) {
	t.Parallel()
	e := newScopeEnv(t)
	ctx := context.Background()
	ben, carla, postman := e.person(t, "Ben Schulz"), e.person(t, "Carla Rossi"), e.person(t, "Postman")
	others := []string{"Back door", "Server room", "Building entrance", "Garden gate"}
	notNamed := func(t *testing.T, text, what string) {
		t.Helper()
		for _, name := range others {
			assert.NotContains(t, text, name, what)
		}
	}

	res := e.sam.Get("/users")
	require.Equal(t, http.StatusOK, res.StatusCode)
	notNamed(t, res.Body, "users list")
	assert.Equal(t, "Front door", strings.TrimSpace(res.Doc(t).Find(fmt.Sprintf(`[data-testid="user-%d"] td`, ben.ID)).Eq(2).Text()), res.TestID(t, fmt.Sprintf("user-%d", ben.ID)))
	assert.Contains(t, res.TestID(t, "user-list"), "Carla Rossi", "people are listed, also those on other devices")
	var offered []string
	res.Doc(t).Find(`select[name="device"] option`).Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("value", "") != "" {
			offered = append(offered, s.Text())
		}
	})
	assert.Equal(t, []string{"Front door"}, offered)
	// The office as a filter filters nothing, as an unknown device.
	assert.Equal(t, userNames(t, e.sam.Get(fmt.Sprintf("/users?device=%d", e.foreign.ID))), userNames(t, e.sam.Get(fmt.Sprintf("/users?device=%d", e.office.ID))))
	assert.NotContains(t, userNames(t, e.sam.Get(fmt.Sprintf("/users?device=%d", e.front.ID))), "Carla Rossi")

	// Anna Müller's three app users are on three devices, two of which Sam does not see: merging
	// them is out of his reach, so they are not suggested to him.
	res = e.sam.Get("/users/duplicates")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, res.Body, "anna muller")
	assert.Contains(t, e.owner.Get("/users/duplicates").Body, "anna muller")
	notNamed(t, res.Body, "duplicates")

	// Ben's page: his permission on the front door, none of the others.
	res = e.sam.Get(fmt.Sprintf("/users/%d", ben.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "permissions"), "Front door")
	notNamed(t, res.Body, "Ben's page")
	assert.Equal(t, 1, res.Doc(t).Find(`li.perm`).Length())
	res = e.sam.Get(fmt.Sprintf("/users/%d?confirm=delete", ben.ID))
	notNamed(t, res.Body, "Ben's page asking to delete")

	// His permission on the office: not found, whatever is done with it, and unchanged.
	office := e.permissionOn(t, ben, e.office)
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/edit", nil},
		{http.MethodPost, "/edit", url.Values{"name": {"Ben"}, "remote": {"1"}}},
		{http.MethodPost, "/deactivate", nil},
		{http.MethodPost, "/reactivate", nil},
		{http.MethodPost, "/suspend", url.Values{"date": {"2027-01-01"}}},
		{http.MethodPost, "/remove", url.Values{"confirm": {"1"}}},
	} {
		path := fmt.Sprintf("/users/%d/permissions/%d%s", ben.ID, office.ID, tc.path)
		var res apptest.Response
		if tc.method == http.MethodGet {
			res = e.sam.Get(path)
		} else {
			res = e.sam.PostForm(path, tc.form)
		}
		assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
	}
	after := e.permissionOn(t, ben, e.office)
	assert.True(t, after.Enabled)
	assert.Nil(t, after.RevokedAt)
	assert.Equal(t, office.UpdatedAt, after.UpdatedAt, "nothing written")
	res = e.sam.Get(fmt.Sprintf("/users/%d/permissions/status?p=%d&p=%d", ben.ID, office.ID, e.permissionOn(t, ben, e.front).ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, res.Body, fmt.Sprintf("perm-%d", office.ID))
	assert.Contains(t, res.Body, fmt.Sprintf("%d", e.permissionOn(t, ben, e.front).ID))

	// New permissions: only the front door is offered; the office is refused, nothing written.
	res = e.sam.Get(fmt.Sprintf("/users/%d/permissions/new", carla.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	var choices []string
	res.Doc(t).Find(`input[name="device"]`).Each(func(_ int, s *goquery.Selection) { choices = append(choices, s.AttrOr("value", "")) })
	assert.Equal(t, []string{fmt.Sprint(e.front.ID)}, choices)
	notNamed(t, res.Body, "new permission form")
	before, err := e.app.Store.FindUserAuthorizations(ctx, e.account, carla.ID)
	require.NoError(t, err)
	for _, form := range []url.Values{webKeyForm(e.office), webKeyForm(e.front, e.office)} {
		res = e.sam.PostForm(fmt.Sprintf("/users/%d/permissions", carla.ID), form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Equal(t, "Choose among the offered devices.", res.TestID(t, "error-devices"))
		now, err := e.app.Store.FindUserAuthorizations(ctx, e.account, carla.ID)
		require.NoError(t, err)
		assert.Len(t, now, len(before), "nothing written")
	}
	res = e.sam.PostForm(fmt.Sprintf("/users/%d/permissions", carla.ID), webKeyForm(e.front))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = e.sam.Get(fmt.Sprintf("/users/%d/permissions/keypad-code?device=%d&device=%d", carla.ID, e.front.ID, e.office.ID))
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// Ben also holds permissions elsewhere: Sam cannot delete him; the Postman, only on the front
	// door, can be.
	res = e.sam.PostForm(fmt.Sprintf("/users/%d/delete", ben.ID), url.Values{"confirm": {"1"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Body, "devices you cannot see")
	assert.Equal(t, http.StatusForbidden, e.sam.PostForm(fmt.Sprintf("/users/%d/delete", ben.ID), nil).StatusCode, "not even asked")
	_, err = e.app.Store.FindAccountUser(ctx, e.account, ben.ID)
	require.NoError(t, err)
	assert.Nil(t, e.permissionOn(t, ben, e.office).RevokedAt)
	res = e.sam.PostForm(fmt.Sprintf("/users/%d/delete", postman.ID), url.Values{"confirm": {"1"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)

	// An invitation to a web key that opens the office, which Sam does not see: refused.
	res = e.owner.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"dora@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var dora int64
	_, err = fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &dora)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, e.owner.PostForm(fmt.Sprintf("/users/%d/permissions", dora), webKeyForm(e.office)).StatusCode)
	invitations := func() int {
		list, err := e.app.Store.FindUserInvitations(ctx, e.account, dora)
		require.NoError(t, err)
		return len(list)
	}
	n := invitations()
	assert.Contains(t, e.sam.Get(fmt.Sprintf("/users/%d", dora)).TestID(t, "invite-why-not"), "This change concerns devices you cannot see")
	assert.Empty(t, e.owner.Get(fmt.Sprintf("/users/%d", dora)).TestID(t, "invite-why-not"))
	res = e.sam.PostForm(fmt.Sprintf("/users/%d/invitations", dora), nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Body, "devices you cannot see")
	assert.Equal(t, n, invitations(), "none sent")
	assert.Equal(t, http.StatusSeeOther, e.owner.PostForm(fmt.Sprintf("/users/%d/invitations", dora), nil).StatusCode)
}

// The log notifications matrix offers only the front door; a box of the office is refused;
// a subscription kept from before on the office stays as it was.
func TestLimitedLoginLogNotifications(t *testing.T) {
	t.Parallel()
	e := newScopeEnv(t)
	ctx := context.Background()
	require.NoError(t, e.app.Store.InTx(ctx, func(tx *db.Tx) error {
		return tx.ReplaceLogSubscriptions(ctx, e.account, e.samL.ID, []models.LogSubscription{{DeviceID: e.office.ID, Kind: models.LogKindUnlock}})
	}))
	res := e.sam.Get("/settings/notifications")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.Doc(t).Find(`[data-testid="log-notifications-row"]`).Length())
	assert.NotContains(t, res.Body, "Server room")

	for _, sub := range []string{fmt.Sprintf("%d:unlock", e.office.ID), fmt.Sprintf("%d:unlock", e.foreign.ID)} {
		res = e.sam.PostForm("/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:lock", e.front.ID), sub}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, sub)
		assert.Contains(t, res.TestID(t, "form-error"), "could not be saved")
	}
	assert.Equal(t, []models.LogSubscription{{DeviceID: e.office.ID, Kind: models.LogKindUnlock}}, subscriptionsOf(t, e.app, "sam@example.com"), "nothing written")

	res = e.sam.PostForm("/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:lock", e.front.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.ElementsMatch(t, []models.LogSubscription{{DeviceID: e.front.ID, Kind: models.LogKindLock}, {DeviceID: e.office.ID, Kind: models.LogKindUnlock}},
		subscriptionsOf(t, e.app, "sam@example.com"))
}

// Devices added later are not Sam's, except those Sam adds; an unlimited sub-account sees every
// device, also the new ones. A login limited to no device sees none.
func TestLimitedLoginAndDevicesAddedLater(t *testing.T) {
	t.Parallel()
	e := newScopeEnv(t)
	all := e.app.CreateSubAccount(e.main, "alex@example.com", models.Grant{Rights: models.RightOperateDevices})
	alex := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, alex.Login(all.Email, apptest.SubAccountPassword).StatusCode)
	none := e.app.CreateSubAccount(e.main, "nina@example.com", models.Grant{Rights: models.RightsAll, Limited: true})
	nina := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, nina.Login(none.Email, apptest.SubAccountPassword).StatusCode)
	tiles := func(c *apptest.Client) int {
		return c.Get("/devices").Doc(t).Find(`[data-testid="device-list"] [data-testid^="device-"]`).Length()
	}
	require.Equal(t, 5, tiles(alex))
	require.Equal(t, 1, tiles(e.sam))

	require.Equal(t, http.StatusSeeOther, e.owner.PostForm("/devices/simulated", url.Values{"sim_name": {"Second bridge"}}).StatusCode)
	assert.Equal(t, 10, tiles(alex))
	assert.Equal(t, 1, tiles(e.sam))
	assert.Equal(t, 0, tiles(nina))
	assert.Equal(t, http.StatusOK, nina.Get("/activity").StatusCode)
	assert.Equal(t, 0, nina.Get("/activity").Doc(t).Find(`[data-testid="activity-row"]`).Length())
	assert.Equal(t, http.StatusNotFound, nina.Get(fmt.Sprintf("/devices/%d", e.front.ID)).StatusCode)

	require.Equal(t, http.StatusSeeOther, e.sam.PostForm("/devices/simulated", url.Values{"sim_name": {"Sam's bridge"}}).StatusCode)
	assert.Equal(t, 6, tiles(e.sam), "the front door and the five Sam added")
	assert.Equal(t, 15, tiles(alex))
	assert.Equal(t, 15, tiles(e.owner))
}
