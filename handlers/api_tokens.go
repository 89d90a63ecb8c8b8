package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/i18n"
	"portier/models"
	"portier/views/settings"
)

// The API tokens page (PRODUCT.md R4): a login with the rights-management right creates tokens
// for itself, within its own rights, and sees and revokes the account's tokens. They are the
// tokens the Web API's /api/key endpoints show (handlers/api/apikeys.go): the page's go to the
// account's default API key.

// tokenForm is what the create form posted.
type tokenForm struct {
	description string
	scopes      models.Scopes
	expiresText string
	expires     *time.Time
}

// Session value keys of a token just created: its secret waits in the server-side session
// for the one page load that shows it (never in a cookie or URL).
const (
	sessNewTokenSecret      = "new_token_secret"
	sessNewTokenDescription = "new_token_description"
)

// APITokensShow is GET /settings/tokens. The first load after creating a token shows its
// secret, taken out of the session, so a reload shows it no more.
func (h *Handler) APITokensShow(c echo.Context) error {
	created, err := h.takeNewToken(c)
	if err != nil {
		return err
	}
	return h.renderTokens(c, http.StatusOK, settings.Tokens{Created: created})
}

// takeNewToken returns and clears the token just created, or nil.
func (h *Handler) takeNewToken(c echo.Context) (*settings.NewToken, error) {
	sess := session(c)
	if sess == nil {
		return nil, nil
	}
	secret, _ := sess.Values[sessNewTokenSecret].(string)
	if secret == "" {
		return nil, nil
	}
	description, _ := sess.Values[sessNewTokenDescription].(string)
	delete(sess.Values, sessNewTokenSecret)
	delete(sess.Values, sessNewTokenDescription)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return nil, err
	}
	return &settings.NewToken{Description: description, Secret: secret}, nil
}

// APITokenCreate is POST /settings/tokens: the token is made for the signed-in login and the
// answer redirects to the list (post/redirect/get: a reload makes no second token), whose next
// load shows the secret once (it is stored hashed). Scopes needing a right the login lacks are
// refused (403) even when the form was forged; nothing is written then.
func (h *Handler) APITokenCreate(c echo.Context) error {
	rq := h.request(c)
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	f, errs := parseTokenForm(form, rq.Locale.Zone, h.Now())
	p := settings.Tokens{Description: f.description, Expires: f.expiresText, Errors: errs}
	checked := f.scopes
	if len(errs) > 0 {
		return h.renderTokensWith(c, http.StatusUnprocessableEntity, p, checked)
	}
	tok, secret, err := h.App.CreateToken(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor,
		app.NewToken{Description: f.description, Scopes: f.scopes, ExpiresAt: f.expires})
	var refused *app.ScopesRefused
	if errors.As(err, &refused) {
		p.Refusal = rq.Locale.T("tokens.err_scope_rights", i18n.Args{"Scopes": refused.Lacking.String()})
		return h.renderTokensWith(c, http.StatusForbidden, p, checked)
	}
	if err != nil {
		return err
	}
	sess := session(c)
	sess.Values[sessNewTokenSecret] = secret
	sess.Values[sessNewTokenDescription] = tok.Description
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return redirect(c, "/settings/tokens")
}

// parseTokenForm reads and checks the create form. The expiry is a day in the login's time
// zone: the token stops working at its start, which must be in the future.
func parseTokenForm(form map[string][]string, zone *time.Location, now time.Time) (tokenForm, map[string]string) {
	errs := map[string]string{}
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := tokenForm{description: strings.TrimSpace(get("description")), expiresText: strings.TrimSpace(get("expires"))}
	if f.description == "" {
		errs["description"] = "tokens.err_description_required"
	} else if key := models.ValidateAPIDescription(f.description); key != "" {
		errs["description"] = key
	}
	for _, v := range form["scope"] {
		s := models.Scope(v)
		if !slices.Contains(models.AllScopes, s) {
			errs["scope"] = "tokens.err_scope_unknown"
			continue
		}
		if !f.scopes.Has(s) {
			f.scopes = append(f.scopes, s)
		}
	}
	if len(f.scopes) == 0 && errs["scope"] == "" {
		errs["scope"] = "tokens.err_scope_required"
	}
	if f.expiresText != "" {
		t, err := time.ParseInLocation(time.DateOnly, f.expiresText, zone)
		switch {
		case err != nil:
			errs["expires"] = "tokens.err_expires_date"
		case !t.After(now):
			errs["expires"] = "tokens.err_expires_past"
		default:
			f.expires = &t
		}
	}
	return f, errs
}

// APITokenRevoke is POST /settings/tokens/:id/revoke. The main login revokes any token of the
// account, another login its own and those of logins it may manage.
func (h *Handler) APITokenRevoke(c echo.Context) error {
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	tok, err := h.App.RevokeToken(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, id)
	msg := "tokens.revoked"
	switch {
	case errors.Is(err, models.ErrNotManageable):
		return echo.NewHTTPError(http.StatusForbidden, "tokens.err_not_yours")
	case errors.Is(err, app.ErrTokenRevoked):
		msg = "tokens.already_revoked"
	case err != nil:
		return err
	}
	if err := h.setFlash(c, rq.Locale.T(msg, i18n.Args{"Description": tok.Description})); err != nil {
		return err
	}
	return redirect(c, "/settings/tokens")
}

