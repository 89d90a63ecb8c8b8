package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// boxAccount makes a box account with the demo devices and returns its signed-in owner.
func boxAccount(t *testing.T, app *apptest.App, email string) (*apptest.Client, models.Login, []models.Device) {
	t.Helper()
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung "+email, email, "box owner password")
	_, devs, err := app.Devices.AddSimulatedBridge(context.Background(), owner.AccountID, "Entrances", sim.DemoDevices(),
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(email, "box owner password").StatusCode)
	return c, owner, devs
}

func addressCount(t *testing.T, app *apptest.App) int {
	t.Helper()
	var n int
	require.NoError(t, app.DB.Reader.QueryRow(`SELECT count(*) FROM addresses`).Scan(&n))
	return n
}

// Only box accounts have addresses: a web account's login finds neither the navigation item nor
// the pages (404), even by URL.
func TestAddressesOnlyForBoxAccounts(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	web := app.Setup()
	res := web.Get("/")
	assert.NotContains(t, res.Body, `href="/addresses"`)
	for _, path := range []string{"/addresses", "/addresses/new", "/addresses/1"} {
		assert.Equal(t, http.StatusNotFound, web.Get(path).StatusCode, path)
	}
	assert.Equal(t, http.StatusNotFound, web.PostForm("/addresses", url.Values{"name": {"X"}, "time_zone": {"UTC"}}).StatusCode)
	assert.Equal(t, 0, addressCount(t, app))

	box, _, _ := boxAccount(t, app, "verwaltung@example.com")
	res = box.Get("/")
	assert.Contains(t, res.Body, `href="/addresses"`)
	res = box.Get("/addresses")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "addresses-empty"))
}

