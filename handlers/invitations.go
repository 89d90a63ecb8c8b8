package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/email"
	inviteviews "portier/views/invite"
	userviews "portier/views/users"
)

// Invitations to a web key (PRODUCT.md U5): sending, and accepting by link or by code.

// sendInvitation invites account user u of account to a web key: it makes a new invitation (a
// link and an activation code, valid models.InvitationValidity; the user's open invitation dies
// with its link and code), queues the email in the user's language naming the devices the web
// key opens, and writes the audit row (models.AuditInvitationSent) — all in one transaction —
// then wakes the mail worker.
//
// It is the one way an invitation is sent: the user page's "send again", the permission pages
// after creating a permission, the family page of a resident, the web API and the demo all call
// it. op is who asks (the reach check: it must see every device of the user and be able to open
// every device the web key would open); who is the same login for the audit trail (its id, name,
// email as Actor, client address; Origin is not used). Errors a caller shows to a person:
//   - *models.InvitationRefused (errors.As; it wraps models.ErrConflict) with Reason
//     models.RefusedNoEmail (the user has no email), models.RefusedNoWebKey (no app permission
//     with remote access that is not revoked) or models.RefusedHasWebKey (the user has a web
//     key already: accepting would change nothing): nothing was stored or sent. Message key:
//     "invite.refused." + Reason.
//   - *models.ReachRefused (the reach check): nothing was stored or sent.
//   - models.ErrNotFound: u is not (or no longer) a user of account.
func (h *Handler) sendInvitation(ctx context.Context, op models.Operator, who models.Actor, account models.Account, u models.AccountUser) error {
	opens, err := h.invitationOpens(ctx, op, account, u)
	if err != nil {
		return err
	}
	names, err := h.deviceNames(ctx, account.ID, opens)
	if err != nil {
		return err
	}
	zone := "UTC"
	if owner, err := h.Store.FindMainLogin(ctx, account.ID); err == nil {
		zone = owner.TimeZone
	} else if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	lang := u.Language
	if lang == "" {
		lang = i18n.Default
	}
	login := who.LoginID
	audit := who.AuditEntry(account.ID, models.AuditInvitationSent,
		fmt.Sprintf("web key invitation to %s <%s> (%s)", u.Name, u.Email, strings.Join(names, ", ")))
	inviter := account.Name
	if who.Resident {
		// A resident shares with their family: the property manager's audit trail does not learn
		// who; the email names the resident, whom the family member knows.
		audit.Detail = "web key invitation to a family member of a residential unit"
		inviter = who.Name
	}
	// Random codes can collide with one stored before (the column is unique): draw again.
	for try := 0; ; try++ {
		token, code := auth.NewToken(), auth.NewInvitationCode()
		_, err = h.Store.CreateInvitation(ctx, account.ID, db.NewInvitation{
			AccountUserID: u.ID, TokenHash: auth.HashToken(token), CodeHash: auth.HashInvitationCode(code), Language: lang,
			Mail: func(inv models.Invitation) (models.OutboxMessage, error) {
				msg, err := email.InvitationMessage(ctx, email.Invitation{
					To: u.Email, Name: u.Name, Language: lang, Inviter: inviter, Devices: names,
					Link: h.absURL("/invite/" + token), Code: code, EnterURL: h.absURL("/invite"),
					Expires: inv.ExpiresAt, Zone: zone, SiteURL: h.absURL("/"),
				})
				msg.WrittenByLoginID = &login
				return msg, err
			},
		}, audit)
		if !errors.Is(err, db.ErrInvitationCodeTaken) || try == 2 {
			break
		}
	}
	if err != nil {
		return err
	}
	return nil
}

// SendInvitation is sendInvitation for callers outside this package: the web API (which cannot
// import handlers) gets it as a function where main builds both, e.g. a field
// `Invite func(context.Context, models.Operator, models.Actor, models.Account, models.AccountUser) error`
// on api.API set to h.SendInvitation. Same errors, same single path.
func (h *Handler) SendInvitation(ctx context.Context, op models.Operator, who models.Actor, account models.Account, u models.AccountUser) error {
	return h.sendInvitation(ctx, op, who, account, u)
}

