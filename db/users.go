package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"portier/models"
)

// Account users and their authorizations (see migration 0006).

const userColumns = `id, account_id, name, COALESCE(email, ''), language, added_via, merged_into, created_at, updated_at, kind`

func scanUser(row interface{ Scan(...any) error }) (models.AccountUser, error) {
	var u models.AccountUser
	var merged sql.NullInt64
	var created, updated string
	if err := row.Scan(&u.ID, &u.AccountID, &u.Name, &u.Email, &u.Language, &u.AddedVia, &merged, &created, &updated, &u.Kind); err != nil {
		return u, err
	}
	if merged.Valid {
		u.MergedInto = &merged.Int64
	}
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return u, err
	}
	u.UpdatedAt, err = parseTime(updated)
	return u, err
}

// CreateAccountUser adds a person created in Portier (added via web, with an email), a partner
// company when u.Kind is models.KindCompany. An email another user of the account has is
// ErrConflict.
func (s *Store) CreateAccountUser(ctx context.Context, u models.AccountUser, audit models.AuditEntry) (models.AccountUser, error) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = insertUser(ctx, tx, s.now(), u)
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", u.Email, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		audit.AccountID = &u.AccountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("%s <%s>", u.Name, u.Email)
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	if err != nil {
		return models.AccountUser{}, err
	}
	return s.FindAccountUser(ctx, u.AccountID, u.ID)
}

// nullIfEmpty stores "" as NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertUser(ctx context.Context, tx *sql.Tx, now string, u models.AccountUser) (models.AccountUser, error) {
	var email any
	if u.Email != "" {
		email = u.Email
	}
	if u.Language == "" {
		u.Language = "en"
	}
	if u.Kind == "" {
		u.Kind = models.KindUser
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO account_users (account_id, name, name_key, email, email_key, language, added_via, kind, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.Name, models.NameKey(u.Name), email, nullIfEmpty(models.EmailKey(u.Email, u.Name)), u.Language, u.AddedVia, u.Kind, now, now).Scan(&u.ID)
	return u, err
}

// FindAccountUser returns one user of the account (merged users too: their page says where
// they went).
func (s *Store) FindAccountUser(ctx context.Context, accountID, id int64) (models.AccountUser, error) {
	u, err := scanUser(s.db.Reader.QueryRowContext(ctx, `SELECT `+userColumns+` FROM account_users
		WHERE account_id = ? AND id = ? AND deleted_at IS NULL`, accountID, id))
	if err == sql.ErrNoRows {
		return u, notFound(fmt.Sprintf("account user %d", id))
	}
	return u, err
}

// FindPerson returns the person an account user is now: the user itself, or, when merged, the
// user it was merged into (following merges of merges). A web key follows its holder this way.
func (s *Store) FindPerson(ctx context.Context, accountID, id int64) (models.AccountUser, error) {
	for range 64 {
		u, err := s.FindAccountUser(ctx, accountID, id)
		if err != nil || u.MergedInto == nil {
			return u, err
		}
		id = *u.MergedInto
	}
	return models.AccountUser{}, fmt.Errorf("account user %d: merges form a loop: %w", id, models.ErrNotFound)
}

