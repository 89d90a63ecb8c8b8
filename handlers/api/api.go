// Package api serves the JSON web API, compatible with the Nuki Web API: bearer tokens with
// scopes, Nuki's object shapes and error body. It is mounted under /api on the main listener
// and at the root of the optional API listener.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/handlers/policy"
	"portier/models"
)

// API holds the dependencies of the API handlers.
type API struct {
	// App is the use cases: the API makes its changes through it, as the pages do.
	App     *app.App
	Store   *db.Store
	Devices *devices.Manager
	Now     func() time.Time
	Log     *slog.Logger
}

// Error is the error body of the Nuki Web API: clients read detailMessage.
type Error struct {
	DetailMessage string `json:"detailMessage"`
}

// Register adds every API route under prefix ("/api", or "" for the API listener) to e and
// records its policy in reg.
func (a *API) Register(e *echo.Echo, prefix string, reg *policy.Registry) {
	addPolicy := func(method, path string, p policy.Policy, fn echo.HandlerFunc) {
		reg.Add(method, prefix+path, p)
		e.Add(method, prefix+path, fn, a.requireToken(p))
	}
	add := func(method, path string, scope models.Scope, fn echo.HandlerFunc) {
		addPolicy(method, path, policy.Policy{Kind: policy.API, Scope: scope}, fn)
	}
	// The specification grants the account user operations to a token with either the account
	// or the smartlock.auth scope (its scope lists mean "any of", as GET /smartlock's smartlock
	// and smartlock.readOnly show). People are managed with the authorizations right, whichever
	// scope the token has.
	users := policy.Policy{Kind: policy.API, Scope: models.ScopeAccount, OrScope: models.ScopeSmartlockAuth, Right: models.RightAuthorizations}
	addUsers := func(method, path string, fn echo.HandlerFunc) { addPolicy(method, path, users, fn) }
	add(http.MethodGet, "/account", models.ScopeAccount, a.AccountShow)
	add(http.MethodGet, "/smartlock", models.ScopeSmartlockReadOnly, a.SmartlockIndex)
	add(http.MethodGet, "/smartlock/:smartlockId", models.ScopeSmartlockReadOnly, a.SmartlockShow)
	add(http.MethodPost, "/smartlock/:smartlockId", models.ScopeSmartlock, a.SmartlockUpdate)
	add(http.MethodDelete, "/smartlock/:smartlockId", models.ScopeSmartlock, a.SmartlockDelete)
	add(http.MethodPost, "/smartlock/:smartlockId/action", models.ScopeSmartlockAction, a.SmartlockAction)
	add(http.MethodPost, "/smartlock/:smartlockId/action/lock", models.ScopeSmartlockAction, a.SmartlockLock)
	add(http.MethodPost, "/smartlock/:smartlockId/action/unlock", models.ScopeSmartlockAction, a.SmartlockUnlock)
	add(http.MethodPost, "/smartlock/:smartlockId/action/unlatch", models.ScopeSmartlockAction, a.SmartlockUnlatch)
	add(http.MethodPost, "/smartlock/:smartlockId/sync", models.ScopeSmartlockAction, a.SmartlockSync)
	add(http.MethodPost, "/smartlock/:smartlockId/config", models.ScopeSmartlockConfig, a.SmartlockConfigUpdate)
	add(http.MethodPost, "/smartlock/:smartlockId/advanced/config", models.ScopeSmartlockConfig, a.SmartlockAdvancedConfigUpdate)
	add(http.MethodPost, "/smartlock/:smartlockId/advanced/openerconfig", models.ScopeSmartlockConfig, a.SmartlockOpenerConfigUpdate)
	add(http.MethodPost, "/smartlock/:smartlockId/advanced/smartdoorconfig", models.ScopeSmartlockConfig, a.SmartlockSmartdoorConfigUpdate)
	add(http.MethodPost, "/smartlock/:smartlockId/admin/pin", models.ScopeSmartlockConfig, a.SmartlockAdminPINUpdate)

	// Sub-accounts (R1–R3): the account scope, and the rights management right of the token's login.
	subs := policy.Policy{Kind: policy.API, Scope: models.ScopeAccount, Right: models.RightRightsManagement}
	addPolicy(http.MethodGet, "/account/sub", subs, a.SubAccountIndex)
	addPolicy(http.MethodPut, "/account/sub", subs, a.SubAccountCreate)
	addPolicy(http.MethodGet, "/account/sub/:accountId", subs, a.SubAccountShow)
	addPolicy(http.MethodPost, "/account/sub/:accountId", subs, a.SubAccountUpdate)
	addPolicy(http.MethodDelete, "/account/sub/:accountId", subs, a.SubAccountDelete)

	addUsers(http.MethodGet, "/account/user", a.AccountUserIndex)
	addUsers(http.MethodPut, "/account/user", a.AccountUserCreate)
	addUsers(http.MethodGet, "/account/user/:accountUserId", a.AccountUserShow)
	addUsers(http.MethodPost, "/account/user/:accountUserId", a.AccountUserUpdate)
	addUsers(http.MethodDelete, "/account/user/:accountUserId", a.AccountUserDelete)

	// The smartlock.log scope already needs the activity log right of its creator; the policy
	// names it too, so the route table says what reading the log takes.
	logs := policy.Policy{Kind: policy.API, Scope: models.ScopeSmartlockLog, Right: models.RightActivityLog}
	addPolicy(http.MethodGet, "/smartlock/log", logs, a.LogIndex)
	addPolicy(http.MethodGet, "/smartlock/:smartlockId/log", logs, a.SmartlockLogIndex)

	// Addresses of box accounts (addresses.go): a web account gets 403.
	addresses := policy.Policy{Kind: policy.API, Scope: models.ScopeAccount, Right: models.RightManageDevices, Box: true}
	addPolicy(http.MethodGet, "/address", addresses, a.AddressIndex)
	addPolicy(http.MethodPut, "/address", addresses, a.AddressCreate)
	addPolicy(http.MethodPost, "/address/:addressId", addresses, a.AddressUpdate)
	addPolicy(http.MethodDelete, "/address/:addressId", addresses, a.AddressDelete)
	units := policy.Policy{Kind: policy.API, Scope: models.ScopeAccount, Right: models.RightAuthorizations, Box: true}
	addPolicy(http.MethodGet, "/address/:addressId/unit", units, a.UnitIndex)
	addPolicy(http.MethodPut, "/address/:addressId/unit", units, a.UnitCreate)
	addPolicy(http.MethodDelete, "/address/:addressId/unit", units, a.UnitDeleteMany)
	addPolicy(http.MethodDelete, "/address/:addressId/unit/:id", units, a.UnitDelete)
	addPolicy(http.MethodGet, "/address/:addressId/token", units, a.AddressTokenIndex)
	addPolicy(http.MethodGet, "/address/token/:id", units, a.AddressTokenShow)
	addPolicy(http.MethodGet, "/address/token/:id/redeem", units, a.AddressTokenRedeemed)
	addPolicy(http.MethodPost, "/address/token/:id/redeem", units, a.AddressTokenRedeem)

	add(http.MethodGet, "/smartlock/auth", models.ScopeSmartlockAuth, a.AuthIndex)
	add(http.MethodGet, "/smartlock/auth/paged", models.ScopeSmartlockAuth, a.AuthPaged)
	add(http.MethodPut, "/smartlock/auth", models.ScopeSmartlockAuth, a.AuthCreateMany)
	add(http.MethodPost, "/smartlock/auth", models.ScopeSmartlockAuth, a.AuthUpdateMany)
	add(http.MethodDelete, "/smartlock/auth", models.ScopeSmartlockAuth, a.AuthDeleteMany)
	add(http.MethodGet, "/smartlock/:smartlockId/auth", models.ScopeSmartlockAuth, a.SmartlockAuthIndex)
	add(http.MethodPut, "/smartlock/:smartlockId/auth", models.ScopeSmartlockAuth, a.SmartlockAuthCreate)
	add(http.MethodGet, "/smartlock/:smartlockId/auth/:id", models.ScopeSmartlockAuth, a.SmartlockAuthShow)
	add(http.MethodPost, "/smartlock/:smartlockId/auth/:id", models.ScopeSmartlockAuth, a.SmartlockAuthUpdate)
	add(http.MethodDelete, "/smartlock/:smartlockId/auth/:id", models.ScopeSmartlockAuth, a.SmartlockAuthDelete)

	// API keys and their tokens (apikeys.go): the account scope, and rights management.
	apiKeys := policy.Policy{Kind: policy.API, Scope: models.ScopeAccount, Right: models.RightRightsManagement}
	addPolicy(http.MethodGet, "/api/key", apiKeys, a.APIKeyIndex)
	addPolicy(http.MethodPut, "/api/key", apiKeys, a.APIKeyCreate)
	addPolicy(http.MethodPost, "/api/key/:apiKeyId", apiKeys, a.APIKeyUpdate)
	addPolicy(http.MethodDelete, "/api/key/:apiKeyId", apiKeys, a.APIKeyDelete)
	addPolicy(http.MethodGet, "/api/key/:apiKeyId/token", apiKeys, a.APIKeyTokenIndex)
	addPolicy(http.MethodPut, "/api/key/:apiKeyId/token", apiKeys, a.APIKeyTokenCreate)
	addPolicy(http.MethodPost, "/api/key/:apiKeyId/token/:id", apiKeys, a.APIKeyTokenUpdate)
	addPolicy(http.MethodDelete, "/api/key/:apiKeyId/token/:id", apiKeys, a.APIKeyTokenDelete)
}

