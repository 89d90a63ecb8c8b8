package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"portier/models"
)

// Account users: the people with access to the devices (see migration 0006). What the devices
// hold for them is in authorizations.go; merging them in user_merges.go.

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
func (tx *Tx) CreateAccountUser(ctx context.Context, u models.AccountUser) (models.AccountUser, error) {
	u, err := insertUser(ctx, tx.Tx, tx.now, u)
	if isUniqueViolation(err) {
		return models.AccountUser{}, fmt.Errorf("email %s: %w", u.Email, models.ErrConflict)
	}
	if err != nil {
		return models.AccountUser{}, err
	}
	return tx.findAccountUser(ctx, u.AccountID, u.ID)
}

// findAccountUser is FindAccountUser inside the transaction: it sees the transaction's writes.
func (tx *Tx) findAccountUser(ctx context.Context, accountID, id int64) (models.AccountUser, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM account_users
		WHERE account_id = ? AND id = ? AND deleted_at IS NULL`, accountID, id))
	if err == sql.ErrNoRows {
		return u, notFound(fmt.Sprintf("account user %d", id))
	}
	return u, err
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

// UserChange is an edit of an account user.
type UserChange struct {
	Name, Email, Language string
	// Kind is models.KindUser or models.KindCompany; "" keeps the kind. A resident stays one.
	Kind string
}

// UpdateAccountUser changes a user's name, email, invitation language and whether it is a
// partner company. An email another user has is ErrConflict; a company with staff that would
// become a plain user is models.ErrCompanyHasStaff.
func (tx *Tx) UpdateAccountUser(ctx context.Context, accountID, id int64, c UserChange) (models.AccountUser, error) {
	var email any
	if c.Email != "" {
		email = c.Email
	}
	if c.Kind == models.KindUser {
		var staff int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logins WHERE account_user_id = ? AND account_id = ? AND staff = 1`,
			id, accountID).Scan(&staff); err != nil {
			return models.AccountUser{}, err
		}
		if staff > 0 {
			return models.AccountUser{}, models.ErrCompanyHasStaff
		}
	}
	if c.Kind != "" && c.Kind != models.KindUser && c.Kind != models.KindCompany {
		return models.AccountUser{}, fmt.Errorf("account user kind %q cannot be set", c.Kind)
	}
	res, err := tx.ExecContext(ctx, `UPDATE account_users SET name = ?, name_key = ?, email = ?, email_key = ?, language = ?,
		kind = CASE WHEN ? = '' OR kind = 'resident' THEN kind ELSE ? END, updated_at = ?
		WHERE id = ? AND account_id = ? AND deleted_at IS NULL AND merged_into IS NULL`,
		c.Name, models.NameKey(c.Name), email, nullIfEmpty(models.EmailKey(c.Email, c.Name)), c.Language, c.Kind, c.Kind, tx.now, id, accountID)
	if isUniqueViolation(err) {
		return models.AccountUser{}, fmt.Errorf("email %s: %w", c.Email, models.ErrConflict)
	}
	if err != nil {
		return models.AccountUser{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.AccountUser{}, fmt.Errorf("account user %d: %w", id, models.ErrNotFound)
	}
	return tx.findAccountUser(ctx, accountID, id)
}

// DeleteAccountUser deletes a user: their permissions are revoked (and removed from the devices
// by the device manager), open invitations die and their web key goes: from a login that held
// it besides its own, or their web-key login, which moves to a further person it holds or ends
// (a partner company's staff logins end with it, sessions and all). The activity log keeps the name each
// entry was written with.
func (tx *Tx) DeleteAccountUser(ctx context.Context, accountID, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE account_users SET deleted_at = ?, updated_at = ? WHERE id = ? AND account_id = ?
		AND deleted_at IS NULL AND merged_into IS NULL`, tx.now, tx.now, id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("account user %d: %w", id, models.ErrNotFound)
	}
	if err := revokeInTx(ctx, tx.Tx, tx.now, accountID, `account_user_id = ?`, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE account_user_id = ? AND accepted_at IS NULL
		AND revoked_at IS NULL`, tx.now, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE account_user_id = ? AND account_id = ? AND staff = 1`, id, accountID); err != nil {
		return err
	}
	return releaseKeyLogins(ctx, tx.Tx, tx.now, accountID, "?", id)
}
