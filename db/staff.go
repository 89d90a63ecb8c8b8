package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"portier/models"
)

// Staff of partner companies (issue 8; migration 0015). A company is an account user of kind
// 'company'; each staff member has a web-key login of their own (staff = 1, account_user_id =
// the company) that operates the company's permissions. A new one cannot sign in until they set
// their password through the password reset link their email carries (the reset machinery:
// one-time token, stored hashed, every session ended when it is used).

// StaffMember is a staff member of a partner company.
type StaffMember struct {
	Login models.Login
	// Pending: the password is not set yet (the link of the email was not used).
	Pending bool
}

// NewStaff is a staff member to add to a company.
type NewStaff struct {
	CompanyID int64
	Name      string
	Email     string
	// TokenHash is the hash of the link's token (auth.HashToken), valid until Expires.
	TokenHash string
	Expires   time.Time
	// CreatedBy is the login that adds them (0: none, as from the command line).
	CreatedBy int64
}

// FindStaff lists the staff of a company of the account, by name.
func (s *Store) FindStaff(ctx context.Context, accountID, companyID int64) ([]StaffMember, error) {
	return queryAll(ctx, s.db.Reader, func(row rowScanner) (StaffMember, error) {
		var m StaffMember
		var err error
		m.Login, err = scanLogin(row, &m.Pending)
		return m, err
	}, `SELECT `+loginColumns+`, password_hash = ? FROM logins
		WHERE account_id = ? AND account_user_id = ? AND staff = 1 ORDER BY name COLLATE NOCASE, id`, NoPassword, accountID, companyID)
}

// AddStaff adds a staff member to a partner company of the account: their web-key login
// without a password (language of the company, time zone of the main login) and the password
// link. A user that is not a company of the account (or no longer) is ErrNotFound; an email that
// already signs in is ErrConflict.
func (tx *Tx) AddStaff(ctx context.Context, accountID int64, n NewStaff) (models.Login, error) {
	var language string
	err := tx.QueryRowContext(ctx, `SELECT language FROM account_users WHERE id = ? AND account_id = ? AND kind = 'company'
		AND deleted_at IS NULL AND merged_into IS NULL`, n.CompanyID, accountID).Scan(&language)
	if err != nil {
		return models.Login{}, mapNoRows(err, fmt.Sprintf("partner company %d", n.CompanyID))
	}
	zone := "UTC"
	if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM logins WHERE account_id = ? AND is_main = 1`, accountID).Scan(&zone); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return models.Login{}, err
	}
	email := models.NormalizeEmail(n.Email)
	var loginID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, time_zone,
		created_at, updated_at, account_user_id, staff, created_by) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, 1, ?) RETURNING id`,
		accountID, email, n.Name, NoPassword, language, zone, tx.now, tx.now, n.CompanyID, nullID(n.CreatedBy)).Scan(&loginID)
	if isUniqueViolation(err) {
		return models.Login{}, fmt.Errorf("email %s: %w", email, models.ErrConflict)
	}
	if err != nil {
		return models.Login{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		n.TokenHash, loginID, tx.now, formatTime(n.Expires)); err != nil {
		return models.Login{}, err
	}
	return scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`, loginID))
}

// RemoveStaff removes a staff member of a company of the account: their login goes, and with it
// their sessions and password links (foreign keys), so their web key stops on the next request.
// Their entries in the activity log are the company's already. A login that is not staff of
// that company is ErrNotFound. It returns the login as it was.
func (tx *Tx) RemoveStaff(ctx context.Context, accountID, companyID, loginID int64) (models.Login, error) {
	removed, err := scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins
		WHERE id = ? AND account_id = ? AND account_user_id = ? AND staff = 1`, loginID, accountID, companyID))
	if err != nil {
		return removed, mapNoRows(err, fmt.Sprintf("staff member %d", loginID))
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM logins WHERE id = ?`, loginID)
	return removed, err
}
