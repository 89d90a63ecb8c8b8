package db

import (
	"context"
	"database/sql"

	"portier/models"
)

// CreateActivity stores an activity entry. An entry with the event id of one already stored for
// the device is skipped (false): a device's events arrive repeated and out of order.
func (s *Store) CreateActivity(ctx context.Context, a models.Activity) (bool, error) {
	return insertActivity(ctx, s.db.Writer, a)
}

// execer runs a statement on the database or in a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertActivity(ctx context.Context, db execer, a models.Activity) (bool, error) {
	var event sql.NullString
	if a.EventID != "" {
		event = sql.NullString{String: a.EventID, Valid: true}
	}
	res, err := db.ExecContext(ctx, `INSERT INTO activity (account_id, device_id, at, action, trigger, completion, source, login_id, auth_id, name, origin, event_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`,
		a.AccountID, a.DeviceID, formatTime(a.At), a.Action, a.Trigger, a.Completion, a.Source, a.LoginID, a.AuthID, a.Name, a.Origin, event, a.Detail)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FindDeviceActivity returns the newest entries of one device of the account.
func (s *Store) FindDeviceActivity(ctx context.Context, accountID, deviceID int64, limit int) ([]models.Activity, error) {
	return s.queryActivity(ctx, `account_id = ? AND device_id = ?`, accountID, deviceID, limit)
}

// FindUserActivity returns the newest entries of one account user: what the devices reported
// for the user's authorizations (matched by device and the authorization's id there, never by
// name), including authorizations since revoked.
func (s *Store) FindUserActivity(ctx context.Context, accountID, userID int64, limit int) ([]models.Activity, error) {
	return s.queryActivity(ctx, `account_id = ? AND auth_id != 0 AND (device_id, auth_id) IN (SELECT device_id, device_auth_id
		FROM authorizations WHERE account_id = ? AND account_user_id = ? AND device_auth_id IS NOT NULL)`, accountID, accountID, userID, limit)
}

// queryActivity returns the newest entries that match where (the last argument is the limit).
func (s *Store) queryActivity(ctx context.Context, where string, args ...any) ([]models.Activity, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, account_id, device_id, at, action, trigger, completion, source, login_id, auth_id, name, origin, COALESCE(event_id, ''), detail
		FROM activity WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.Activity
	for rows.Next() {
		var a models.Activity
		var at string
		var login sql.NullInt64
		if err := rows.Scan(&a.ID, &a.AccountID, &a.DeviceID, &at, &a.Action, &a.Trigger, &a.Completion, &a.Source, &login, &a.AuthID, &a.Name, &a.Origin, &a.EventID, &a.Detail); err != nil {
			return nil, err
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if login.Valid {
			a.LoginID = &login.Int64
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
