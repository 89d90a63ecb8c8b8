package app

import (
	"context"
	"errors"
	"strconv"
	"time"

	"portier/auth"
	"portier/db"
	"portier/models"
	"portier/notify"
)

// PasswordResetValidity is how long a reset link works.
const PasswordResetValidity = time.Hour

// PasswordChange is what a form to change one's password sends: the current password, the new
// one and, where the form asks for it twice, the repeat (nil: not asked).
type PasswordChange struct {
	Current, New string
	Repeat       *string
}

// ChangePassword sets login's new password after checking its current one (counted like every
// "current password" field); every other session of the login ends but keepSession (a token
// hash) and the login is told by email. Wrong input is FieldErrors on "current_password",
// "new_password" and "password_confirm".
func (a *App) ChangePassword(ctx context.Context, actor models.Actor, login models.Login, ch PasswordChange, keepSession string) error {
	errs := FieldErrors{}
	if bad := newPasswordError(ch.New, ch.Repeat, login.Email); bad != nil {
		errs[bad.field] = bad.key
	}
	key, err := a.checkCurrentPassword(ctx, login, ch.Current)
	if err != nil {
		return err
	}
	if key != "" {
		errs["current_password"] = key
	}
	if len(errs) > 0 {
		return errs
	}
	hash, err := a.Hasher.Hash(ctx, ch.New)
	if err != nil {
		return err
	}
	facts := models.Facts("auditfacts.password_changed")
	if actor.Origin == models.ActorWebKey {
		facts = models.Facts("auditfacts.password_changed_web_key")
	}
	return a.securityChange(ctx, actor, login, keepSession, notify.NoticePasswordChanged, models.AuditPasswordChanged, facts,
		models.EventPasswordChanged, func(tx *db.Tx) error { return tx.ChangePassword(ctx, login, hash) })
}

// fieldKey is the message key of what is wrong with one field.
type fieldKey struct{ field, key string }

// newPasswordError is what is wrong with a new password and its repeat (nil: not asked), the
// same rule on every form that sets a password: the password's own rule first, then the repeat.
func newPasswordError(password string, repeat *string, email string) *fieldKey {
	if key := models.ValidatePassword(password, email); key != "" {
		return &fieldKey{"new_password", key}
	}
	if key := repeatError(password, repeat); key != "" {
		return &fieldKey{"password_confirm", key}
	}
	return nil
}

// repeatError is the message key when the repeat of a new password (nil: not asked) differs
// from it, as on the invitation page; "" when it does not.
func repeatError(password string, repeat *string) string {
	if repeat != nil && *repeat != password {
		return "invite.password_mismatch"
	}
	return ""
}

// checkCurrentPassword verifies login's password for a settings form, counting failures per
// login so the form cannot be used to guess it. It returns a message key, "" when right.
func (a *App) checkCurrentPassword(ctx context.Context, login models.Login, password string) (string, error) {
	if password == "" {
		return "invalid.password_required", nil
	}
	// Counted before the password is checked; a right one takes its attempt back (not the
	// others', so a known password does not buy more guesses at a code checked after it).
	confirm := confirmThrottle(login)
	if allowed, err := a.Store.ThrottleAttempt(ctx, confirm); err != nil {
		return "", err
	} else if !allowed {
		a.Hasher.VerifyDummy(ctx, password)
		return "invalid.too_many", nil
	}
	hash, err := a.Store.FindPasswordHash(ctx, login.AccountID, login.ID)
	if err != nil {
		return "", err
	}
	ok, _, err := a.Hasher.Verify(ctx, password, hash)
	if err != nil {
		return "", err
	}
	if !ok {
		return "invalid.password_wrong", nil
	}
	return "", a.Store.DiscountThrottle(ctx, confirm)
}