// FindActiveUsers returns every user of the account that is not merged into another, by name.
func (s *Store) FindActiveUsers(ctx context.Context, accountID int64) ([]models.AccountUser, error) {
	return queryAll(ctx, s.db.Reader, scanUser, `SELECT `+userColumns+` FROM account_users
		WHERE account_id = ? AND merged_into IS NULL AND deleted_at IS NULL ORDER BY name_key, id`, accountID)
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

// MergeUsers makes one person of two: the authorizations of merged move to kept, and merged
// is marked as merged into kept. It returns the merge's id (for UndoMerge).
func (s *Store) MergeUsers(ctx context.Context, accountID, keptID, mergedID int64, audit models.AuditEntry) (int64, error) {
	if keptID == mergedID {
		return 0, fmt.Errorf("a user cannot be merged into itself: %w", models.ErrConflict)
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n, people int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE kind = 'user') FROM account_users WHERE account_id = ? AND id IN (?, ?)
			AND merged_into IS NULL AND deleted_at IS NULL`, accountID, keptID, mergedID).Scan(&n, &people); err != nil {
			return err
		}
		if n != 2 {
			return notFound(fmt.Sprintf("account users %d and %d", keptID, mergedID))
		}
		if people != 2 {
			return models.ErrNotMergeable
		}
		moved, err := queryAll(ctx, tx, scanInt64, `UPDATE authorizations SET account_user_id = ?, updated_at = ?
			WHERE account_id = ? AND account_user_id = ? AND deleted_at IS NULL RETURNING id`, keptID, s.now(), accountID, mergedID)
		if err != nil {
			return err
		}
		if moved == nil {
			moved = []int64{} // stored as [], not null, when no permission moved
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_users SET merged_into = ?, updated_at = ? WHERE id = ?`, keptID, s.now(), mergedID); err != nil {
			return err
		}
		list, _ := json.Marshal(moved)
		if err := tx.QueryRowContext(ctx, `INSERT INTO user_merges (account_id, kept_user_id, merged_user_id, moved, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, accountID, keptID, mergedID, string(list), s.now()).Scan(&id); err != nil {
			return err
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("user %d merged into user %d (%d authorizations moved)", mergedID, keptID, len(moved))
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	return id, err
}

// UndoMerge splits a merge again: the authorizations that moved (and still exist) go back to
// the merged user, who is a person of their own again.
func (s *Store) UndoMerge(ctx context.Context, accountID, mergeID int64, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var kept, merged int64
		var moved string
		err := tx.QueryRowContext(ctx, `SELECT kept_user_id, merged_user_id, moved FROM user_merges
			WHERE id = ? AND account_id = ? AND undone_at IS NULL`, mergeID, accountID).Scan(&kept, &merged, &moved)
		if err == sql.ErrNoRows {
			return notFound(fmt.Sprintf("merge %d", mergeID))
		}
		if err != nil {
			return err
		}
		var ids []int64
		if err := json.Unmarshal([]byte(moved), &ids); err != nil {
			return err
		}
		var still int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_users m JOIN account_users k ON k.id = ?
			WHERE m.id = ? AND m.merged_into = k.id AND k.merged_into IS NULL`, kept, merged).Scan(&still); err != nil {
			return err
		}
		// The kept user merged into a third one since: that merge is undone first.
		if still != 1 {
			return fmt.Errorf("merge %d: the users changed since: %w", mergeID, models.ErrConflict)
		}
		now := s.now()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET account_user_id = ?, updated_at = ? WHERE id = ? AND account_user_id = ?`,
				merged, now, id, kept); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_users SET merged_into = NULL, updated_at = ? WHERE id = ?`, now, merged); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_merges SET undone_at = ? WHERE id = ?`, now, mergeID); err != nil {
			return err
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("merge %d undone: user %d split from user %d", mergeID, merged, kept)
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
}

// UserQuery selects a page of the Users list.
type UserQuery struct {
	AccountID int64
	Search    string          // part of the name (accents and case ignored) or of the email
	DeviceID  int64           // 0: any; else users with an authorization on this device
	AddedVia  models.AddedVia // "": any
	AfterID   int64           // keyset paging: the users after this one (by name)
	Limit     int
	// NamesOnly: only the users' ids and names, without their devices and invitations (a list
	// to choose from).
	NamesOnly bool
	// DeviceIDs lists only these devices with each user (a login limited to some devices,
	// models.Login.DeviceRestriction); nil lists every device.
	DeviceIDs []int64
}

// UserRow is a user of the list with the names of their devices.
type UserRow struct {
	User    models.AccountUser
	Devices []string
	// Invitation is the user's latest invitation to a web key (nil: never invited).
	Invitation *models.Invitation
}

// likePattern makes a LIKE pattern that finds s anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// FindUsersPage returns a page of the account's users by name, and whether more follow.
func (s *Store) FindUsersPage(ctx context.Context, q UserQuery) ([]UserRow, bool, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	// Residents of a box account's units are never listed by name (PRODUCT.md L6): their unit's
	// page counts them.
	where := []string{"u.account_id = ?", "u.merged_into IS NULL", "u.deleted_at IS NULL", "u.kind != 'resident'"}
	args := []any{q.AccountID}
	if term := strings.TrimSpace(q.Search); term != "" {
		where = append(where, `(u.name_key LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`)
		args = append(args, likePattern(models.NameKey(term)), likePattern(strings.ToLower(term)))
	}
	if q.AddedVia != "" {
		where = append(where, "u.added_via = ?")
		args = append(args, q.AddedVia)
	}
	if q.DeviceID != 0 {
		// IN (a set built once from the device's authorizations), not EXISTS per user.
		where = append(where, "u.id IN (SELECT a.account_user_id FROM authorizations a WHERE a.device_id = ? AND a.deleted_at IS NULL AND a.revoked_at IS NULL)")
		args = append(args, q.DeviceID)
	}
	if q.AfterID != 0 {
		where = append(where, "(u.name_key, u.id) > ((SELECT name_key FROM account_users WHERE id = ? AND account_id = ?), ?)")
		args = append(args, q.AfterID, q.AccountID, q.AfterID)
	}
	args = append(args, q.Limit+1)
	cols := strings.ReplaceAll(userColumns, "id, account_id", "u.id, u.account_id")
	if q.NamesOnly {
		cols = "u.id, u.name"
	}
	out, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (UserRow, error) {
		if q.NamesOnly {
			u := models.AccountUser{AccountID: q.AccountID}
			err := row.Scan(&u.ID, &u.Name)
			return UserRow{User: u}, err
		}
		u, err := scanUser(row)
		return UserRow{User: u}, err
	}, `SELECT `+cols+` FROM account_users u WHERE `+strings.Join(where, " AND ")+` ORDER BY u.name_key, u.id LIMIT ?`, args...)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > q.Limit
	if more {
		out = out[:q.Limit]
	}
	if len(out) == 0 || q.NamesOnly {
		return out, more, nil
	}
	index := make(map[int64]int, len(out))
	for i, r := range out {
		index[r.User.ID] = i
	}
	ids := make([]string, 0, len(out))
	for _, r := range out {
		ids = append(ids, fmt.Sprint(r.User.ID))
	}
	only, onlyArgs := deviceRestriction("a.device_id", q.DeviceIDs)
	type userDevice struct {
		user int64
		name string
	}
	devs, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (userDevice, error) {
		var d userDevice
		err := row.Scan(&d.user, &d.name)
		return d, err
	}, `SELECT DISTINCT a.account_user_id, d.name FROM authorizations a JOIN devices d ON d.id = a.device_id
		WHERE a.deleted_at IS NULL AND a.revoked_at IS NULL AND d.deleted_at IS NULL AND a.account_user_id IN (`+strings.Join(ids, ",")+`)`+only+` ORDER BY d.name`, onlyArgs...)
	if err != nil {
		return nil, false, err
	}
	for _, d := range devs {
		if i, ok := index[d.user]; ok {
			out[i].Devices = append(out[i].Devices, d.name)
		}
	}
	invs, err := queryAll(ctx, s.db.Reader, scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE id IN
		(SELECT MAX(id) FROM invitations WHERE account_user_id IN (`+strings.Join(ids, ",")+`) GROUP BY account_user_id)`)
	if err != nil {
		return nil, false, err
	}
	for _, inv := range invs {
		if i, ok := index[inv.AccountUserID]; ok {
			out[i].Invitation = &inv
		}
	}
	return out, more, nil
}

