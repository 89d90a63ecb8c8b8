package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/models"
)

// The demo's history, made in-process on a fixed clock: four weeks of it, found by the log's
// person and code filters, inside the people's permissions, with some failures; made again it
// adds nothing, and a day later only that day.
func TestDemoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 3, 11, 15, 30, 0, 0, berlin) // a Wednesday afternoon
	database, err := db.OpenForTest(filepath.Join(t.TempDir(), db.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = database.Close() })
	_, err = database.Migrate(ctx)
	require.NoError(t, err)
	store := db.NewStore(database, func() time.Time { return now })
	box, err := auth.NewSecretBox(make([]byte, 32))
	require.NoError(t, err)
	manager := devices.New(store, box, devices.Options{SimSpeed: 0.01, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, manager.Start(ctx))
	t.Cleanup(manager.Close)
	application := &app.App{Store: store, Devices: manager, Secrets: box, Hasher: auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 0),
		Now: store.Now}
	require.NoError(t, createDemo(ctx, store, manager, application, "demo-data", io.Discard))

	login, _, err := store.FindLoginByEmail(ctx, demoEmail)
	require.NoError(t, err)
	account := login.AccountID
	all := func() []models.Activity {
		page, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, Limit: db.MaxLogPage})
		require.NoError(t, err)
		var out []models.Activity
		for {
			out = append(out, page.Entries...)
			if !page.Older {
				return out
			}
			page, err = store.FindLogEntries(ctx, models.LogFilter{AccountID: account, Limit: db.MaxLogPage, Before: page.Entries[len(page.Entries)-1].ID})
			require.NoError(t, err)
		}
	}
	entries := all()
	assert.Greater(t, len(entries), 500)
	assert.Less(t, len(entries), 3000)
	newest, oldest := entries[0], entries[len(entries)-1]
	assert.True(t, newest.At.Before(now), "nothing in the future")
	assert.Greater(t, now.Sub(oldest.At), 27*24*time.Hour, "four weeks back")
	assert.Less(t, now.Sub(oldest.At), 30*24*time.Hour)
	failed, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, Result: models.ResultFailed, Limit: 100})
	require.NoError(t, err)
	assert.NotEmpty(t, failed.Entries, "a wrong code or a blocked motor now and then")

	users, err := store.FindActiveUsers(ctx, account)
	require.NoError(t, err)
	var dora models.AccountUser
	for _, u := range users {
		if u.Name == "Dora Eck" {
			dora = u
		}
	}
	require.NotZero(t, dora.ID)
	page, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, UserID: dora.ID, Limit: 200})
	require.NoError(t, err)
	assert.Greater(t, len(page.Entries), 20, "Dora's weekday mornings")
	for _, e := range page.Entries {
		local := e.At.In(berlin)
		assert.Equal(t, "Dora Eck", e.Name)
		assert.Equal(t, models.TriggerWeb, e.Trigger)
		assert.NotContains(t, []time.Weekday{time.Saturday, time.Sunday}, local.Weekday(), "her permission is for weekdays")
		assert.True(t, local.Hour() >= 7 && local.Hour() < 19, "her permission is 07–19: %s", local)
	}
	// Issue 20 item 7: Dora's web key opens nothing evenings and weekends, so the demo has
	// Jonas's too, which opens its doors at any hour; both invitations wait in the outbox.
	saturdayNight := time.Date(2026, 3, 14, 23, 30, 0, 0, berlin)
	var jonas models.AccountUser
	for _, u := range users {
		if u.Name == demoAnyHourName {
			jonas = u
		}
	}
	require.NotZero(t, jonas.ID, "the demo has a web key that works at any hour")
	assert.Equal(t, demoAnyHourEmail, jonas.Email)
	auths, err := store.FindUserAuthorizations(ctx, account, jonas.ID)
	require.NoError(t, err)
	require.Len(t, auths, 3, "the front door, the back door and the building entrance")
	for _, a := range auths {
		assert.Equal(t, models.AuthTypeApp, a.Type, "a web key")
		assert.True(t, a.RemoteAllowed)
		assert.True(t, a.Restrictions.Unrestricted(), "no dates, days or hours")
		assert.True(t, a.Restrictions.AllowedAt(saturdayNight, berlin), "Saturday night")
		assert.NotNil(t, a.DeviceAuthID, "the device took it")
	}
	doraAuths, err := store.FindUserAuthorizations(ctx, account, dora.ID)
	require.NoError(t, err)
	require.NotEmpty(t, doraAuths)
	for _, a := range doraAuths {
		assert.False(t, a.Restrictions.AllowedAt(saturdayNight, berlin), "Dora's stays the office-hours example")
	}
	page, err = store.FindLogEntries(ctx, models.LogFilter{AccountID: account, UserID: jonas.ID, Limit: 200})
	require.NoError(t, err)
	outsideOfficeHours := 0
	for _, e := range page.Entries {
		assert.Equal(t, demoAnyHourName, e.Name)
		assert.Equal(t, models.TriggerWeb, e.Trigger)
		local := e.At.In(berlin)
		if local.Weekday() == time.Saturday || local.Weekday() == time.Sunday || local.Hour() < 7 || local.Hour() >= 19 {
			outsideOfficeHours++
		}
	}
	assert.Positive(t, outsideOfficeHours, "his log shows evenings and weekends")

	page, err = store.FindLogEntries(ctx, models.LogFilter{AccountID: account, Code: 735928, Limit: 200})
	require.NoError(t, err)
	assert.NotEmpty(t, page.Entries, "Max's keypad code")
	for _, e := range page.Entries {
		assert.Contains(t, []time.Weekday{time.Saturday, time.Sunday}, e.At.In(berlin).Weekday())
		assert.Equal(t, 1, e.Source)
	}

	devs, err := store.FindDevices(ctx, account, db.SortByAdded)
	require.NoError(t, err)
	n, err := createDemoHistory(ctx, store, account, devs, now)
	require.NoError(t, err)
	assert.Zero(t, n, "made again: nothing new")
	n, err = createDemoHistory(ctx, store, account, devs, now.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Positive(t, n, "a day later: that day")
	assert.Len(t, all(), len(entries)+n)

	// The box account: two boxes at one address, three units (one redeemed, shared with one
	// family member), and its residents' openings stored without who.
	manager0, _, err := store.FindLoginByEmail(ctx, demoBoxEmail)
	require.NoError(t, err)
	boxAccount := manager0.AccountID
	addrs, err := store.FindAddresses(ctx, boxAccount)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.Len(t, addrs[0].DeviceIDs, 2)
	units, err := store.FindUnits(ctx, boxAccount, addrs[0].ID)
	require.NoError(t, err)
	require.Len(t, units, 3)
	assert.Equal(t, 2, units[0].People, "Helga and her son")
	assert.Equal(t, 1, units[0].KeypadCodes)
	resident, _, err := store.FindLoginByEmail(ctx, demoResidentEmail)
	require.NoError(t, err)
	assert.True(t, resident.WebKey())
	page, err = store.FindLogEntries(ctx, models.LogFilter{AccountID: boxAccount, Limit: 50})
	require.NoError(t, err)
	require.Len(t, page.Entries, 14)
	for _, e := range page.Entries {
		assert.True(t, e.Resident)
		assert.Empty(t, e.Name)
		assert.Nil(t, e.LoginID)
	}
}
