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
// store's clock) and revokes the user's open invitations. A user without an email or without a
// permission a web key can use (models.Authorization.WebKeyUsable) is refused with *models.InvitationRefused; a user that is not (or no longer) in the account is
// ErrNotFound. A code that collides with a stored one is ErrInvitationCodeTaken: the caller
// makes a new code and calls again in the same transaction.
func (tx *Tx) CreateInvitation(ctx context.Context, accountID int64, in NewInvitation) (models.Invitation, error) {
	now := tx.store.Now()
	var email string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(email, '') FROM account_users WHERE id = ? AND account_id = ?
		AND deleted_at IS NULL AND merged_into IS NULL`, in.AccountUserID, accountID).Scan(&email)
	if err != nil {
		return models.Invitation{}, mapNoRows(err, fmt.Sprintf("account user %d", in.AccountUserID))
	}
	if email == "" {
		return models.Invitation{}, &models.InvitationRefused{Reason: models.RefusedNoEmail}
	}
	var usable int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM authorizations WHERE account_id = ? AND account_user_id = ?
		AND type = ? AND remote_allowed = 1 AND deleted_at IS NULL AND revoked_at IS NULL`,
		accountID, in.AccountUserID, models.AuthTypeApp).Scan(&usable); err != nil {
		return models.Invitation{}, err
	}
	if usable == 0 {
		return models.Invitation{}, &models.InvitationRefused{Reason: models.RefusedNoWebKey}
	}
	if _, err := tx.RevokeOpenInvitations(ctx, accountID, in.AccountUserID); err != nil {
		return models.Invitation{}, err
	}
	inv := models.Invitation{AccountID: accountID, AccountUserID: in.AccountUserID, Language: in.Language,
		CreatedAt: now.UTC(), ExpiresAt: now.Add(models.InvitationValidity).UTC()}
	err = tx.QueryRowContext(ctx, `INSERT INTO invitations (account_id, account_user_id, token_hash, code_hash, language, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, accountID, in.AccountUserID, in.TokenHash, in.CodeHash, in.Language,
		formatTime(inv.CreatedAt), formatTime(inv.ExpiresAt)).Scan(&inv.ID)
	if isUniqueViolation(err) {
		return inv, ErrInvitationCodeTaken
	}
	return inv, err
}

// RevokeOpenInvitations revokes the user's open invitations (their links and codes stop
// working) and says how many there were. Expired ones stay expired: their history says what
// happened.
func (tx *Tx) RevokeOpenInvitations(ctx context.Context, accountID, userID int64) (int64, error) {
	now := formatTime(tx.store.Now())
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE account_user_id = ? AND account_id = ?
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, now, userID, accountID, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// hasWebKeyQuery asks whether a person's web key is held by a login: their own web-key login
// (a partner company's staff logins are the staff's own), or a login that holds it besides
// (login_keys). Arguments: account id, person id, person id.
const hasWebKeyQuery = `SELECT EXISTS (SELECT 1 FROM logins WHERE account_id = ? AND account_user_id = ? AND staff = 0)
	OR EXISTS (SELECT 1 FROM login_keys WHERE account_user_id = ?)`

// HasWebKeyLogin reports whether the person's web key is held by a login (hasWebKeyQuery).
func (tx *Tx) HasWebKeyLogin(ctx context.Context, accountID, userID int64) (bool, error) {
	var exists bool
	err := tx.QueryRowContext(ctx, hasWebKeyQuery, accountID, userID, userID).Scan(&exists)
	return exists, err
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

// AcceptedInvitation is what accepting an invitation made: the web-key login of its user.
type AcceptedInvitation struct {
	AccountID, AccountUserID, LoginID int64
	Name, Email                       string
}

// AcceptInvitation uses up a pending invitation and gives its user a web key: the user's
// web-key login (a login with account_user_id set, rights 0, not main, not a partner company's
// staff) is created with the user's email, name, the invitation's language and passwordHash. It
// works once: a second call, an expired or a revoked invitation is ErrInvitationClosed. It never
// changes an existing login: when the user's web key is held already it is
// *models.InvitationRefused (RefusedHasWebKey), when a login signs in with the user's email
// RefusedEmailTaken (that login accepts with AttachKey).
func (tx *Tx) AcceptInvitation(ctx context.Context, id int64, passwordHash string) (AcceptedInvitation, error) {
	out, language, err := tx.useInvitation(ctx, id)
	if err != nil {
		return out, err
	}
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM logins WHERE email = ?)`, out.Email).Scan(&taken); err != nil {
		return out, err
	}
	if taken {
		return out, &models.InvitationRefused{Reason: models.RefusedEmailTaken}
	}
	// Times on the web key are shown in the owner's time zone.
	zone := "UTC"
	if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM logins WHERE account_id = ? AND is_main = 1`, out.AccountID).Scan(&zone); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return out, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, time_zone,
		created_at, updated_at, account_user_id) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?) RETURNING id`,
		out.AccountID, out.Email, out.Name, passwordHash, language, zone, tx.now, tx.now, out.AccountUserID).Scan(&out.LoginID)
	return out, err
}

