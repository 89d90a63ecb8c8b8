package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"portier/models"
)

// NewSubAccount is a sub-account to create (PRODUCT.md R1). An empty PasswordHash makes a
// login that cannot sign in until it sets its password through a reset link.
type NewSubAccount struct {
	AccountID    int64
	CreatedBy    int64
	Email        string
	Name         string
	Language     string
	PasswordHash string
	Grant        models.Grant
	Audit        models.AuditEntry // Kind, Actor and IP; ids are filled in here
	// PasswordLink, when set, is written with the login: a password reset token and the
	// email carrying its link, so the new login sets its own password.
	PasswordLink *PasswordLink
	// Elsewhere writes the email telling the owner of the address, when it already signs in
	// where the creator cannot see (another account, a resident's web key), that someone tried
	// to add them; it is given that login.
	Elsewhere func(models.Login) (models.OutboxMessage, error)
}

// PasswordLink is a one-time link to set a password: the token's hash, until when it works
// and the email that carries it.
type PasswordLink struct {
	TokenHash string
	Expires   time.Time
	Mail      models.OutboxMessage
}

// NoPassword is stored for a login that has not set its password yet: no password matches it.
const NoPassword = "!"

// checkGrantDevices refuses a grant naming a device that is not the account's (or was removed).
func checkGrantDevices(ctx context.Context, tx *sql.Tx, accountID int64, g models.Grant) error {
	if !g.Limited || len(g.DeviceIDs) == 0 {
		return nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(g.DeviceIDs)), ",")
	args := []any{accountID}
	for _, id := range g.DeviceIDs {
		args = append(args, id)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE account_id = ? AND deleted_at IS NULL AND id IN (`+ph+`)`, args...).Scan(&n); err != nil {
		return err
	}
	if n != len(g.DeviceIDs) {
		return notFound("device of the grant")
	}
	return nil
}

// writeGrant stores the rights and devices of a sub-account, replacing what it had.
func writeGrant(ctx context.Context, tx *sql.Tx, accountID, loginID int64, g models.Grant) error {
	if err := checkGrantDevices(ctx, tx, accountID, g); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE logins SET rights = ?, limited = ? WHERE id = ? AND account_id = ?`, g.Rights, g.Limited, loginID, accountID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_devices WHERE login_id = ?`, loginID); err != nil {
		return err
	}
	if !g.Limited {
		return nil
	}
	for _, id := range g.DeviceIDs {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO login_devices (login_id, device_id) VALUES (?, ?)`, loginID, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateSubAccount adds a sub-account with its rights and devices and the audit row, in one
// transaction. The grant is stored as given: checking it against the creator's is the caller's.
//
// An email that already signs in is ErrConflict when the login is one the creator sees (of the
// same account, not a resident's web key); anywhere else nothing is created, the login's owner
// is emailed (p.Elsewhere) and the error is ErrEmailElsewhere, so that the caller can answer as
// for a new one and the creator does not learn whose address it is.
func (s *Store) CreateSubAccount(ctx context.Context, p NewSubAccount) (models.Login, error) {
	var id int64
	elsewhere := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var ownerID, ownerAccount int64
		var resident bool
		err := tx.QueryRowContext(ctx, `SELECT l.id, l.account_id, COALESCE(p.kind = 'resident', 0) FROM logins l
			LEFT JOIN account_users p ON p.id = l.account_user_id WHERE l.email = ?`, models.NormalizeEmail(p.Email)).Scan(&ownerID, &ownerAccount, &resident)
		switch {
		case err == nil && ownerAccount == p.AccountID && !resident:
			return fmt.Errorf("email %s: %w", p.Email, models.ErrConflict)
		case err == nil:
			elsewhere = true
			return s.tellEmailElsewhere(ctx, tx, ownerAccount, ownerID, p.Elsewhere)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		hash := p.PasswordHash
		if hash == "" {
			hash = NoPassword
		}
		lang := p.Language
		if lang == "" {
			lang = "en"
		}
		now := s.now()
		err = tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, created_at, updated_at, created_by)
			VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?) RETURNING id`,
			p.AccountID, models.NormalizeEmail(p.Email), p.Name, hash, lang, now, now, p.CreatedBy).Scan(&id)
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", p.Email, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := writeGrant(ctx, tx, p.AccountID, id, p.Grant); err != nil {
			return err
		}
		if l := p.PasswordLink; l != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
				l.TokenHash, id, now, formatTime(l.Expires)); err != nil {
				return err
			}
			mail := l.Mail
			mail.AccountID, mail.WrittenByLoginID, mail.ForLoginID = &p.AccountID, &p.CreatedBy, &id
			if err := s.enqueueMail(ctx, tx, mail); err != nil {
				return err
			}
		}
		a := p.Audit
		a.AccountID = &p.AccountID
		if a.LoginID == nil {
			a.LoginID = &p.CreatedBy
		}
		if a.Detail == "" {
			a.Detail = fmt.Sprintf("sub-account %s with rights %d", p.Email, p.Grant.Rights)
		}
		_, err = s.insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	if elsewhere {
		return models.Login{}, fmt.Errorf("email %s: %w", p.Email, models.ErrEmailElsewhere)
	}
	return s.FindLogin(ctx, p.AccountID, id)
}

// tellEmailElsewhere queues the email telling login ownerID of account ownerAccount that someone
// tried to add it as a sub-account (kept off every account's outbox page: neither the creator's
// nor a resident's manager may read it).
func (s *Store) tellEmailElsewhere(ctx context.Context, tx *sql.Tx, ownerAccount, ownerID int64, mail func(models.Login) (models.OutboxMessage, error)) error {
	if mail == nil {
		return errors.New("sub-account: an email that signs in elsewhere needs the message to its owner")
	}
	owner, err := scanLogin(tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE account_id = ? AND id = ?`, ownerAccount, ownerID))
	if err != nil {
		return err
	}
	m, err := mail(owner)
	if err != nil {
		return err
	}
	m.AccountID = nil
	return s.enqueueMail(ctx, tx, m)
}

