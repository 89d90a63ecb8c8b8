package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/handlers/api/apispec"
	"portier/models"
)

// Status codes of the API key operations that the specification leaves out.
var (
	allowKey404 = apispec.AllowStatus(http.StatusNotFound, "a key or token that is not in the token's account, or deleted")
	allowKey400 = apispec.AllowStatus(http.StatusBadRequest, "invalid input, as PUT and POST document it")
)

type apiKeyJSON struct {
	APIKeyID     int64    `json:"apiKeyId"`
	AccountID    int64    `json:"accountId"`
	Description  string   `json:"description"`
	RedirectURIs []string `json:"redirectUris"`
	CreationDate string   `json:"creationDate"`
}

type apiKeyTokenJSON struct {
	ID           string   `json:"id"`
	AccountID    int64    `json:"accountId"`
	Description  string   `json:"description"`
	AccessToken  string   `json:"accessToken"`
	Scopes       []string `json:"scopes"`
	CreationDate string   `json:"creationDate"`
}

func listKeys(t *testing.T, c *apptest.Client, token string) []apiKeyJSON {
	t.Helper()
	res := apiGet(c, "/api/api/key", "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/api/key", res.StatusCode, res.Body)
	return decodeJSON[[]apiKeyJSON](t, res)
}

func listKeyTokens(t *testing.T, c *apptest.Client, token string, key int64) []apiKeyTokenJSON {
	t.Helper()
	res := apiGet(c, fmt.Sprintf("/api/api/key/%d/token", key), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/api/key/{apiKeyId}/token", res.StatusCode, res.Body)
	return decodeJSON[[]apiKeyTokenJSON](t, res)
}

func createKey(t *testing.T, c *apptest.Client, token, body string) apiKeyJSON {
	t.Helper()
	apispec.AssertRequest(t, "PUT", "/api/key", body)
	res := apiSend(c, http.MethodPut, "/api/api/key", token, body)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "PUT", "/api/key", res.StatusCode, res.Body)
	return decodeJSON[apiKeyJSON](t, res)
}

func createKeyToken(t *testing.T, c *apptest.Client, token string, key int64, body string) apiKeyTokenJSON {
	t.Helper()
	apispec.AssertRequest(t, "PUT", "/api/key/{apiKeyId}/token", body)
	res := apiSend(c, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key), token, body)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "PUT", "/api/key/{apiKeyId}/token", res.StatusCode, res.Body)
	return decodeJSON[apiKeyTokenJSON](t, res)
}

