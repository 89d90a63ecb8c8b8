package app

import (
	"context"
	"errors"
	"time"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

// A login's own settings: language and time zone, email, sessions and log notifications (its
// password is in passwords.go, its second factor in twofactor.go).

// EmailChangeValidity is how long the confirmation link of an email change works.
const EmailChangeValidity = 24 * time.Hour

// UpdatePreferences stores the language and time zone login reads Portier in. An unknown one is
// FieldErrors on "language" or "time_zone".
func (a *App) UpdatePreferences(ctx context.Context, actor models.Actor, login models.Login, language, timeZone string) error {
	errs := FieldErrors{}
	if !i18n.Supported(language) {
		errs["language"] = "invalid.language"
	}
	if !i18n.IsZone(timeZone) {
		errs["time_zone"] = "invalid.time_zone"
	}
	if len(errs) > 0 {
		return errs
	}
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateLoginPreferences(ctx, login, language, timeZone); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditPreferencesChanged,
			models.Facts("auditfacts.preferences_changed", "Language", languageName(language), "Zone", timeZone),
			models.EventPreferencesChanged, loginSubject(login), map[string]string{"language": language, "time_zone": timeZone})
	})
}

// RequestEmailChange asks to change login's email to newEmail, after checking its password: a
// confirmation link goes to the new address, a notice to the old one, and nothing else changes
// until the link is opened (earlier pending changes are void). It returns the new address as
// stored. Wrong input is FieldErrors on "new_email" and "password".
func (a *App) RequestEmailChange(ctx context.Context, actor models.Actor, login models.Login, newEmail, password string) (string, error) {
	newEmail = models.NormalizeEmail(newEmail)
	errs := FieldErrors{}
	if key := models.ValidateEmail(newEmail); key != "" {
		errs["new_email"] = key
	} else if newEmail == login.Email {
		errs["new_email"] = "invalid.email_same"
	} else if taken, err := a.Store.EmailTaken(ctx, newEmail); err != nil {
		return newEmail, err
	} else if taken {
		errs["new_email"] = "invalid.email_taken_other"
	}
	key, err := a.checkCurrentPassword(ctx, login, password)
	if err != nil {
		return newEmail, err
	}
	if key != "" {
		errs["password"] = key
	}
	if len(errs) > 0 {
		return newEmail, errs
	}
	token := auth.NewToken()
	confirm, err := a.Emails.EmailChangeConfirm(ctx, login, newEmail, "/email/confirm/"+token)
	if err != nil {
		return newEmail, err
	}
	notice, err := a.Emails.EmailChangeNotice(ctx, login, newEmail)
	if err != nil {
		return newEmail, err
	}
	return newEmail, a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.CreateEmailChange(ctx, login, auth.HashToken(token), newEmail, a.Now().Add(EmailChangeValidity)); err != nil {
			return err
		}
		for _, m := range []models.OutboxMessage{confirm, notice} {
			m.AccountID, m.WrittenByLoginID, m.ForLoginID = &login.AccountID, &login.ID, &login.ID
			if err := tx.QueueMail(ctx, m); err != nil {
				return err
			}
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditEmailChangeRequested,
			models.Facts("auditfacts.email_change_requested", "Email", newEmail),
			models.EventEmailChangeRequested, loginSubject(login), map[string]string{"new_email": newEmail})
	})
}

// ConfirmEmailChange makes an email change with the token of its link: the login's email is
// the new one, and reset links sent to the old address stop working. The change is the login's
// own, from actor's client address. It returns the login as it is now. An unknown, used or
// expired token is models.ErrNotFound; an address another login took meanwhile is *Conflict
// (nothing changes then, and the link stays unused).
func (a *App) ConfirmEmailChange(ctx context.Context, actor models.Actor, token string) (models.Login, error) {
	var before models.Login
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var newEmail string
		var err error
		before, newEmail, err = tx.ConfirmEmailChange(ctx, auth.HashToken(token))
		if errors.Is(err, models.ErrConflict) {
			return &Conflict{Key: "email_confirm.taken"}
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, models.LoginActor(before, actor.Origin, actor.IP), before.AccountID, models.AuditEmailChanged,
			models.Facts("auditfacts.email_changed", "Was", before.Email, "Now", newEmail), models.EventEmailChanged, loginSubject(before),
			map[string]string{"old_email": before.Email, "new_email": newEmail})
	})
	if err != nil {
		return models.Login{}, err
	}
	return a.Store.FindLogin(ctx, before.AccountID, before.ID)
}

// EndSession ends login's session with publicID (never another login's: models.ErrNotFound).
func (a *App) EndSession(ctx context.Context, actor models.Actor, login models.Login, publicID string) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.EndSession(ctx, login, publicID); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditSessionEnded, models.Facts("auditfacts.session_ended"),
			models.EventSessionEnded, loginSubject(login), nil)
	})
}

// EndOtherSessions ends every session of login but keepSession (a token hash).
func (a *App) EndOtherSessions(ctx context.Context, actor models.Actor, login models.Login, keepSession string) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.EndOtherSessions(ctx, login, keepSession); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditOtherSessionsEnded, models.Facts("auditfacts.other_sessions_ended"),
			models.EventOtherSessionsEnded, loginSubject(login), nil)
	})
}

// SetLogNotifications makes subs login's whole set of log notifications. A device that is not
// one of the account's (or removed meanwhile) is models.ErrNotFound, a kind its type does not
// have an error; nothing is written then.
func (a *App) SetLogNotifications(ctx context.Context, actor models.Actor, login models.Login, subs []models.LogSubscription) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.ReplaceLogSubscriptions(ctx, login.AccountID, login.ID, subs); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditLogNotificationsChanged,
			models.Facts("auditfacts.log_notifications", "Count", len(subs)),
			models.EventLogNotificationsChanged, loginSubject(login), map[string]int{"subscriptions": len(subs)})
	})
}

// ErrMainLoginOnly refuses a change only the account's main login may make.
var ErrMainLoginOnly = errors.New("only the account's main login may make this change")

// SetLogRetention sets how many days login's account keeps its activity log (0: forever); only
// the main login may (ErrMainLoginOnly). Another number is FieldErrors{"log_retention_days"}.
func (a *App) SetLogRetention(ctx context.Context, actor models.Actor, login models.Login, days int) error {
	if !login.IsMain {
		return ErrMainLoginOnly
	}
	if !models.ValidLogRetention(days) {
		return FieldErrors{"log_retention_days": "invalid.log_retention"}
	}
	before, err := a.Store.FindLogRetention(ctx, login.AccountID)
	if err != nil {
		return err
	}
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateLogRetention(ctx, login.AccountID, days); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditLogRetentionChanged,
			models.Facts("auditfacts.log_retention", "Was", retentionFacts(before), "Now", retentionFacts(days)), models.EventLogRetentionChanged,
			map[string]int64{"account": login.AccountID}, map[string]int{"before_days": before, "days": days})
	})
}

// retentionFacts name a retention in audit facts.
func retentionFacts(days int) models.AuditFacts {
	if days == 0 {
		return models.Facts("auditfacts.retention_forever")
	}
	return models.Facts("auditfacts.retention_days", "Count", days)
}
