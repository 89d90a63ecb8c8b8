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

// CreateEmailChange stores a pending change of the login's email to newEmail; earlier pending
// changes of the login are void.
func (tx *Tx) CreateEmailChange(ctx context.Context, l models.Login, tokenHash, newEmail string, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE email_changes SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, tx.now, l.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO email_changes (token_hash, login_id, new_email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, l.ID, newEmail, tx.now, formatTime(expires))
	return err
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

// ConfirmEmailChange uses the token (once) and sets the login's new email; it returns the login
// as it was before and the new email. It fails with ErrConflict when another login took the
// address meanwhile (the caller rolls back), and with ErrNotFound for an unknown, used or
// expired token.
func (tx *Tx) ConfirmEmailChange(ctx context.Context, tokenHash string) (models.Login, string, error) {
	var loginID int64
	var newEmail string
	err := tx.QueryRowContext(ctx, `UPDATE email_changes SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING login_id, new_email`,
		tx.now, tokenHash, tx.now).Scan(&loginID, &newEmail)
	if err != nil {
		return models.Login{}, "", mapNoRows(err, "email change")
	}
	l, err := scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`, loginID))
	if err != nil {
		return l, newEmail, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE logins SET email = ?, updated_at = ? WHERE id = ?`, newEmail, tx.now, loginID)
	if isUniqueViolation(err) {
		return l, newEmail, fmt.Errorf("email %s: %w", newEmail, models.ErrConflict)
	}
	if err != nil {
		return l, newEmail, err
	}
	// Reset links sent to the old address stop working.
	_, err = tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, tx.now, loginID)
	return l, newEmail, err
}