// confirmThrottle limits the "current password" and "current code" fields of a login's
// settings forms (one key for both).
func confirmThrottle(login models.Login) db.ThrottleCheck {
	return db.ThrottleCheck{Key: "confirm:login:" + strconv.FormatInt(login.ID, 10), Rule: models.ThrottleConfirmPerLogin}
}

// securityChange writes a change to how login signs in (change, in the transaction) with what
// goes with it: every other session of the login ends but keepSession ("" ends all), the
// notice email of noticeKind (notify's Notice constants), the audit row and the event.
func (a *App) securityChange(ctx context.Context, actor models.Actor, login models.Login, keepSession, noticeKind, auditKind string,
	facts models.AuditFacts, eventKind string, change func(tx *db.Tx) error) error {
	notice, err := a.Emails.SecurityNotice(ctx, login, noticeKind, a.Now(), actor.IP)
	if err != nil {
		return err
	}
	notice.AccountID, notice.WrittenByLoginID, notice.ForLoginID = &login.AccountID, &login.ID, &login.ID
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		if err := tx.EndOtherSessions(ctx, login, keepSession); err != nil {
			return err
		}
		if err := tx.QueueMail(ctx, notice); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, auditKind, facts, eventKind, loginSubject(login), nil)
	})
}

// loginSubject names the login a change is about.
func loginSubject(login models.Login) map[string]int64 { return map[string]int64{"login": login.ID} }

// RequestPasswordReset sends a reset link to the login with email, if there is one: an unknown
// email changes nothing and is no error, so the answer never tells which emails have logins.
// The change is recorded as the login's own (whoever asked holds its mailbox, or nothing
// happens), from actor's client address. A malformed email is FieldErrors{"email": …}.
func (a *App) RequestPasswordReset(ctx context.Context, actor models.Actor, email string) error {
	email = models.NormalizeEmail(email)
	if key := models.ValidateEmail(email); key != "" {
		return FieldErrors{"email": key}
	}
	login, _, err := a.Store.FindLoginByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	token := auth.NewToken()
	msg, err := a.Emails.PasswordReset(ctx, login, "/password/reset/"+token)
	if err != nil {
		return err
	}
	msg.AccountID, msg.ForLoginID = &login.AccountID, &login.ID
	actor = models.LoginActor(login, actor.Origin, actor.IP)
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.CreatePasswordReset(ctx, login, auth.HashToken(token), a.Now().Add(PasswordResetValidity)); err != nil {
			return err
		}
		if err := tx.QueueMail(ctx, msg); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditPasswordResetReq, models.Facts("auditfacts.password_reset_requested"),
			models.EventPasswordResetRequested, loginSubject(login), nil)
	})
}

// ResetPassword sets a new password with a reset link's token: the link is used up (it works
// once, also under concurrent requests), the login's other links are void, every session of it
// ends, and a lock on signing in with its email is lifted (opening the link proves control of
// the mailbox). The change is the login's own, from actor's client address. An unknown, used or
// expired token is models.ErrNotFound; a bad password FieldErrors on "new_password" and
// "password_confirm" (repeat nil: not asked).
func (a *App) ResetPassword(ctx context.Context, actor models.Actor, token, password string, repeat *string) (models.Login, error) {
	tokenHash := auth.HashToken(token)
	login, err := a.Store.FindPasswordResetLogin(ctx, tokenHash)
	if err != nil {
		return login, err
	}
	if bad := newPasswordError(password, repeat, login.Email); bad != nil {
		return login, FieldErrors{bad.field: bad.key}
	}
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return login, err
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if login, err = tx.ResetPassword(ctx, tokenHash, hash); err != nil {
			return err
		}
		return record(ctx, tx, models.LoginActor(login, actor.Origin, actor.IP), login.AccountID, models.AuditPasswordReset,
			models.Facts("auditfacts.password_reset"), models.EventPasswordReset, loginSubject(login), nil)
	})
	if err != nil {
		return login, err
	}
	return login, a.Store.ClearThrottle(ctx, "login:email:"+login.Email)
}
