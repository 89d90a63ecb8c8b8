package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// addEntries stores one entry per time on the device.
func addEntries(t *testing.T, s *Store, d models.Device, at ...time.Time) {
	t.Helper()
	for _, when := range at {
		_, err := s.CreateActivity(context.Background(), models.Activity{AccountID: d.AccountID, DeviceID: d.ID, At: when,
			Action: models.LogUnlock, Origin: models.OriginWeb})
		require.NoError(t, err)
	}
}

func setRetention(t *testing.T, s *Store, accountID int64, days int) {
	t.Helper()
	require.NoError(t, s.InTx(context.Background(), func(tx *Tx) error { return tx.UpdateLogRetention(context.Background(), accountID, days) }))
}

func entryCount(t *testing.T, s *Store, accountID int64) int {
	t.Helper()
	return count(t, s.db, `SELECT count(*) FROM activity WHERE account_id = ?`, accountID)
}

// An entry just inside the retention stays, one just outside goes; an account that keeps its
// log forever and one with a longer retention are not touched.
func TestDeleteExpiredActivityKeepsTheWindow(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	forever, _ := createAccount(t, s, "bert@example.com")
	longer, _ := createAccount(t, s, "cleo@example.com")
	_, ds := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"})
	_, fs := addBridge(t, s, forever.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"})
	_, ls := addBridge(t, s, longer.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"})
	setRetention(t, s, acc.ID, 30)
	setRetention(t, s, longer.ID, 90)

	now := clock.Now()
	window := 30 * 24 * time.Hour
	addEntries(t, s, ds[0], now.Add(-window-time.Second), now.Add(-window+time.Second), now.Add(-time.Hour), now.Add(-400*24*time.Hour))
	addEntries(t, s, fs[0], now.Add(-4000*24*time.Hour), now.Add(-window-time.Second))
	addEntries(t, s, ls[0], now.Add(-60*24*time.Hour))

	n, err := s.DeleteExpiredActivity(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the entry a second too old and the one 400 days old")
	assert.Equal(t, 2, entryCount(t, s, acc.ID))
	assert.Equal(t, 2, entryCount(t, s, forever.ID), "forever keeps everything")
	assert.Equal(t, 1, entryCount(t, s, longer.ID), "60 days is within 90")

	// Two seconds on, the entry that was just inside is just outside.
	clock.Advance(2 * time.Second)
	n, err = s.DeleteExpiredActivity(ctx, clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	page, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, now.Add(-time.Hour), page.Entries[0].At)

	// Back to forever: nothing more goes.
	setRetention(t, s, acc.ID, 0)
	clock.Advance(365 * 24 * time.Hour)
	n, err = s.DeleteExpiredActivity(ctx, clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the 90-day account's entry, now a year older")
	assert.Equal(t, 1, entryCount(t, s, acc.ID))
}

// The deletion goes in batches until nothing expired is left.
func TestDeleteExpiredActivityLoopsOverBatches(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	_, ds := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"})
	setRetention(t, s, acc.ID, 1)
	now := clock.Now()
	var old []time.Time
	for i := range 10 {
		old = append(old, now.Add(-48*time.Hour-time.Duration(i)*time.Minute))
	}
	addEntries(t, s, ds[0], old...)
	addEntries(t, s, ds[0], now.Add(-time.Minute), now)

	n, err := s.deleteExpiredActivity(ctx, now, 3)
	require.NoError(t, err)
	assert.Equal(t, 10, n, "four batches of at most 3")
	assert.Equal(t, 2, entryCount(t, s, acc.ID))
	n, err = s.deleteExpiredActivity(ctx, now, 3)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func TestLogRetentionSettingIsChecked(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "anna@example.com")
	days, err := s.FindLogRetention(ctx, acc.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, days, "a new account keeps its log forever")
	for _, bad := range []int{-1, models.MaxLogRetentionDays + 1} {
		err := s.InTx(ctx, func(tx *Tx) error { return tx.UpdateLogRetention(ctx, acc.ID, bad) })
		assert.Error(t, err, fmt.Sprint(bad))
	}
	assert.ErrorIs(t, s.InTx(ctx, func(tx *Tx) error { return tx.UpdateLogRetention(ctx, acc.ID+100, 30) }), models.ErrNotFound)
	setRetention(t, s, acc.ID, models.MaxLogRetentionDays)
	days, err = s.FindLogRetention(ctx, acc.ID)
	require.NoError(t, err)
	assert.Equal(t, models.MaxLogRetentionDays, days)
}
