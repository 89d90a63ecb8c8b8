package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// API keys and their tokens (PRODUCT.md R4, the Nuki Web API's ApiKey endpoints). A key is an
// application of the account (description, OAuth redirect URIs) that owns tokens; Portier has no
// OAuth flow, so the URIs are only kept, and the key has no apiKey (client id). The tokens made
// on Settings > API tokens belong to the account's default key, so that GET /api/key/{id}/token
// lists them too: the page and the API show the same tokens. The Advanced API (central webhook)
// and webhook log endpoints of a key are not offered.
//
// Every endpoint needs the account scope and a login with the rights-management right. A token
// is made for the calling token's login, with scopes within that login's rights (otherwise
// 403); a token or key is changed, revoked or deleted only by the main login, its creator, or a
// login that may manage its creator (models.CanManageToken), as on the page.

// APIKey is the Nuki Web API ApiKey object. accountId is the login that made the key (every
// login is an account there, as GET /account shows), or the main login for the default key.
type APIKey struct {
	APIKeyID     int64    `json:"apiKeyId"`
	AccountID    int64    `json:"accountId"`
	Description  string   `json:"description"`
	RedirectURIs []string `json:"redirectUris"`
	CreationDate string   `json:"creationDate"`
}

// APIKeyToken is the Nuki Web API ApiKeyToken object: accountId is the login the token acts
// for; accessToken is there only in the answer to its creation.
type APIKeyToken struct {
	ID           string   `json:"id"`
	AccountID    int64    `json:"accountId"`
	Description  string   `json:"description"`
	AccessToken  string   `json:"accessToken,omitempty"`
	Scopes       []string `json:"scopes"`
	CreationDate string   `json:"creationDate"`
}

// Token ids are written as the authorization ids are (see formatAuthID): the Web API's are
// 24-hex-digit ObjectId strings; the plain decimal row id is read too.
func formatTokenID(id int64) string       { return formatAuthID(id) }
func parseTokenID(s string) (int64, bool) { return parseAuthID(s) }

func toAPIKey(k models.APIKey, ownerID int64) APIKey {
	out := APIKey{APIKeyID: k.ID, AccountID: ownerID, Description: k.Description, RedirectURIs: k.RedirectURIs, CreationDate: formatDate(k.CreatedAt)}
	if k.LoginID != nil {
		out.AccountID = *k.LoginID
	}
	if out.RedirectURIs == nil {
		out.RedirectURIs = []string{}
	}
	return out
}

func toAPIKeyToken(t models.APIToken) APIKeyToken {
	out := APIKeyToken{ID: formatTokenID(t.ID), AccountID: t.LoginID, Description: t.Description, Scopes: []string{}, CreationDate: formatDate(t.CreatedAt)}
	for _, s := range t.Scopes {
		out.Scopes = append(out.Scopes, string(s))
	}
	return out
}

// APIKeyIndex is GET /api/key: the account's keys, oldest first.
func (a *API) APIKeyIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	keys, err := a.Store.FindAPIKeys(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	out := []APIKey{}
	for _, k := range keys {
		out = append(out, toAPIKey(k, owner))
	}
	return c.JSON(http.StatusOK, out)
}

// apiKeyReadOnly are the ApiKey fields a script may send back as it read them; they are ignored.
var apiKeyReadOnly = []string{"apiKeyId", "accountId", "creationDate", "apiKey"}

