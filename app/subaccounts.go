package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

// Sub-accounts (PRODUCT.md R1–R3): what Settings → Rights management, the Web API's
// /account/sub and the tests' fixtures do, with the same checks.

// SubAccountLinkValidity is how long the link a new sub-account sets its password with works.
const SubAccountLinkValidity = 7 * 24 * time.Hour

// AddSubAccount creates a sub-account of op's account. The grant must lie within op's own
// (delegation, R3) and reach no device op cannot open; without a password the new login is
// emailed a link to set one.
//
// Errors: FieldErrors, models.ErrGrantExceeds, *models.ReachRefused, models.ErrNotManageable
// (op may not manage sub-accounts), *Conflict (the email is a login of the account),
// models.ErrNotFound (a device of the grant is not the account's) and models.ErrEmailElsewhere:
// the email signs in where op cannot see (another account, a resident's web key), nothing was
// created and its owner was told by email; the returned login then has only the name and email
// asked for, and a page must answer as for a new one (no enumeration of logins).
func (a *App) AddSubAccount(ctx context.Context, op models.Operator, actor models.Actor, in models.SubAccountInput) (models.Login, error) {
	creator := op.Login
	in.Normalize()
	if err := subAccountFieldErrors(in.Validate(), !i18n.Supported(in.Language)); err != nil {
		return models.Login{}, err
	}
	if creator.WebKey() || !creator.EffectiveRights().Has(models.RightRightsManagement) {
		return models.Login{}, models.ErrNotManageable
	}
	if err := in.Grant.Within(creator.Grant()); err != nil {
		return models.Login{}, err
	}
	if err := a.checkGrantReach(ctx, op, in.Grant); err != nil {
		return models.Login{}, err
	}
	account, err := a.Store.FindAccount(ctx, creator.AccountID)
	if err != nil {
		return models.Login{}, err
	}
	grant, err := a.grantFacts(ctx, creator.AccountID, in.Grant)
	if err != nil {
		return models.Login{}, err
	}
	p := db.NewSubAccount{AccountID: creator.AccountID, CreatedBy: creator.ID, Email: in.Email, Name: in.Name, Language: in.Language, Grant: in.Grant}
	var facts models.AuditFacts
	var token string
	if in.Password != "" {
		if p.PasswordHash, err = a.Hasher.Hash(ctx, in.Password); err != nil {
			return models.Login{}, err
		}
		facts = models.Facts("auditfacts.sub_account_created_password", "Person", personFacts(in.Name, in.Email), "Grant", grant,
			"Creator", creator.Email)
	} else {
		token = auth.NewToken()
		p.PasswordLink = &db.PasswordLink{TokenHash: auth.HashToken(token), Expires: a.Now().Add(SubAccountLinkValidity)}
		facts = models.Facts("auditfacts.sub_account_created_link", "Person", personFacts(in.Name, in.Email), "Grant", grant)
	}
	var id int64
	elsewhere := false
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		owner, resident, err := tx.EmailOwner(ctx, in.Email)
		switch {
		case err == nil && owner.AccountID == creator.AccountID && !resident:
			return &Conflict{Key: "invalid.email_taken_other"}
		case err == nil:
			// Kept off every account's outbox page: neither the creator's nor a resident's
			// manager may read it.
			elsewhere = true
			m, err := a.Emails.SubAccountElsewhere(ctx, owner, creator, account)
			if err != nil {
				return err
			}
			m.AccountID = nil
			return tx.QueueMail(ctx, m)
		case !errors.Is(err, models.ErrNotFound):
			return err
		}
		if id, err = tx.CreateSubAccount(ctx, p); errors.Is(err, models.ErrConflict) {
			return &Conflict{Key: "invalid.email_taken_other"}
		} else if err != nil {
			return err
		}
		if token != "" {
			m, err := a.Emails.SubAccountWelcome(ctx, creator, account, in, "/password/reset/"+token)
			if err != nil {
				return err
			}
			m.AccountID, m.WrittenByLoginID, m.ForLoginID = &creator.AccountID, &creator.ID, &id
			if err := tx.QueueMail(ctx, m); err != nil {
				return err
			}
		}
		return record(ctx, tx, actor, creator.AccountID, models.AuditSubAccountCreated, facts, models.EventSubAccountCreated,
			map[string]int64{"login": id}, map[string]any{"email": in.Email, "name": in.Name, "rights": in.Grant.Rights,
				"limited": in.Grant.Limited, "devices": in.Grant.DeviceIDs, "password_link": token != ""})
	})
	if elsewhere && err == nil {
		return models.Login{AccountID: creator.AccountID, Name: in.Name, Email: in.Email}, fmt.Errorf("email %s: %w", in.Email, models.ErrEmailElsewhere)
	}
	if err != nil {
		return models.Login{}, err
	}
	return a.Store.FindLogin(ctx, creator.AccountID, id)
}