// An address is made with its devices; a device in one address is offered to no other (and a
// forged request is refused without writing anything); bad input gets its message; deleting
// the address frees its devices.
func TestAddressCreateEditDelete(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c, _, devs := boxAccount(t, app, "verwaltung@example.com")
	_, _, theirs := boxAccount(t, app, "other@example.com")
	a, b := devs[0], devs[1]

	res := c.PostForm("/addresses", url.Values{"name": {"  Hauptstraße   12 "}, "street": {"Hauptstraße 12"}, "postcode": {"1010"},
		"city": {"Wien"}, "country": {"Austria"}, "time_zone": {"Europe/Vienna"}, "device": {fmt.Sprint(a.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/addresses/"), loc)
	res = c.Get(loc)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Hauptstraße 12", res.TestID(t, "address-name"))
	assert.Equal(t, "Hauptstraße 12, 1010 Wien, Austria", res.TestID(t, "address-line"))
	assert.Contains(t, res.TestID(t, fmt.Sprintf("address-device-%d", a.ID)), a.Name)

	bad := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no name", url.Values{"name": {" "}, "time_zone": {"UTC"}}, "error-name"},
		{"unknown zone", url.Values{"name": {"X"}, "time_zone": {"Mars/Olympus"}}, "error-time_zone"},
		{"long postcode", url.Values{"name": {"X"}, "time_zone": {"UTC"}, "postcode": {strings.Repeat("1", 21)}}, "error-postcode"},
		{"another account's device", url.Values{"name": {"X"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(theirs[0].ID)}}, "error-devices"},
		{"not a number", url.Values{"name": {"X"}, "time_zone": {"UTC"}, "device": {"abc"}}, "error-devices"},
		{"device of another address", url.Values{"name": {"X"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(a.ID)}}, "error-devices"},
	}
	for _, tc := range bad {
		res := c.PostForm("/addresses", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		assert.NotEmpty(t, res.TestID(t, tc.field), tc.name)
	}
	assert.Equal(t, 1, addressCount(t, app), "nothing half-written")

	// The second address's form offers a, but disabled: it is in Hauptstraße 12.
	res = c.Get("/addresses/new")
	doc := res.Doc(t)
	input := doc.Find(fmt.Sprintf(`[data-testid="device-%d"] input`, a.ID))
	_, disabled := input.Attr("disabled")
	assert.True(t, disabled)
	assert.Contains(t, doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, a.ID)).Text(), "Already in Hauptstraße 12")

	// Edit: move to b only.
	res = c.PostForm(loc, url.Values{"name": {"Hauptstraße 12"}, "time_zone": {"Europe/Vienna"}, "device": {fmt.Sprint(b.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get(loc)
	assert.Empty(t, res.Doc(t).Find(fmt.Sprintf(`[data-testid="address-device-%d"]`, a.ID)).Nodes)
	assert.NotEmpty(t, res.TestID(t, fmt.Sprintf("address-device-%d", b.ID)))

	// Another account's login cannot see it.
	other := app.NewClient()
	require.Equal(t, http.StatusSeeOther, other.Login("other@example.com", "box owner password").StatusCode)
	assert.Equal(t, http.StatusNotFound, other.Get(loc).StatusCode)
	assert.Equal(t, http.StatusNotFound, other.PostForm(loc+"/delete", nil).StatusCode)

	res = c.PostForm(loc+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, 0, addressCount(t, app))
	var inAddress int
	require.NoError(t, app.DB.Reader.QueryRow(`SELECT count(*) FROM devices WHERE address_id IS NOT NULL`).Scan(&inAddress))
	assert.Zero(t, inAddress)
	var audits int
	require.NoError(t, app.DB.Reader.QueryRow(`SELECT count(*) FROM audit_log WHERE kind LIKE 'address.%'`).Scan(&audits))
	assert.Equal(t, 3, audits, "created, changed, deleted")
}

// Viewing addresses needs no right; changing them needs "manage devices". A sub-account limited
// to some devices sees and changes only those, and its edit keeps the devices it does not see.
func TestAddressRightsAndDeviceLimit(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c, owner, devs := boxAccount(t, app, "verwaltung@example.com")
	a, b := devs[0], devs[1]
	res := c.PostForm("/addresses", url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(a.ID), fmt.Sprint(b.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	loc := res.Header.Get("Location")

	app.CreateSubAccount(owner, "viewer@example.com", models.Grant{Rights: models.RightOperateDevices})
	viewer := app.NewClient()
	require.Equal(t, http.StatusSeeOther, viewer.Login("viewer@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Equal(t, http.StatusOK, viewer.Get(loc).StatusCode)
	assert.Empty(t, viewer.Get(loc).Doc(t).Find(`[data-testid="edit-address"]`).Nodes)
	assert.Equal(t, http.StatusForbidden, viewer.Get("/addresses/new").StatusCode)
	assert.Equal(t, http.StatusForbidden, viewer.PostForm(loc+"/delete", nil).StatusCode)

	app.CreateSubAccount(owner, "limited@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{a.ID}})
	limited := app.NewClient()
	require.Equal(t, http.StatusSeeOther, limited.Login("limited@example.com", apptest.SubAccountPassword).StatusCode)
	res = limited.Get(loc)
	assert.NotEmpty(t, res.TestID(t, fmt.Sprintf("address-device-%d", a.ID)))
	assert.Empty(t, res.Doc(t).Find(fmt.Sprintf(`[data-testid="address-device-%d"]`, b.ID)).Nodes, "a device it does not see")
	res = limited.PostForm(loc, url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(b.ID)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "it cannot add what it does not see")
	res = limited.PostForm(loc, url.Values{"name": {"Hof"}, "time_zone": {"UTC"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	x, err := app.Store.FindAddresses(context.Background(), owner.AccountID)
	require.NoError(t, err)
	require.Len(t, x, 1)
	assert.Equal(t, []int64{b.ID}, x[0].DeviceIDs, "it removed its device and kept the one it does not see")
}

// Unticking every device on the edit page takes them all out of the address (the form sends no
// device field at all then).
func TestAddressEditRemovesEveryDevice(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c, owner, devs := boxAccount(t, app, "verwaltung@example.com")
	res := c.PostForm("/addresses", url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(devs[0].ID), fmt.Sprint(devs[1].ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.PostForm(res.Header.Get("Location"), url.Values{"name": {"Hof"}, "time_zone": {"UTC"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	x, err := app.Store.FindAddresses(context.Background(), owner.AccountID)
	require.NoError(t, err)
	require.Len(t, x, 1)
	assert.Empty(t, x[0].DeviceIDs)
}

// A second address or box of a name already there is made, and the page says so (issue 20,
// item 8): names that differ only in case, accents or spacing count as the same.
func TestDuplicateAddressAndBoxNamesWarn(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c, owner, devs := boxAccount(t, app, "verwaltung@example.com")
	flashAfter := func(res apptest.Response) string {
		t.Helper()
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		return c.Get(res.Header.Get("Location")).TestID(t, "flash")
	}

	flash := flashAfter(c.PostForm("/addresses", url.Values{"name": {"Hof"}, "time_zone": {"UTC"}}))
	assert.NotContains(t, flash, "also called", "the first of its name")
	res := c.PostForm("/addresses", url.Values{"name": {" HOF "}, "time_zone": {"UTC"}})
	second := res.Header.Get("Location")
	flash = flashAfter(res)
	assert.Contains(t, flash, "Address HOF added.")
	assert.Contains(t, flash, "Another address is also called HOF")
	assert.Equal(t, 2, addressCount(t, app), "made all the same")
	assert.NotContains(t, flashAfter(c.PostForm(second, url.Values{"name": {"Garten"}, "time_zone": {"UTC"}})), "also called")
	assert.Contains(t, flashAfter(c.PostForm(second, url.Values{"name": {"hof"}, "time_zone": {"UTC"}})), "Another address is also called hof")

	// The box wizard: a box named like a device of the account.
	res = c.PostForm("/boxes/new", url.Values{"step": {"3"}, "name": {devs[0].Name}, "location": {"Hof"}, "pin": {"2468"}, "pin_confirm": {"2468"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	sealed, ok := res.Doc(t).Find(`input[name="pin_sealed"]`).Attr("value")
	require.True(t, ok)
	flash = flashAfter(c.PostForm("/boxes/new", url.Values{"step": {"4"}, "name": {devs[0].Name}, "location": {"Hof"}, "pin_sealed": {sealed},
		"connection": {"simulated"}}))
	assert.Contains(t, flash, "Another device is also called "+devs[0].Name)
	list, err := app.Store.FindDeviceNames(context.Background(), owner.AccountID)
	require.NoError(t, err)
	assert.Len(t, list, len(devs)+1, "the box is set up")
}