// IsAPIPath reports whether path belongs to the API on the main listener.
func IsAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

// WriteError answers err as the API's JSON error. Internal errors are logged, not shown.
func WriteError(err error, c echo.Context, log *slog.Logger) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "Internal error; the server log has the details"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		switch m := he.Message.(type) {
		case string:
			msg = m
		default:
			msg = strings.ToLower(http.StatusText(code))
		}
		switch code {
		case http.StatusNotFound:
			if he == echo.ErrNotFound {
				msg = "Resource not found"
			}
		case http.StatusMethodNotAllowed:
			msg = "Method not allowed"
		}
	} else if errors.Is(err, models.ErrNotFound) {
		code, msg = http.StatusNotFound, "Resource not found"
	}
	if code >= 500 {
		log.Error("api request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, Error{DetailMessage: msg})
}

// NewEcho returns an Echo instance that serves only the API at the root path (the optional
// second listener, for clients that cannot take a path prefix).
func (a *API) NewEcho(reg *policy.Registry) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = func(err error, c echo.Context) { WriteError(err, c, a.Log) }
	a.Register(e, "", reg)
	return e
}

// formatDate is the Nuki Web API date form: ISO-8601 UTC with milliseconds.
func formatDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// errUnauthorized is Nuki's wording for a missing, unknown, expired or revoked token.
func errUnauthorized() error {
	return echo.NewHTTPError(http.StatusUnauthorized, "Your access token is not authorized")
}

