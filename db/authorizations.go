package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"portier/models"
)

// Authorizations: what a device holds for a person (an app user, fob, keypad code or web key),
// as the devices report them (SyncDeviceAuthorizations, at the end of this file) and as
// permissions created and changed in Portier.
//
// Permissions (PRODUCT.md U4, U7, U8): each is an authorization row that is the desired state
// of one device. push_status says whether the device holds it; the device manager sends
// pending ones and records the outcome (MarkPushed). A revoked one stays until the device
// confirms the removal.

// PermissionConflict is why a permission cannot be created or changed on a device. It wraps
// models.ErrConflict.
type PermissionConflict struct {
	DeviceID int64
	Reason   string // "exists": the user already has a permission there; "code_in_use": another keypad code is the same
}

func (e *PermissionConflict) Error() string {
	return fmt.Sprintf("device %d: %s", e.DeviceID, e.Reason)
}

func (e *PermissionConflict) Unwrap() error { return models.ErrConflict }

// Reasons of a PermissionConflict.
const (
	ConflictPermissionExists = "exists"
	ConflictCodeInUse        = "code_in_use"
)

// NewPermission is a permission for one account user on one or more devices, with one set of
// restrictions for all of them unless a device has its own (DeviceRestrictions).
type NewPermission struct {
	AccountUserID int64
	Type          int // models.AuthTypeApp or models.AuthTypeKeypadCode
	Name          string
	RemoteAllowed bool
	Code          *int // keypad codes
	models.Restrictions
	// DeviceRestrictions are the restrictions of the devices that have their own, instead of
	// the embedded ones: dates are moments, so "from 1 March" differs between devices in
	// different time zones.
	DeviceRestrictions map[int64]models.Restrictions
	// Devices maps each device to the status its row starts with: PushPending where the
	// connection can hold authorizations, PushPortierOnly where it cannot.
	Devices map[int64]models.PushStatus
	// NewUser, when AccountUserID is 0, is the person created with the permission in the same
	// transaction: a keypad code made through the Web API without an account user is a person
	// of its own, as one found on a device is.
	NewUser *models.AccountUser
}

// CreatePermissions stores a permission on every chosen device. A device where the user already
// has a permission, or (keypad codes) where the code is taken, fails the whole call with a
// *PermissionConflict (the transaction then stores nothing).
func (tx *Tx) CreatePermissions(ctx context.Context, accountID int64, p NewPermission) ([]models.Authorization, error) {
	if p.AccountUserID == 0 && p.NewUser != nil {
		u := *p.NewUser
		u.AccountID = accountID
		u, err := insertUser(ctx, tx.Tx, tx.now, u)
		if err != nil {
			return nil, err
		}
		p.AccountUserID = u.ID
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account_users WHERE id = ? AND account_id = ? AND deleted_at IS NULL AND merged_into IS NULL`,
		p.AccountUserID, accountID).Scan(&exists); err != nil {
		return nil, err
	}
	if exists == 0 {
		return nil, fmt.Errorf("account user %d: %w", p.AccountUserID, models.ErrNotFound)
	}
	var out []models.Authorization
	for _, deviceID := range slices.Sorted(maps.Keys(p.Devices)) {
		if err := checkPermissionFree(ctx, tx.Tx, accountID, deviceID, 0, p.AccountUserID, p.Type, p.Code); err != nil {
			return nil, err
		}
		r := p.Restrictions
		if own, ok := p.DeviceRestrictions[deviceID]; ok {
			r = own
		}
		a, err := scanAuthorization(tx.QueryRowContext(ctx, `INSERT INTO authorizations (account_id, device_id, account_user_id, type, name, enabled,
			remote_allowed, code, allowed_from, allowed_until, allowed_weekdays, allowed_from_time, allowed_until_time,
			push_status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+authColumns,
			accountID, deviceID, p.AccountUserID, p.Type, p.Name, p.RemoteAllowed, p.Code,
			formatTimePtr(r.AllowedFrom), formatTimePtr(r.AllowedUntil), r.AllowedWeekdays, r.AllowedFromTime, r.AllowedUntilTime,
			p.Devices[deviceID], tx.now, tx.now))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// checkPermissionFree refuses a second permission of a user on a device and a keypad code
// another authorization of the device has (self: the row being changed, 0 for a new one).
func checkPermissionFree(ctx context.Context, tx *sql.Tx, accountID, deviceID, self, userID int64, typ int, code *int) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE id = ? AND account_id = ?`, deviceID, accountID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("device %d: %w", deviceID, models.ErrNotFound)
	}
	if userID != 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE device_id = ? AND account_user_id = ? AND id != ?
			AND deleted_at IS NULL AND revoked_at IS NULL`, deviceID, userID, self).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &PermissionConflict{DeviceID: deviceID, Reason: ConflictPermissionExists}
		}
	}
	if typ == models.AuthTypeKeypadCode && code != nil {
		// A revoked code counts until the device has let it go: the device would refuse it.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE device_id = ? AND type = ? AND code = ? AND id != ?
			AND deleted_at IS NULL`, deviceID, models.AuthTypeKeypadCode, *code, self).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &PermissionConflict{DeviceID: deviceID, Reason: ConflictCodeInUse}
		}
	}
	return nil
}

// KeypadCodeInUse reports whether a device has an authorization with this keypad code.
func (s *Store) KeypadCodeInUse(ctx context.Context, deviceID int64, code int) (bool, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE device_id = ? AND type = ? AND code = ?
		AND deleted_at IS NULL`, deviceID, models.AuthTypeKeypadCode, code).Scan(&n)
	return n > 0, err
}