// AttachKey uses up a pending invitation whose user's email is a login's: that login (loginID,
// signed in as the invitee) holds the user's web key from now on (login_keys), besides whatever
// else it is. The login's email, password and rights stay as they are. Errors as
// AcceptInvitation's; ErrKeyLoginMismatch when the login's email is not the user's.
func (tx *Tx) AttachKey(ctx context.Context, id, loginID int64) (AcceptedInvitation, error) {
	out, _, err := tx.useInvitation(ctx, id)
	if err != nil {
		return out, err
	}
	var email string
	err = tx.QueryRowContext(ctx, `SELECT email FROM logins WHERE id = ?`, loginID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) || err == nil && email != out.Email {
		return out, ErrKeyLoginMismatch
	}
	if err != nil {
		return out, err
	}
	out.LoginID = loginID
	_, err = tx.ExecContext(ctx, `INSERT INTO login_keys (login_id, account_id, account_user_id, created_at) VALUES (?, ?, ?, ?)`,
		loginID, out.AccountID, out.AccountUserID, tx.now)
	return out, err
}

// ErrKeyLoginMismatch: an invitation's key is attached only to the login of the invitee's email.
var ErrKeyLoginMismatch = errors.New("the invitation is for another email than the login's")

// useInvitation marks a pending invitation accepted and returns its user, who must still be
// there with an email and without a held web key; and the invitation's language.
func (tx *Tx) useInvitation(ctx context.Context, id int64) (AcceptedInvitation, string, error) {
	var out AcceptedInvitation
	var language string
	err := tx.QueryRowContext(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL
		AND expires_at > ? RETURNING account_id, account_user_id, language`, tx.now, id, tx.now).Scan(&out.AccountID, &out.AccountUserID, &language)
	if errors.Is(err, sql.ErrNoRows) {
		return out, "", ErrInvitationClosed
	}
	if err != nil {
		return out, "", err
	}
	err = tx.QueryRowContext(ctx, `SELECT name, COALESCE(email, '') FROM account_users WHERE id = ? AND account_id = ?
		AND deleted_at IS NULL AND merged_into IS NULL`, out.AccountUserID, out.AccountID).Scan(&out.Name, &out.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return out, "", ErrInvitationClosed
	}
	if err != nil {
		return out, "", err
	}
	if out.Email == "" {
		return out, "", &models.InvitationRefused{Reason: models.RefusedNoEmail}
	}
	// Accepting never changes an existing login: its email and password are its holder's.
	if has, err := tx.HasWebKeyLogin(ctx, out.AccountID, out.AccountUserID); err != nil {
		return out, "", err
	} else if has {
		return out, "", &models.InvitationRefused{Reason: models.RefusedHasWebKey}
	}
	return out, language, nil
}

// SetInvitationLanguage keeps lang as the language of the user's invitations (and so of their
// web key).
func (tx *Tx) SetInvitationLanguage(ctx context.Context, accountID, userID int64, lang string) error {
	_, err := tx.ExecContext(ctx, `UPDATE account_users SET language = ?, updated_at = ? WHERE id = ? AND account_id = ?`,
		lang, tx.now, userID, accountID)
	return err
}
