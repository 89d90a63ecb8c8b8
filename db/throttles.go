package db

import (
	"context"
	"database/sql"
	"time"

	"portier/models"
)

// ThrottleLockedUntil returns the latest lock among keys that is still in force at now.
func (s *Store) ThrottleLockedUntil(ctx context.Context, keys ...string) (time.Time, bool, error) {
	var until time.Time
	locked := false
	for _, k := range keys {
		var lu sql.NullString
		err := s.db.Reader.QueryRowContext(ctx, `SELECT locked_until FROM throttles WHERE key = ?`, k).Scan(&lu)
		if err == sql.ErrNoRows || (err == nil && !lu.Valid) {
			continue
		}
		if err != nil {
			return until, false, err
		}
		t, err := parseTime(lu.String)
		if err != nil {
			return until, false, err
		}
		if t.After(s.Now()) && t.After(until) {
			until, locked = t, true
		}
	}
	return until, locked, nil
}

// RecordThrottleFailure counts one failed secret check against key in its own transaction (so
// it survives whatever happens to the request) and locks the key once the rule's limit is hit
// within its window. It reports whether the key is now locked.
func (s *Store) RecordThrottleFailure(ctx context.Context, key string, rule models.ThrottleRule) (bool, error) {
	locked := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.Now()
		var failures int
		var start string
		var lu sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT failures, window_start, locked_until FROM throttles WHERE key = ?`, key).Scan(&failures, &start, &lu)
		switch {
		case err == sql.ErrNoRows:
			failures, start = 0, formatTime(now)
		case err != nil:
			return err
		default:
			ws, err := parseTime(start)
			if err != nil {
				return err
			}
			lockOver := true
			if lu.Valid {
				if t, err := parseTime(lu.String); err == nil && t.After(now) {
					lockOver = false
				}
			}
			// A new window starts when the old one has passed and no lock is in force.
			if now.Sub(ws) >= rule.Window && lockOver {
				failures, start = 0, formatTime(now)
				lu = sql.NullString{}
			}
		}
		failures++
		if failures >= rule.MaxFailures {
			lu = sql.NullString{String: formatTime(now.Add(rule.LockFor)), Valid: true}
			locked = true
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO throttles (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`,
			key, failures, start, lu)
		return err
	})
	return locked, err
}

// ClearThrottle forgets the failures of key (after a successful check).
func (s *Store) ClearThrottle(ctx context.Context, key string) error {
	_, err := s.db.Writer.ExecContext(ctx, `DELETE FROM throttles WHERE key = ?`, key)
	return err
}

// DeleteStaleThrottles removes rows whose window and lock both ended before cutoff.
func (s *Store) DeleteStaleThrottles(ctx context.Context, cutoff time.Time) error {
	c := formatTime(cutoff)
	_, err := s.db.Writer.ExecContext(ctx, `DELETE FROM throttles WHERE window_start < ? AND (locked_until IS NULL OR locked_until < ?)`, c, c)
	return err
}
