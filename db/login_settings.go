package db

import (
	"context"
	"database/sql"
	"fmt"

	"portier/models"
)

// What a login changes about itself: its password, language and time zone (its two-factor
// settings are in two_factor.go, its email in email_changes.go, its sessions in sessions.go).

// SecurityChange is what goes with a change to how a login signs in, in the same transaction:
// every other session of the login ends, the audit row is written, and the login is told by
// email.
type SecurityChange struct {
	KeepSession string // token hash of the session that made the change ("" ends all)
	Audit       models.AuditEntry
	Mail        []models.OutboxMessage
}

func (s *Store) applySecurityChange(ctx context.Context, tx *sql.Tx, l models.Login, ch SecurityChange) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ? AND token_hash <> ?`, l.ID, ch.KeepSession); err != nil {
		return err
	}
	for _, m := range ch.Mail {
		m.AccountID, m.WrittenByLoginID, m.ForLoginID = &l.AccountID, &l.ID, &l.ID
		if err := s.enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	a := ch.Audit
	a.AccountID, a.LoginID = &l.AccountID, &l.ID
	_, err := s.insertAudit(ctx, tx, a)
	return err
}

// ChangePassword sets a new password hash; the other sessions of the login end.
func (s *Store) ChangePassword(ctx context.Context, l models.Login, hash string, ch SecurityChange) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET password_hash = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			hash, s.now(), l.AccountID, l.ID); err != nil {
			return err
		}
		return s.applySecurityChange(ctx, tx, l, ch)
	})
}

// FindPasswordHash returns the stored password hash of a login (to check "current password").
func (s *Store) FindPasswordHash(ctx context.Context, accountID, loginID int64) (string, error) {
	var h string
	err := s.db.Reader.QueryRowContext(ctx, `SELECT password_hash FROM logins WHERE account_id = ? AND id = ?`, accountID, loginID).Scan(&h)
	return h, mapNoRows(err, fmt.Sprintf("login %d", loginID))
}

// UpdateLoginPreferences stores the language and time zone of a login.
func (s *Store) UpdateLoginPreferences(ctx context.Context, l models.Login, language, timeZone string, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET language = ?, time_zone = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			language, timeZone, s.now(), l.AccountID, l.ID); err != nil {
			return err
		}
		audit.AccountID, audit.LoginID = &l.AccountID, &l.ID
		_, err := s.insertAudit(ctx, tx, audit)
		return err
	})
}

// EmailTaken reports whether a login already has email.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM logins WHERE email = ?`, email).Scan(&n)
	return n > 0, err
}
