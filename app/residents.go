package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"portier/db"
	"portier/models"
	"portier/notify"
)

// Residents of residential units (PRODUCT.md B3) and their families. Whatever they change is
// recorded without who: their actor is always a resident (models.Actor.Resident), so the audit
// row and the event say "resident", and neither names them.

// UnitLinkValidity is how long the emailed link to finish redeeming a unit's code works (the
// code itself stays open until someone finishes).
const UnitLinkValidity = 48 * time.Hour

// UnitRequest is what the emailed link to finish redeeming a unit carries, sealed: the answers
// of the public form, so that nothing is stored (and the code not used up) before the person
// shows that the email is theirs.
type UnitRequest struct {
	CodeHash string `json:"h"`
	Name     string `json:"n"`
	Email    string `json:"e"`
	Language string `json:"l"`
	Keypad   bool   `json:"k"`
	Expires  int64  `json:"x"`
}

const unitRequestContext = "unit-request"

// OpenUnitRequest opens the sealed request of an emailed link (its t parameter); ok is false for
// a link that was altered or has expired.
func (a *App) OpenUnitRequest(token string) (UnitRequest, bool) {
	var r UnitRequest
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return r, false
	}
	plain, err := a.Secrets.Open(sealed, unitRequestContext)
	if err != nil || json.Unmarshal(plain, &r) != nil {
		return r, false
	}
	return r, a.Now().Unix() < r.Expires
}

// RequestUnit sends the one email the public form of unit u of address x sends, in the form's
// language, for the answers r (their link valid UnitLinkValidity from now): to a resident who
// signs in already, the link that adds the unit to their web key; to a login that cannot hold a
// unit's doors, that no second login is made and how to set the unit up; to any other address,
// the link to set a password and finish. The page says the same either way. Nothing changes
// until the link is followed.
func (a *App) RequestUnit(ctx context.Context, r UnitRequest, x models.Address, u models.Unit) error {
	r.Expires = a.Now().Add(UnitLinkValidity).Unix()
	to := notify.UnitResident{Name: r.Name, Email: r.Email, Language: r.Language, Zone: x.TimeZone}
	existing, _, err := a.Store.FindLoginByEmail(ctx, r.Email)
	holds := false
	switch {
	case err == nil:
		if holds, err = a.HoldsUnits(ctx, existing); err != nil {
			return err
		}
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	var msg models.OutboxMessage
	if err == nil && !holds {
		msg, err = a.Emails.UnitRedeemSignsIn(ctx, to, u.Name, x.Name)
	} else {
		plain, jerr := json.Marshal(r)
		if jerr != nil {
			return jerr
		}
		token := base64.RawURLEncoding.EncodeToString(a.Secrets.Seal(plain, unitRequestContext))
		msg, err = a.Emails.UnitRedeemLink(ctx, to, u.Name, x.Name, token, holds)
	}
	if err != nil {
		return err
	}
	return a.Store.QueueUnitMail(ctx, msg)
}

// HoldsUnits reports whether login may hold further units: a resident's or family member's web
// key (not an administrator, a web account's web key or a partner company's staff).
func (a *App) HoldsUnits(ctx context.Context, login models.Login) (bool, error) {
	if !login.WebKey() || login.Staff {
		return false, nil
	}
	person, err := a.Store.FindAccountUser(ctx, login.AccountID, *login.AccountUserID)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return person.Resident(), nil
}

// redeemed records the redemption red of a unit's code by a resident, as kind of event.
func redeemed(ctx context.Context, tx *db.Tx, actor models.Actor, red db.RedeemedUnit, kind string) error {
	actor.Resident = true
	return record(ctx, tx, actor, red.AccountID, models.AuditUnitRedeemed,
		models.Facts("auditfacts.unit_redeemed", "Unit", red.UnitName, "UnitID", red.UnitID),
		kind, map[string]int64{"address": red.AddressID, "unit": red.UnitID}, nil)
}

// RedeemUnit uses up the unit code whose hash is codeHash and gives its party r a new web-key
// login with access to the address's devices (db.Tx.RedeemUnit); the devices are told. An email
// that signs in already is models.ErrConflict; a used code models.ErrUnitCodeClosed. It returns
// the new login.
func (a *App) RedeemUnit(ctx context.Context, actor models.Actor, codeHash string, r db.NewResident) (models.Login, error) {
	var red db.RedeemedUnit
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if red, err = tx.RedeemUnit(ctx, codeHash, r); err != nil {
			return err
		}
		return redeemed(ctx, tx, actor, red, models.EventResidentRedeemed)
	})
	if err != nil {
		return models.Login{}, err
	}
	a.push(slices.Collect(maps.Keys(r.Devices))...)
	return a.Store.FindLogin(ctx, red.AccountID, red.LoginID)
}

