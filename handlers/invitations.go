package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	inviteviews "portier/views/invite"
	userviews "portier/views/users"
)

// Invitations to a web key (PRODUCT.md U5): sending, and accepting by link or by code.

// UserInvitationCreate is POST /users/:id/invitations: send the user a new invitation (the old
// link and code stop working). 409 with the reason when the user cannot be invited.
func (h *Handler) UserInvitationCreate(c echo.Context) error {
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	u, err := h.Store.FindAccountUser(rq.Ctx, rq.Account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (u.MergedInto != nil || u.Resident()) {
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	if err != nil {
		return err
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	err = h.App.SendInvitation(rq.Ctx, op, rq.Actor, rq.Account.ID, u.ID)
	var refused *models.InvitationRefused
	switch {
	case errors.Is(err, models.ErrReach):
		return reachHTTPError(err)
	case errors.As(err, &refused):
		return echo.NewHTTPError(http.StatusConflict, "invite.refused."+refused.Reason)
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	case err != nil:
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("invite.sent", i18n.Args{"Email": u.Email})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// deviceNames names the devices ids of account, sorted by name.
func (h *Handler) deviceNames(ctx context.Context, accountID int64, ids []int64) ([]string, error) {
	devs, err := h.Store.FindDevices(ctx, accountID, db.SortByName)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range devs {
		if slices.Contains(ids, d.ID) {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// userInvitations is the invitations box of a user's page.
func (h *Handler) userInvitations(ctx context.Context, loc *i18n.Locale, login models.Login, account models.Account, u models.AccountUser) (userviews.InvitationsBox, error) {
	box := userviews.InvitationsBox{UserID: u.ID, Email: u.Email}
	list, err := h.Store.FindUserInvitations(ctx, account.ID, u.ID)
	if err != nil {
		return box, err
	}
	now := h.Now()
	for _, inv := range list {
		row := userviews.InvitationRow{State: string(inv.State(now)), Sent: loc.DateTime(inv.CreatedAt)}
		switch inv.State(now) {
		case models.InvitationAccepted:
			row.When = loc.T("invite.accepted_at", i18n.Args{"When": loc.DateTime(*inv.AcceptedAt)})
		case models.InvitationRevoked:
			row.When = loc.T("invite.revoked_at", i18n.Args{"When": loc.DateTime(*inv.RevokedAt)})
		case models.InvitationExpired:
			row.When = loc.T("invite.expired_at", i18n.Args{"When": loc.DateTime(inv.ExpiresAt)})
		default:
			row.When = loc.T("invite.expires_at", i18n.Args{"When": loc.DateTime(inv.ExpiresAt)})
		}
		box.Rows = append(box.Rows, row)
	}
	var refused *models.InvitationRefused
	var reach *models.ReachRefused
	switch err := h.App.CheckInvitation(ctx, models.SessionOperator(login), u); {
	case errors.As(err, &refused):
		box.WhyNot = "invite.refused." + refused.Reason
	case errors.As(err, &reach):
		box.WhyNot = reach.MessageKey()
	case err != nil:
		return box, err
	}
	return box, nil
}

// InviteShow is GET /invite/:token: who invites, to which devices, and the password form.
func (h *Handler) InviteShow(c echo.Context) error {
	inv, err := h.Store.FindInvitationByToken(c.Request().Context(), auth.HashToken(c.Param("token")))
	if errors.Is(err, models.ErrNotFound) {
		return h.renderInviteClosed(c, http.StatusNotFound, "invalid", models.Invitation{})
	}
	if err != nil {
		return err
	}
	return h.renderInvite(c, inv, "/invite/"+c.Param("token"), "", nil)
}

// InviteAccept is POST /invite/:token: sets the password, gives the web key, signs in.
func (h *Handler) InviteAccept(c echo.Context) error {
	inv, err := h.Store.FindInvitationByToken(c.Request().Context(), auth.HashToken(c.Param("token")))
	if errors.Is(err, models.ErrNotFound) {
		return h.renderInviteClosed(c, http.StatusNotFound, "invalid", models.Invitation{})
	}
	if err != nil {
		return err
	}
	return h.acceptInvitation(c, inv, "/invite/"+c.Param("token"), "", "link")
}

// InviteCodeShow is GET /invite: the form for the activation code of the email; ?code= fills it
// in (coming back from signing in to accept with an existing login).
func (h *Handler) InviteCodeShow(c echo.Context) error {
	return render(c, http.StatusOK, inviteviews.CodePage(inviteviews.Code{Code: c.QueryParam("code")}))
}

// InviteCodeCreate is POST /invite: first the code alone (then the password form follows with
// the code in it), then the code with the password. Every post checks the code again; wrong
// codes are counted per client address and lock it for a while, like sign-in, and in the whole
// installation, where too many pause typing codes for everyone.
func (h *Handler) InviteCodeCreate(c echo.Context) error {
	ctx := c.Request().Context()
	typed := strings.TrimSpace(c.FormValue("code"))
	code := auth.NormalizeInvitationCode(typed)
	if code == "" {
		return render(c, http.StatusUnprocessableEntity, inviteviews.CodePage(inviteviews.Code{Code: typed, Error: "invite.code_required"}))
	}
	refusal, codeChecks, err := h.codeAttempt(c, "invite")
	if err != nil {
		return err
	}
	switch refusal {
	case codeAddressLocked:
		return render(c, http.StatusTooManyRequests, inviteviews.CodePage(inviteviews.Code{Code: typed, Error: "invite.code_locked"}))
	case codesPaused:
		return render(c, http.StatusTooManyRequests, inviteviews.CodePage(inviteviews.Code{Code: typed, Error: "invite.codes_paused"}))
	}
	inv, err := h.Store.FindInvitationByCode(ctx, auth.HashInvitationCode(code))
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, inviteviews.CodePage(inviteviews.Code{Code: typed, Error: "invite.code_wrong"}))
	}
	if err != nil {
		return err
	}
	if err := h.Store.DiscountThrottle(ctx, codeChecks...); err != nil {
		return err
	}
	if c.FormValue("step") != "password" {
		return h.renderInvite(c, inv, "/invite", typed, nil)
	}
	return h.acceptInvitation(c, inv, "/invite", typed, "code")
}

// acceptInvitation checks the new password (twice, the rules of every password) and accepts:
// the web-key login is made, the person is signed in on a fresh session and lands on /key.
func (h *Handler) acceptInvitation(c echo.Context, inv models.Invitation, action, code, how string) error {
	ctx := c.Request().Context()
	if inv.State(h.Now()) != models.InvitationPending {
		return h.renderInviteClosed(c, http.StatusGone, string(inv.State(h.Now())), inv)
	}
	u, err := h.Store.FindAccountUser(ctx, inv.AccountID, inv.AccountUserID)
	if errors.Is(err, models.ErrNotFound) {
		return h.renderInviteClosed(c, http.StatusNotFound, "invalid", models.Invitation{})
	}
	if err != nil {
		return err
	}
	rq := h.request(c)
	holder, err := h.inviteHolder(c, u)
	if err != nil {
		return err
	}
	if holder.Mode != "" {
		return h.attachKey(c, inv, u, holder, action, code, how)
	}
	login, err := h.App.AcceptInvitation(ctx, inv, u, c.FormValue("password"), c.FormValue("password_confirm"), how, rq.IP)
	var invalid app.FieldErrors
	switch {
	case errors.As(err, &invalid):
		return h.renderInvite(c, inv, action, code, invalid)
	case err != nil:
		return h.acceptError(c, inv, err)
	}
	if err := h.startSession(c, login, false); err != nil {
		return err
	}
	if err := h.App.RecordSignIn(ctx, models.LoginActor(login, models.ActorWebKey, rq.IP), login, models.Facts("auditfacts.signed_in_invitation")); err != nil {
		return err
	}
	if err := h.setFlash(c, loginLocale(login).T("webkey.ready")); err != nil {
		return err
	}
	return redirect(c, "/key")
}

// acceptError answers an invitation that could not be accepted: refused (409, why) or closed
// meanwhile (410, what became of it); any other error is the server's.
func (h *Handler) acceptError(c echo.Context, inv models.Invitation, err error) error {
	var refused *models.InvitationRefused
	switch {
	case errors.As(err, &refused):
		return h.renderInviteClosed(c, http.StatusConflict, refused.Reason, inv)
	case errors.Is(err, db.ErrInvitationClosed):
		return h.renderInviteClosedNow(c, inv)
	}
	return err
}

// renderInviteClosedNow says what became of an invitation that was accepted, revoked or expired
// between the page and the post.
func (h *Handler) renderInviteClosedNow(c echo.Context, inv models.Invitation) error {
	fresh, err := h.Store.FindInvitation(c.Request().Context(), inv.AccountID, inv.ID)
	if err != nil {
		return err
	}
	state := fresh.State(h.Now())
	if state == models.InvitationPending {
		state = models.InvitationRevoked // its user is gone
	}
	return h.renderInviteClosed(c, http.StatusGone, string(state), fresh)
}

// inviteHolder says how an invitation to person u is accepted when u's email is a login's
// already: that login holds the key, so the invitee signs in rather than choosing a password.
// The zero value is a new web-key login.
func (h *Handler) inviteHolder(c echo.Context, u models.AccountUser) (inviteviews.Holder, error) {
	rq := h.request(c)
	if has, err := h.Store.HasWebKeyLogin(rq.Ctx, u.AccountID, u.ID); err != nil || has {
		// Held already (accepted by its own login meanwhile): accepting says so.
		return inviteviews.Holder{}, err
	}
	if _, _, err := h.Store.FindLoginByEmail(rq.Ctx, u.Email); errors.Is(err, models.ErrNotFound) {
		return inviteviews.Holder{}, nil
	} else if err != nil {
		return inviteviews.Holder{}, err
	}
	switch {
	case !rq.SignedIn:
		return inviteviews.Holder{Mode: inviteviews.HolderSignIn}, nil
	case rq.Login.Email == models.NormalizeEmail(u.Email):
		return inviteviews.Holder{Mode: inviteviews.HolderAttach}, nil
	}
	logout := "/logout"
	if rq.Login.WebKey() {
		logout = "/key/logout"
	}
	return inviteviews.Holder{Mode: inviteviews.HolderOther, SignedInAs: rq.Login.Email, LogoutAction: logout}, nil
}

// attachKey accepts an invitation for the signed-in login of the invitee's email: the key is
// added to it ("My key") and the person lands on /key. Anyone else is shown the page again (409),
// which says to sign in as the invitee.
func (h *Handler) attachKey(c echo.Context, inv models.Invitation, u models.AccountUser, holder inviteviews.Holder, action, code, how string) error {
	if holder.Mode != inviteviews.HolderAttach {
		return h.renderInviteStatus(c, http.StatusConflict, inv, action, code, nil)
	}
	rq := h.request(c)
	err := h.App.AttachKey(rq.Ctx, inv, u, rq.Login, how, rq.IP)
	switch {
	case errors.Is(err, db.ErrKeyLoginMismatch):
		return h.renderInviteStatus(c, http.StatusConflict, inv, action, code, nil)
	case err != nil:
		return h.acceptError(c, inv, err)
	}
	if err := h.setFlash(c, rq.Locale.T("webkey.attached")); err != nil {
		return err
	}
	return redirect(c, "/key")
}

// renderInvite shows the invitation's page: the password form while it is pending, else what
// became of it. errs are message keys by field.
func (h *Handler) renderInvite(c echo.Context, inv models.Invitation, action, code string, errs map[string]string) error {
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return h.renderInviteStatus(c, status, inv, action, code, errs)
}

// renderInviteStatus is renderInvite answering status.
func (h *Handler) renderInviteStatus(c echo.Context, status int, inv models.Invitation, action, code string, errs map[string]string) error {
	useInviteeLanguage(c, inv)
	ctx := c.Request().Context()
	state := inv.State(h.Now())
	if state != models.InvitationPending {
		return h.renderInviteClosed(c, http.StatusGone, string(state), inv)
	}
	u, err := h.Store.FindAccountUser(ctx, inv.AccountID, inv.AccountUserID)
	if errors.Is(err, models.ErrNotFound) {
		return h.renderInviteClosed(c, http.StatusNotFound, "invalid", models.Invitation{})
	}
	if err != nil {
		return err
	}
	account, err := h.Store.FindAccount(ctx, inv.AccountID)
	if err != nil {
		return err
	}
	r, _, err := h.personReach(ctx, inv.AccountID, u, true)
	if err != nil {
		return err
	}
	names, err := h.deviceNames(ctx, inv.AccountID, r.Opens)
	if err != nil {
		return err
	}
	holder, err := h.inviteHolder(c, u)
	if err != nil {
		return err
	}
	// Signing in comes back here: to the link, or to the code form with the code typed in.
	back := action
	if code != "" {
		back = "/invite?code=" + url.QueryEscape(code)
	}
	holder.SignInURL = "/login?next=" + url.QueryEscape(back)
	holder.Back = back
	loc := h.request(c).Locale
	return render(c, status, inviteviews.AcceptPage(inviteviews.Accept{
		Action: action, Code: code, Name: u.Name, Email: u.Email, Inviter: account.Name, Devices: names,
		Expires: loc.DateTime(inv.ExpiresAt) + " (" + loc.ZoneName() + ")", Errors: errs, Holder: holder,
	}))
}

// renderInviteClosed says why an invitation cannot be accepted (state: invalid, expired,
// revoked, accepted, email_taken, no_email) and what to do.
func (h *Handler) renderInviteClosed(c echo.Context, status int, state string, inv models.Invitation) error {
	p := inviteviews.Closed{State: state}
	if inv.ID != 0 {
		useInviteeLanguage(c, inv)
		if account, err := h.Store.FindAccount(c.Request().Context(), inv.AccountID); err == nil {
			p.Inviter = account.Name
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		loc := h.request(c).Locale
		switch state {
		case string(models.InvitationExpired):
			p.When = loc.DateTime(inv.ExpiresAt) + " (" + loc.ZoneName() + ")"
		case string(models.InvitationAccepted):
			p.When = loc.DateTime(*inv.AcceptedAt) + " (" + loc.ZoneName() + ")"
		}
	}
	return render(c, status, inviteviews.ClosedPage(p))
}

// useInviteeLanguage shows an invitation's pages in the language its email was written in, the
// invitee's (chosen by whoever invited them), when the pages offer it; otherwise, and before the
// invitation is known, the browser's. The time zone stays the request's.
func useInviteeLanguage(c echo.Context, inv models.Invitation) {
	if i18n.Supported(inv.Language) {
		setLocale(c, i18n.New(inv.Language, locale(c).ZoneName()))
	}
}
