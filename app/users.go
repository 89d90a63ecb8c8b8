package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"portier/db"
	"portier/i18n"
	"portier/models"
)

// UserFields are what a person of the account is made of when created or edited (PRODUCT.md
// U2): name, email, invitation language and whether it is a partner company.
type UserFields struct {
	Name, Email, Language string
	// Kind is models.KindUser or models.KindCompany; "" is a person when creating and keeps the
	// kind when editing.
	Kind string
}

// validate trims and normalizes the fields and checks them: the message key of what is wrong,
// by field. An email may be empty only when emailRequired is false.
func (f *UserFields) validate(emailRequired bool) FieldErrors {
	f.Name, f.Email = strings.TrimSpace(f.Name), models.NormalizeEmail(f.Email)
	errs := FieldErrors{}
	if key := models.ValidateName(f.Name); key != "" {
		errs["name"] = key
	}
	if f.Email != "" || emailRequired {
		if key := models.ValidateEmail(f.Email); key != "" {
			errs["email"] = key
		}
	}
	if !i18n.EmailSupported(f.Language) {
		errs["language"] = "users.language_invalid"
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// errEmailTaken is the conflict of an email another user of the account has.
var errEmailTaken = &Conflict{Key: "users.email_taken"}

// CreateUser adds a person created in Portier (added via web, with an email), or a partner
// company (f.Kind models.KindCompany). Invalid fields are FieldErrors; an email another user of
// the account has is *Conflict. A person without permissions opens nothing: no reach to check.
func (a *App) CreateUser(ctx context.Context, op models.Operator, actor models.Actor, f UserFields) (models.AccountUser, error) {
	accountID := op.Login.AccountID
	if errs := f.validate(true); errs != nil {
		return models.AccountUser{}, errs
	}
	var u models.AccountUser
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		u, err = tx.CreateAccountUser(ctx, models.AccountUser{AccountID: accountID, Name: f.Name, Email: f.Email, Language: f.Language,
			AddedVia: models.AddedViaWeb, Kind: f.Kind})
		if errors.Is(err, models.ErrConflict) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUserCreated,
			models.Facts("auditfacts.user_created", "Person", personFacts(u.Name, u.Email), "UserID", u.ID),
			models.EventUserCreated, map[string]int64{"user": u.ID}, userPayload(u))
	})
	return u, err
}

// UpdateUser changes person id's name, email, invitation language and, unless f.Kind is "",
// whether it is a partner company. A person created on the web keeps an email; one found on a
// device may get one. The new name or email goes with every permission and the web key of the
// person: op must see every device they hold one on (*models.ReachRefused). A company that
// still has staff cannot become a person, and an email another user has is taken (*Conflict).
func (a *App) UpdateUser(ctx context.Context, op models.Operator, actor models.Actor, id int64, f UserFields) (models.AccountUser, error) {
	accountID := op.Login.AccountID
	u, auths, err := a.findPerson(ctx, accountID, id)
	if err != nil {
		return u, err
	}
	if err := op.CheckReach(models.Reach{Touches: models.PersonDevices(auths)}); err != nil {
		return u, err
	}
	if errs := f.validate(u.AddedVia == models.AddedViaWeb); errs != nil {
		return u, errs
	}
	if u.Resident() {
		f.Kind = "" // a resident stays one
	}
	facts := models.Facts("auditfacts.user_updated", "Person", personFacts(f.Name, f.Email), "Language", languageName(f.Language), "UserID", u.ID)
	if f.Kind != "" && f.Kind != u.Kind {
		facts = models.Facts("auditfacts.user_updated_kind", "Person", personFacts(f.Name, f.Email), "Language", languageName(f.Language),
			"Kind", models.Facts("auditfacts.kind."+f.Kind), "UserID", u.ID)
	}
	var updated models.AccountUser
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		updated, err = tx.UpdateAccountUser(ctx, accountID, id, db.UserChange{Name: f.Name, Email: f.Email, Language: f.Language, Kind: f.Kind})
		switch {
		case errors.Is(err, models.ErrCompanyHasStaff):
			return &Conflict{Key: "users.company_has_staff"}
		case errors.Is(err, models.ErrConflict):
			return errEmailTaken
		case err != nil:
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUserUpdated, facts,
			models.EventUserUpdated, map[string]int64{"user": id}, userPayload(updated))
	})
	return updated, err
}

// DeleteUser deletes person id: their permissions are revoked and removed from the devices (the
// device manager is told), open invitations die and their web key goes (a partner company's
// staff with it). The activity log keeps the name each entry was written with. Deleting
// removes permissions on every device of the person: op must see them all. It returns the
// person as they were.
func (a *App) DeleteUser(ctx context.Context, op models.Operator, actor models.Actor, id int64) (models.AccountUser, error) {
	accountID := op.Login.AccountID
	u, auths, err := a.findPerson(ctx, accountID, id)
	if err != nil {
		return u, err
	}
	devices := models.PersonDevices(auths)
	if err := op.CheckReach(models.Reach{Touches: devices}); err != nil {
		return u, err
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.DeleteAccountUser(ctx, accountID, id); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUserDeleted,
			models.Facts("auditfacts.user_deleted", "Person", personFacts(u.Name, u.Email), "Count", len(auths), "UserID", u.ID),
			models.EventUserDeleted, map[string]int64{"user": id}, map[string]any{"name": u.Name, "permissions_revoked": len(auths)})
	})
	if err != nil {
		return u, err
	}
	if a.Devices != nil {
		a.Devices.PushPermissions(deviceIDs(auths)...)
	}
	return u, nil
}

// findPerson loads person id of the account with their authorizations. Merged and deleted
// users are not found (they cannot be changed), nor are residents of units and their families,
// who are anonymous to the account's logins (PRODUCT.md L6, B4).
func (a *App) findPerson(ctx context.Context, accountID, id int64) (models.AccountUser, []models.Authorization, error) {
	u, err := a.Store.FindAccountUser(ctx, accountID, id)
	if err != nil {
		return u, nil, err
	}
	if u.MergedInto != nil || u.Resident() {
		return u, nil, fmt.Errorf("account user %d: %w", id, models.ErrNotFound)
	}
	auths, err := a.Store.FindUserAuthorizations(ctx, accountID, id)
	return u, auths, err
}

// userPayload is what an event says of a person: what the pages show of them.
func userPayload(u models.AccountUser) map[string]string {
	return map[string]string{"name": u.Name, "email": u.Email, "language": u.Language, "kind": u.Kind}
}

// deviceIDs lists the devices of authorizations (revoked ones too: the devices must be told),
// each once.
func deviceIDs(auths []models.Authorization) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, x := range auths {
		if !seen[x.DeviceID] {
			seen[x.DeviceID] = true
			out = append(out, x.DeviceID)
		}
	}
	return out
}
