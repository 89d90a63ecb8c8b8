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

	"portier/app"
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

// apiKeyBody is ApiKeyCreate and ApiKeyUpdate, and the ApiKey fields a script may send back as
// it read them, which are ignored.
type apiKeyBody struct {
	Description  json.RawMessage `json:"description"`
	RedirectURIs json.RawMessage `json:"redirectUris"`
	APIKeyID     json.RawMessage `json:"apiKeyId" api:"readonly"`
	AccountID    json.RawMessage `json:"accountId" api:"readonly"`
	CreationDate json.RawMessage `json:"creationDate" api:"readonly"`
	APIKey       json.RawMessage `json:"apiKey" api:"readonly"`
}

// APIKeyCreate is PUT /api/key {description, redirectUris}: a key made by the token's login.
func (a *API) APIKeyCreate(c echo.Context) error {
	login, account := tokenLogin(c)
	var body apiKeyBody
	if err := decodeBody(c, &body, `{"description":"Home Assistant","redirectUris":["https://ha.example.com/auth/external/callback"]}`); err != nil {
		return err
	}
	k := models.APIKey{AccountID: account.ID, LoginID: &login.ID, RedirectURIs: []string{}}
	if err := body.apply(&k); err != nil {
		return err
	}
	k, err := a.App.CreateAPIKey(c.Request().Context(), tokenOperator(c), actor(c), k.Description, k.RedirectURIs)
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIKey(k, owner))
}

// apply sets the fields sent (description, redirectUris) on k, checking each.
func (b apiKeyBody) apply(k *models.APIKey) error {
	if b.Description != nil {
		s, err := descriptionField(b.Description)
		if err != nil {
			return err
		}
		k.Description = s
	}
	if raw := b.RedirectURIs; raw != nil {
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
	var body apiKeyBody
	if err := decodeBody(c, &body, `{"description":"Home Assistant"}`); err != nil {
		return err
	}
	before := k.Description
	if err := body.apply(&k); err != nil {
		return err
	}
	err = a.App.UpdateAPIKey(c.Request().Context(), tokenOperator(c), actor(c), k, before)
	if errors.Is(err, models.ErrNotManageable) {
		return errNotYourKey()
	}
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
	err = a.App.DeleteAPIKey(c.Request().Context(), tokenOperator(c), actor(c), k)
	switch {
	case errors.Is(err, app.ErrDefaultAPIKey):
		return echo.NewHTTPError(http.StatusForbidden, "This is the account's default API key, which holds the tokens of the API tokens page; it cannot be deleted (revoke its tokens one by one)")
	case errors.Is(err, models.ErrNotManageable):
		return errNotYourKey()
	case errors.Is(err, db.ErrKeyHoldsOthersTokens):
		return echo.NewHTTPError(http.StatusForbidden, "The API key holds tokens of logins you may not manage; it was not deleted")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("API key %d not found", k.ID))
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
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

// apiKeyTokenBody is ApiKeyTokenCreate and ApiKeyTokenUpdate, and the ApiKeyToken fields a
// script may send back, which are ignored.
type apiKeyTokenBody struct {
	Description  json.RawMessage `json:"description"`
	Scopes       json.RawMessage `json:"scopes"`
	ID           json.RawMessage `json:"id" api:"readonly"`
	AccountID    json.RawMessage `json:"accountId" api:"readonly"`
	AccessToken  json.RawMessage `json:"accessToken" api:"readonly"`
	CreationDate json.RawMessage `json:"creationDate" api:"readonly"`
}

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

// scopesRefusedError answers what the one rule of a token's scopes refuses (app.ScopesRefused):
// who is the login the token acts for, as the answer names it.
func scopesRefusedError(refused *app.ScopesRefused, who string) error {
	if len(refused.Lacking) > 0 {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("%s does not hold the rights the scopes %s need", who, refused.Lacking))
	}
	return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("Your access token does not have the scopes %s: a token can only make "+
		"or change tokens within its own scopes", refused.BeyondToken))
}