// Context keys set by requireToken.
const (
	ctxToken   = "portier.api.token"
	ctxLogin   = "portier.api.login"
	ctxAccount = "portier.api.account"
)

// bearerToken reads the token from Authorization, accepting "Bearer T", "Bearer: T" (any
// case) and a bare "T", as Nuki Web API clients send all three.
func bearerToken(h string) string {
	h = strings.TrimSpace(h)
	if len(h) >= 6 && strings.EqualFold(h[:6], "bearer") {
		h = strings.TrimSpace(strings.TrimPrefix(h[6:], ":"))
	}
	if h == "" || strings.ContainsAny(h, " \t") || len(h) > 200 {
		return ""
	}
	return h
}

// requireToken admits a request whose bearer token is known, usable, holds the policy's scope
// (or its OrScope), and whose creator still holds the rights that scope needs and the policy's
// right. Cookies are never looked at here.
func (a *API) requireToken(p policy.Policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			raw := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if raw == "" {
				return errUnauthorized()
			}
			// A known token is never throttled (others' bad tokens from the same address must
			// not stop it); an unknown one counts against the address, and past the limit the
			// answer is 429. Tokens have 256 random bits, so this limits noise, not guessing.
			tok, err := a.Store.FindAPITokenByHash(ctx, auth.HashToken(raw))
			if errors.Is(err, models.ErrNotFound) {
				check := db.ThrottleCheck{Key: "api:ip:" + c.RealIP(), Rule: models.ThrottleAPIPerIP}
				if allowed, err := a.Store.ThrottleAttempt(ctx, check); err != nil {
					return err
				} else if !allowed {
					return echo.NewHTTPError(http.StatusTooManyRequests, "Too many requests with invalid tokens from this address; try again later")
				}
				return errUnauthorized()
			}
			if err != nil {
				return err
			}
			if !tok.Usable(a.Now()) {
				return errUnauthorized()
			}
			login, account, err := a.Store.FindSessionLogin(ctx, tok.LoginID)
			if errors.Is(err, models.ErrNotFound) || (err == nil && login.AccountID != tok.AccountID) {
				return errUnauthorized()
			}
			if err != nil {
				return err
			}
			scope := p.Scope
			if !tok.Scopes.Allows(scope) && p.OrScope != "" && tok.Scopes.Allows(p.OrScope) {
				scope = p.OrScope
			}
			if !tok.Scopes.Allows(scope) {
				want := string(p.Scope)
				if p.OrScope != "" {
					want += " or " + string(p.OrScope)
				}
				return echo.NewHTTPError(http.StatusForbidden, "Your access token does not have the scope "+want)
			}
			if !login.EffectiveRights().Has(scope.RequiredRights()) {
				return echo.NewHTTPError(http.StatusForbidden, "The login that created this token no longer has the right for the scope "+string(scope))
			}
			if !login.EffectiveRights().Has(p.Right) {
				return echo.NewHTTPError(http.StatusForbidden, "The login that created this token does not have the right this operation needs ("+rightName(p.Right)+")")
			}
			if p.Box && account.Kind != models.AccountBox {
				return echo.NewHTTPError(http.StatusForbidden, "Only Nuki Box accounts have addresses")
			}
			if err := a.Store.TouchAPIToken(ctx, tok.AccountID, tok.ID, a.Now()); err != nil {
				return err
			}
			c.Set(ctxToken, tok)
			c.Set(ctxLogin, login)
			c.Set(ctxAccount, account)
			return next(c)
		}
	}
}

