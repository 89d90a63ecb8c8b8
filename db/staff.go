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
	// Mail writes the email with the link once the login exists; it is queued in the same
	// transaction.
	Mail func(models.Login) (models.OutboxMessage, error)
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

// AddStaff adds a staff member to a partner company of the account, in one transaction: their
// web-key login without a password (language of the company, time zone of the main login), the
// password link, its email and the audit row. A user that is not a company of the account (or
// no longer) is ErrNotFound; an email that already signs in is ErrConflict.
func (s *Store) AddStaff(ctx context.Context, accountID int64, n NewStaff, audit models.AuditEntry) (models.Login, error) {
	var loginID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var company, language string
		err := tx.QueryRowContext(ctx, `SELECT name, language FROM account_users WHERE id = ? AND account_id = ? AND kind = 'company'
			AND deleted_at IS NULL AND merged_into IS NULL`, n.CompanyID, accountID).Scan(&company, &language)
		if err != nil {
			return mapNoRows(err, fmt.Sprintf("partner company %d", n.CompanyID))
		}
		zone := "UTC"
		if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM logins WHERE account_id = ? AND is_main = 1`, accountID).Scan(&zone); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return err
		}
		email := models.NormalizeEmail(n.Email)
		err = tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, time_zone,
			created_at, updated_at, account_user_id, staff, created_by) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, 1, ?) RETURNING id`,
			accountID, email, n.Name, NoPassword, language, zone, now, now, n.CompanyID, audit.LoginID).Scan(&loginID)
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", email, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			n.TokenHash, loginID, now, formatTime(n.Expires)); err != nil {
			return err
		}
		if n.Mail != nil {
			l, err := scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`, loginID))
			if err != nil {
				return err
			}
			msg, err := n.Mail(l)
			if err != nil {
				return err
			}
			msg.AccountID, msg.WrittenByLoginID, msg.ForLoginID = &accountID, audit.LoginID, &loginID
			if err := s.enqueueMail(ctx, tx, msg); err != nil {
				return err
			}
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("staff member %s <%s> of partner company %d %q", n.Name, email, n.CompanyID, company)
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(ctx, accountID, loginID)
}

// RemoveStaff removes a staff member of a company of the account: their login goes, and with it
// their sessions and password links (foreign keys), so their web key stops on the next request.
// Their entries in the activity log are the company's already. A login that is not staff of
// that company is ErrNotFound.
func (s *Store) RemoveStaff(ctx context.Context, accountID, companyID, loginID int64, audit models.AuditEntry) (models.Login, error) {
	var removed models.Login
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		removed, err = scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins
			WHERE id = ? AND account_id = ? AND account_user_id = ? AND staff = 1`, loginID, accountID, companyID))
		if err != nil {
			return mapNoRows(err, fmt.Sprintf("staff member %d", loginID))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE id = ?`, loginID); err != nil {
			return err
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("staff member %s <%s> of partner company %d; web key and sessions ended", removed.Name, removed.Email, companyID)
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	return removed, err
}
