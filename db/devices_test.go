package db

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func addBridge(t *testing.T, s *Store, accountID int64, devices ...models.Device) (models.Connection, []models.Device) {
	t.Helper()
	c, ds, err := s.CreateConnection(context.Background(), models.Connection{AccountID: accountID, Kind: models.ConnectionSimulated, Name: "Demo bridge"},
		devices, models.AuditEntry{Actor: "test", Kind: "connection.created"})
	require.NoError(t, err)
	return c, ds
}

func TestDevicesAreListedFavoritesFirstAndStayInTheirAccount(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	other, _ := createAccount(t, s, "bert@example.com")

	_, ds := addBridge(t, s, acc.ID,
		models.Device{Type: models.DeviceSmartLock3, NukiID: 0x2CB1DD82, Name: "storage room"},
		models.Device{Type: models.DeviceOpener, NukiID: 0x11, Name: "Building entrance"})
	clock.Advance(time.Hour)
	_, more := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock, NukiID: 0x22, Name: "Archive"})
	require.Len(t, ds, 2)
	assert.Equal(t, int64(0x42CB1DD82), ds[0].SmartlockID())
	assert.Equal(t, 255, ds[0].Reported.State, "undefined until the device reports")

	names := func(sort DeviceSort) []string {
		list, err := s.FindDevices(ctx, acc.ID, sort)
		require.NoError(t, err)
		var out []string
		for _, d := range list {
			out = append(out, d.Name)
		}
		return out
	}
	assert.Equal(t, []string{"Archive", "Building entrance", "storage room"}, names(SortByName), "by name, case-insensitive")
	assert.Equal(t, []string{"storage room", "Building entrance", "Archive"}, names(SortByAdded))

	require.NoError(t, s.InTx(ctx, func(tx *Tx) error {
		return tx.UpdateDeviceSettings(ctx, acc.ID, more[0].ID, "Archive room", true, true)
	}))
	assert.Equal(t, []string{"Archive room", "storage room", "Building entrance"}, names(SortByAdded), "favorites first")

	// Another account sees none of it and cannot change it.
	list, err := s.FindDevices(ctx, other.ID, SortByName)
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = s.FindDevice(ctx, other.ID, ds[0].ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.ErrorIs(t, s.InTx(ctx, func(tx *Tx) error { return tx.UpdateDeviceSettings(ctx, other.ID, ds[0].ID, "mine", true, true) }), models.ErrNotFound)
	assert.ErrorIs(t, s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDevice(ctx, other.ID, ds[0].ID) }), models.ErrNotFound)
	d, err := s.FindDevice(ctx, acc.ID, ds[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "storage room", d.Name)
}

func TestDeviceAddedTwiceIsAConflictAndNothingIsWritten(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 7, Name: "Front door"})
	_, _, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "Second"},
		[]models.Device{{Type: models.DeviceOpener, NukiID: 7, Name: "Opener"}, {Type: models.DeviceSmartLock3, NukiID: 7, Name: "Again"}},
		models.AuditEntry{Actor: "test", Kind: "connection.created"})
	assert.ErrorIs(t, err, models.ErrConflict)
	list, err := s.FindDevices(ctx, acc.ID, SortByName)
	require.NoError(t, err)
	assert.Len(t, list, 1, "the whole connection was rolled back")

	// The same Nuki id with another device type is another device; a deleted device can be added again.
	require.NoError(t, s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDevice(ctx, acc.ID, list[0].ID) }))
	_, err = s.FindDevice(ctx, acc.ID, list[0].ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 7, Name: "Front door"}, models.Device{Type: models.DeviceOpener, NukiID: 7, Name: "Opener"})
}

func TestReportedStateSavesOnlyNews(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	_, ds := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 7, Name: "Front door"})
	id := ds[0].ID
	charge, closed := 84, 2
	st := models.DeviceState{Mode: 2, State: 1, BatteryCharge: &charge, DoorState: &closed, Online: true}

	changed, err := s.SaveReportedState(ctx, id, st)
	require.NoError(t, err)
	assert.True(t, changed)
	clock.Advance(time.Minute)
	changed, err = s.SaveReportedState(ctx, id, st)
	require.NoError(t, err)
	assert.False(t, changed, "the same state again is no news")
	d, err := s.FindDevice(ctx, acc.ID, id)
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), *d.Reported.ReportedAt, "but the device was heard from")
	assert.Equal(t, 84, *d.Reported.BatteryCharge)
	assert.Nil(t, d.Reported.KeypadBatteryCritical, "no keypad stays unknown, not false")

	st.State = 3
	changed, err = s.SaveReportedState(ctx, id, st)
	require.NoError(t, err)
	assert.True(t, changed)
	st.DoorState = nil
	changed, err = s.SaveReportedState(ctx, id, st)
	require.NoError(t, err)
	assert.True(t, changed, "a part that disappears is a change")
}

// The warned set changes only from the value the caller read, and the warning email is queued
// with it or not at all.
func TestUpdateDeviceWarnedIsConditionalAndQueuesTheMail(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, login := createAccount(t, s, "anna@example.com")
	other, _ := createAccount(t, s, "bert@example.com")
	_, ds := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 0x2CB1DD82, Name: "Front door"})
	d := ds[0]
	assert.True(t, d.WarningsEnabled, "warnings are on for a new device")
	assert.Equal(t, "", d.Warned)
	msg := []models.OutboxMessage{{To: login.Email, Subject: "Front door: battery critically low", Text: "replace the batteries"}}

	ok, err := s.UpdateDeviceWarned(ctx, acc.ID, d.ID, "", "battery_critical,battery_low", msg)
	require.NoError(t, err)
	assert.True(t, ok)
	mails, err := s.FindMailTo(ctx, login.Email)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Equal(t, "Front door: battery critically low", mails[0].Subject)
	require.NotNil(t, mails[0].AccountID)
	assert.Equal(t, acc.ID, *mails[0].AccountID)
	got, err := s.FindDevice(ctx, acc.ID, d.ID)
	require.NoError(t, err)
	assert.Equal(t, "battery_critical,battery_low", got.Warned)

	// A caller that read the old value loses: nothing changes and no second email is queued.
	ok, err = s.UpdateDeviceWarned(ctx, acc.ID, d.ID, "", "battery_critical,battery_low", msg)
	require.NoError(t, err)
	assert.False(t, ok)
	// Another account's device is not touched.
	ok, err = s.UpdateDeviceWarned(ctx, other.ID, d.ID, "battery_critical,battery_low", "", msg)
	require.NoError(t, err)
	assert.False(t, ok)
	mails, err = s.FindMailTo(ctx, login.Email)
	require.NoError(t, err)
	assert.Len(t, mails, 1)

	// Clearing needs no email.
	ok, err = s.UpdateDeviceWarned(ctx, acc.ID, d.ID, "battery_critical,battery_low", "", nil)
	require.NoError(t, err)
	assert.True(t, ok)
	got, err = s.FindDevice(ctx, acc.ID, d.ID)
	require.NoError(t, err)
	assert.Equal(t, "", got.Warned)
	assert.Equal(t, 1, count(t, s.db, `SELECT count(*) FROM outbox`))
}
