package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/models"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The retention job runs at start and then on its interval, with times from the clock it is
// given, and ends with its context.
func TestPruneActivityRunsAtStartAndThenRegularly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database, err := db.OpenForTest(filepath.Join(t.TempDir(), db.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { database.Close() })
	_, err = database.Migrate(ctx)
	require.NoError(t, err)
	clock := &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	store := db.NewStore(database, clock.Now)
	acc, _, err := store.CreateAccount(ctx, db.CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Home", Name: "Anna", Email: "anna@example.com"},
		PasswordHash: "x", Audit: models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
	})
	require.NoError(t, err)
	_, devs, err := store.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	require.NoError(t, store.InTx(ctx, func(tx *db.Tx) error { return tx.UpdateLogRetention(ctx, acc.ID, 1) }))
	for _, at := range []time.Time{clock.Now().Add(-48 * time.Hour), clock.Now()} {
		_, err := store.CreateActivity(ctx, models.Activity{AccountID: acc.ID, DeviceID: devs[0].ID, At: at, Action: models.LogUnlock, Origin: models.OriginWeb})
		require.NoError(t, err)
	}
	entries := func() int {
		page, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID})
		require.NoError(t, err)
		return len(page.Entries)
	}

	run := func(every time.Duration) (stop func()) {
		jobCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			pruneActivity(jobCtx, store, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now, every)
		}()
		return func() {
			cancel()
			select {
			case <-done:
			case <-time.After(failAfter):
				t.Fatal("the job did not end with its context")
			}
		}
	}

	stop := run(time.Hour)
	require.Eventually(t, func() bool { return entries() == 1 }, failAfter, 5*time.Millisecond, "the expired entry goes at start")
	stop()
	stop = run(10 * time.Millisecond)
	clock.Advance(25 * time.Hour)
	require.Eventually(t, func() bool { return entries() == 0 }, failAfter, 5*time.Millisecond, "the other once it expired too")
	stop()
}
