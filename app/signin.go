package app

import (
	"context"

	"portier/db"
	"portier/models"
)

// Signing in and out change nothing a person manages, so they write no domain event; the audit
// trail records them, its rows derived from the actor as every other's (issue 19).

// RecordSignIn stamps login's last sign-in and audits it: how says how they signed in (facts
// "auditfacts.signed_in_…": with password, with password and recovery code, by accepting an
// invitation).
func (a *App) RecordSignIn(ctx context.Context, actor models.Actor, login models.Login, how models.AuditFacts) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.StampSignIn(ctx, login); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.AuditEntry(login.AccountID, models.AuditLoginSuccess, how))
	})
}

// RecordSignOut audits that the actor's login signed out.
func (a *App) RecordSignOut(ctx context.Context, actor models.Actor, login models.Login) error {
	_, err := a.Store.AddAudit(ctx, actor.AuditEntry(login.AccountID, models.AuditLogout, models.Facts("auditfacts.signed_out")))
	return err
}

// RecordSignInFailure audits a failed sign-in with email from client address ip, for the
// login of that email when there is one (nil: no such login), and why (a message key
// "auditfacts.signin_failed_…").
func (a *App) RecordSignInFailure(ctx context.Context, email, ip string, login *models.Login, reason string) error {
	actor := models.Actor{Email: email, IP: ip, Origin: models.ActorWeb}
	var accountID int64
	if login != nil {
		actor.LoginID, accountID = login.ID, login.AccountID
	}
	_, err := a.Store.AddAudit(ctx, actor.AuditEntry(accountID, models.AuditLoginFailure, models.Facts(reason, "Email", email)))
	return err
}

// RecordSecondFactorFailure audits a wrong second factor of the actor's login (why: a message
// key "auditfacts.second_factor_…").
func (a *App) RecordSecondFactorFailure(ctx context.Context, actor models.Actor, login models.Login, why string) error {
	_, err := a.Store.AddAudit(ctx, actor.AuditEntry(login.AccountID, models.AuditTwoFactorFailure, models.Facts(why)))
	return err
}
