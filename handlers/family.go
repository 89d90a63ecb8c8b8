package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/devices"
	"portier/i18n"
	"portier/models"
	keyviews "portier/views/webkey"
)

// Family sharing (PRODUCT.md B3): the resident who redeemed a unit's invite code shares the
// access with up to models.MaxFamilyMembers family members from their web key. Each gets their
// own web key by invitation. Nothing of it names anyone to the property manager.

// residentUnit returns the unit the signed-in web-key holder redeemed and its family; 404 for
// anyone else (a family member, a web key of a web account).
func (h *Handler) residentUnit(c echo.Context) (models.Unit, []models.AccountUser, error) {
	login, account, _ := currentLogin(c)
	if account.Kind != models.AccountBox || login.AccountUserID == nil {
		return models.Unit{}, nil, errNotFound
	}
	u, family, err := h.Store.FindFamily(c.Request().Context(), account.ID, *login.AccountUserID)
	if errors.Is(err, models.ErrNotFound) {
		return u, nil, errNotFound
	}
	return u, family, err
}

func (h *Handler) renderFamily(c echo.Context, status int, name, email string, errs map[string]string) error {
	ctx := c.Request().Context()
	loc := locale(c)
	_, account, _ := currentLogin(c)
	unit, family, err := h.residentUnit(c)
	if err != nil {
		return err
	}
	shell, err := h.keyShell(c, "family.title")
	if err != nil {
		return err
	}
	p := keyviews.Family{Shell: shell, UnitName: unit.Name, Max: models.MaxFamilyMembers, Name: name, Email: email, Errors: errs}
	now := h.Now()
	for _, m := range family {
		row := keyviews.FamilyMember{ID: m.ID, Name: m.Name, Email: m.Email, State: loc.T("family.state_none")}
		invs, err := h.Store.FindUserInvitations(ctx, account.ID, m.ID)
		if err != nil {
			return err
		}
		if len(invs) > 0 {
			row.State = loc.T("invite.state." + string(invs[0].State(now)))
		}
		p.Members = append(p.Members, row)
	}
	p.Full = len(family) >= models.MaxFamilyMembers
	return render(c, status, keyviews.FamilyPage(p))
}

// FamilyShow is GET /key/family.
func (h *Handler) FamilyShow(c echo.Context) error {
	return h.renderFamily(c, http.StatusOK, "", "", nil)
}

// FamilyAdd is POST /key/family: a family member with the same web key, invited by email.
func (h *Handler) FamilyAdd(c echo.Context) error {
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	if _, _, err := h.residentUnit(c); err != nil {
		return err
	}
	name := strings.Join(strings.Fields(c.FormValue("name")), " ")
	email := models.NormalizeEmail(c.FormValue("email"))
	errs := map[string]string{}
	if key := models.ValidateName(name); key != "" {
		errs["name"] = loc.T(key)
	}
	if key := models.ValidateEmail(email); key != "" {
		errs["email"] = loc.T(key)
	}
	if len(errs) > 0 {
		return h.renderFamily(c, http.StatusUnprocessableEntity, name, email, errs)
	}
	if allowed, err := h.countFamilyInvitation(ctx, login.ID); err != nil {
		return err
	} else if !allowed {
		return h.renderFamily(c, http.StatusTooManyRequests, name, email,
			map[string]string{"form": loc.T("family.too_many", i18n.Args{"Max": familyInvitationLimit.MaxFailures})})
	}
	m, err := h.Store.AddFamilyMember(ctx, account.ID, *login.AccountUserID, name, email, login.Language,
		models.AuditEntry{Kind: models.AuditUserCreated})
	switch {
	case errors.Is(err, models.ErrFamilyFull):
		return h.renderFamily(c, http.StatusUnprocessableEntity, name, email,
			map[string]string{"form": loc.T("family.full", i18n.Args{"Max": models.MaxFamilyMembers})})
	case errors.Is(err, models.ErrConflict):
		return h.renderFamily(c, http.StatusConflict, name, email, map[string]string{"email": loc.T("family.email_taken")})
	case err != nil:
		return err
	}
	who := devices.Who{LoginID: login.ID, Name: login.Name, Actor: login.Email, Origin: models.OriginWeb, Resident: true}
	op, err := h.pageOperator(ctx, login)
	if err != nil {
		return err
	}
	if err := h.sendInvitation(ctx, op, who, account, m); err != nil {
		return reachHTTPError(err)
	}
	h.Devices.PushPermissions(h.familyDevices(c, m.ID)...)
	if err := h.setFlash(c, loc.T("family.added", i18n.Args{"Name": m.Name, "Email": m.Email})); err != nil {
		return err
	}
	return redirect(c, "/key/family")
}

// familyInvitationLimit bounds the invitation emails a resident makes the server send: each
// one goes to an address and carries a name the resident chose.
var familyInvitationLimit = models.ThrottleRule{MaxFailures: 10, Window: time.Hour, LockFor: time.Hour}

// countFamilyInvitation counts a family invitation of the resident's login and reports whether
// it may go out: the first familyInvitationLimit.MaxFailures in an hour may.
func (h *Handler) countFamilyInvitation(ctx context.Context, loginID int64) (bool, error) {
	return h.Store.ThrottleAttempt(ctx, db.ThrottleCheck{Key: "family:invite:" + strconv.FormatInt(loginID, 10), Rule: familyInvitationLimit})
}

// familyDevices lists the devices a family member has permissions on (to push them).
func (h *Handler) familyDevices(c echo.Context, userID int64) []int64 {
	_, account, _ := currentLogin(c)
	auths, err := h.Store.FindUserAuthorizations(c.Request().Context(), account.ID, userID)
	if err != nil {
		return nil
	}
	var ids []int64
	for _, a := range auths {
		ids = append(ids, a.DeviceID)
	}
	return ids
}

// FamilyRemove is POST /key/family/:id/remove: the member's access ends at once.
func (h *Handler) FamilyRemove(c echo.Context) error {
	login, account, _ := currentLogin(c)
	if _, _, err := h.residentUnit(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	devs, err := h.Store.RemoveFamilyMember(c.Request().Context(), account.ID, *login.AccountUserID, id, models.AuditEntry{Kind: models.AuditUserDeleted})
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h.Devices.PushPermissions(devs...)
	if err := h.setFlash(c, locale(c).T("family.removed")); err != nil {
		return err
	}
	return redirect(c, "/key/family")
}

// familyLink reports whether the web key shows "Share with your family".
func (h *Handler) familyLink(c echo.Context) bool {
	_, _, err := h.residentUnit(c)
	return err == nil
}