// DuplicateReason says why users look like one person.
type DuplicateReason string

// Reasons of duplicate suggestions.
const (
	// SameName: the same name (accents, case and spaces ignored) on different devices. Two
	// authorizations on one device are never suggested: a device holds one per person.
	SameName DuplicateReason = "same_name"
	// SameEmail: the same email address (case ignored), also when a device names a person by
	// it (models.EmailKey).
	SameEmail DuplicateReason = "same_email"
)

// DuplicateGroup is a suggestion: users who are probably one person, and why.
type DuplicateGroup struct {
	Reason DuplicateReason
	Users  []UserRow
}

// CountDuplicates counts the names more than one active user has: cheap, for the Users page's
// link; FindDuplicates then leaves out users who share a device.
func (s *Store) CountDuplicates(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT name_key FROM account_users
		WHERE account_id = ? AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY name_key HAVING COUNT(*) > 1))
		+ (SELECT COUNT(*) FROM (SELECT email_key FROM account_users WHERE account_id = ? AND email_key IS NOT NULL
		AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY email_key HAVING COUNT(*) > 1))`, accountID, accountID).Scan(&n)
	return n, err
}

// FindDuplicates suggests users to merge: users with the same name whose authorizations are
// on different devices. It suggests only; nothing is merged. Each user is shown with the names
// of their devices among deviceIDs (nil: all of them), as a login limited to some devices may
// see them; whether two users share a device is decided on all of them.
func (s *Store) FindDuplicates(ctx context.Context, accountID int64, deviceIDs []int64) ([]DuplicateGroup, error) {
	type userDevice struct {
		user    int64
		key     string
		device  sql.NullInt64
		devName sql.NullString
	}
	found, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (userDevice, error) {
		var r userDevice
		err := row.Scan(&r.user, &r.key, &r.device, &r.devName)
		return r, err
	}, `SELECT u.id, u.name_key, a.device_id, d.name FROM account_users u
		JOIN account_users v ON v.account_id = u.account_id AND v.name_key = u.name_key AND v.id <> u.id
			AND v.merged_into IS NULL AND v.deleted_at IS NULL AND v.kind = 'user'
		LEFT JOIN authorizations a ON a.account_user_id = u.id AND a.deleted_at IS NULL
		LEFT JOIN devices d ON d.id = a.device_id AND d.deleted_at IS NULL
		WHERE u.account_id = ? AND u.merged_into IS NULL AND u.deleted_at IS NULL AND u.kind = 'user'
		GROUP BY u.id, a.device_id ORDER BY u.name_key, u.id`, accountID)
	if err != nil {
		return nil, err
	}
	type candidate struct {
		id      int64
		key     string
		devices map[int64]bool
		names   []string
	}
	var order []*candidate
	byID := map[int64]*candidate{}
	for _, r := range found {
		c, ok := byID[r.user]
		if !ok {
			c = &candidate{id: r.user, key: r.key, devices: map[int64]bool{}}
			byID[r.user] = c
			order = append(order, c)
		}
		if r.device.Valid && r.devName.Valid {
			c.devices[r.device.Int64] = true
			if deviceIDs == nil || slices.Contains(deviceIDs, r.device.Int64) {
				c.names = append(c.names, r.devName.String)
			}
		}
	}
	// Per name, put each user into the first group it shares no device with.
	var groups [][]*candidate
	start := 0
	for i := range order {
		if i+1 < len(order) && order[i+1].key == order[i].key {
			continue
		}
		var clusters [][]*candidate
		for _, c := range order[start : i+1] {
			placed := false
			for k, cl := range clusters {
				overlap := false
				for _, other := range cl {
					for d := range c.devices {
						overlap = overlap || other.devices[d]
					}
				}
				if !overlap {
					clusters[k] = append(cl, c)
					placed = true
					break
				}
			}
			if !placed {
				clusters = append(clusters, []*candidate{c})
			}
		}
		for _, cl := range clusters {
			if len(cl) > 1 {
				groups = append(groups, cl)
			}
		}
		start = i + 1
	}
	var out []DuplicateGroup
	suggested := map[string]bool{} // member sets already suggested
	for _, g := range groups {
		dg := DuplicateGroup{Reason: SameName}
		var ids []int64
		for _, c := range g {
			u, err := s.FindAccountUser(ctx, accountID, c.id)
			if err != nil {
				return nil, err
			}
			dg.Users = append(dg.Users, UserRow{User: u, Devices: c.names})
			ids = append(ids, c.id)
		}
		suggested[fmt.Sprint(ids)] = true
		out = append(out, dg)
	}
	byEmail, err := s.findSameEmail(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, ids := range byEmail {
		if suggested[fmt.Sprint(ids)] {
			continue // the same people, suggested for their name already
		}
		dg := DuplicateGroup{Reason: SameEmail}
		for _, id := range ids {
			u, err := s.FindAccountUser(ctx, accountID, id)
			if err != nil {
				return nil, err
			}
			names, err := s.userDeviceNames(ctx, id, deviceIDs)
			if err != nil {
				return nil, err
			}
			dg.Users = append(dg.Users, UserRow{User: u, Devices: names})
		}
		out = append(out, dg)
	}
	return out, nil
}

// findSameEmail returns the groups of active users who share an email key, ids ascending.
func (s *Store) findSameEmail(ctx context.Context, accountID int64) ([][]int64, error) {
	type userEmail struct {
		id  int64
		key string
	}
	users, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (userEmail, error) {
		var u userEmail
		err := row.Scan(&u.id, &u.key)
		return u, err
	}, `SELECT id, email_key FROM account_users
		WHERE account_id = ? AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' AND email_key IN (SELECT email_key FROM account_users
			WHERE account_id = ? AND email_key IS NOT NULL AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY email_key HAVING COUNT(*) > 1)
		ORDER BY email_key, id`, accountID, accountID)
	if err != nil {
		return nil, err
	}
	var out [][]int64
	last := ""
	for _, u := range users {
		if u.key != last || len(out) == 0 {
			out = append(out, nil)
			last = u.key
		}
		out[len(out)-1] = append(out[len(out)-1], u.id)
	}
	return out, nil
}

// userDeviceNames names the devices a user has a permission on (not revoked), by name.
func (s *Store) userDeviceNames(ctx context.Context, userID int64, deviceIDs []int64) ([]string, error) {
	only, onlyArgs := deviceRestriction("a.device_id", deviceIDs)
	return queryAll(ctx, s.db.Reader, scanString, `SELECT DISTINCT d.name FROM authorizations a JOIN devices d ON d.id = a.device_id
		WHERE a.account_user_id = ? AND a.deleted_at IS NULL AND a.revoked_at IS NULL AND d.deleted_at IS NULL`+only+` ORDER BY d.name`,
		append([]any{userID}, onlyArgs...)...)
}

// UserMerge is a merge that can still be undone.
type UserMerge struct {
	ID         int64
	Kept       models.AccountUser
	MergedID   int64
	MergedName string
	CreatedAt  time.Time
}

// FindRecentMerges returns the account's merges that are not undone, newest first.
func (s *Store) FindRecentMerges(ctx context.Context, accountID int64, limit int) ([]UserMerge, error) {
	return s.findMerges(ctx, accountID, `m.account_id = ? AND m.undone_at IS NULL ORDER BY m.id DESC LIMIT ?`, accountID, limit)
}

// FindMerge returns merge id of the account while it is not undone.
func (s *Store) FindMerge(ctx context.Context, accountID, id int64) (UserMerge, error) {
	list, err := s.findMerges(ctx, accountID, `m.account_id = ? AND m.id = ? AND m.undone_at IS NULL`, accountID, id)
	if err != nil {
		return UserMerge{}, err
	}
	if len(list) == 0 {
		return UserMerge{}, notFound(fmt.Sprintf("merge %d", id))
	}
	return list[0], nil
}

func (s *Store) findMerges(ctx context.Context, accountID int64, where string, args ...any) ([]UserMerge, error) {
	type raw struct {
		id, kept, merged int64
		name             string
		created          string
	}
	rs, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (raw, error) {
		var r raw
		err := row.Scan(&r.id, &r.kept, &r.merged, &r.name, &r.created)
		return r, err
	}, `SELECT m.id, m.kept_user_id, m.merged_user_id, u.name, m.created_at FROM user_merges m
		JOIN account_users u ON u.id = m.merged_user_id WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var out []UserMerge
	for _, r := range rs {
		kept, err := s.FindAccountUser(ctx, accountID, r.kept)
		if err != nil {
			return nil, err
		}
		at, err := parseTime(r.created)
		if err != nil {
			return nil, err
		}
		out = append(out, UserMerge{ID: r.id, Kept: kept, MergedID: r.merged, MergedName: r.name, CreatedAt: at})
	}
	return out, nil
}
