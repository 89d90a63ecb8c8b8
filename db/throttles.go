package db

import (
	"context"
	"database/sql"
	"time"

	"portier/models"
)

// ThrottleCheck is one key an attempt counts against, with the rule that limits it.
type ThrottleCheck struct {
	Key  string
	Rule models.ThrottleRule
	// OnLock, when set, makes the emails queued in the same transaction when this attempt
	// locks the key: once per lock, however many attempts follow.
	OnLock func(ctx context.Context) ([]models.OutboxMessage, error)
}

// ThrottleAttempt counts one attempt against every check's key and reports whether it may go
// ahead, before the caller checks the secret. Counting and deciding are one immediate
// transaction (the single writer), so concurrent attempts cannot all read "not locked" and
// then be checked: of any burst, no more than a rule's MaxFailures go ahead within its window.
// An attempt that is refused is not counted. A success is taken back with ClearThrottle (a
// login's own key) or DiscountThrottle (a shared key such as an address).
func (s *Store) ThrottleAttempt(ctx context.Context, checks ...ThrottleCheck) (bool, error) {
	allowed := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.Now()
		type state struct {
			failures int
			start    string
			locked   bool
		}
		states := make([]state, len(checks))
		for i, ch := range checks {
			var st state
			var lu sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT failures, window_start, locked_until FROM throttles WHERE key = ?`, ch.Key).
				Scan(&st.failures, &st.start, &lu)
			switch {
			case err == sql.ErrNoRows:
				st.start = formatTime(now)
			case err != nil:
				return err
			default:
				ws, err := parseTime(st.start)
				if err != nil {
					return err
				}
				if lu.Valid {
					until, err := parseTime(lu.String)
					if err != nil {
						return err
					}
					st.locked = until.After(now)
				}
				// A new window starts when the old one has passed and no lock is in force.
				if now.Sub(ws) >= ch.Rule.Window && !st.locked {
					st.failures, st.start = 0, formatTime(now)
				}
			}
			if st.locked {
				return nil // refused, and nothing counted
			}
			states[i] = st
		}
		for i, ch := range checks {
			st := states[i]
			st.failures++
			var lockedUntil sql.NullString
			if st.failures >= ch.Rule.MaxFailures {
				lockedUntil = sql.NullString{String: formatTime(now.Add(ch.Rule.LockFor)), Valid: true}
				if ch.OnLock != nil {
					msgs, err := ch.OnLock(ctx)
					if err != nil {
						return err
					}
					for _, m := range msgs {
						if err := s.enqueueMail(ctx, tx, m); err != nil {
							return err
						}
					}
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO throttles (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`,
				ch.Key, st.failures, st.start, lockedUntil); err != nil {
				return err
			}
		}
		allowed = true
		return nil
	})
	return allowed, err
}

// ClearThrottle forgets the attempts counted against keys (a login's own keys, after it
// proved its secret).
func (s *Store) ClearThrottle(ctx context.Context, keys ...string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttles WHERE key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DiscountThrottle takes back one attempt that succeeded from each check's key (shared keys:
// an address, or a field whose secret a success does not prove for the next try), and lifts a
// lock that this attempt set.
func (s *Store) DiscountThrottle(ctx context.Context, checks ...ThrottleCheck) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, ch := range checks {
			if _, err := tx.ExecContext(ctx, `UPDATE throttles SET failures = failures - 1,
				locked_until = CASE WHEN failures - 1 < ? THEN NULL ELSE locked_until END
				WHERE key = ? AND failures > 0`, ch.Rule.MaxFailures, ch.Key); err != nil {
				return err
			}
		}
		return nil
	})
}

// ThrottleLocked reports whether a lock on key is in force, to word a refusal (whether an
// attempt may go ahead is ThrottleAttempt's to say).
func (s *Store) ThrottleLocked(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM throttles WHERE key = ? AND locked_until > ?`, key, s.now()).Scan(&n)
	return n > 0, err
}

// DeleteStaleThrottles removes rows whose window and lock both ended before cutoff.
func (s *Store) DeleteStaleThrottles(ctx context.Context, cutoff time.Time) error {
	c := formatTime(cutoff)
	_, err := s.db.Writer.ExecContext(ctx, `DELETE FROM throttles WHERE window_start < ? AND (locked_until IS NULL OR locked_until < ?)`, c, c)
	return err
}
