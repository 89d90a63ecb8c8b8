package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/i18n"
	"portier/models"
	keyviews "portier/views/webkey"
)

// Family sharing (PRODUCT.md B3): the resident who redeemed a unit's invite code shares the
// access with up to models.MaxFamilyMembers family members from their web key. Each gets their
// own web key by invitation. Nothing of it names anyone to the property manager.

// familyUnit is a unit whose invite code the signed-in resident redeemed, with the family they
// share it with. A resident who redeemed several units (Store.FindKeyHoldings) has one each,
// possibly in several accounts.
type familyUnit struct {
	holding models.KeyHolding // the unit's resident person: the one who shares
	unit    models.Unit
	family  []models.AccountUser
}

// residentUnits returns the units the signed-in web-key holder redeemed, in the order redeemed
// (none for a family member or a web key of a web account).
func (h *Handler) residentUnits(c echo.Context) ([]familyUnit, error) {
	rq := h.request(c)
	holdings, err := h.Store.FindKeyHoldings(rq.Ctx, rq.Login)
	if err != nil {
		return nil, err
	}
	var out []familyUnit
	for _, k := range holdings {
		u, family, err := h.Store.FindFamily(rq.Ctx, k.AccountID, k.PersonID)
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, familyUnit{holding: k, unit: u, family: family})
	}
	return out, nil
}

// residentUnit returns the unit of ?unit= among those the signed-in holder redeemed (the first
// without it), and all of them; 404 for anyone who redeemed none, or a unit not theirs.
func (h *Handler) residentUnit(c echo.Context) (familyUnit, []familyUnit, error) {
	units, err := h.residentUnits(c)
	if err != nil {
		return familyUnit{}, nil, err
	}
	if len(units) == 0 {
		return familyUnit{}, nil, errNotFound
	}
	if c.QueryParam("unit") == "" {
		return units[0], units, nil
	}
	id, _ := strconv.ParseInt(c.QueryParam("unit"), 10, 64)
	for _, u := range units {
		if u.unit.ID == id {
			return u, units, nil
		}
	}
	return familyUnit{}, nil, errNotFound
}

func (h *Handler) renderFamily(c echo.Context, status int, name, email string, errs map[string]string) error {
	rq := h.request(c)
	ctx, loc := rq.Ctx, rq.Locale
	fu, units, err := h.residentUnit(c)
	if err != nil {
		return err
	}
	shell, err := h.keyShell(c, "family.title")
	if err != nil {
		return err
	}
	p := keyviews.Family{Shell: shell, UnitID: fu.unit.ID, UnitName: fu.unit.Name, Max: models.MaxFamilyMembers, Name: name, Email: email, Errors: errs}
	if len(units) > 1 {
		for _, u := range units {
			a, err := h.Store.FindAddress(ctx, u.holding.AccountID, u.unit.AddressID)
			if err != nil {
				return err
			}
			p.Units = append(p.Units, keyviews.FamilyUnit{ID: u.unit.ID, Name: u.unit.Name, Address: a.Name, Current: u.unit.ID == fu.unit.ID})
		}
	}
	now := h.Now()
	for _, m := range fu.family {
		row := keyviews.FamilyMember{ID: m.ID, Name: m.Name, Email: m.Email, State: loc.T("family.state_none"), Invite: "family.invite_send"}
		invs, err := h.Store.FindUserInvitations(ctx, fu.holding.AccountID, m.ID)
		if err != nil {
			return err
		}
		if len(invs) > 0 {
			row.State = loc.T("invite.state." + string(invs[0].State(now)))
			row.Invite = "family.invite_resend"
		}
		if active, err := h.Store.HasWebKeyLogin(ctx, fu.holding.AccountID, m.ID); err != nil {
			return err
		} else if active {
			row.Invite = ""
		}
		p.Members = append(p.Members, row)
	}
	p.Full = len(fu.family) >= models.MaxFamilyMembers
	return render(c, status, keyviews.FamilyPage(p))
}

// familyPage is where the family page of unit u is.
func familyPage(u familyUnit) string {
	return fmt.Sprintf("/key/family?unit=%d", u.unit.ID)
}

// FamilyShow is GET /key/family.
func (h *Handler) FamilyShow(c echo.Context) error {
	return h.renderFamily(c, http.StatusOK, "", "", nil)
}