// invitationOpens decides whether op may invite u to a web key now, and returns the devices the
// web key would open (what the invitation names, and all it gives). The errors are
// sendInvitation's.
func (h *Handler) invitationOpens(ctx context.Context, op models.Operator, account models.Account, u models.AccountUser) ([]int64, error) {
	if u.Email == "" {
		return nil, &models.InvitationRefused{Reason: models.RefusedNoEmail}
	}
	r, _, err := h.personReach(ctx, account.ID, u, true)
	if err != nil {
		return nil, err
	}
	if len(r.Opens) == 0 {
		return nil, &models.InvitationRefused{Reason: models.RefusedNoWebKey}
	}
	if err := op.CheckReach(r); err != nil {
		return nil, err
	}
	if has, err := h.Store.HasWebKeyLogin(ctx, account.ID, u.ID); err != nil {
		return nil, err
	} else if has {
		return nil, &models.InvitationRefused{Reason: models.RefusedHasWebKey}
	}
	return r.Opens, nil
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

// UserInvitationCreate is POST /users/:id/invitations: send the user a new invitation (the old
// link and code stop working). 409 with the reason when the user cannot be invited.
func (h *Handler) UserInvitationCreate(c echo.Context) error {
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	u, err := h.Store.FindAccountUser(ctx, account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (u.MergedInto != nil || u.Resident()) {
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	if err != nil {
		return err
	}
	who := h.actor(c)
	err = h.sendInvitation(ctx, models.SessionOperator(login), who, account, u)
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
	if err := h.setFlash(c, loc.T("invite.sent", i18n.Args{"Email": u.Email})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
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
	switch _, err := h.invitationOpens(ctx, models.SessionOperator(login), account, u); {
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

// InviteCodeShow is GET /invite: the form for the activation code of the email.
func (h *Handler) InviteCodeShow(c echo.Context) error {
	return render(c, http.StatusOK, inviteviews.CodePage(inviteviews.Code{}))
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
	password, again := c.FormValue("password"), c.FormValue("password_confirm")
	errs := map[string]string{}
	if msg := models.ValidatePassword(password, u.Email); msg != "" {
		errs["password"] = msg
	} else if password != again {
		errs["password_confirm"] = "invite.password_mismatch"
	}
	if len(errs) > 0 {
		return h.renderInvite(c, inv, action, code, errs)
	}
	hash, err := h.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	ip := clientIP(c.Request())
	login, err := h.Store.AcceptInvitation(ctx, inv.ID, hash, models.AuditEntry{Actor: u.Email, Kind: models.AuditInvitationAccepted, IP: ip,
		Detail: fmt.Sprintf("web key activated by %s for %s", how, u.Name)})
	var refused *models.InvitationRefused
	switch {
	case errors.As(err, &refused):
		return h.renderInviteClosed(c, http.StatusConflict, refused.Reason, inv)
	case errors.Is(err, db.ErrInvitationClosed):
		// Accepted, revoked or expired between the page and the post: say which.
		fresh, err := h.Store.FindInvitation(ctx, inv.AccountID, inv.ID)
		if err != nil {
			return err
		}
		state := fresh.State(h.Now())
		if state == models.InvitationPending {
			state = models.InvitationRevoked // its user is gone
		}
		return h.renderInviteClosed(c, http.StatusGone, string(state), fresh)
	case err != nil:
		return err
	}
	if err := h.startSession(c, login, false); err != nil {
		return err
	}
	if err := h.Store.RecordLoginSuccess(ctx, login, models.AuditEntry{Actor: login.Email, Kind: models.AuditLoginSuccess, IP: ip,
		Detail: "signed in by accepting an invitation"}); err != nil {
		return err
	}
	if err := h.setFlash(c, loginLocale(login).T("webkey.ready")); err != nil {
		return err
	}
	return redirect(c, "/key")
}

// renderInvite shows the invitation's page: the password form while it is pending, else what
// became of it. errs are message keys by field.
func (h *Handler) renderInvite(c echo.Context, inv models.Invitation, action, code string, errs map[string]string) error {
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
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	loc := locale(c)
	return render(c, status, inviteviews.AcceptPage(inviteviews.Accept{
		Action: action, Code: code, Name: u.Name, Email: u.Email, Inviter: account.Name, Devices: names,
		Expires: loc.DateTime(inv.ExpiresAt) + " (" + loc.ZoneName() + ")", Errors: errs,
	}))
}

// renderInviteClosed says why an invitation cannot be accepted (state: invalid, expired,
// revoked, accepted, email_taken, no_email) and what to do.
func (h *Handler) renderInviteClosed(c echo.Context, status int, state string, inv models.Invitation) error {
	p := inviteviews.Closed{State: state}
	if inv.ID != 0 {
		if account, err := h.Store.FindAccount(c.Request().Context(), inv.AccountID); err == nil {
			p.Inviter = account.Name
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		loc := locale(c)
		switch state {
		case string(models.InvitationExpired):
			p.When = loc.DateTime(inv.ExpiresAt) + " (" + loc.ZoneName() + ")"
		case string(models.InvitationAccepted):
			p.When = loc.DateTime(*inv.AcceptedAt) + " (" + loc.ZoneName() + ")"
		}
	}
	return render(c, status, inviteviews.ClosedPage(p))
}