// The whole life of a key and its tokens through the API, each answer checked against the
// specification.
func TestAPIKeysThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	// A token makes tokens within its own scopes: this one may make read-only ones.
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount, models.ScopeSmartlockReadOnly}, nil)
	c := app.NewClient()

	// The token made outside the API (page, CLI, here the test) is in the default key.
	keys := listKeys(t, c, token)
	require.Len(t, keys, 1)
	def := keys[0]
	assert.Equal(t, models.DefaultAPIKeyDescription, def.Description)
	assert.Equal(t, owner.ID, def.AccountID)
	assert.Equal(t, []string{}, def.RedirectURIs)
	toks := listKeyTokens(t, c, token, def.APIKeyID)
	require.Len(t, toks, 1)
	assert.Len(t, toks[0].ID, 24, "an ObjectId-shaped id")
	assert.Empty(t, toks[0].AccessToken, "the secret is never listed")
	assert.Equal(t, []string{"account", "smartlock.readOnly"}, toks[0].Scopes)

	k := createKey(t, c, token, `{"description":"  Home Assistant ","redirectUris":["https://ha.example.com/auth/external/callback","https://ha.example.com/auth/external/callback"]}`)
	assert.Equal(t, "Home Assistant", k.Description)
	assert.Equal(t, []string{"https://ha.example.com/auth/external/callback"}, k.RedirectURIs)
	assert.Equal(t, owner.ID, k.AccountID)
	assert.Len(t, listKeys(t, c, token), 2)
	assert.Empty(t, listKeyTokens(t, c, token, k.APIKeyID))

	keyPath := fmt.Sprintf("/api/api/key/%d", k.APIKeyID)
	body := `{"description":"HA"}`
	apispec.AssertRequest(t, "POST", "/api/key/{apiKeyId}", body)
	res := apiSend(c, http.MethodPost, keyPath, token, body)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/api/key/{apiKeyId}", res.StatusCode, res.Body)
	got := listKeys(t, c, token)[1]
	assert.Equal(t, "HA", got.Description)
	assert.Equal(t, k.RedirectURIs, got.RedirectURIs, "only the fields sent change")

	created := createKeyToken(t, c, token, k.APIKeyID, `{"description":"Dashboard","scopes":["smartlock.readOnly","account"]}`)
	require.Len(t, created.AccessToken, 64)
	assert.Equal(t, []string{"smartlock.readOnly", "account"}, created.Scopes)
	assert.Equal(t, owner.ID, created.AccountID, "acts for the calling token's login")
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/smartlock", "Bearer "+created.AccessToken).StatusCode, "the new token works")
	listed := listKeyTokens(t, c, token, k.APIKeyID)
	require.Len(t, listed, 1)
	assert.Equal(t, created.ID, listed[0].ID)
	assert.Empty(t, listed[0].AccessToken)

	tokPath := keyPath + "/token/" + created.ID
	body = `{"scopes":["account"]}`
	apispec.AssertRequest(t, "POST", "/api/key/{apiKeyId}/token/{id}", body)
	res = apiSend(c, http.MethodPost, tokPath, token, body)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/api/key/{apiKeyId}/token/{id}", res.StatusCode, res.Body)
	assert.Equal(t, http.StatusForbidden, apiGet(c, "/api/smartlock", "Bearer "+created.AccessToken).StatusCode, "its scopes changed")
	listed = listKeyTokens(t, c, token, k.APIKeyID)
	assert.Equal(t, "Dashboard", listed[0].Description)
	// The plain row id names the token too.
	var rowID int64
	_, err := fmt.Sscanf(created.ID, "%x", &rowID)
	require.NoError(t, err)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("%s/token/%d", keyPath, rowID), token, `{"description":"Wall panel"}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)

	res = apiSend(c, http.MethodDelete, tokPath, token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "DELETE", "/api/key/{apiKeyId}/token/{id}", res.StatusCode, res.Body)
	assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", "Bearer "+created.AccessToken).StatusCode)
	assert.Empty(t, listKeyTokens(t, c, token, k.APIKeyID), "a revoked token is gone from the API's list")
	res = apiSend(c, http.MethodDelete, tokPath, token, ``)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "DELETE", "/api/key/{apiKeyId}/token/{id}", res.StatusCode, res.Body, allowKey404)

	second := createKeyToken(t, c, token, k.APIKeyID, `{"scopes":["account"]}`)
	res = apiSend(c, http.MethodDelete, keyPath, token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "DELETE", "/api/key/{apiKeyId}", res.StatusCode, res.Body)
	assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", "Bearer "+second.AccessToken).StatusCode, "the key's tokens are revoked")
	assert.Len(t, listKeys(t, c, token), 1)
	res = apiGet(c, keyPath+"/token", "Bearer "+token)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/api/key/{apiKeyId}/token", res.StatusCode, res.Body, allowKey404)

	// The default key stays.
	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", def.APIKeyID), token, ``)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "default API key")
	apispec.AssertResponse(t, "DELETE", "/api/key/{apiKeyId}", res.StatusCode, res.Body, allow403)

	kinds := map[string]int{}
	for _, kind := range []string{models.AuditAPIKeyCreated, models.AuditAPIKeyChanged, models.AuditAPIKeyDeleted, models.AuditTokenCreated, models.AuditTokenChanged, models.AuditTokenRevoked} {
		kinds[kind] = len(auditKinds(t, app, owner.AccountID, kind))
	}
	assert.Equal(t, map[string]int{models.AuditAPIKeyCreated: 1, models.AuditAPIKeyChanged: 1, models.AuditAPIKeyDeleted: 1,
		models.AuditTokenCreated: 3, models.AuditTokenChanged: 2, models.AuditTokenRevoked: 1}, kinds)
}

func TestAPIKeyBadInput(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	k := createKey(t, c, token, `{"description":"Script"}`)
	keyPath := fmt.Sprintf("/api/api/key/%d", k.APIKeyID)

	for _, tc := range []struct {
		method, path, op, body string
		status                 int
	}{
		{"PUT", "/api/api/key", "/api/key", `[]`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"description":"x","redirect":"https://a.example/"}`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"description":"` + strings.Repeat("x", 101) + `"}`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"description":5}`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"redirectUris":"https://a.example/"}`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"redirectUris":["/relative"]}`, 400},
		{"PUT", "/api/api/key", "/api/key", `{"redirectUris":["https://a.example/#frag"]}`, 400},
		{"POST", keyPath, "/api/key/{apiKeyId}", `{"description":"a\nb"}`, 400},
		{"POST", "/api/api/key/abc", "/api/key/{apiKeyId}", `{"description":"x"}`, 400},
		{"POST", "/api/api/key/9999", "/api/key/{apiKeyId}", `{"description":"x"}`, 404},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"description":"x"}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":[]}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":["account","webhook.decentral"]}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":["account,smartlock"]}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":"account"}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":["account",""]}`, 400},
		{"PUT", keyPath + "/token", "/api/key/{apiKeyId}/token", `{"scopes":["Account"]}`, 400},
		{"PUT", "/api/api/key/9999/token", "/api/key/{apiKeyId}/token", `{"scopes":["account"]}`, 404},
		{"POST", keyPath + "/token/zz", "/api/key/{apiKeyId}/token/{id}", `{"scopes":["account"]}`, 400},
		{"POST", keyPath + "/token/000000000000000000000999", "/api/key/{apiKeyId}/token/{id}", `{"scopes":["account"]}`, 404},
		{"DELETE", "/api/api/key/9999", "/api/key/{apiKeyId}", ``, 404},
	} {
		name := tc.method + " " + tc.path + " " + tc.body
		res := apiSend(c, tc.method, tc.path, token, tc.body)
		require.Equal(t, tc.status, res.StatusCode, "%s: %s", name, res.Body)
		detail(t, res)
		apispec.AssertResponse(t, tc.method, tc.op, res.StatusCode, res.Body, allowKey400, allowKey404)
	}
	// A token of the default key is not found under another key.
	def := listKeys(t, c, token)[0]
	id := listKeyTokens(t, c, token, def.APIKeyID)[0].ID
	res := apiSend(c, http.MethodDelete, keyPath+"/token/"+id, token, ``)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Len(t, listKeys(t, c, token), 2, "nothing deleted")
	assert.Len(t, auditKinds(t, app, owner.AccountID, models.AuditAPIKeyCreated), 1, "nothing written by the refused requests")
	assert.Empty(t, auditKinds(t, app, owner.AccountID, models.AuditAPIKeyChanged))
}

