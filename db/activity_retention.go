package db

import (
	"context"
	"fmt"
	"time"

	"portier/models"
)

// activityDeleteBatch is how many entries one statement of DeleteExpiredActivity deletes: each
// statement is its own short write, so requests that write wait for one batch at most, never
// for an account's whole expired history.
const activityDeleteBatch = 5000

// FindLogRetention returns how many days the account keeps its activity log (0: forever).
func (s *Store) FindLogRetention(ctx context.Context, accountID int64) (int, error) {
	var days int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT log_retention_days FROM accounts WHERE id = ?`, accountID).Scan(&days)
	return days, mapNoRows(err, fmt.Sprintf("account %d", accountID))
}

// UpdateLogRetention sets how many days the account keeps its activity log (0: forever).
func (tx *Tx) UpdateLogRetention(ctx context.Context, accountID int64, days int) error {
	if !models.ValidLogRetention(days) {
		return fmt.Errorf("log retention of %d days: not from 0 to %d", days, models.MaxLogRetentionDays)
	}
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET log_retention_days = ?, updated_at = ? WHERE id = ?`, days, tx.now, accountID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return notFound(fmt.Sprintf("account %d", accountID))
	}
	return nil
}

// DeleteExpiredActivity deletes the activity entries that are older than their account's
// retention at now, in batches, and returns how many it deleted. Accounts that keep their log
// forever are not looked at.
func (s *Store) DeleteExpiredActivity(ctx context.Context, now time.Time) (int, error) {
	return s.deleteExpiredActivity(ctx, now, activityDeleteBatch)
}

func (s *Store) deleteExpiredActivity(ctx context.Context, now time.Time, batch int) (int, error) {
	type retention struct {
		account int64
		days    int
	}
	accounts, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (retention, error) {
		var r retention
		err := row.Scan(&r.account, &r.days)
		return r, err
	}, `SELECT id, log_retention_days FROM accounts WHERE log_retention_days > 0 ORDER BY id`)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, r := range accounts {
		cutoff := formatTime(now.Add(-time.Duration(r.days) * 24 * time.Hour))
		for {
			// The oldest entries of one account through activity_account_time: the range
			// "at < cutoff" is read from the index, not found by scanning the table.
			res, err := s.db.Writer.ExecContext(ctx, `DELETE FROM activity WHERE id IN (
				SELECT id FROM activity INDEXED BY activity_account_time WHERE account_id = ? AND at < ? LIMIT ?)`, r.account, cutoff, batch)
			if err != nil {
				return deleted, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return deleted, err
			}
			deleted += int(n)
			if n < int64(batch) {
				break
			}
		}
	}
	return deleted, nil
}