// JoinUnit uses up the unit code whose hash is codeHash for the resident's login loginID, which
// holds the unit from then on (db.Tx.JoinUnit); the devices are told. A login that is no
// resident's is models.ErrNotResidentLogin.
func (a *App) JoinUnit(ctx context.Context, actor models.Actor, codeHash string, loginID int64, r db.NewResident) error {
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		red, err := tx.JoinUnit(ctx, codeHash, loginID, r)
		if err != nil {
			return err
		}
		return redeemed(ctx, tx, actor, red, models.EventResidentJoined)
	})
	if err == nil {
		a.push(slices.Collect(maps.Keys(r.Devices))...)
	}
	return err
}

// AddFamilyMember adds a family member (name, email, their language) to the unit that the
// resident person holding.PersonID redeemed, with the same web-key permissions; the devices are
// told. Invalid input is FieldErrors; an email already in the unit is *Conflict; the 101st is
// models.ErrFamilyFull. The invitation is sent apart.
func (a *App) AddFamilyMember(ctx context.Context, actor models.Actor, holding models.KeyHolding, name, email, language string) (models.AccountUser, error) {
	name, email = strings.Join(strings.Fields(name), " "), models.NormalizeEmail(email)
	errs := FieldErrors{}
	if key := models.ValidateName(name); key != "" {
		errs["name"] = key
	}
	if key := models.ValidateEmail(email); key != "" {
		errs["email"] = key
	}
	if len(errs) > 0 {
		return models.AccountUser{}, errs
	}
	actor.Resident = true
	var memberID int64
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var unitID int64
		var err error
		memberID, unitID, err = tx.AddFamilyMember(ctx, holding.AccountID, holding.PersonID, name, email, language)
		if errors.Is(err, models.ErrConflict) {
			return &Conflict{Key: "family.email_taken"}
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, actor, holding.AccountID, models.AuditUserCreated, models.Facts("auditfacts.family_member_added", "UnitID", unitID),
			models.EventFamilyMemberAdded, map[string]int64{"unit": unitID}, nil)
	})
	if err != nil {
		return models.AccountUser{}, err
	}
	m, err := a.Store.FindAccountUser(ctx, holding.AccountID, memberID)
	if err != nil {
		return m, err
	}
	auths, err := a.Store.FindUserAuthorizations(ctx, holding.AccountID, memberID)
	if err != nil {
		return m, err
	}
	a.push(models.PersonDevices(auths)...)
	return m, nil
}

// RemoveFamilyMember takes family member memberID's access away at once (permissions revoked,
// web key and open invitations ended); the devices are told. A member of another unit is
// models.ErrNotFound.
func (a *App) RemoveFamilyMember(ctx context.Context, actor models.Actor, holding models.KeyHolding, memberID int64) error {
	actor.Resident = true
	var devices []int64
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		unitID, devs, err := tx.RemoveFamilyMember(ctx, holding.AccountID, holding.PersonID, memberID)
		if err != nil {
			return err
		}
		devices = devs
		return record(ctx, tx, actor, holding.AccountID, models.AuditUserDeleted, models.Facts("auditfacts.family_member_removed", "UnitID", unitID),
			models.EventFamilyMemberRemoved, map[string]int64{"unit": unitID}, nil)
	})
	if err == nil {
		a.push(devices...)
	}
	return err
}
