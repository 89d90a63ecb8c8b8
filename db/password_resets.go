package db

import (
	"context"
	"time"

	"portier/models"
)

// CreatePasswordReset stores a one-time reset token for a login.
func (tx *Tx) CreatePasswordReset(ctx context.Context, l models.Login, tokenHash string, expires time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, l.ID, tx.now, formatTime(expires))
	return err
}

// FindPasswordResetLogin returns the login of an unused, unexpired reset token.
func (s *Store) FindPasswordResetLogin(ctx context.Context, tokenHash string) (models.Login, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+prefixed("l.", loginColumns)+` FROM password_resets r JOIN logins l ON l.id = r.login_id
		WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ?`, tokenHash, s.now())
	l, err := scanLogin(row)
	return l, mapNoRows(err, "password reset")
}

// ResetPassword consumes the token (one conditional UPDATE, so it works once even under
// concurrent requests), sets the new hash, ends every session of the login and voids its other
// reset links. It returns the login as it was before; an unknown, used or expired token is
// models.ErrNotFound.
func (tx *Tx) ResetPassword(ctx context.Context, tokenHash, newHash string) (models.Login, error) {
	var loginID int64
	err := tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING login_id`,
		tx.now, tokenHash, tx.now).Scan(&loginID)
	if err != nil {
		return models.Login{}, mapNoRows(err, "password reset")
	}
	l, err := scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`, loginID))
	if err != nil {
		return l, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE logins SET password_hash = ?, updated_at = ? WHERE id = ?`, newHash, tx.now, loginID); err != nil {
		return l, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, tx.now, loginID); err != nil {
		return l, err
	}
	return l, tx.EndOtherSessions(ctx, l, "")
}