// UpdateSubAccountGrant replaces the rights and devices of a sub-account (never the main
// login) and writes the audit row. It takes effect on the login's next request.
func (s *Store) UpdateSubAccountGrant(ctx context.Context, accountID, loginID int64, g models.Grant, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var isMain bool
		err := tx.QueryRowContext(ctx, `SELECT is_main FROM logins WHERE id = ? AND account_id = ? AND account_user_id IS NULL`, loginID, accountID).Scan(&isMain)
		if err != nil {
			return mapNoRows(err, fmt.Sprintf("sub-account %d", loginID))
		}
		if isMain {
			return notFound(fmt.Sprintf("sub-account %d", loginID))
		}
		if err := writeGrant(ctx, tx, accountID, loginID, g); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET updated_at = ? WHERE id = ?`, s.now(), loginID); err != nil {
			return err
		}
		audit.AccountID = &accountID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
}

// FindSubAccounts lists the sub-accounts of an account (not its main login, not web-key
// holders), by name.
func (s *Store) FindSubAccounts(ctx context.Context, accountID int64) ([]models.Login, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+loginColumns+` FROM logins
		WHERE account_id = ? AND is_main = 0 AND account_user_id IS NULL ORDER BY name COLLATE NOCASE, id`, accountID)
	if err != nil {
		return nil, err
	}
	out, err := scanLogins(rows)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.loadLoginDevices(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteSubAccount deletes a sub-account; its sessions and API tokens go with it (foreign keys),
// so it is signed out and its tokens stop on the next request.
func (s *Store) DeleteSubAccount(ctx context.Context, accountID, loginID int64, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE id = ? AND account_id = ? AND is_main = 0 AND account_user_id IS NULL`, loginID, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return notFound(fmt.Sprintf("sub-account %d", loginID))
		}
		audit.AccountID = &accountID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
}
