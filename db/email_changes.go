package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"portier/models"
)

// A login's change of email address (email_changes): it takes effect when the new address
// confirms it.

// CreateEmailChange stores a pending change of the login's email to newEmail, queues the
// confirmation to the new address and the notice to the old one, and writes the audit row.
// Earlier pending changes of the login are void.
func (s *Store) CreateEmailChange(ctx context.Context, l models.Login, tokenHash, newEmail string, expires time.Time, mails []models.OutboxMessage, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE email_changes SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, now, l.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_changes (token_hash, login_id, new_email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash, l.ID, newEmail, now, formatTime(expires)); err != nil {
			return err
		}
		for _, m := range mails {
			m.AccountID, m.WrittenByLoginID, m.ForLoginID = &l.AccountID, &l.ID, &l.ID
			if err := s.enqueueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		audit.AccountID, audit.LoginID = &l.AccountID, &l.ID
		_, err := s.insertAudit(ctx, tx, audit)
		return err
	})
}

// FindEmailChange returns the login and new address of an unused, unexpired change token.
func (s *Store) FindEmailChange(ctx context.Context, tokenHash string) (models.Login, string, error) {
	var newEmail string
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+prefixed("l.", loginColumns)+`, c.new_email FROM email_changes c JOIN logins l ON l.id = c.login_id
		WHERE c.token_hash = ? AND c.used_at IS NULL AND c.expires_at > ?`, tokenHash, s.now())
	l, err := scanLogin(row, &newEmail)
	return l, newEmail, mapNoRows(err, "email change")
}

// FindPendingEmailChange returns the address a login asked to change to and has not confirmed
// yet ("" when none).
func (s *Store) FindPendingEmailChange(ctx context.Context, loginID int64) (string, error) {
	var e string
	err := s.db.Reader.QueryRowContext(ctx, `SELECT new_email FROM email_changes WHERE login_id = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC LIMIT 1`, loginID, s.now()).Scan(&e)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return e, err
}

// ConfirmEmailChange uses the token (once) and sets the login's new email. It fails with
// ErrConflict when another login took the address meanwhile, and changes nothing then.
func (s *Store) ConfirmEmailChange(ctx context.Context, tokenHash string, audit models.AuditEntry) (models.Login, error) {
	var loginID, accountID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var newEmail string
		err := tx.QueryRowContext(ctx, `UPDATE email_changes SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING login_id, new_email`,
			now, tokenHash, now).Scan(&loginID, &newEmail)
		if err != nil {
			return mapNoRows(err, "email change")
		}
		err = tx.QueryRowContext(ctx, `UPDATE logins SET email = ?, updated_at = ? WHERE id = ? RETURNING account_id`, newEmail, now, loginID).Scan(&accountID)
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", newEmail, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		// Reset links sent to the old address stop working.
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, now, loginID); err != nil {
			return err
		}
		audit.AccountID, audit.LoginID = &accountID, &loginID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(ctx, accountID, loginID)
}