// APIKeyTokenCreate is PUT /api/key/{apiKeyId}/token {description, scopes}: a token of the key
// acting for the token's login, with scopes within that login's rights. The answer holds the
// access token; it is not shown again (only its SHA-256 is stored).
func (a *API) APIKeyTokenCreate(c echo.Context) error {
	k, err := a.findAPIKey(c)
	if err != nil {
		return err
	}
	var body apiKeyTokenBody
	if err := decodeBody(c, &body, `{"description":"Home Assistant","scopes":["account","smartlock.readOnly"]}`); err != nil {
		return err
	}
	if body.Scopes == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "scopes is required")
	}
	scopes, err := scopesField(body.Scopes)
	if err != nil {
		return err
	}
	var description string
	if body.Description != nil {
		if description, err = descriptionField(body.Description); err != nil {
			return err
		}
	}
	tok, secret, err := a.App.CreateToken(c.Request().Context(), tokenOperator(c), actor(c),
		app.NewToken{Description: description, Scopes: scopes, APIKeyID: k.ID})
	var refused *app.ScopesRefused
	if errors.As(err, &refused) {
		return scopesRefusedError(refused, "Your login")
	}
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

// findKeyToken loads the key and the live token of it that the path names (whether the token's
// login may change it is App's to say).
func (a *API) findKeyToken(c echo.Context) (models.APIToken, error) {
	k, err := a.findAPIKey(c)
	if err != nil {
		return models.APIToken{}, err
	}
	_, account := tokenLogin(c)
	id, ok := parseTokenID(c.Param("id"))
	if !ok {
		return models.APIToken{}, echo.NewHTTPError(http.StatusBadRequest, "the token id must be the id GET /api/key/{apiKeyId}/token gives")
	}
	tok, err := a.Store.FindAPIToken(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (tok.APIKeyID != k.ID || tok.RevokedAt != nil) {
		return tok, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Token %s of API key %d not found", c.Param("id"), k.ID))
	}
	return tok, err
}

// errNotYourToken answers a token the calling token's login may not change.
func errNotYourToken() error {
	return echo.NewHTTPError(http.StatusForbidden, "You may change only your own tokens and those of logins you manage")
}

// APIKeyTokenUpdate is POST /api/key/{apiKeyId}/token/{id} {description, scopes}: only the
// fields sent change; the scopes stay within the rights of the login the token acts for.
func (a *API) APIKeyTokenUpdate(c echo.Context) error {
	tok, err := a.findKeyToken(c)
	if err != nil {
		return err
	}
	var body apiKeyTokenBody
	if err := decodeBody(c, &body, `{"description":"Home Assistant","scopes":["smartlock.readOnly"]}`); err != nil {
		return err
	}
	var description *string
	var scopes models.Scopes
	if body.Description != nil {
		d, err := descriptionField(body.Description)
		if err != nil {
			return err
		}
		description = &d
	}
	if body.Scopes != nil {
		if scopes, err = scopesField(body.Scopes); err != nil {
			return err
		}
	}
	_, err = a.App.UpdateToken(c.Request().Context(), tokenOperator(c), actor(c), tok.ID, description, scopes)
	var refused *app.ScopesRefused
	if errors.As(err, &refused) {
		return scopesRefusedError(refused, "The login this token acts for")
	}
	if errors.Is(err, models.ErrNotManageable) {
		return errNotYourToken()
	}
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
	tok, err := a.findKeyToken(c)
	if err != nil {
		return err
	}
	_, err = a.App.RevokeToken(c.Request().Context(), tokenOperator(c), actor(c), tok.ID)
	if errors.Is(err, models.ErrNotManageable) {
		return errNotYourToken()
	}
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, app.ErrTokenRevoked) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Token %s not found", c.Param("id")))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
