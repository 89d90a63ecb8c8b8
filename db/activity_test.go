package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A device's events arrive in batches that repeat and come out of order (a connection asks
// again after a reconnect, from further back than needed): each event is stored once, none is
// lost, and the log lists them by when they happened. The event id is the device's: another
// device may use the same one.
func TestActivityBatchesRepeatedAndReordered(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var events []models.Activity
	for i := range 12 {
		events = append(events, models.Activity{AccountID: acc.ID, DeviceID: devs[0].ID, At: start.Add(time.Duration(i) * time.Minute),
			Action: models.LogUnlock + i%2, Trigger: 255, Source: 1, AuthID: 5, Name: "Postman", Origin: models.OriginDevice,
			EventID: fmt.Sprintf("ev-%d", i)})
	}

	n, err := s.CreateActivities(ctx, events[:8], nil)
	require.NoError(t, err)
	assert.Equal(t, 8, n)
	n, err = s.CreateActivities(ctx, events[:8], nil)
	require.NoError(t, err)
	assert.Zero(t, n, "a repeated batch")

	// From further back, reversed, with an event twice in the same batch.
	var again []models.Activity
	for i := len(events) - 1; i >= 5; i-- {
		again = append(again, events[i])
	}
	again = append(again, events[10])
	n, err = s.CreateActivities(ctx, again, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "only the 4 new ones")

	rnd := rand.New(rand.NewPCG(7, 7))
	shuffled := append([]models.Activity(nil), events...)
	rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	n, err = s.CreateActivities(ctx, shuffled, nil)
	require.NoError(t, err)
	assert.Zero(t, n, "a reordered batch")
	isNew, err := s.CreateActivity(ctx, events[3])
	require.NoError(t, err)
	assert.False(t, isNew)

	// Another device's event with the same id is its own.
	other := events[0]
	other.DeviceID = devs[1].ID
	isNew, err = s.CreateActivity(ctx, other)
	require.NoError(t, err)
	assert.True(t, isNew)

	// Stored out of order, listed by time, and paged by time too.
	page, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID, DeviceID: devs[0].ID, Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Entries, len(events))
	for i, e := range page.Entries {
		want := events[len(events)-1-i]
		assert.Equal(t, want.EventID, e.EventID)
		assert.True(t, want.At.Equal(e.At))
	}
	var paged []string
	f := models.LogFilter{AccountID: acc.ID, DeviceID: devs[0].ID, Limit: 5}
	for {
		page, err := s.FindLogEntries(ctx, f)
		require.NoError(t, err)
		for _, e := range page.Entries {
			paged = append(paged, e.EventID)
		}
		if !page.Older {
			break
		}
		f.Before = page.Entries[len(page.Entries)-1].ID
	}
	var want []string
	for i := len(events) - 1; i >= 0; i-- {
		want = append(want, events[i].EventID)
	}
	assert.Equal(t, want, paged)
}

// A state and the entries derived from it are stored together; an entry already there is
// skipped, and the state still stored.
func TestSaveReportedStateAndActivity(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionNukiBridge, Name: "B"},
		[]models.Device{{Type: models.DeviceOpener, NukiID: 1, Name: "Entrance"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	d := devs[0]
	ring := models.Activity{AccountID: acc.ID, DeviceID: d.ID, At: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Action: models.LogRing,
		Origin: models.OriginDevice, EventID: "ring-2026-03-02T08:00:00Z"}
	changed, created, err := s.SaveReportedStateAndActivity(ctx, d.ID, models.DeviceState{Mode: 2, State: 1, Online: true}, []models.Activity{ring}, nil)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, 1, created)
	changed, created, err = s.SaveReportedStateAndActivity(ctx, d.ID, models.DeviceState{Mode: 2, State: 3, Online: true}, []models.Activity{ring}, nil)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Zero(t, created)
	got, err := s.FindDevice(ctx, acc.ID, d.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Reported.State)
	changed, created, err = s.SaveReportedStateAndActivity(ctx, d.ID, models.DeviceState{Mode: 2, State: 3, Online: true}, nil, nil)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Zero(t, created)
}