// renderTokens renders the page with the form empty.
func (h *Handler) renderTokens(c echo.Context, status int, p settings.Tokens) error {
	return h.renderTokensWith(c, status, p, nil)
}

// renderTokensWith renders the page with checked as the ticked scopes of the form.
func (h *Handler) renderTokensWith(c echo.Context, status int, p settings.Tokens, checked models.Scopes) error {
	rq := h.request(c)
	ctx, login, account, loc := rq.Ctx, rq.Login, rq.Account, rq.Locale
	now := h.Now()
	shell, err := h.appShell(c, "tokens.title", "/settings")
	if err != nil {
		return err
	}
	p.App, p.Tabs = shell, settingsTabs(c, "/settings/tokens")
	p.Zone = loc.ZoneName()
	p.MinDate = now.In(loc.Zone).AddDate(0, 0, 1).Format(time.DateOnly)
	rights := login.EffectiveRights()
	for _, s := range models.AllScopes {
		p.Scopes = append(p.Scopes, settings.ScopeChoice{
			Name: string(s), Help: scopeHelpKey(s), Allowed: rights.Has(s.RequiredRights()),
			Needs: loc.T(rightKey(s.RequiredRights())), Checked: checked.Has(s),
		})
	}
	tokens, err := h.Store.FindAPITokens(ctx, account.ID)
	if err != nil {
		return err
	}
	keys, err := h.Store.FindAllAPIKeys(ctx, account.ID)
	if err != nil {
		return err
	}
	keyNames := map[int64]string{}
	for _, k := range keys {
		if !k.Default {
			keyNames[k.ID] = k.Description
			if k.Description == "" {
				keyNames[k.ID] = loc.T("tokens.key_number", i18n.Args{"ID": k.ID})
			}
		}
	}
	logins := map[int64]models.Login{}
	for _, t := range tokens {
		creator, ok := logins[t.LoginID]
		if !ok {
			if creator, err = h.Store.FindLogin(ctx, account.ID, t.LoginID); err != nil {
				return err
			}
			logins[t.LoginID] = creator
		}
		row := settings.TokenRow{
			ID: t.ID, Description: t.Description, Key: keyNames[t.APIKeyID], CreatedBy: creator.Name,
			Created: loc.DateTime(t.CreatedAt), Status: string(t.Status(now)), StatusKey: tokenStatusKey(t.Status(now)),
			CanRevoke: t.Status(now) == models.TokenActive && models.CanManageToken(login, creator),
		}
		for _, s := range t.Scopes {
			row.Scopes = append(row.Scopes, string(s))
		}
		if t.ExpiresAt != nil {
			row.Expires = loc.DateTime(*t.ExpiresAt)
		}
		if t.LastUsedAt != nil {
			row.LastUsed = loc.DateTime(*t.LastUsedAt)
		}
		if lacking := t.Scopes.Lacking(creator.EffectiveRights()); len(lacking) > 0 && t.RevokedAt == nil {
			row.Lacking = loc.N("tokens.lacking", len(lacking), i18n.Args{"Scopes": lacking.String(), "Name": creator.Name})
		}
		p.Rows = append(p.Rows, row)
	}
	return render(c, status, settings.TokensPage(p))
}

func tokenStatusKey(s models.TokenStatus) string {
	switch s {
	case models.TokenExpired:
		return "tokens.status_expired"
	case models.TokenRevoked:
		return "tokens.status_revoked"
	}
	return "tokens.status_active"
}

// scopeHelpKey is the message key of what a scope allows.
func scopeHelpKey(s models.Scope) string {
	switch s {
	case models.ScopeAccount:
		return "tokens.scope.account"
	case models.ScopeNotification:
		return "tokens.scope.notification"
	case models.ScopeSmartlock:
		return "tokens.scope.smartlock"
	case models.ScopeSmartlockReadOnly:
		return "tokens.scope.smartlock_readonly"
	case models.ScopeSmartlockAction:
		return "tokens.scope.smartlock_action"
	case models.ScopeSmartlockAuth:
		return "tokens.scope.smartlock_auth"
	case models.ScopeSmartlockConfig:
		return "tokens.scope.smartlock_config"
	case models.ScopeSmartlockLog:
		return "tokens.scope.smartlock_log"
	}
	return "tokens.scope.smartlock_create"
}

// rightKey is the message key of a right's name, as rights management lists them (PRODUCT.md
// R1); "" for no right.
func rightKey(r models.Rights) string {
	switch r {
	case models.RightManageDevices:
		return "tokens.right.manage_devices"
	case models.RightOperateDevices:
		return "tokens.right.operate_devices"
	case models.RightDeviceConfig:
		return "tokens.right.device_config"
	case models.RightAuthorizations:
		return "tokens.right.authorizations"
	case models.RightActivityLog:
		return "tokens.right.activity_log"
	case models.RightRightsManagement:
		return "tokens.right.rights_management"
	case models.RightAddDevices:
		return "tokens.right.add_devices"
	}
	return "tokens.right.none"
}
