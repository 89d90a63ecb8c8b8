package db

import (
	"context"
	"database/sql"
	"time"

	"portier/models"
)

// CreatePasswordReset stores a one-time reset token for a login, queues its email and writes
// the audit row, all in one transaction.
func (s *Store) CreatePasswordReset(ctx context.Context, l models.Login, tokenHash string, expires time.Time, mail models.OutboxMessage, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			tokenHash, l.ID, s.now(), formatTime(expires)); err != nil {
			return err
		}
		mail.AccountID, mail.ForLoginID = &l.AccountID, &l.ID
		if err := s.enqueueMail(ctx, tx, mail); err != nil {
			return err
		}
		audit.AccountID, audit.LoginID = &l.AccountID, &l.ID
		_, err := s.insertAudit(ctx, tx, audit)
		return err
	})
}

// FindPasswordResetLogin returns the login of an unused, unexpired reset token.
func (s *Store) FindPasswordResetLogin(ctx context.Context, tokenHash string) (models.Login, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+prefixed("l.", loginColumns)+` FROM password_resets r JOIN logins l ON l.id = r.login_id
		WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ?`, tokenHash, s.now())
	l, err := scanLogin(row)
	return l, mapNoRows(err, "password reset")
}

// ResetPassword consumes the token (one conditional UPDATE, so it works once even under
// concurrent requests), sets the new hash, ends every session of the login, voids its other
// reset links and writes the audit row.
func (s *Store) ResetPassword(ctx context.Context, tokenHash, newHash string, audit models.AuditEntry) (models.Login, error) {
	var loginID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		err := tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING login_id`,
			now, tokenHash, now).Scan(&loginID)
		if err != nil {
			return mapNoRows(err, "password reset")
		}
		var accountID int64
		if err := tx.QueryRowContext(ctx, `UPDATE logins SET password_hash = ?, updated_at = ? WHERE id = ? RETURNING account_id`,
			newHash, now, loginID).Scan(&accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, now, loginID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ?`, loginID); err != nil {
			return err
		}
		audit.AccountID, audit.LoginID = &accountID, &loginID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	l, _, err := s.FindSessionLogin(ctx, loginID)
	return l, err
}
