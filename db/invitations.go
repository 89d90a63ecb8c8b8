package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"portier/models"
)

// Invitations to a web key (PRODUCT.md U5, U6; migration 0007). The link token and the
// activation code are stored only as SHA-256 hashes. An invitation's state is derived from its
// times (models.Invitation.State): a new one revokes the user's open ones, so a resend kills
// the old link and code.

// ErrInvitationCodeTaken is returned by CreateInvitation when the code's hash is already stored
// (a collision of random codes): the caller makes a new code and tries again.
var ErrInvitationCodeTaken = errors.New("invitation code already in use")

// NewInvitation is an invitation to store for an account user.
type NewInvitation struct {
	AccountUserID int64
	TokenHash     string // of the link's token (auth.HashToken)
	CodeHash      string // of the activation code (auth.HashInvitationCode)
	Language      string // of the email and of the web-key login
	// Mail writes the invitation email once the invitation's times are known; it is queued in
	// the invitation's transaction, so it goes out exactly when the invitation exists. The
	// message names the login that invites (WrittenByLoginID), who may read it on the outbox.
	Mail func(models.Invitation) (models.OutboxMessage, error)
}

const invitationColumns = `id, account_id, account_user_id, language, created_at, expires_at, accepted_at, revoked_at`

func scanInvitation(row interface{ Scan(...any) error }) (models.Invitation, error) {
	var i models.Invitation
	var created, expires string
	var accepted, revoked sql.NullString
	if err := row.Scan(&i.ID, &i.AccountID, &i.AccountUserID, &i.Language, &created, &expires, &accepted, &revoked); err != nil {
		return i, err
	}
	var err error
	if i.CreatedAt, err = parseTime(created); err != nil {
		return i, err
	}
	if i.ExpiresAt, err = parseTime(expires); err != nil {
		return i, err
	}
	if i.AcceptedAt, err = parseTimePtr(accepted); err != nil {
		return i, err
	}
	i.RevokedAt, err = parseTimePtr(revoked)
	return i, err
}

// CreateInvitation stores an invitation valid for models.InvitationValidity from now (the
// store's clock), revokes the user's open invitations, queues the email and writes the audit
// row, in one transaction. A user without an email or without a permission a web key can use
// (models.Authorization.WebKeyUsable) is refused with *models.InvitationRefused; a user that
// is not (or no longer) in the account is ErrNotFound.
func (s *Store) CreateInvitation(ctx context.Context, accountID int64, in NewInvitation, audit models.AuditEntry) (models.Invitation, error) {
	var inv models.Invitation
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.Now()
		var email, kind string
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(email, ''), kind FROM account_users WHERE id = ? AND account_id = ?
			AND deleted_at IS NULL AND merged_into IS NULL`, in.AccountUserID, accountID).Scan(&email, &kind)
		if err != nil {
			return mapNoRows(err, fmt.Sprintf("account user %d", in.AccountUserID))
		}
		if email == "" {
			return &models.InvitationRefused{Reason: models.RefusedNoEmail}
		}
		var usable int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE account_id = ? AND account_user_id = ?
			AND type = ? AND remote_allowed = 1 AND deleted_at IS NULL AND revoked_at IS NULL`,
			accountID, in.AccountUserID, models.AuthTypeApp).Scan(&usable); err != nil {
			return err
		}
		if usable == 0 {
			return &models.InvitationRefused{Reason: models.RefusedNoWebKey}
		}
		// Open ones die; expired ones stay expired (their history says what happened).
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE account_user_id = ? AND account_id = ?
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
			formatTime(now), in.AccountUserID, accountID, formatTime(now)); err != nil {
			return err
		}
		inv = models.Invitation{AccountID: accountID, AccountUserID: in.AccountUserID, Language: in.Language,
			CreatedAt: now.UTC(), ExpiresAt: now.Add(models.InvitationValidity).UTC()}
		err = tx.QueryRowContext(ctx, `INSERT INTO invitations (account_id, account_user_id, token_hash, code_hash, language, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, accountID, in.AccountUserID, in.TokenHash, in.CodeHash, in.Language,
			formatTime(inv.CreatedAt), formatTime(inv.ExpiresAt)).Scan(&inv.ID)
		if isUniqueViolation(err) {
			return ErrInvitationCodeTaken
		}
		if err != nil {
			return err
		}
		if in.Mail != nil {
			msg, err := in.Mail(inv)
			if err != nil {
				return err
			}
			msg.AccountID, msg.ForLoginID, msg.Recipient = &accountID, nil, models.RecipientInvitee
			if kind == models.KindResident {
				msg.Recipient = models.RecipientResident
			}
			if err := s.enqueueMail(ctx, tx, msg); err != nil {
				return err
			}
		}
		audit.AccountID = &accountID
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	return inv, err
}

func (s *Store) findInvitation(ctx context.Context, where string, arg any) (models.Invitation, error) {
	inv, err := scanInvitation(s.db.Reader.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+where, arg))
	return inv, mapNoRows(err, "invitation")
}

// FindInvitation returns one invitation of the account.
func (s *Store) FindInvitation(ctx context.Context, accountID, id int64) (models.Invitation, error) {
	inv, err := scanInvitation(s.db.Reader.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE account_id = ? AND id = ?`,
		accountID, id))
	return inv, mapNoRows(err, fmt.Sprintf("invitation %d", id))
}

