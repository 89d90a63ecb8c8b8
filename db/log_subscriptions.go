package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"portier/models"
)

// LogNotice is a new activity entry and the logins subscribed to its device and kind: what a
// log notification email is written from.
type LogNotice struct {
	Device models.Device
	// Entry is the entry as stored: a resident's has no name, authorization or login.
	Entry       models.Activity
	Kind        models.LogKind
	Subscribers []models.Login
}

// ComposeLogMail writes the emails of a notice, one per subscriber who gets one.
type ComposeLogMail func(LogNotice) ([]models.OutboxMessage, error)

// CreateActivityNotifying stores an activity entry like CreateActivity and, when it is new and
// its kind has subscribers, queues the emails compose writes for them in the same transaction:
// an entry that is not stored (an error, or a repeated device event) sends nothing, and an
// email that cannot be queued does not leave the entry without it. compose may be nil.
func (s *Store) CreateActivityNotifying(ctx context.Context, a models.Activity, compose ComposeLogMail) (bool, error) {
	var isNew bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		isNew, err = s.insertActivityNotifying(ctx, tx, a, compose)
		return err
	})
	return isNew, err
}

// insertActivityNotifying stores an entry in tx and queues its notifications (compose may be
// nil: none).
func (s *Store) insertActivityNotifying(ctx context.Context, tx *sql.Tx, a models.Activity, compose ComposeLogMail) (isNew bool, err error) {
	err = func() error {
		if isNew, err = insertActivity(ctx, tx, &a); err != nil || !isNew || compose == nil {
			return err
		}
		d, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ? AND account_id = ? AND deleted_at IS NULL`,
			a.DeviceID, a.AccountID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil // a removed device: its late events are logged, nobody is told
		} else if err != nil {
			return err
		}
		kind, ok := models.LogKindOf(d.Type, a.Action)
		if !ok {
			return nil
		}
		subs, err := logSubscribers(ctx, tx, a.AccountID, a.DeviceID, kind)
		if err != nil || len(subs) == 0 {
			return err
		}
		mails, err := compose(LogNotice{Device: d, Entry: a, Kind: kind, Subscribers: subs})
		if err != nil {
			return fmt.Errorf("log notification of device %d: %w", d.ID, err)
		}
		for _, m := range mails {
			m.AccountID = &a.AccountID
			if err := s.enqueueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	}()
	return isNew, err
}

// logSubscribers are the logins subscribed to a device's events of a kind that may still read
// the log: an admin login with the right that still sees the device, or the main login. A right taken away stops the
// emails at once (PRODUCT.md R3), without touching the subscription.
func logSubscribers(ctx context.Context, q querier, accountID, deviceID int64, kind models.LogKind) ([]models.Login, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+prefixed("l.", loginColumns)+` FROM log_subscriptions s JOIN logins l ON l.id = s.login_id
		WHERE s.device_id = ? AND s.kind = ? AND l.account_id = ? AND l.account_user_id IS NULL AND (l.is_main = 1 OR l.rights & ? = ?)
		  AND (l.is_main = 1 OR l.limited = 0 OR EXISTS (SELECT 1 FROM login_devices ld WHERE ld.login_id = l.id AND ld.device_id = s.device_id))
		ORDER BY l.id`, deviceID, string(kind), accountID, models.RightActivityLog, models.RightActivityLog)
	if err != nil {
		return nil, err
	}
	return scanLogins(rows)
}

// FindLogSubscriptions returns what a login of the account is subscribed to, by device and kind.
func (s *Store) FindLogSubscriptions(ctx context.Context, accountID, loginID int64) ([]models.LogSubscription, error) {
	return queryAll(ctx, s.db.Reader, func(row rowScanner) (models.LogSubscription, error) {
		var sub models.LogSubscription
		err := row.Scan(&sub.DeviceID, &sub.Kind)
		return sub, err
	}, `SELECT s.device_id, s.kind FROM log_subscriptions s JOIN logins l ON l.id = s.login_id
		WHERE s.login_id = ? AND l.account_id = ? ORDER BY s.device_id, s.kind`, loginID, accountID)
}

// ReplaceLogSubscriptions makes subs the login's whole set of subscriptions. Every device must
// be one of the account's (not removed) and every kind one the device type has; otherwise the
// error wraps models.ErrNotFound (a device, or the login, that is not the account's) or names
// the kind, and the caller rolls back.
func (tx *Tx) ReplaceLogSubscriptions(ctx context.Context, accountID, loginID int64, subs []models.LogSubscription) error {
	var webKey bool
	err := tx.QueryRowContext(ctx, `SELECT account_user_id IS NOT NULL FROM logins WHERE id = ? AND account_id = ?`, loginID, accountID).Scan(&webKey)
	if err != nil {
		return mapNoRows(err, fmt.Sprintf("login %d", loginID))
	}
	if webKey {
		return notFound(fmt.Sprintf("admin login %d", loginID)) // a web key has no log to follow
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM log_subscriptions WHERE login_id = ?`, loginID); err != nil {
		return err
	}
	types := map[int64]models.DeviceType{}
	for _, sub := range subs {
		t, ok := types[sub.DeviceID]
		if !ok {
			err := tx.QueryRowContext(ctx, `SELECT device_type FROM devices WHERE id = ? AND account_id = ? AND deleted_at IS NULL`,
				sub.DeviceID, accountID).Scan(&t)
			if err != nil {
				return mapNoRows(err, fmt.Sprintf("device %d", sub.DeviceID))
			}
			types[sub.DeviceID] = t
		}
		if !slices.Contains(models.LogKindsFor(t), sub.Kind) {
			return fmt.Errorf("device %d (type %d) has no events of kind %q", sub.DeviceID, t, sub.Kind)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_subscriptions (login_id, device_id, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			loginID, sub.DeviceID, string(sub.Kind)); err != nil {
			return err
		}
	}
	return nil
}
