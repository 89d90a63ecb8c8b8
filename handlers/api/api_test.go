package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

func apiGet(c *apptest.Client, path, authorization string) apptest.Response {
	req, _ := http.NewRequest(http.MethodGet, c.App.URL+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return c.Do(req)
}

func detail(t *testing.T, res apptest.Response) string {
	t.Helper()
	assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
	var e struct {
		DetailMessage string `json:"detailMessage"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &e), res.Body)
	require.NotEmpty(t, e.DetailMessage)
	return e.DetailMessage
}

func ownerLogin(t *testing.T, app *apptest.App) models.Login {
	l, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	return l
}

func TestAccountReturnsMyAccountWithEveryHeaderForm(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	login := ownerLogin(t, app)
	_, secret := app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()

	for _, h := range []string{"Bearer " + secret, "bearer " + secret, "BEARER " + secret, "Bearer: " + secret, "Bearer:" + secret, secret, "  Bearer   " + secret + " "} {
		res := apiGet(c, "/api/account", h)
		require.Equal(t, http.StatusOK, res.StatusCode, "Authorization: %q → %s", h, res.Body)
	}
	res := apiGet(c, "/api/account", "Bearer "+secret)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Body), &got))
	assert.EqualValues(t, login.ID, got["accountId"])
	assert.EqualValues(t, 0, got["type"])
	assert.Equal(t, apptest.DefaultOwner.Email, got["email"])
	assert.Equal(t, apptest.DefaultOwner.Name, got["name"])
	assert.Equal(t, "en", got["language"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, got["creationDate"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, got["updateDate"])
	// Absent values are left out, never null: the main login has no master and no rights mask.
	for _, k := range []string{"masterAccountId", "rights", "emailVerified"} {
		_, present := got[k]
		assert.False(t, present, k)
	}
	assert.NotContains(t, res.Body, "null")

	// Doubled slashes are tolerated without a redirect.
	res = apiGet(c, "//api//account", "Bearer "+secret)
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// The token's last use is recorded.
	tok, err := app.Store.FindAPITokens(context.Background(), login.AccountID)
	require.NoError(t, err)
	require.NotNil(t, tok[0].LastUsedAt)
}

func TestBoxAccountHasCaretakerType(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	_, login := app.CreateAccount(models.AccountBox, "Hausverwaltung", "hv@example.com", "a long enough password")
	_, secret := app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)
	res := apiGet(app.NewClient(), "/api/account", "Bearer "+secret)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, `"type":2`)
}

func TestTokensThatMustNotWork(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	login := ownerLogin(t, app)
	c := app.NewClient()
	expiry := app.Clock.Now().Add(time.Hour)
	_, expiring := app.CreateToken(login, models.Scopes{models.ScopeAccount}, &expiry)
	revokedTok, revoked := app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)
	_, narrow := app.CreateToken(login, models.Scopes{models.ScopeSmartlockLog}, nil)

	require.Equal(t, http.StatusOK, apiGet(c, "/api/account", "Bearer "+expiring).StatusCode)
	app.Clock.Advance(time.Hour + time.Second)
	res := apiGet(c, "/api/account", "Bearer "+expiring)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "Your access token is not authorized", detail(t, res))

	require.Equal(t, http.StatusOK, apiGet(c, "/api/account", "Bearer "+revoked).StatusCode)
	require.NoError(t, app.Store.InTx(context.Background(), func(tx *db.Tx) error {
		return tx.RevokeAPIToken(context.Background(), login.AccountID, revokedTok.ID)
	}))
	assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", "Bearer "+revoked).StatusCode)

	res = apiGet(c, "/api/account", "Bearer "+narrow)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "scope account")

	for _, h := range []string{"", "Bearer", "Bearer ", "Basic " + narrow, "Bearer " + strings.Repeat("a", 64), "Bearer two words"} {
		assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", h).StatusCode, "%q", h)
	}
}

// Cookies are ignored on the API and tokens on the HTML pages.
func TestAPIIgnoresCookiesAndPagesIgnoreTokens(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	browser := app.Setup()
	_, secret := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeAccount}, nil)

	require.Equal(t, http.StatusOK, browser.Get("/").StatusCode)
	assert.Equal(t, http.StatusUnauthorized, apiGet(browser, "/api/account", "").StatusCode)

	res := apiGet(app.NewClient(), "/", "Bearer "+secret)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, res.Header.Get("Location"), "/login")
}

func TestAPIErrorsAreJSON(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	_, secret := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()

	res := apiGet(c, "/api/no/such/thing", "Bearer "+secret)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "Resource not found", detail(t, res))
	res = apiGet(c, "/api", "")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	detail(t, res)

	req, _ := http.NewRequest(http.MethodDelete, app.URL+"/api/account", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res = c.Do(req)
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "Method not allowed", detail(t, res))
}

func TestInvalidTokensAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	_, secret := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	for i := range models.ThrottleAPIPerIP.MaxFailures {
		res := apiGet(c, "/api/account", "Bearer "+strings.Repeat("0", 63)+string(rune('a'+i%6)))
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	bad := "Bearer " + strings.Repeat("1", 64)
	res := apiGet(c, "/api/account", bad)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	detail(t, res)
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/account", "Bearer "+secret).StatusCode,
		"a valid token is never refused because of bad ones from its address")
	app.Clock.Advance(models.ThrottleAPIPerIP.LockFor + time.Second)
	assert.Equal(t, http.StatusUnauthorized, apiGet(c, "/api/account", bad).StatusCode)
}

func TestTokenOfAnotherAccountSeesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	_, other := app.CreateAccount(models.AccountWeb, "Other GmbH", "olga@example.com", "olgas long password")
	_, secret := app.CreateToken(other, models.Scopes{models.ScopeAccount}, nil)
	res := apiGet(app.NewClient(), "/api/account", "Bearer "+secret)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "olga@example.com")
	assert.NotContains(t, res.Body, apptest.DefaultOwner.Email)
}
