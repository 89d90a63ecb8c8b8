package app

import (
	"context"
	"errors"

	"portier/db"
	"portier/models"
)

// CreateAccount creates an account and its main login with all rights, for a person setting up
// Portier (firstRun: only while no account exists, models.ErrSetupDone after), signing up, or
// the operator on the command line. The change is recorded as the new login's own, from actor's
// client address and origin; the command line is named as such. Wrong input is FieldErrors by
// the form's fields (kind, account_name, name, email, password, and password_confirm when
// repeat is not nil); an email that signs in already is FieldErrors{"email": "invalid.email_taken"}
// too, as the form shows it.
func (a *App) CreateAccount(ctx context.Context, actor models.Actor, n models.NewAccount, repeat *string, firstRun bool) (models.Account, models.Login, error) {
	n.Normalize()
	errs := FieldErrors{}
	var invalid models.ValidationErrors
	if err := n.Validate(); errors.As(err, &invalid) {
		for field, key := range invalid {
			errs[field] = key
		}
	} else if err != nil {
		return models.Account{}, models.Login{}, err
	}
	if _, bad := errs["password"]; !bad {
		if key := repeatError(n.Password, repeat); key != "" {
			errs["password_confirm"] = key
		}
	}
	if len(errs) > 0 {
		return models.Account{}, models.Login{}, errs
	}
	hash, err := a.Hasher.Hash(ctx, n.Password)
	if err != nil {
		return models.Account{}, models.Login{}, err
	}
	auditKind := models.AuditAccountCreated
	if firstRun {
		auditKind = models.AuditSetup
	}
	var acc models.Account
	var login models.Login
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		acc, login, err = tx.CreateAccount(ctx, n, hash, firstRun)
		if errors.Is(err, models.ErrConflict) {
			return FieldErrors{"email": "invalid.email_taken"}
		}
		if err != nil {
			return err
		}
		by := models.LoginActor(login, actor.Origin, actor.IP)
		if actor.Origin == models.ActorCLI {
			by = models.Actor{LoginID: login.ID, Origin: models.ActorCLI}
		}
		return record(ctx, tx, by, acc.ID, auditKind, models.AccountCreatedFacts(n),
			models.EventAccountCreated, map[string]int64{"account": acc.ID, "login": login.ID},
			map[string]string{"kind": string(n.Kind), "name": n.AccountName})
	})
	return acc, login, err
}
