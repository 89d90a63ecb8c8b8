package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/sim"
	"portier/models"
)

// utc is a moment written in UTC, for the instants the tests expect.
func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

// permissionOn returns the user's permission on device d.
func (e permEnv) permissionOn(t *testing.T, d models.Device) models.Authorization {
	t.Helper()
	a, ok := e.perms(t)[d.ID]
	require.True(t, ok, "a permission on %s", d.Name)
	return a
}

// One web-key permission on two devices in different time zones: each device's dates are
// midnight of the first day and the end of the last day on its own clock; the form says so
// and names the zones; the user's page and the edit form show each in its device's zone.
func TestPermissionOnDevicesInTwoTimeZones(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	front, office := e.device(t, "Front door"), e.device(t, "Office")
	setZone(t, e.app, front, "Europe/Helsinki")
	setZone(t, e.app, office, "America/New_York")

	page := e.c.Get(e.userURL(fmt.Sprintf("/permissions/new?device=%d", front.ID)))
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Empty(t, page.TestID(t, "zones-note"), "one device: one clock, no note")
	fieldset := page.Doc(t).Find(`fieldset[hx-get]`)
	assert.Equal(t, e.userURL("/permissions/zones"), fieldset.AttrOr("hx-get", ""), "ticking devices refreshes the note")
	assert.Equal(t, "#zones-note", fieldset.AttrOr("hx-target", ""))

	// The note htmx fetches when the ticked devices change.
	note := e.c.Get(e.userURL(fmt.Sprintf("/permissions/zones?device=%d&device=%d", front.ID, office.ID)))
	require.Equal(t, http.StatusOK, note.StatusCode)
	assert.Equal(t, "The dates and times apply in each device's own time zone: Front door: Europe/Helsinki; Office: America/New_York.",
		note.TestID(t, "zones-note"))
	assert.Empty(t, e.c.Get(e.userURL(fmt.Sprintf("/permissions/zones?device=%d", office.ID))).TestID(t, "zones-note"))

	form := webKeyForm(front, office)
	form.Set("from_date", "2026-04-01")
	form.Set("until_date", "2026-04-30")
	form.Set("from_time", "08:00") // no until time: refused, and the form comes back with the note
	res := e.c.PostForm(e.userURL("/permissions"), form)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-until_time"))
	assert.Empty(t, res.TestID(t, "error-devices"), "devices in two time zones are no error")
	assert.Contains(t, res.TestID(t, "zones-note"), "Front door: Europe/Helsinki; Office: America/New_York")
	assert.Empty(t, e.perms(t))

	form.Set("until_time", "17:00")
	res = e.c.PostForm(e.userURL("/permissions"), form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Len(t, e.perms(t), 2)
	helsinki, newYork := e.permissionOn(t, front), e.permissionOn(t, office)
	// 1 April 00:00 in Helsinki (summer time, UTC+3) and in New York (UTC-4); 30 April 23:59:59 likewise.
	require.NotNil(t, helsinki.AllowedFrom)
	require.NotNil(t, helsinki.AllowedUntil)
	assert.Equal(t, utc(2026, 3, 31, 21, 0, 0), helsinki.AllowedFrom.UTC())
	assert.Equal(t, utc(2026, 4, 30, 20, 59, 59), helsinki.AllowedUntil.UTC())
	require.NotNil(t, newYork.AllowedFrom)
	require.NotNil(t, newYork.AllowedUntil)
	assert.Equal(t, utc(2026, 4, 1, 4, 0, 0), newYork.AllowedFrom.UTC())
	assert.Equal(t, utc(2026, 5, 1, 3, 59, 59), newYork.AllowedUntil.UTC())
	for _, a := range []models.Authorization{helsinki, newYork} {
		assert.Equal(t, 8*60, a.AllowedFromTime, "daily times are the device's local times")
		assert.Equal(t, 17*60, a.AllowedUntilTime)
	}
	created := 0
	for _, kind := range e.auditKinds(t) {
		if kind == models.AuditPermissionCreated {
			created++
		}
	}
	assert.Equal(t, 1, created, "one audit row for the permission on both devices")

	// The user's page: each permission's restrictions on its device's clock.
	page = e.c.Get(e.userURL(""))
	assert.Contains(t, page.TestID(t, fmt.Sprintf("perm-%d", helsinki.ID)), "from 1 April 2026 · until 30 April 2026 · 08:00–17:00 (Europe/Helsinki)")
	assert.Contains(t, page.TestID(t, fmt.Sprintf("perm-%d", newYork.ID)), "from 1 April 2026 · until 30 April 2026 · 08:00–17:00 (America/New_York)")

	// The edit form edits one device's permission on that device's clock: in UTC (the viewer's
	// zone) or in New York, Helsinki's first moment is still 31 March.
	edit := e.c.Get(e.userURL(fmt.Sprintf("/permissions/%d/edit", helsinki.ID)))
	require.Equal(t, http.StatusOK, edit.StatusCode)
	assert.Equal(t, "2026-04-01", edit.Doc(t).Find(`#from_date`).AttrOr("value", ""))
	assert.Equal(t, "2026-04-30", edit.Doc(t).Find(`#until_date`).AttrOr("value", ""))
	assert.Contains(t, edit.TestID(t, "times-hint"), "Europe/Helsinki")
	assert.Empty(t, edit.TestID(t, "zones-note"))
	edit = e.c.Get(e.userURL(fmt.Sprintf("/permissions/%d/edit", newYork.ID)))
	assert.Equal(t, "2026-04-01", edit.Doc(t).Find(`#from_date`).AttrOr("value", ""))
	assert.Contains(t, edit.TestID(t, "times-hint"), "America/New_York")

	changed := url.Values{"name": {helsinki.Name}, "remote": {"1"}, "from_date": {"2026-04-02"}, "until_date": {"2026-04-30"},
		"from_time": {"08:00"}, "until_time": {"17:00"}}
	res = e.c.PostForm(e.userURL(fmt.Sprintf("/permissions/%d/edit", helsinki.ID)), changed)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	helsinki = e.permissionOn(t, front)
	assert.Equal(t, utc(2026, 4, 1, 21, 0, 0), helsinki.AllowedFrom.UTC(), "2 April 00:00 in Helsinki")
	assert.Equal(t, utc(2026, 4, 30, 20, 59, 59), helsinki.AllowedUntil.UTC(), "the last day is kept")
	assert.Equal(t, utc(2026, 4, 1, 4, 0, 0), e.permissionOn(t, office).AllowedFrom.UTC(), "New York's is its own")
}

// A keypad code on two devices with keypads in different time zones: each gets its dates on its
// own clock.
func TestKeypadCodeOnDevicesInTwoTimeZones(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	ctx := context.Background()
	_, added, err := e.app.Devices.AddSimulatedBridge(ctx, e.account, "Beach", []sim.DeviceSpec{
		{Type: models.DeviceSmartLock3, Name: "Beach house", Keypad: true, Charge: 70},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	front, beach := e.device(t, "Front door"), added[0]
	require.Eventually(t, func() bool { // a device reports its keypad with its state
		d, err := e.app.Store.FindDevice(ctx, e.account, beach.ID)
		return err == nil && d.Reported.KeypadBatteryCritical != nil
	}, 10*time.Second, 10*time.Millisecond)
	setZone(t, e.app, front, "Europe/Helsinki")
	setZone(t, e.app, beach, "America/New_York")

	// Generate without JavaScript shows the form again with the devices ticked, and the note.
	page := e.c.Get(e.userURL(fmt.Sprintf("/permissions/new?kind=keypad&generate=1&device=%d&device=%d", front.ID, beach.ID)))
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.TestID(t, "zones-note"), "Beach house: America/New_York; Front door: Europe/Helsinki")

	form := url.Values{"kind": {"keypad"}, "code": {"987654"}, "name": {"Dora"}, "device": {fmt.Sprint(front.ID), fmt.Sprint(beach.ID)},
		"from_date": {"2026-04-01"}}
	res := e.c.PostForm(e.userURL("/permissions"), form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Len(t, e.perms(t), 2)
	helsinki, newYork := e.permissionOn(t, front), e.permissionOn(t, beach)
	for _, a := range []models.Authorization{helsinki, newYork} {
		assert.Equal(t, models.AuthTypeKeypadCode, a.Type)
		require.NotNil(t, a.Code)
		assert.Equal(t, 987654, *a.Code)
		assert.Nil(t, a.AllowedUntil)
	}
	require.NotNil(t, helsinki.AllowedFrom)
	require.NotNil(t, newYork.AllowedFrom)
	assert.Equal(t, utc(2026, 3, 31, 21, 0, 0), helsinki.AllowedFrom.UTC(), "1 April 00:00 in Helsinki")
	assert.Equal(t, utc(2026, 4, 1, 4, 0, 0), newYork.AllowedFrom.UTC(), "1 April 00:00 in New York")
}