// subAccountFieldErrors is errs, with the language's when badLanguage, as FieldErrors; nil when
// all is well.
func subAccountFieldErrors(errs models.ValidationErrors, badLanguage bool) error {
	if badLanguage {
		errs.Add("language", "invalid.language")
	}
	if len(errs) == 0 {
		return nil
	}
	return FieldErrors(errs)
}

// ManageableSubAccount loads sub-account id of op's account for a change: not found when it is
// no sub-account there (the main login, a web-key holder, another account's login), and
// models.ErrNotManageable when op may not change it (itself, or one holding more).
func (a *App) ManageableSubAccount(ctx context.Context, op models.Operator, id int64) (models.Login, error) {
	target, err := a.Store.FindLogin(ctx, op.Login.AccountID, id)
	if err != nil {
		return models.Login{}, err
	}
	if target.IsMain || target.WebKey() {
		return models.Login{}, fmt.Errorf("sub-account %d: %w", id, models.ErrNotFound)
	}
	if !models.CanManageLogin(op.Login, target) {
		return target, models.ErrNotManageable
	}
	return target, nil
}

// ChangeSubAccount edits sub-account id: only a login op may manage (models.CanManageLogin),
// and a new grant within op's own. It takes effect on the login's next request. Errors as
// AddSubAccount's, and models.ErrNotFound for an id that is no sub-account of the account.
func (a *App) ChangeSubAccount(ctx context.Context, op models.Operator, actor models.Actor, id int64, ch models.SubAccountChange) (models.Login, error) {
	changer := op.Login
	target, err := a.ManageableSubAccount(ctx, op, id)
	if err != nil {
		return models.Login{}, err
	}
	ch.Normalize()
	if err := subAccountFieldErrors(ch.Validate(target.Email), ch.Language != nil && !i18n.Supported(*ch.Language)); err != nil {
		return models.Login{}, err
	}
	u := db.SubAccountUpdate{Name: ch.Name, Language: ch.Language, Email: ch.Email, Grant: ch.Grant}
	var changes []models.AuditFacts
	changed := map[string]any{}
	if ch.Name != nil && *ch.Name != target.Name {
		changes = append(changes, models.Facts("auditfacts.changed_name", "Now", *ch.Name, "Was", target.Name))
		changed["name"] = *ch.Name
	}
	if ch.Language != nil && *ch.Language != target.Language {
		changes = append(changes, models.Facts("auditfacts.changed_language", "Now", languageName(*ch.Language), "Was", languageName(target.Language)))
		changed["language"] = *ch.Language
	}
	if ch.Email != nil && *ch.Email != target.Email {
		changes = append(changes, models.Facts("auditfacts.changed_email", "Now", *ch.Email, "Was", target.Email))
		changed["email"] = *ch.Email
	}
	if ch.Grant != nil {
		if err := ch.Grant.Within(changer.Grant()); err != nil {
			return models.Login{}, err
		}
		now, err := a.grantFacts(ctx, changer.AccountID, *ch.Grant)
		if err != nil {
			return models.Login{}, err
		}
		before, err := a.grantFacts(ctx, changer.AccountID, target.Grant())
		if err != nil {
			return models.Login{}, err
		}
		if !reflect.DeepEqual(now, before) {
			changes = append(changes, models.Facts("auditfacts.changed_grant", "Now", now, "Was", before))
			changed["rights"], changed["limited"], changed["devices"] = ch.Grant.Rights, ch.Grant.Limited, ch.Grant.DeviceIDs
		}
	}
	// Whoever sets a sub-account's password or email (and so may sign in as it), or its grant,
	// hands on what it opens.
	if ch.Grant != nil || ch.Password != nil || ch.Email != nil {
		g := target.Grant()
		if ch.Grant != nil {
			g = *ch.Grant
		}
		if err := a.checkGrantReach(ctx, op, g); err != nil {
			return models.Login{}, err
		}
	}
	if ch.Password != nil {
		hash, err := a.Hasher.Hash(ctx, *ch.Password)
		if err != nil {
			return models.Login{}, err
		}
		u.PasswordHash = &hash
		changes = append(changes, models.Facts("auditfacts.changed_password"))
		changed["password"] = true
	}
	if len(changes) == 0 {
		changes = append(changes, models.Facts("auditfacts.changed_nothing"))
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateSubAccount(ctx, changer.AccountID, target.ID, u); errors.Is(err, models.ErrConflict) {
			return &Conflict{Key: "invalid.email_taken_other"}
		} else if err != nil {
			return err
		}
		return record(ctx, tx, actor, changer.AccountID, models.AuditSubAccountChanged,
			models.Facts("auditfacts.sub_account_changed", "Email", target.Email, "Changes", changes),
			models.EventSubAccountChanged, map[string]int64{"login": target.ID}, changed)
	})
	if err != nil {
		return models.Login{}, err
	}
	return a.Store.FindLogin(ctx, changer.AccountID, target.ID)
}