// FamilyAdd is POST /key/family?unit=ID: a family member with the same web key, invited by email.
func (h *Handler) FamilyAdd(c echo.Context) error {
	rq := h.request(c)
	fu, _, err := h.residentUnit(c)
	if err != nil {
		return err
	}
	name := strings.Join(strings.Fields(c.FormValue("name")), " ")
	email := models.NormalizeEmail(c.FormValue("email"))
	if models.ValidateName(name) == "" && models.ValidateEmail(email) == "" {
		// Only a valid answer sends an email, so only that one counts.
		if allowed, err := h.countFamilyInvitation(rq.Ctx, rq.Login.ID); err != nil {
			return err
		} else if !allowed {
			return h.renderFamily(c, http.StatusTooManyRequests, name, email,
				map[string]string{"form": rq.Locale.T("family.too_many", i18n.Args{"Max": familyInvitationLimit.MaxFailures})})
		}
	}
	m, err := h.App.AddFamilyMember(rq.Ctx, rq.Actor, fu.holding, name, email, rq.Login.Language)
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		errs := map[string]string{}
		for f, key := range invalid {
			errs[f] = rq.Locale.T(key)
		}
		return h.renderFamily(c, http.StatusUnprocessableEntity, name, email, errs)
	case errors.Is(err, models.ErrFamilyFull):
		return h.renderFamily(c, http.StatusUnprocessableEntity, name, email,
			map[string]string{"form": rq.Locale.T("family.full", i18n.Args{"Max": models.MaxFamilyMembers})})
	case errors.As(err, &conflict):
		return h.renderFamily(c, http.StatusConflict, name, email, map[string]string{"email": rq.Locale.T(conflict.Key)})
	case err != nil:
		return err
	}
	if err := h.inviteFamilyMember(c, fu, m); err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("family.added", i18n.Args{"Name": m.Name, "Email": m.Email})); err != nil {
		return err
	}
	return redirect(c, familyPage(fu))
}

// inviteFamilyMember sends family member m of unit fu an invitation to their web key, from the
// signed-in resident (whom the email names; the audit trail does not).
func (h *Handler) inviteFamilyMember(c echo.Context, fu familyUnit, m models.AccountUser) error {
	rq := h.request(c)
	who := rq.Actor
	who.Resident = true
	op, err := h.keyOperator(rq.Ctx, rq.Login)
	if err != nil {
		return err
	}
	return reachHTTPError(h.App.SendInvitation(rq.Ctx, op, who, fu.holding.AccountID, m.ID))
}

// FamilyInvite is POST /key/family/:id/invite?unit=ID: a (new) invitation to a family member
// whose web key is not active yet, e.g. one whose email was lost or whose invitation expired;
// earlier links and codes stop working.
func (h *Handler) FamilyInvite(c echo.Context) error {
	rq := h.request(c)
	fu, _, err := h.residentUnit(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	i := slices.IndexFunc(fu.family, func(m models.AccountUser) bool { return m.ID == id })
	if i < 0 {
		return errNotFound
	}
	m := fu.family[i]
	if allowed, err := h.countFamilyInvitation(rq.Ctx, rq.Login.ID); err != nil {
		return err
	} else if !allowed {
		return h.renderFamily(c, http.StatusTooManyRequests, "", "",
			map[string]string{"form": rq.Locale.T("family.too_many", i18n.Args{"Max": familyInvitationLimit.MaxFailures})})
	}
	err = h.inviteFamilyMember(c, fu, m)
	var refused *models.InvitationRefused
	switch {
	case errors.As(err, &refused):
		return h.renderFamily(c, http.StatusConflict, "", "", map[string]string{"form": rq.Locale.T("invite.refused." + refused.Reason)})
	case err != nil:
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("family.invited", i18n.Args{"Name": m.Name, "Email": m.Email})); err != nil {
		return err
	}
	return redirect(c, familyPage(fu))
}

// familyInvitationLimit bounds the invitation emails a resident makes the server send: each
// one goes to an address and carries a name the resident chose.
var familyInvitationLimit = models.ThrottleRule{MaxFailures: 10, Window: time.Hour, LockFor: time.Hour}

// countFamilyInvitation counts a family invitation of the resident's login and reports whether
// it may go out: the first familyInvitationLimit.MaxFailures in an hour may.
func (h *Handler) countFamilyInvitation(ctx context.Context, loginID int64) (bool, error) {
	return h.Store.ThrottleAttempt(ctx, db.ThrottleCheck{Key: "family:invite:" + strconv.FormatInt(loginID, 10), Rule: familyInvitationLimit})
}

// FamilyRemove is POST /key/family/:id/remove?unit=ID: the member's access ends at once.
func (h *Handler) FamilyRemove(c echo.Context) error {
	rq := h.request(c)
	fu, _, err := h.residentUnit(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	err = h.App.RemoveFamilyMember(rq.Ctx, rq.Actor, fu.holding, id)
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("family.removed")); err != nil {
		return err
	}
	return redirect(c, familyPage(fu))
}

// familyLink reports whether the web key shows "Share with your family".
func (h *Handler) familyLink(c echo.Context) bool {
	units, err := h.residentUnits(c)
	return err == nil && len(units) > 0
}
