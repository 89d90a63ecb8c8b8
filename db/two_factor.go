package db

import (
	"context"
	"fmt"

	"portier/models"
)

// A login's second factor: the sealed TOTP secret and the last step used (columns of logins)
// and its recovery codes (recovery_codes), hashed.

// EnableTwoFactor stores the sealed TOTP secret and the recovery code hashes. The step of the
// code that confirmed enrollment counts as used, so that code cannot also sign in. Two-factor
// already on is models.ErrConflict.
func (tx *Tx) EnableTwoFactor(ctx context.Context, l models.Login, sealedSecret []byte, confirmedStep int64, codeHashes []string) error {
	res, err := tx.ExecContext(ctx, `UPDATE logins SET totp_secret = ?, totp_enabled_at = ?, totp_last_step = ?, updated_at = ?
		WHERE account_id = ? AND id = ? AND totp_enabled_at IS NULL`, sealedSecret, tx.now, confirmedStep, tx.now, l.AccountID, l.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("two-factor already on for login %d: %w", l.ID, models.ErrConflict)
	}
	return tx.ReplaceRecoveryCodes(ctx, l, codeHashes)
}

// DisableTwoFactor removes the TOTP secret and the recovery codes.
func (tx *Tx) DisableTwoFactor(ctx context.Context, l models.Login) error {
	if _, err := tx.ExecContext(ctx, `UPDATE logins SET totp_secret = NULL, totp_enabled_at = NULL, updated_at = ? WHERE account_id = ? AND id = ?`,
		tx.now, l.AccountID, l.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login_id = ?`, l.ID)
	return err
}

// ReplaceRecoveryCodes voids every recovery code of the login and stores new ones.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, l models.Login, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login_id = ?`, l.ID); err != nil {
		return err
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (login_id, code_hash, created_at) VALUES (?, ?, ?)`, l.ID, h, tx.now); err != nil {
			return err
		}
	}
	return nil
}

// FindTwoFactorSecret returns the sealed TOTP secret of a login with two-factor on.
func (s *Store) FindTwoFactorSecret(ctx context.Context, loginID int64) ([]byte, error) {
	var sealed []byte
	err := s.db.Reader.QueryRowContext(ctx, `SELECT totp_secret FROM logins WHERE id = ? AND totp_enabled_at IS NOT NULL AND totp_secret IS NOT NULL`, loginID).Scan(&sealed)
	return sealed, mapNoRows(err, "two-factor secret")
}

// ConsumeTOTPStep marks step as used for the login. It reports false when this step or a later
// one was already used: one conditional UPDATE, so a code works once even when the same code
// arrives on many connections at the same moment.
func (s *Store) ConsumeTOTPStep(ctx context.Context, loginID, step int64) (bool, error) {
	res, err := s.db.Writer.ExecContext(ctx, `UPDATE logins SET totp_last_step = ? WHERE id = ? AND totp_last_step < ? AND totp_enabled_at IS NOT NULL`,
		step, loginID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseRecoveryCode marks the login's unused code with codeHash as used; false when there is none.
func (s *Store) UseRecoveryCode(ctx context.Context, loginID int64, codeHash string) (bool, error) {
	res, err := s.db.Writer.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE login_id = ? AND code_hash = ? AND used_at IS NULL`,
		s.now(), loginID, codeHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountRecoveryCodes returns how many unused recovery codes the login has left.
func (s *Store) CountRecoveryCodes(ctx context.Context, loginID int64) (int, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE login_id = ? AND used_at IS NULL`, loginID).Scan(&n)
	return n, err
}
