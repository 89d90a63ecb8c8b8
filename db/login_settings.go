package db

import (
	"context"
	"fmt"

	"portier/models"
)

// What a login changes about itself: its password, language and time zone (its two-factor
// settings are in two_factor.go, its email in email_changes.go, its sessions in sessions.go).

// ChangePassword sets a new password hash.
func (tx *Tx) ChangePassword(ctx context.Context, l models.Login, hash string) error {
	_, err := tx.ExecContext(ctx, `UPDATE logins SET password_hash = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		hash, tx.now, l.AccountID, l.ID)
	return err
}

// FindPasswordHash returns the stored password hash of a login (to check "current password").
func (s *Store) FindPasswordHash(ctx context.Context, accountID, loginID int64) (string, error) {
	var h string
	err := s.db.Reader.QueryRowContext(ctx, `SELECT password_hash FROM logins WHERE account_id = ? AND id = ?`, accountID, loginID).Scan(&h)
	return h, mapNoRows(err, fmt.Sprintf("login %d", loginID))
}

// UpdateLoginPreferences stores the language and time zone of a login.
func (tx *Tx) UpdateLoginPreferences(ctx context.Context, l models.Login, language, timeZone string) error {
	_, err := tx.ExecContext(ctx, `UPDATE logins SET language = ?, time_zone = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		language, timeZone, tx.now, l.AccountID, l.ID)
	return err
}

// EmailTaken reports whether a login already has email.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM logins WHERE email = ?`, email).Scan(&n)
	return n > 0, err
}