// FindInvitationByToken returns the invitation of a link, whatever its state.
func (s *Store) FindInvitationByToken(ctx context.Context, tokenHash string) (models.Invitation, error) {
	return s.findInvitation(ctx, `token_hash = ?`, tokenHash)
}

// FindInvitationByCode returns the invitation of an activation code, whatever its state.
func (s *Store) FindInvitationByCode(ctx context.Context, codeHash string) (models.Invitation, error) {
	return s.findInvitation(ctx, `code_hash = ?`, codeHash)
}

// FindUserInvitations returns a user's invitations, latest first.
func (s *Store) FindUserInvitations(ctx context.Context, accountID, userID int64) ([]models.Invitation, error) {
	return queryAll(ctx, s.db.Reader, scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE account_id = ? AND account_user_id = ?
		ORDER BY id DESC`, accountID, userID)
}

// ErrInvitationClosed is returned by AcceptInvitation for an invitation that is no longer
// pending (accepted, expired or revoked meanwhile); it wraps models.ErrNotFound.
var ErrInvitationClosed = fmt.Errorf("invitation is not pending: %w", models.ErrNotFound)

// AcceptInvitation uses up a pending invitation and gives its user a web key, in one
// transaction: the user's web-key login (a login with account_user_id set, rights 0, not main,
// not a partner company's staff) is created with the user's email, name, the invitation's
// language and passwordHash. It works once: a second call, an expired or a revoked invitation is
// ErrInvitationClosed. It never changes an existing login: when the user has a web-key login
// already it is *models.InvitationRefused (RefusedHasWebKey), when another login signs in with
// the user's email RefusedEmailTaken, and nothing changes.
func (s *Store) AcceptInvitation(ctx context.Context, id int64, passwordHash string, audit models.AuditEntry) (models.Login, error) {
	var accountID, loginID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var userID int64
		var language string
		err := tx.QueryRowContext(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL
			AND expires_at > ? RETURNING account_id, account_user_id, language`, now, id, now).Scan(&accountID, &userID, &language)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInvitationClosed
		}
		if err != nil {
			return err
		}
		var name, email string
		err = tx.QueryRowContext(ctx, `SELECT name, COALESCE(email, '') FROM account_users WHERE id = ? AND account_id = ?
			AND deleted_at IS NULL AND merged_into IS NULL`, userID, accountID).Scan(&name, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInvitationClosed
		}
		if err != nil {
			return err
		}
		if email == "" {
			return &models.InvitationRefused{Reason: models.RefusedNoEmail}
		}
		// Accepting never changes an existing login: its email and password are its holder's.
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM logins WHERE account_user_id = ? AND account_id = ? AND staff = 0)`,
			userID, accountID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return &models.InvitationRefused{Reason: models.RefusedHasWebKey}
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM logins WHERE email = ?)`, email).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return &models.InvitationRefused{Reason: models.RefusedEmailTaken}
		}
		// Times on the web key are shown in the owner's time zone.
		zone := "UTC"
		if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM logins WHERE account_id = ? AND is_main = 1`, accountID).Scan(&zone); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, time_zone,
			created_at, updated_at, account_user_id) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?) RETURNING id`,
			accountID, email, name, passwordHash, language, zone, now, now, userID).Scan(&loginID); err != nil {
			return err
		}
		audit.AccountID, audit.LoginID = &accountID, &loginID
		if audit.Actor == "" {
			audit.Actor = email
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(ctx, accountID, loginID)
}
