package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"portier/models"
)

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

// EnableTwoFactor stores the sealed TOTP secret and the recovery code hashes. The step of the
// code that confirmed enrollment counts as used, so that code cannot also sign in.
func (s *Store) EnableTwoFactor(ctx context.Context, l models.Login, sealedSecret []byte, confirmedStep int64, codeHashes []string, ch SecurityChange) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE logins SET totp_secret = ?, totp_enabled_at = ?, totp_last_step = ?, updated_at = ?
			WHERE account_id = ? AND id = ? AND totp_enabled_at IS NULL`, sealedSecret, now, confirmedStep, now, l.AccountID, l.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("two-factor already on for login %d: %w", l.ID, models.ErrConflict)
		}
		if err := s.replaceRecoveryCodes(ctx, tx, l.ID, codeHashes); err != nil {
			return err
		}
		return s.applySecurityChange(ctx, tx, l, ch)
	})
}

// DisableTwoFactor removes the TOTP secret and the recovery codes.
func (s *Store) DisableTwoFactor(ctx context.Context, l models.Login, ch SecurityChange) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET totp_secret = NULL, totp_enabled_at = NULL, updated_at = ? WHERE account_id = ? AND id = ?`,
			s.now(), l.AccountID, l.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login_id = ?`, l.ID); err != nil {
			return err
		}
		return s.applySecurityChange(ctx, tx, l, ch)
	})
}

// ReplaceRecoveryCodes voids every recovery code of the login and stores new ones.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, l models.Login, codeHashes []string, ch SecurityChange) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.replaceRecoveryCodes(ctx, tx, l.ID, codeHashes); err != nil {
			return err
		}
		return s.applySecurityChange(ctx, tx, l, ch)
	})
}

func (s *Store) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, loginID int64, hashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login_id = ?`, loginID); err != nil {
		return err
	}
	now := s.now()
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (login_id, code_hash, created_at) VALUES (?, ?, ?)`, loginID, h, now); err != nil {
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

// EmailTaken reports whether a login already has email.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM logins WHERE email = ?`, email).Scan(&n)
	return n > 0, err
}

// SessionInfo is one signed-in session of a login, as the sessions list shows it.
type SessionInfo struct {
	PublicID   string
	TokenHash  string
	IP         string
	UserAgent  string
	Remember   bool
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// FindSessionsOfLogin lists the login's sessions, most recently used first.
func (s *Store) FindSessionsOfLogin(ctx context.Context, loginID int64) ([]SessionInfo, error) {
	return queryAll(ctx, s.db.Reader, scanSessionInfo, `SELECT public_id, token_hash, ip, user_agent, remember, created_at, last_seen_at
		FROM sessions WHERE login_id = ? ORDER BY last_seen_at DESC, created_at DESC`, loginID)
}

func scanSessionInfo(row rowScanner) (SessionInfo, error) {
	var si SessionInfo
	var created, seen string
	err := row.Scan(&si.PublicID, &si.TokenHash, &si.IP, &si.UserAgent, &si.Remember, &created, &seen)
	if err != nil {
		return si, err
	}
	if si.CreatedAt, err = parseTime(created); err != nil {
		return si, err
	}
	si.LastSeenAt, err = parseTime(seen)
	return si, err
}

// EndSession ends the login's session with publicID (never another login's).
func (s *Store) EndSession(ctx context.Context, l models.Login, publicID string, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ? AND public_id = ?`, l.ID, publicID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return notFound("session")
		}
		audit.AccountID, audit.LoginID = &l.AccountID, &l.ID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
}

// EndOtherSessions ends every session of the login except keepHash.
func (s *Store) EndOtherSessions(ctx context.Context, l models.Login, keepHash string, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		return s.applySecurityChange(ctx, tx, l, SecurityChange{KeepSession: keepHash, Audit: audit})
	})
}

// FindOutbox returns the account's emails, newest first (the Mail outbox page).
func (s *Store) FindOutbox(ctx context.Context, accountID int64, limit int) ([]models.OutboxMessage, error) {
	return s.queryOutbox(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
}
