package main

import (
	"context"
	"log/slog"
	"time"

	"portier/db"
)

// pruneActivityEvery is how often the activity log is cut to each account's retention.
const pruneActivityEvery = time.Hour

// pruneActivity deletes the activity entries older than their account's retention (Settings →
// Manage account → Activity log): once at start, then every `every` until ctx ends. Times come
// from now, so a test can move them.
func pruneActivity(ctx context.Context, store *db.Store, log *slog.Logger, now func() time.Time, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := store.DeleteExpiredActivity(ctx, now())
		if err != nil && ctx.Err() == nil {
			log.Error("activity log retention", "err", err, "deleted", n)
		} else if n > 0 {
			log.Info("activity log retention: deleted expired entries", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
