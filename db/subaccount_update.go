package db

import (
	"context"
	"fmt"

	"portier/models"
)

// SubAccountUpdate is an edit of a sub-account; nil fields stay as they are.
type SubAccountUpdate struct {
	Name     *string
	Language *string
	Email    *string
	// PasswordHash sets a new password: every session of the login ends and its unused reset
	// links stop working.
	PasswordHash *string
	Grant        *models.Grant
}

// UpdateSubAccount changes a sub-account (never the main login, never a web-key holder). A new
// email voids the login's unused reset links (they went to the old address); ErrConflict when
// another login has it.
func (tx *Tx) UpdateSubAccount(ctx context.Context, accountID, loginID int64, u SubAccountUpdate) error {
	var isMain bool
	err := tx.QueryRowContext(ctx, `SELECT is_main FROM logins WHERE id = ? AND account_id = ? AND account_user_id IS NULL`, loginID, accountID).Scan(&isMain)
	if err != nil {
		return mapNoRows(err, fmt.Sprintf("sub-account %d", loginID))
	}
	if isMain {
		return notFound(fmt.Sprintf("sub-account %d", loginID))
	}
	now := tx.now
	if u.Name != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET name = ? WHERE id = ?`, *u.Name, loginID); err != nil {
			return err
		}
	}
	if u.Language != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET language = ? WHERE id = ?`, *u.Language, loginID); err != nil {
			return err
		}
	}
	if u.Email != nil {
		res, err := tx.ExecContext(ctx, `UPDATE logins SET email = ? WHERE id = ? AND email <> ?`, models.NormalizeEmail(*u.Email), loginID, models.NormalizeEmail(*u.Email))
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", *u.Email, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, now, loginID); err != nil {
				return err
			}
		}
	}
	if u.PasswordHash != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET password_hash = ? WHERE id = ?`, *u.PasswordHash, loginID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE login_id = ? AND used_at IS NULL`, now, loginID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ?`, loginID); err != nil {
			return err
		}
	}
	if u.Grant != nil {
		if err := writeGrant(ctx, tx.Tx, accountID, loginID, *u.Grant); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE logins SET updated_at = ? WHERE id = ?`, now, loginID)
	return err
}