// rightName names a right of a policy as rights management shows it.
func rightName(r models.Rights) string {
	switch r {
	case models.RightAuthorizations:
		return "view and manage authorizations"
	case models.RightActivityLog:
		return "view the activity log"
	case models.RightRightsManagement:
		return "rights management"
	}
	return fmt.Sprintf("rights %d", r)
}

// tokenOperator is the request's token as the operator of a change (the reach check,
// models.Operator): its login, bounded by its scopes.
func tokenOperator(c echo.Context) models.Operator {
	login, _ := tokenLogin(c)
	tok, _ := c.Get(ctxToken).(models.APIToken)
	return models.TokenOperator(login, tok.Scopes)
}

// actor is the request's token's login as the actor of a change (the audit row, the activity
// log's origin "api").
func actor(c echo.Context) models.Actor {
	login, _ := tokenLogin(c)
	return models.LoginActor(login, models.ActorAPI, c.RealIP())
}

// reachHTTPError answers a *models.ReachRefused as 403 saying what is missing; other errors pass.
func reachHTTPError(err error) error {
	var refused *models.ReachRefused
	if !errors.As(err, &refused) {
		return err
	}
	if refused.Hidden > 0 {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("This change concerns %d smartlock(s) the token's login does not see; "+
			"only a login that sees all of them can make it", refused.Hidden))
	}
	return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("This change would let someone open %d smartlock(s) this token cannot open itself; "+
		"it needs the scope smartlock.action or smartlock.auth, and its login the right to operate those smartlocks or manage their authorizations", refused.NotOpening))
}

func tokenLogin(c echo.Context) (models.Login, models.Account) {
	l, _ := c.Get(ctxLogin).(models.Login)
	a, _ := c.Get(ctxAccount).(models.Account)
	return l, a
}