// FindAuthorization returns one authorization of the account (revoked ones until the device
// confirmed their removal, too).
func (s *Store) FindAuthorization(ctx context.Context, accountID, id int64) (models.Authorization, error) {
	list, err := s.queryAuthorizations(ctx, `account_id = ? AND id = ?`, accountID, id)
	if err != nil {
		return models.Authorization{}, err
	}
	if len(list) == 0 {
		return models.Authorization{}, fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
	}
	return list[0], nil
}

// PermissionChange is a partial update of a permission: nil fields stay as they are.
type PermissionChange struct {
	Name          *string
	Enabled       *bool
	RemoteAllowed *bool
	Code          *int
	Restrictions  *models.Restrictions
	// AccountUserID links the authorization to another person (the Web API's update with only
	// accountUserId). It does not change the device.
	AccountUserID *int64
}

// TouchesDevice reports whether the change touches what the device holds (anything but the
// account user).
func (c PermissionChange) TouchesDevice() bool {
	return c.Name != nil || c.Enabled != nil || c.RemoteAllowed != nil || c.Code != nil || c.Restrictions != nil
}

// PermissionUpdate is one change of UpdatePermissions.
type PermissionUpdate struct {
	ID     int64
	Change PermissionChange
}

// UpdatePermissions applies partial changes: nil fields stay as they are; a change that touches
// what the device holds makes the row pending again; enabling or disabling ends a suspension. A
// revoked permission cannot be changed (ErrNotFound). The changes apply in order, each seeing
// the ones before it; it returns the permissions as they are afterwards.
func (tx *Tx) UpdatePermissions(ctx context.Context, accountID int64, updates []PermissionUpdate) ([]models.Authorization, error) {
	out := make([]models.Authorization, 0, len(updates))
	for _, u := range updates {
		if err := updatePermissionInTx(ctx, tx.Tx, tx.now, accountID, u.ID, u.Change); err != nil {
			return nil, err
		}
	}
	for _, u := range updates {
		a, err := tx.findAuthorization(ctx, accountID, u.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// findAuthorization returns one authorization of the account as the transaction sees it,
// whatever its state.
func (tx *Tx) findAuthorization(ctx context.Context, accountID, id int64) (models.Authorization, error) {
	a, err := scanAuthorization(tx.QueryRowContext(ctx, `SELECT `+authColumns+` FROM authorizations WHERE account_id = ? AND id = ?`,
		accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
	}
	return a, err
}

// FindUserAuthorizations returns the authorizations of one account user as the transaction
// sees them.
func (tx *Tx) FindUserAuthorizations(ctx context.Context, accountID, userID int64) ([]models.Authorization, error) {
	return queryAll(ctx, tx.Tx, scanAuthorization, `SELECT `+authColumns+` FROM authorizations WHERE deleted_at IS NULL
		AND account_id = ? AND account_user_id = ? ORDER BY device_id, id`, accountID, userID)
}

func updatePermissionInTx(ctx context.Context, tx *sql.Tx, now string, accountID, id int64, c PermissionChange) error {
	a, err := scanAuthorization(tx.QueryRowContext(ctx, `SELECT `+authColumns+` FROM authorizations
		WHERE id = ? AND account_id = ? AND deleted_at IS NULL AND revoked_at IS NULL`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
	}
	if err != nil {
		return err
	}
	user := int64(0)
	if c.AccountUserID != nil {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account_users WHERE id = ? AND account_id = ? AND deleted_at IS NULL
			AND merged_into IS NULL`, *c.AccountUserID, accountID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("account user %d: %w", *c.AccountUserID, models.ErrNotFound)
		}
		if a.AccountUserID == nil || *a.AccountUserID != *c.AccountUserID {
			user = *c.AccountUserID
		}
	}
	code := a.Code
	if c.Code != nil {
		code = c.Code
	}
	if err := checkPermissionFree(ctx, tx, accountID, a.DeviceID, a.ID, user, a.Type, code); err != nil {
		return err
	}
	set := []string{"updated_at = ?"}
	args := []any{now}
	add := func(col string, v any) {
		set = append(set, col+" = ?")
		args = append(args, v)
	}
	if c.Name != nil {
		add("name", *c.Name)
	}
	if c.Enabled != nil {
		add("enabled", *c.Enabled)
		set = append(set, "suspended_until = NULL")
	}
	if c.RemoteAllowed != nil {
		add("remote_allowed", *c.RemoteAllowed)
	}
	if c.Code != nil {
		add("code", *c.Code)
	}
	if r := c.Restrictions; r != nil {
		add("allowed_from", formatTimePtr(r.AllowedFrom))
		add("allowed_until", formatTimePtr(r.AllowedUntil))
		add("allowed_weekdays", r.AllowedWeekdays)
		add("allowed_from_time", r.AllowedFromTime)
		add("allowed_until_time", r.AllowedUntilTime)
	}
	if c.AccountUserID != nil {
		add("account_user_id", *c.AccountUserID)
	}
	if c.TouchesDevice() && a.PushStatus != models.PushPortierOnly {
		set = append(set, "push_status = 'pending'", "push_reason = ''")
	}
	args = append(args, id)
	_, err = tx.ExecContext(ctx, `UPDATE authorizations SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...)
	return err
}

// SuspendPermission deactivates a permission until a time; ResumeSuspended turns it on again.
func (tx *Tx) SuspendPermission(ctx context.Context, accountID, id int64, until time.Time) (models.Authorization, error) {
	off := false
	if err := updatePermissionInTx(ctx, tx.Tx, tx.now, accountID, id, PermissionChange{Enabled: &off}); err != nil {
		return models.Authorization{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET suspended_until = ? WHERE id = ? AND account_id = ?`, formatTime(until), id, accountID); err != nil {
		return models.Authorization{}, err
	}
	return tx.findAuthorization(ctx, accountID, id)
}

// ResumeSuspended turns on every permission whose suspension has ended and returns them (pending
// again, for the device manager to send). Portier itself turns them on: each is in the audit
// trail and is a domain event (permission.enabled, origin system), as if someone had.
func (s *Store) ResumeSuspended(ctx context.Context, now time.Time) ([]models.Authorization, error) {
	var ids []int64
	var accounts []int64
	err := s.InTx(ctx, func(tx *Tx) error {
		type resumed struct{ id, account int64 }
		all, err := queryAll(ctx, tx, func(row rowScanner) (resumed, error) {
			var r resumed
			err := row.Scan(&r.id, &r.account)
			return r, err
		}, `UPDATE authorizations SET enabled = 1, suspended_until = NULL, updated_at = ?,
			push_status = CASE push_status WHEN 'portier_only' THEN 'portier_only' ELSE 'pending' END, push_reason = ''
			WHERE deleted_at IS NULL AND revoked_at IS NULL AND suspended_until IS NOT NULL AND suspended_until <= ?
			RETURNING id, account_id`, formatTime(now), formatTime(now))
		if err != nil {
			return err
		}
		for _, r := range all {
			ids, accounts = append(ids, r.id), append(accounts, r.account)
		}
		system := models.Actor{Origin: models.ActorSystem}
		for i, id := range ids {
			var user, device string
			var deviceID int64
			var userID sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(u.name, a.name), d.name, a.device_id, a.account_user_id FROM authorizations a
				JOIN devices d ON d.id = a.device_id LEFT JOIN account_users u ON u.id = a.account_user_id
				WHERE a.id = ?`, id).Scan(&user, &device, &deviceID, &userID); err != nil {
				return err
			}
			if err := tx.Audit(ctx, system.AuditEntry(accounts[i], models.AuditPermissionChanged,
				models.Facts("auditfacts.suspension_ended", "Name", user, "Device", device))); err != nil {
				return err
			}
			subjects := map[string]int64{"permission": id, "device": deviceID}
			if userID.Valid {
				subjects["user"] = userID.Int64
			}
			e, err := models.NewEvent(accounts[i], models.EventPermissionEnabled, system, subjects, map[string]any{"suspension_ended": true})
			if err != nil {
				return err
			}
			if err := tx.Emit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []models.Authorization
	for i, id := range ids {
		a, err := s.FindAuthorization(ctx, accounts[i], id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// RevokePermissions removes permissions: at once where the device never had one (or its
// connection cannot hold it), otherwise once the device confirms (MarkRevocationConfirmed). An
// id that is not a permission of the account, or one already revoked, is ErrNotFound (the
// transaction then changes nothing); an id given twice counts once. It returns the revoked
// authorizations.
func (tx *Tx) RevokePermissions(ctx context.Context, accountID int64, ids []int64) ([]models.Authorization, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]models.Authorization, 0, len(ids))
	for _, id := range ids {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE id = ? AND account_id = ? AND deleted_at IS NULL
			AND revoked_at IS NULL`, id, accountID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
		}
		if err := revokeInTx(ctx, tx.Tx, tx.now, accountID, `id = ?`, id); err != nil {
			return nil, err
		}
		a, err := tx.findAuthorization(ctx, accountID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// revokeInTx revokes the matching rows of an account; no matching row is ErrNotFound.
func revokeInTx(ctx context.Context, tx *sql.Tx, now string, accountID int64, where string, args ...any) error {
	args = append([]any{now, now, now, accountID}, args...)
	_, err := tx.ExecContext(ctx, `UPDATE authorizations SET revoked_at = ?, updated_at = ?,
		deleted_at = CASE WHEN device_auth_id IS NULL OR push_status = 'portier_only' THEN ? ELSE NULL END,
		push_status = CASE push_status WHEN 'portier_only' THEN 'portier_only' ELSE 'pending' END, push_reason = ''
		WHERE account_id = ? AND deleted_at IS NULL AND revoked_at IS NULL AND `+where, args...)
	return err
}

// FindAuthorizationEvenDeleted returns an authorization whatever its state (the outcome of a
// revocation).
func (s *Store) FindAuthorizationEvenDeleted(ctx context.Context, accountID, id int64) (models.Authorization, error) {
	a, err := scanAuthorization(s.db.Reader.QueryRowContext(ctx, `SELECT `+authColumns+` FROM authorizations WHERE account_id = ? AND id = ?`,
		accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
	}
	return a, err
}

// FindPushWork returns, per device, the authorizations a device still has to take: pending
// writes and revocations not yet confirmed.
func (s *Store) FindPushWork(ctx context.Context) (map[int64][]models.Authorization, error) {
	auths, err := queryAll(ctx, s.db.Reader, scanAuthorization, `SELECT `+authColumns+` FROM authorizations
		WHERE deleted_at IS NULL AND (push_status = 'pending' OR revoked_at IS NOT NULL) AND push_status != 'portier_only'
		ORDER BY device_id, id`)
	if err != nil {
		return nil, err
	}
	out := map[int64][]models.Authorization{}
	for _, a := range auths {
		out[a.DeviceID] = append(out[a.DeviceID], a)
	}
	return out, nil
}

// MarkPushed records the outcome of sending an authorization: applied with the id the device
// gave it, or pending/failed with the reason. A row changed meanwhile (updated_at differs from
// sent) stays pending for the next push.
//
// A permission revoked while its creation was on the way was deleted at once (no device had
// it), but the device took it after all: the row comes back as a revocation the device manager
// still has to send, so the device does not keep an authorization Portier no longer knows
// (which the next sync would show as a new person). revived reports that.
func (s *Store) MarkPushed(ctx context.Context, a models.Authorization, deviceAuthID *uint32, status models.PushStatus, reason string) (revived bool, err error) {
	var devAuth any
	if deviceAuthID != nil {
		devAuth = int64(*deviceAuthID)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE authorizations SET device_auth_id = COALESCE(?, device_auth_id),
			push_status = CASE WHEN updated_at = ? THEN ? ELSE 'pending' END, push_reason = ? WHERE id = ? AND deleted_at IS NULL`,
			devAuth, formatTime(a.UpdatedAt), status, reason, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 || deviceAuthID == nil {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE authorizations SET device_auth_id = ?, deleted_at = NULL, push_status = 'pending', push_reason = ''
			WHERE id = ? AND revoked_at IS NOT NULL AND deleted_at IS NOT NULL AND device_auth_id IS NULL`, devAuth, a.ID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		revived = n > 0
		return nil
	})
	return revived, err
}

// MarkRevocationConfirmed records that a device no longer holds a revoked authorization.
func (s *Store) MarkRevocationConfirmed(ctx context.Context, id int64) error {
	now := s.now()
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE authorizations SET deleted_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NOT NULL`,
		now, now, id)
	return err
}

// MarkRevocationPending records why a revocation has not reached the device yet.
func (s *Store) MarkRevocationPending(ctx context.Context, id int64, reason string) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE authorizations SET push_reason = ? WHERE id = ? AND revoked_at IS NOT NULL`, reason, id)
	return err
}

const authColumns = `id, account_id, device_id, account_user_id, device_auth_id, type, name, enabled, remote_allowed, code,
	allowed_from, allowed_until, allowed_weekdays, allowed_from_time, allowed_until_time, lock_count,
	push_status, push_reason, revoked_at, suspended_until, created_at, updated_at`

func scanAuthorization(row interface{ Scan(...any) error }) (models.Authorization, error) {
	var a models.Authorization
	var user, devAuth, code sql.NullInt64
	var from, until, revoked, suspended sql.NullString
	var created, updated string
	if err := row.Scan(&a.ID, &a.AccountID, &a.DeviceID, &user, &devAuth, &a.Type, &a.Name, &a.Enabled, &a.RemoteAllowed, &code,
		&from, &until, &a.AllowedWeekdays, &a.AllowedFromTime, &a.AllowedUntilTime, &a.LockCount,
		&a.PushStatus, &a.PushReason, &revoked, &suspended, &created, &updated); err != nil {
		return a, err
	}
	if user.Valid {
		a.AccountUserID = &user.Int64
	}
	if devAuth.Valid {
		id := uint32(devAuth.Int64)
		a.DeviceAuthID = &id
	}
	if code.Valid {
		c := int(code.Int64)
		a.Code = &c
	}
	var err error
	if a.AllowedFrom, err = parseTimePtr(from); err != nil {
		return a, err
	}
	if a.AllowedUntil, err = parseTimePtr(until); err != nil {
		return a, err
	}
	if a.RevokedAt, err = parseTimePtr(revoked); err != nil {
		return a, err
	}
	if a.SuspendedUntil, err = parseTimePtr(suspended); err != nil {
		return a, err
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return a, err
	}
	a.UpdatedAt, err = parseTime(updated)
	return a, err
}

func (s *Store) queryAuthorizations(ctx context.Context, q string, args ...any) ([]models.Authorization, error) {
	return queryAll(ctx, s.db.Reader, scanAuthorization, `SELECT `+authColumns+` FROM authorizations WHERE deleted_at IS NULL AND `+q, args...)
}

// FindAccountAuthorizations returns the authorizations of every device of the account.
func (s *Store) FindAccountAuthorizations(ctx context.Context, accountID int64) ([]models.Authorization, error) {
	return s.queryAuthorizations(ctx, `account_id = ? ORDER BY device_id, id`, accountID)
}

// FindDeviceAuthorizations returns the authorizations of one device.
func (s *Store) FindDeviceAuthorizations(ctx context.Context, accountID, deviceID int64) ([]models.Authorization, error) {
	return s.queryAuthorizations(ctx, `account_id = ? AND device_id = ? ORDER BY id`, accountID, deviceID)
}

// FindUserAuthorizations returns the authorizations of one account user.
func (s *Store) FindUserAuthorizations(ctx context.Context, accountID, userID int64) ([]models.Authorization, error) {
	return s.queryAuthorizations(ctx, `account_id = ? AND account_user_id = ? ORDER BY device_id, id`, accountID, userID)
}

// SyncResult counts what a device sync changed.
type SyncResult struct {
	Added, Updated, Removed int
}

// SyncDeviceAuthorizations stores the authorizations a device reports. One the device had
// reported before (same id on the device) keeps its row and so its account user, whatever its
// name is now; a new one gets a row and a new account user (added via app, keypad or fob); one
// the device no longer has is removed. Authorizations created in Portier that the device does
// not have yet (no id on the device) are left alone. It never changes a row's account user.
func (s *Store) SyncDeviceAuthorizations(ctx context.Context, accountID, deviceID int64, reported []models.ReportedAuthorization) (SyncResult, error) {
	var res SyncResult
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		stored, err := queryAll(ctx, tx, scanAuthorization, `SELECT `+authColumns+` FROM authorizations
			WHERE device_id = ? AND account_id = ? AND device_auth_id IS NOT NULL AND deleted_at IS NULL`, deviceID, accountID)
		if err != nil {
			return err
		}
		known := make(map[uint32]models.Authorization, len(stored))
		for _, a := range stored {
			known[*a.DeviceAuthID] = a
		}
		now := s.now()
		seen := map[uint32]bool{}
		for _, r := range reported {
			if seen[r.DeviceAuthID] {
				continue // a device listing one id twice: the first counts
			}
			seen[r.DeviceAuthID] = true
			if a, ok := known[r.DeviceAuthID]; ok {
				if sameAsReported(a, r) {
					continue
				}
				if a.RevokedAt != nil || a.PushStatus == models.PushPending || a.PushStatus == models.PushFailed {
					// Portier's wish stands until the device takes it (or confirms the removal);
					// only the device's own counter is taken.
					if a.LockCount != r.LockCount {
						if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET lock_count = ?, updated_at = ? WHERE id = ?`,
							r.LockCount, now, a.ID); err != nil {
							return err
						}
						res.Updated++
					}
					continue
				}
				// As the device reports it: found there, or changed there since Portier's push
				// (the device's value wins, like a setting changed in the Nuki app).
				if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET type = ?, name = ?, enabled = ?, remote_allowed = ?, code = ?,
					allowed_from = ?, allowed_until = ?, allowed_weekdays = ?, allowed_from_time = ?, allowed_until_time = ?, lock_count = ?,
					push_status = 'reported', push_reason = '', suspended_until = NULL, updated_at = ? WHERE id = ?`,
					r.Type, r.Name, r.Enabled, r.RemoteAllowed, r.Code, formatTimePtr(r.AllowedFrom), formatTimePtr(r.AllowedUntil),
					r.AllowedWeekdays, r.AllowedFromTime, r.AllowedUntilTime, r.LockCount, now, a.ID); err != nil {
					return err
				}
				res.Updated++
				continue
			}
			u, err := insertUser(ctx, tx, now, models.AccountUser{AccountID: accountID, Name: r.Name, AddedVia: models.AddedViaOf(r.Type)})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO authorizations (account_id, device_id, account_user_id, device_auth_id, type, name,
				enabled, remote_allowed, code, allowed_from, allowed_until, allowed_weekdays, allowed_from_time, allowed_until_time, lock_count,
				created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				accountID, deviceID, u.ID, r.DeviceAuthID, r.Type, r.Name, r.Enabled, r.RemoteAllowed, r.Code,
				formatTimePtr(r.AllowedFrom), formatTimePtr(r.AllowedUntil), r.AllowedWeekdays, r.AllowedFromTime, r.AllowedUntilTime,
				r.LockCount, now, now); err != nil {
				return err
			}
			res.Added++
		}
		for id, a := range known {
			if seen[id] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET deleted_at = ?, updated_at = ? WHERE id = ?`, now, now, a.ID); err != nil {
				return err
			}
			res.Removed++
		}
		return nil
	})
	return res, err
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func sameAsReported(a models.Authorization, r models.ReportedAuthorization) bool {
	sameCode := (a.Code == nil && r.Code == nil) || (a.Code != nil && r.Code != nil && *a.Code == *r.Code)
	return a.Type == r.Type && a.Name == r.Name && a.Enabled == r.Enabled && a.RemoteAllowed == r.RemoteAllowed && sameCode &&
		sameTime(a.AllowedFrom, r.AllowedFrom) && sameTime(a.AllowedUntil, r.AllowedUntil) && a.AllowedWeekdays == r.AllowedWeekdays &&
		a.AllowedFromTime == r.AllowedFromTime && a.AllowedUntilTime == r.AllowedUntilTime && a.LockCount == r.LockCount
}
