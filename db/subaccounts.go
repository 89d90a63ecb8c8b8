package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"portier/models"
)

// NewSubAccount is a sub-account to create (PRODUCT.md R1). An empty PasswordHash makes a
// login that cannot sign in until it sets its password through a reset link.
type NewSubAccount struct {
	AccountID    int64
	CreatedBy    int64
	Email        string
	Name         string
	Language     string
	PasswordHash string
	Grant        models.Grant
	// PasswordLink, when set, is written with the login: a password reset token, so the new
	// login sets its own password (its email is the caller's).
	PasswordLink *PasswordLink
}

// PasswordLink is a one-time link to set a password: the token's hash and until when it works.
type PasswordLink struct {
	TokenHash string
	Expires   time.Time
}

// NoPassword is stored for a login that has not set its password yet: no password matches it.
const NoPassword = "!"

// checkGrantDevices refuses a grant naming a device that is not the account's (or was removed).
func checkGrantDevices(ctx context.Context, tx *sql.Tx, accountID int64, g models.Grant) error {
	if !g.Limited || len(g.DeviceIDs) == 0 {
		return nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(g.DeviceIDs)), ",")
	args := []any{accountID}
	for _, id := range g.DeviceIDs {
		args = append(args, id)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE account_id = ? AND deleted_at IS NULL AND id IN (`+ph+`)`, args...).Scan(&n); err != nil {
		return err
	}
	if n != len(g.DeviceIDs) {
		return notFound("device of the grant")
	}
	return nil
}

// writeGrant stores the rights and devices of a sub-account, replacing what it had.
func writeGrant(ctx context.Context, tx *sql.Tx, accountID, loginID int64, g models.Grant) error {
	if err := checkGrantDevices(ctx, tx, accountID, g); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE logins SET rights = ?, limited = ? WHERE id = ? AND account_id = ?`, g.Rights, g.Limited, loginID, accountID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_devices WHERE login_id = ?`, loginID); err != nil {
		return err
	}
	if !g.Limited {
		return nil
	}
	for _, id := range g.DeviceIDs {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO login_devices (login_id, device_id) VALUES (?, ?)`, loginID, id); err != nil {
			return err
		}
	}
	return nil
}

// EmailOwner returns the login that signs in with email, and whether it is a resident's web key
// (ErrNotFound when none does).
func (tx *Tx) EmailOwner(ctx context.Context, email string) (owner models.Login, resident bool, err error) {
	owner, err = scanLogin(tx.QueryRowContext(ctx, `SELECT `+prefixed("l.", loginColumns)+`, COALESCE(p.kind = 'resident', 0) FROM logins l
		LEFT JOIN account_users p ON p.id = l.account_user_id WHERE l.email = ?`, models.NormalizeEmail(email)), &resident)
	return owner, resident, mapNoRows(err, "login of "+email)
}

// CreateSubAccount adds a sub-account with its rights and devices (and its password link) and
// returns its id. The grant is stored as given: checking it against the creator's is the
// caller's. An email that already signs in is ErrConflict.
func (tx *Tx) CreateSubAccount(ctx context.Context, p NewSubAccount) (int64, error) {
	hash := p.PasswordHash
	if hash == "" {
		hash = NoPassword
	}
	lang := p.Language
	if lang == "" {
		lang = "en"
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, created_at, updated_at, created_by)
		VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?) RETURNING id`,
		p.AccountID, models.NormalizeEmail(p.Email), p.Name, hash, lang, tx.now, tx.now, p.CreatedBy).Scan(&id)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("email %s: %w", p.Email, models.ErrConflict)
	}
	if err != nil {
		return 0, err
	}
	if err := writeGrant(ctx, tx.Tx, p.AccountID, id, p.Grant); err != nil {
		return 0, err
	}
	if l := p.PasswordLink; l != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			l.TokenHash, id, tx.now, formatTime(l.Expires)); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// FindSubAccounts lists the sub-accounts of an account (not its main login, not web-key
// holders), by name.
func (s *Store) FindSubAccounts(ctx context.Context, accountID int64) ([]models.Login, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+loginColumns+` FROM logins
		WHERE account_id = ? AND is_main = 0 AND account_user_id IS NULL ORDER BY name COLLATE NOCASE, id`, accountID)
	if err != nil {
		return nil, err
	}
	out, err := scanLogins(rows)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.loadLoginDevices(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteSubAccount deletes a sub-account; its sessions and API tokens go with it (foreign keys),
// so it is signed out and its tokens stop on the next request.
func (tx *Tx) DeleteSubAccount(ctx context.Context, accountID, loginID int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE id = ? AND account_id = ? AND is_main = 0 AND account_user_id IS NULL`, loginID, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("sub-account %d", loginID))
	}
	return nil
}