// APIKeyCreate is PUT /api/key {description, redirectUris}: a key made by the token's login.
func (a *API) APIKeyCreate(c echo.Context) error {
	login, account := tokenLogin(c)
	body, err := decodeObject(c, `{"description":"Home Assistant","redirectUris":["https://ha.example.com/auth/external/callback"]}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"description", "redirectUris"}, apiKeyReadOnly); err != nil {
		return err
	}
	k := models.APIKey{AccountID: account.ID, LoginID: &login.ID, RedirectURIs: []string{}}
	if err := applyAPIKeyFields(body, &k); err != nil {
		return err
	}
	k, err = a.Store.CreateAPIKey(c.Request().Context(), k,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAPIKeyCreated, IP: c.RealIP()})
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIKey(k, owner))
}

// applyAPIKeyFields sets the fields of body (description, redirectUris) on k, checking each.
func applyAPIKeyFields(body map[string]json.RawMessage, k *models.APIKey) error {
	if raw, ok := body["description"]; ok {
		s, err := descriptionField(raw)
		if err != nil {
			return err
		}
		k.Description = s
	}
	if raw, ok := body["redirectUris"]; ok {
		var uris []string
		if !isNull(raw) && json.Unmarshal(raw, &uris) != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "redirectUris must be a list of strings")
		}
		if len(uris) > models.RedirectURIsMax {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("redirectUris holds at most %d URIs", models.RedirectURIsMax))
		}
		k.RedirectURIs = []string{}
		for _, u := range uris {
			if err := models.ValidateRedirectURI(u); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "redirectUris: "+err.Error())
			}
			if !slices.Contains(k.RedirectURIs, u) {
				k.RedirectURIs = append(k.RedirectURIs, u)
			}
		}
	}
	return nil
}

// descriptionField reads the description of a key or token: a single line of at most
// models.APIDescriptionMax characters, surrounding spaces dropped.
func descriptionField(raw json.RawMessage) (string, error) {
	s, err := stringField(raw, "description")
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if models.ValidateAPIDescription(s) != "" {
		return "", echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("description must be one line of at most %d characters", models.APIDescriptionMax))
	}
	return s, nil
}

// findAPIKey loads the key a path's apiKeyId names in the token's account; a deleted key or one
// of another account is 404.
func (a *API) findAPIKey(c echo.Context) (models.APIKey, error) {
	_, account := tokenLogin(c)
	id, err := strconv.ParseInt(c.Param("apiKeyId"), 10, 64)
	if err != nil || id <= 0 {
		return models.APIKey{}, echo.NewHTTPError(http.StatusBadRequest, "apiKeyId must be a positive whole number")
	}
	k, err := a.Store.FindAPIKey(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return k, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("API key %d not found", id))
	}
	return k, err
}

// mayManageKey reports whether the token's login may change or delete k: the main login any
// key, another login its own and those of logins it may manage. The default key, and a key
// whose creator was deleted, are the main login's.
func (a *API) mayManageKey(c echo.Context, k models.APIKey) (bool, error) {
	login, account := tokenLogin(c)
	if login.IsMain {
		return true, nil
	}
	if k.LoginID == nil {
		return false, nil
	}
	creator, err := a.Store.FindLogin(c.Request().Context(), account.ID, *k.LoginID)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return models.CanManageToken(login, creator), nil
}

func errNotYourKey() error {
	return echo.NewHTTPError(http.StatusForbidden, "You may change only your own API keys and those of logins you manage")
}

// APIKeyUpdate is POST /api/key/{apiKeyId} {description, redirectUris}: only the fields sent
// change.
func (a *API) APIKeyUpdate(c echo.Context) error {
	k, err := a.findAPIKey(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"description":"Home Assistant"}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"description", "redirectUris"}, apiKeyReadOnly); err != nil {
		return err
	}
	if ok, err := a.mayManageKey(c, k); err != nil {
		return err
	} else if !ok {
		return errNotYourKey()
	}
	before := k.Description
	if err := applyAPIKeyFields(body, &k); err != nil {
		return err
	}
	login, account := tokenLogin(c)
	err = a.Store.UpdateAPIKey(c.Request().Context(), account.ID, k.ID, k.Description, k.RedirectURIs,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAPIKeyChanged, IP: c.RealIP(),
			Detail: fmt.Sprintf("API key %d %q changed through the API (was %q; %d redirect URIs)", k.ID, k.Description, before, len(k.RedirectURIs))})
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("API key %d not found", k.ID))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIKeyDelete is DELETE /api/key/{apiKeyId}: the key goes and its tokens are revoked, provided
// the token's login may revoke each of them. The default key, which holds the tokens of the
// API tokens page, is not deleted.
func (a *API) APIKeyDelete(c echo.Context) error {
	k, err := a.findAPIKey(c)
	if err != nil {
		return err
	}
	if k.Default {
		return echo.NewHTTPError(http.StatusForbidden, "This is the account's default API key, which holds the tokens of the API tokens page; it cannot be deleted (revoke its tokens one by one)")
	}
	if ok, err := a.mayManageKey(c, k); err != nil {
		return err
	} else if !ok {
		return errNotYourKey()
	}
	login, account := tokenLogin(c)
	ctx := c.Request().Context()
	logins, err := a.accountLogins(c)
	if err != nil {
		return err
	}
	mayRevoke := func(creatorID int64) bool {
		creator, ok := logins[creatorID]
		return login.IsMain || ok && models.CanManageToken(login, creator)
	}
	_, err = a.Store.DeleteAPIKey(ctx, account.ID, k.ID, mayRevoke,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAPIKeyDeleted, IP: c.RealIP(),
			Detail: fmt.Sprintf("API key %d %q deleted through the API", k.ID, k.Description)})
	switch {
	case errors.Is(err, db.ErrKeyHoldsOthersTokens):
		return echo.NewHTTPError(http.StatusForbidden, "The API key holds tokens of logins you may not manage; it was not deleted")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("API key %d not found", k.ID))
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// accountLogins are the main login and the sub-accounts of the token's account, by id.
func (a *API) accountLogins(c echo.Context) (map[int64]models.Login, error) {
	_, account := tokenLogin(c)
	ctx := c.Request().Context()
	main, err := a.Store.FindMainLogin(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	subs, err := a.Store.FindSubAccounts(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	out := map[int64]models.Login{main.ID: main}
	for _, l := range subs {
		out[l.ID] = l
	}
	return out, nil
}

// APIKeyTokenIndex is GET /api/key/{apiKeyId}/token: the key's tokens that are not revoked
// (a revoked token is deleted in the Web API's terms), oldest first.
func (a *API) APIKeyTokenIndex(c echo.Context) error {
	k, err := a.findAPIKey(c)
	if err != nil {
		return err
	}
	_, account := tokenLogin(c)
	tokens, err := a.Store.FindAPITokens(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(tokens, func(x, y models.APIToken) int { return cmp.Compare(x.ID, y.ID) })
	out := []APIKeyToken{}
	for _, t := range tokens {
		if t.APIKeyID == k.ID && t.RevokedAt == nil {
			out = append(out, toAPIKeyToken(t))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// apiKeyTokenReadOnly are the ApiKeyToken fields a script may send back; they are ignored.
var apiKeyTokenReadOnly = []string{"id", "accountId", "accessToken", "creationDate"}

// scopesField reads a list of scopes: known names, at least one; a repeated one counts once.
func scopesField(raw json.RawMessage) (models.Scopes, error) {
	var names []string
	if isNull(raw) || json.Unmarshal(raw, &names) != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "scopes must be a list of strings such as [\"smartlock.readOnly\"]")
	}
	known := models.Scopes(models.AllScopes).String()
	var out models.Scopes
	for _, n := range names {
		s := models.Scope(n)
		if !slices.Contains(models.AllScopes, s) {
			return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("scopes: %q is not a scope Portier knows (known: %s)", n, known))
		}
		if !out.Has(s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "scopes must name at least one scope of "+known)
	}
	return out, nil
}

// scopesBeyondToken refuses (403) a token that would hold scopes the calling token does not: a
// token mints or changes tokens only within its own scopes.
func scopesBeyondToken(c echo.Context, scopes models.Scopes) error {
	if beyond := scopes.Beyond(tokenOperator(c).Scopes); len(beyond) > 0 {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("Your access token does not have the scopes %s: a token can only make "+
			"or change tokens within its own scopes", beyond))
	}
	return nil
}

func errScopesBeyondRights(lacking models.Scopes, who string) error {
	return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("%s does not hold the rights the scopes %s need", who, lacking))
}

// APIKeyTokenCreate is PUT /api/key/{apiKeyId}/token {description, scopes}: a token of the key
// acting for the token's login, with scopes within that login's rights. The answer holds the
// access token; it is not shown again (only its SHA-256 is stored).
func (a *API) APIKeyTokenCreate(c echo.Context) error {
	k, err := a.findAPIKey(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"description":"Home Assistant","scopes":["account","smartlock.readOnly"]}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"description", "scopes"}, apiKeyTokenReadOnly); err != nil {
		return err
	}
	raw, ok := body["scopes"]
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "scopes is required")
	}
	scopes, err := scopesField(raw)
	if err != nil {
		return err
	}
	var description string
	if raw, ok := body["description"]; ok {
		if description, err = descriptionField(raw); err != nil {
			return err
		}
	}
	login, account := tokenLogin(c)
	if lacking := scopes.Lacking(login.EffectiveRights()); len(lacking) > 0 {
		return errScopesBeyondRights(lacking, "Your login")
	}
	if err := scopesBeyondToken(c, scopes); err != nil {
		return err
	}
	secret := auth.NewAPIToken()
	tok, err := a.Store.CreateAPIToken(c.Request().Context(), models.APIToken{AccountID: account.ID, LoginID: login.ID,
		Description: description, Scopes: scopes, APIKeyID: k.ID}, auth.HashToken(secret),
		models.AuditEntry{Actor: login.Email, Kind: models.AuditTokenCreated, IP: c.RealIP()})
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("API key %d not found", k.ID))
	}
	if err != nil {
		return err
	}
	out := toAPIKeyToken(tok)
	out.AccessToken = secret
	return c.JSON(http.StatusOK, out)
}

// findKeyToken loads the key and the live token of it that the path names, the token's
// creator, and checks that the token's login may manage that token.
func (a *API) findKeyToken(c echo.Context) (models.APIToken, models.Login, error) {
	k, err := a.findAPIKey(c)
	if err != nil {
		return models.APIToken{}, models.Login{}, err
	}
	login, account := tokenLogin(c)
	ctx := c.Request().Context()
	id, ok := parseTokenID(c.Param("id"))
	if !ok {
		return models.APIToken{}, models.Login{}, echo.NewHTTPError(http.StatusBadRequest, "the token id must be the id GET /api/key/{apiKeyId}/token gives")
	}
	notFound := echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Token %s of API key %d not found", c.Param("id"), k.ID))
	tok, err := a.Store.FindAPIToken(ctx, account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (tok.APIKeyID != k.ID || tok.RevokedAt != nil) {
		return tok, models.Login{}, notFound
	}
	if err != nil {
		return tok, models.Login{}, err
	}
	creator, err := a.Store.FindLogin(ctx, account.ID, tok.LoginID)
	if err != nil {
		return tok, creator, err
	}
	if !models.CanManageToken(login, creator) {
		return tok, creator, echo.NewHTTPError(http.StatusForbidden, "You may change only your own tokens and those of logins you manage")
	}
	return tok, creator, nil
}

// APIKeyTokenUpdate is POST /api/key/{apiKeyId}/token/{id} {description, scopes}: only the
// fields sent change; the scopes stay within the rights of the login the token acts for.
func (a *API) APIKeyTokenUpdate(c echo.Context) error {
	tok, creator, err := a.findKeyToken(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"description":"Home Assistant","scopes":["smartlock.readOnly"]}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"description", "scopes"}, apiKeyTokenReadOnly); err != nil {
		return err
	}
	before := tok.Scopes
	if raw, ok := body["description"]; ok {
		if tok.Description, err = descriptionField(raw); err != nil {
			return err
		}
	}
	if raw, ok := body["scopes"]; ok {
		if tok.Scopes, err = scopesField(raw); err != nil {
			return err
		}
	}
	if lacking := tok.Scopes.Lacking(creator.EffectiveRights()); len(lacking) > 0 {
		return errScopesBeyondRights(lacking, "The login this token acts for")
	}
	if err := scopesBeyondToken(c, tok.Scopes); err != nil {
		return err
	}
	login, account := tokenLogin(c)
	err = a.Store.UpdateAPIToken(c.Request().Context(), account.ID, tok.ID, tok.Description, tok.Scopes,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditTokenChanged, IP: c.RealIP(),
			Detail: fmt.Sprintf("API token %d %q of %s changed through the API: scopes %s (were %s)", tok.ID, tok.Description, creator.Email, tok.Scopes, before)})
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Token %s not found", c.Param("id")))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIKeyTokenDelete is DELETE /api/key/{apiKeyId}/token/{id}: the token is revoked; it stops
// working on the next request and stays listed as revoked on the API tokens page.
func (a *API) APIKeyTokenDelete(c echo.Context) error {
	tok, creator, err := a.findKeyToken(c)
	if err != nil {
		return err
	}
	login, account := tokenLogin(c)
	err = a.Store.RevokeAPIToken(c.Request().Context(), account.ID, tok.ID,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditTokenRevoked, IP: c.RealIP(),
			Detail: fmt.Sprintf("API token %d %q of %s revoked through the API", tok.ID, tok.Description, creator.Email)})
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Token %s not found", c.Param("id")))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