// The API needs the account scope and rights management; the scopes of a token stay within the
// rights of the login it acts for; a sub-account changes only what it may manage.
func TestAPIKeysFollowRights(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	main := ownerLogin(t, app)
	_, mainToken := app.CreateToken(main, models.Scopes{models.ScopeAccount}, nil)
	lea := app.CreateSubAccount(main, "lea@example.com", models.Grant{Rights: models.RightRightsManagement | models.RightActivityLog})
	_, leaToken := app.CreateToken(lea, models.Scopes{models.ScopeAccount, models.ScopeSmartlockLog}, nil)
	reader := app.CreateSubAccount(main, "otto@example.com", models.Grant{Rights: models.RightActivityLog})
	_, readerToken := app.CreateToken(reader, models.Scopes{models.ScopeAccount, models.ScopeSmartlockLog}, nil)
	_, narrow := app.CreateToken(main, models.Scopes{models.ScopeSmartlock}, nil)
	c := app.NewClient()

	res := apiGet(c, "/api/api/key", "Bearer "+readerToken)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no rights management")
	assert.Contains(t, detail(t, res), "rights management")
	apispec.AssertResponse(t, "GET", "/api/key", res.StatusCode, res.Body, allow403)
	res = apiGet(c, "/api/api/key", "Bearer "+narrow)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no account scope")
	res = apiGet(c, "/api/api/key", "")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/api/key", res.StatusCode, res.Body)

	def := listKeys(t, c, leaToken)[0]
	defTokens := func() int { return len(listKeyTokens(t, c, mainToken, def.APIKeyID)) }
	before := defTokens()

	// Lea makes tokens within her rights only.
	res = apiSend(c, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", def.APIKeyID), leaToken, `{"description":"x","scopes":["smartlock.log","smartlock.action"]}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "smartlock.action")
	apispec.AssertResponse(t, "PUT", "/api/key/{apiKeyId}/token", res.StatusCode, res.Body, allow403)
	assert.Equal(t, before, defTokens(), "nothing written")
	leaLog := createKeyToken(t, c, leaToken, def.APIKeyID, `{"description":"Lea's log","scopes":["smartlock.log"]}`)
	assert.Equal(t, lea.ID, leaLog.AccountID)
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/smartlock/log", "Bearer "+leaLog.AccessToken).StatusCode)

	// Lea's own key; the main login's key, which she may not change.
	leaKey := createKey(t, c, leaToken, `{"description":"Lea's app"}`)
	assert.Equal(t, lea.ID, leaKey.AccountID)
	mainKey := createKey(t, c, mainToken, `{"description":"Owner's app"}`)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d", mainKey.APIKeyID), leaToken, `{"description":"mine now"}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	apispec.AssertResponse(t, "POST", "/api/key/{apiKeyId}", res.StatusCode, res.Body, allow403)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d", def.APIKeyID), leaToken, `{"description":"mine now"}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "the default key is the main login's")
	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", mainKey.APIKeyID), leaToken, ``)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d", leaKey.APIKeyID), leaToken, `{"redirectUris":["https://lea.example/cb"]}`)
	assert.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)

	// Tokens of the main login are not hers to change or revoke; those of a login she manages are.
	mainTok := createKeyToken(t, c, mainToken, leaKey.APIKeyID, `{"description":"Owner's token in Lea's key","scopes":["account"]}`)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d/token/%s", leaKey.APIKeyID, mainTok.ID), leaToken, `{"scopes":["smartlock.log"]}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/api/key/%d/token/%s", leaKey.APIKeyID, mainTok.ID), leaToken, ``)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	apispec.AssertResponse(t, "DELETE", "/api/key/{apiKeyId}/token/{id}", res.StatusCode, res.Body, allow403)
	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", leaKey.APIKeyID), leaToken, ``)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "her key holds the main login's token")
	assert.Contains(t, detail(t, res), "not deleted")
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/account", "Bearer "+mainTok.AccessToken).StatusCode)

	readerTok := listKeyTokens(t, c, leaToken, def.APIKeyID)
	var readerID string
	for _, x := range readerTok {
		if x.AccountID == reader.ID {
			readerID = x.ID
		}
	}
	require.NotEmpty(t, readerID)
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d/token/%s", def.APIKeyID, readerID), leaToken, `{"scopes":["smartlock.log","smartlock"]}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "not beyond the rights of the login the token acts for")
	assert.Contains(t, detail(t, res), "smartlock")
	res = apiSend(c, http.MethodPost, fmt.Sprintf("/api/api/key/%d/token/%s", def.APIKeyID, readerID), leaToken, `{"scopes":["smartlock.log"],"description":"Otto's log"}`)
	assert.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusForbidden, apiGet(c, "/api/account", "Bearer "+readerToken).StatusCode, "the account scope is gone")

	// The main login deletes Lea's key with the tokens in it.
	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", leaKey.APIKeyID), mainToken, ``)
	assert.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", "Bearer "+mainTok.AccessToken).StatusCode)

	// The page shows the API's tokens: its key, and the revoked ones.
	page := owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, page.StatusCode)
	doc := page.Doc(t)
	var keyLabel, status string
	doc.Find(`[data-testid="token-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`[data-testid="token-description"]`).Text()) == "Owner's token in Lea's key" {
			keyLabel = strings.TrimSpace(s.Find(`[data-testid="token-key"]`).Text())
			status = strings.TrimSpace(s.Find(`[data-testid="token-status"]`).Text())
		}
	})
	assert.Equal(t, "API key: Lea's app", keyLabel)
	assert.Equal(t, "Revoked", status)
	assert.Contains(t, page.Body, "Lea&#39;s log")
}

// Keys of another account are not found, and its tokens never appear.
func TestAPIKeysOfAnotherAccount(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	_, mainToken := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeAccount}, nil)
	_, other := app.CreateAccount(models.AccountWeb, "Other", "olga@example.com", "another long password")
	_, otherToken := app.CreateToken(other, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	theirs := listKeys(t, c, otherToken)[0]
	ours := listKeys(t, c, mainToken)
	require.Len(t, ours, 1)
	assert.NotEqual(t, theirs.APIKeyID, ours[0].APIKeyID)
	for _, r := range []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/api/api/key/%d/token", theirs.APIKeyID), ``},
		{"POST", fmt.Sprintf("/api/api/key/%d", theirs.APIKeyID), `{"description":"x"}`},
		{"PUT", fmt.Sprintf("/api/api/key/%d/token", theirs.APIKeyID), `{"scopes":["account"]}`},
		{"DELETE", fmt.Sprintf("/api/api/key/%d/token/%s", theirs.APIKeyID, listKeyTokens(t, c, otherToken, theirs.APIKeyID)[0].ID), ``},
	} {
		res := apiSend(c, r.method, r.path, mainToken, r.body)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s", r.method, r.path)
	}
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/account", "Bearer "+otherToken).StatusCode)
}