// RemoveSubAccount deletes sub-account id (only one op may manage): its sessions and API tokens
// end with it. It returns the sub-account as it was.
func (a *App) RemoveSubAccount(ctx context.Context, op models.Operator, actor models.Actor, id int64) (models.Login, error) {
	accountID := op.Login.AccountID
	target, err := a.ManageableSubAccount(ctx, op, id)
	if err != nil {
		return models.Login{}, err
	}
	grant, err := a.grantFacts(ctx, accountID, target.Grant())
	if err != nil {
		return models.Login{}, err
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.DeleteSubAccount(ctx, accountID, target.ID); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditSubAccountDeleted,
			models.Facts("auditfacts.sub_account_deleted", "Person", personFacts(target.Name, target.Email), "Grant", grant),
			models.EventSubAccountDeleted, map[string]int64{"login": target.ID}, map[string]string{"email": target.Email, "name": target.Name})
	})
	return target, err
}

// checkGrantReach is the reach check of a sub-account with grant g: the devices it could open
// must be ones op can open itself (a token acts only within its scopes).
func (a *App) checkGrantReach(ctx context.Context, op models.Operator, g models.Grant) error {
	devs, err := a.Store.FindDeviceNames(ctx, op.Login.AccountID)
	if err != nil {
		return err
	}
	all := make([]int64, 0, len(devs))
	for _, d := range devs {
		all = append(all, d.ID)
	}
	return op.CheckReach(models.Reach{Opens: models.GrantOpens(g, all)})
}

// grantFacts name a grant in audit facts: its rights, and its devices by name (a device id
// that is no longer a device of the account has no name to show).
func (a *App) grantFacts(ctx context.Context, accountID int64, g models.Grant) (models.AuditFacts, error) {
	var rights []models.AuditFacts
	switch {
	case g.Rights == models.RightsAll:
		rights = append(rights, models.Facts("rights.right.all"))
	case g.Rights == 0:
		rights = append(rights, models.Facts("auditfacts.rights_none"))
	}
	for _, one := range models.RightsInOrder {
		if g.Rights != models.RightsAll && g.Rights.Has(one) {
			rights = append(rights, models.Facts("rights.right."+one.Key()))
		}
	}
	if !g.Limited {
		return models.Facts("auditfacts.grant_all_devices", "Rights", rights), nil
	}
	devs, err := a.Store.FindDevices(ctx, accountID, db.SortByName)
	if err != nil {
		return models.AuditFacts{}, err
	}
	var names []string
	for _, d := range devs {
		if slices.Contains(g.DeviceIDs, d.ID) {
			names = append(names, d.Name)
		}
	}
	return models.Facts("auditfacts.grant_devices", "Rights", rights, "Devices", names, "DeviceIDs", g.DeviceIDs), nil
}
