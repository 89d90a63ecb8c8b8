package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// tokenEnv is an account with its owner signed in.
type tokenEnv struct {
	app   *apptest.App
	owner *apptest.Client
	main  models.Login
}

func newTokenEnv(t *testing.T) tokenEnv {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	main, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	return tokenEnv{app: app, owner: c, main: main}
}

// sub adds a sub-account with rights (all devices) and signs it in.
func (e tokenEnv) sub(t *testing.T, email string, rights models.Rights) (models.Login, *apptest.Client) {
	t.Helper()
	l := e.app.CreateSubAccount(e.main, email, models.Grant{Rights: rights})
	c := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(email, apptest.SubAccountPassword).StatusCode)
	return l, c
}

func (e tokenEnv) tokens(t *testing.T) []models.APIToken {
	t.Helper()
	toks, err := e.app.Store.FindAPITokens(context.Background(), e.main.AccountID)
	require.NoError(t, err)
	return toks
}

func (e tokenEnv) audit(t *testing.T, kind string) []models.AuditEntry {
	t.Helper()
	all, err := e.app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: e.main.AccountID, Limit: 500})
	require.NoError(t, err)
	var out []models.AuditEntry
	for _, a := range all {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// createToken posts the form, follows its redirect and returns the secret shown there.
func createToken(t *testing.T, c *apptest.Client, description string, scopes ...models.Scope) string {
	t.Helper()
	form := url.Values{"description": {description}}
	for _, s := range scopes {
		form.Add("scope", string(s))
	}
	res := postCreateToken(t, c, form)
	secret := res.TestID(t, "new-token-secret")
	require.Len(t, secret, 64)
	return secret
}

// postCreateToken posts the create form, checks that it redirects to the list (post/redirect/
// get) and returns the list it redirects to.
func postCreateToken(t *testing.T, c *apptest.Client, form url.Values) apptest.Response {
	t.Helper()
	res := c.PostForm("/settings/tokens", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/settings/tokens", res.Header.Get("Location"))
	return c.Get("/settings/tokens")
}

func callAPI(t *testing.T, app *apptest.App, path, secret string) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, app.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	return app.NewClient().Do(req)
}

// tokenRow finds the list's row of a token by its description.
func tokenRow(t *testing.T, res apptest.Response, description string) *goquery.Selection {
	t.Helper()
	var row *goquery.Selection
	res.Doc(t).Find(`[data-testid="token-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`[data-testid="token-description"]`).Text()) == description {
			row = s
		}
	})
	require.NotNil(t, row, "no row for %q", description)
	return row
}

func cell(row *goquery.Selection, id string) string {
	return strings.TrimSpace(row.Find(`[data-testid="` + id + `"]`).Text())
}

// The main login creates a token; its secret is shown once, works with the API, and the list
// tells who made it, when, until when, when it was last used and that it is active.
func TestAPITokenCreatedOnThePageIsShownOnceAndWorks(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	res := e.owner.PostForm("/settings/account/preferences", url.Values{"language": {"en"}, "time_zone": {"Europe/Vienna"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = e.owner.Get("/settings/account")
	assert.Equal(t, 1, res.Doc(t).Find(`.subnav a[href="/settings/tokens"]`).Length(), "a tab of Settings")
	res = e.owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "tokens-empty"))
	doc := res.Doc(t)
	assert.Equal(t, len(models.AllScopes), doc.Find(`input[name="scope"]`).Length())
	assert.Zero(t, doc.Find(`input[name="scope"]:disabled`).Length(), "the main login holds every right")
	assert.Equal(t, "2026-03-03", doc.Find(`#expires`).AttrOr("min", ""), "the first day an expiry may name")

	form := url.Values{"description": {"  Home Assistant  "}, "scope": {"account", "smartlock.log", "account"}, "expires": {"2026-04-01"}}
	post := e.owner.PostForm("/settings/tokens", form)
	require.Equal(t, http.StatusSeeOther, post.StatusCode, post.Body)
	assert.Equal(t, "/settings/tokens", post.Header.Get("Location"))
	res = e.owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	secret := res.TestID(t, "new-token-secret")
	require.Len(t, secret, 64)
	assert.NotContains(t, post.Body, secret)
	for _, ck := range append(post.Cookies(), res.Cookies()...) {
		assert.NotContains(t, ck.Value, secret, "the cookie holds only the session id")
	}
	assert.Contains(t, res.TestID(t, "new-token"), "Home Assistant")
	row := tokenRow(t, res, "Home Assistant")
	assert.Equal(t, []string{"account", "smartlock.log"}, strings.Fields(cell(row, "token-scopes")))
	assert.Equal(t, apptest.DefaultOwner.Name, cell(row, "token-creator"))
	assert.Equal(t, "Active", cell(row, "token-status"))
	assert.Equal(t, "Never", cell(row, "token-last-used"))
	assert.Contains(t, cell(row, "token-expires"), "2026", "expires shown")
	assert.Empty(t, res.Doc(t).Find(`#description`).AttrOr("value", ""), "the form is empty again")

	toks := e.tokens(t)
	require.Len(t, toks, 1)
	assert.Equal(t, "Home Assistant", toks[0].Description)
	assert.Equal(t, models.Scopes{models.ScopeAccount, models.ScopeSmartlockLog}, toks[0].Scopes)
	require.NotNil(t, toks[0].ExpiresAt)
	assert.Equal(t, time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), toks[0].ExpiresAt.UTC(), "the start of the day in the login's zone (Europe/Vienna, CEST)")
	assert.Len(t, e.audit(t, models.AuditTokenCreated), 1)

	res = e.owner.Get("/settings/tokens")
	assert.NotContains(t, res.Body, secret, "reloading does not show the secret again")
	assert.Empty(t, res.TestID(t, "new-token"))

	api := callAPI(t, e.app, "/api/account", secret)
	assert.Equal(t, http.StatusOK, api.StatusCode, api.Body)
	res = e.owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.NotEqual(t, "Never", cell(tokenRow(t, res, "Home Assistant"), "token-last-used"))

	e.app.Clock.Advance(31 * 24 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, e.app, "/api/account", secret).StatusCode)
	require.Equal(t, http.StatusSeeOther, e.owner.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode, "the session timed out meanwhile")
	res = e.owner.Get("/settings/tokens")
	row = tokenRow(t, res, "Home Assistant")
	assert.Equal(t, "Expired", cell(row, "token-status"))
	assert.Zero(t, row.Find(`[data-testid="revoke-token"]`).Length(), "nothing to revoke")
}

// Issue 20 item 5: reloading after creating a token made a second one, as the secret was the
// answer to the POST. Now the POST redirects; the list shows the secret on its first load only,
// and loading it again creates nothing.
func TestAPITokenReloadAfterCreatingMakesNoSecondToken(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	post := e.owner.PostForm("/settings/tokens", url.Values{"description": {"Backup script"}, "scope": {"account"}})
	require.Equal(t, http.StatusSeeOther, post.StatusCode, post.Body)
	require.Equal(t, "/settings/tokens", post.Header.Get("Location"))

	first := e.owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, first.StatusCode)
	secret := first.TestID(t, "new-token-secret")
	require.Len(t, secret, 64)
	assert.Contains(t, first.TestID(t, "new-token"), "Backup script")

	second := e.owner.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, second.StatusCode)
	assert.NotContains(t, second.Body, secret, "the secret is shown once")
	assert.Empty(t, second.TestID(t, "new-token"))
	assert.Equal(t, 1, second.Doc(t).Find(`[data-testid="token-row"]`).Length())
	assert.Len(t, e.tokens(t), 1, "exactly one token")
	assert.Len(t, e.audit(t, models.AuditTokenCreated), 1)

	other := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, other.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode)
	assert.NotContains(t, other.Get("/settings/tokens").Body, secret, "another session never sees it")
	assert.Equal(t, http.StatusOK, callAPI(t, e.app, "/api/account", secret).StatusCode)
}

func TestAPITokenFormRefusesBadInputWritingNothing(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no description", url.Values{"description": {"  "}, "scope": {"account"}}, "description"},
		{"long description", url.Values{"description": {strings.Repeat("x", 101)}, "scope": {"account"}}, "description"},
		{"two lines", url.Values{"description": {"a\nb"}, "scope": {"account"}}, "description"},
		{"no scope", url.Values{"description": {"x"}}, "scope"},
		{"unknown scope", url.Values{"description": {"x"}, "scope": {"account", "webhook.decentral"}}, "scope"},
		{"not a date", url.Values{"description": {"x"}, "scope": {"account"}, "expires": {"01.04.2026"}}, "expires"},
		{"today", url.Values{"description": {"x"}, "scope": {"account"}, "expires": {"2026-03-02"}}, "expires"},
		{"past", url.Values{"description": {"x"}, "scope": {"account"}, "expires": {"2025-12-31"}}, "expires"},
	} {
		res := e.owner.PostForm("/settings/tokens", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), tc.name)
		assert.Empty(t, res.TestID(t, "new-token"), tc.name)
	}
	// What was typed stays.
	res := e.owner.PostForm("/settings/tokens", url.Values{"description": {"Garage"}, "scope": {"smartlock.action"}, "expires": {"2020-01-01"}})
	doc := res.Doc(t)
	assert.Equal(t, "Garage", doc.Find(`#description`).AttrOr("value", ""))
	assert.Equal(t, 1, doc.Find(`input[name="scope"][value="smartlock.action"]:checked`).Length())
	assert.Equal(t, "2020-01-01", doc.Find(`#expires`).AttrOr("value", ""))
	assert.Empty(t, e.tokens(t))
	assert.Empty(t, e.audit(t, models.AuditTokenCreated))
}

// A sub-account sees the scopes it cannot give greyed out with the right they need, and a
// forged form asking for one of them is refused; without rights management the page is absent.
func TestAPITokenScopesStayWithinTheCreatorsRights(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	_, c := e.sub(t, "lea@example.com", models.RightRightsManagement|models.RightActivityLog)
	res := c.Get("/settings/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	for _, s := range models.AllScopes {
		box := doc.Find(`input[name="scope"][value="` + string(s) + `"]`)
		require.Equal(t, 1, box.Length(), s)
		allowed := s == models.ScopeAccount || s == models.ScopeSmartlockReadOnly || s == models.ScopeSmartlockLog || s == models.ScopeNotification
		_, disabled := box.Attr("disabled")
		assert.Equal(t, !allowed, disabled, "%s disabled", s)
	}
	assert.Contains(t, strings.TrimSpace(doc.Find(`[data-testid="scope-smartlock.action"] [data-testid="scope-needs"]`).Text()), "Operate devices")

	res = c.PostForm("/settings/tokens", url.Values{"description": {"forged"}, "scope": {"smartlock.log", "smartlock.action"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "smartlock.action")
	assert.Empty(t, res.TestID(t, "new-token"))
	assert.Empty(t, e.tokens(t), "nothing written")

	createToken(t, c, "Lea's log reader", models.ScopeSmartlockLog, models.ScopeNotification)
	assert.Len(t, e.tokens(t), 1)

	_, plain := e.sub(t, "otto@example.com", models.RightActivityLog|models.RightOperateDevices)
	res = plain.Get("/settings/account")
	assert.Zero(t, res.Doc(t).Find(`.subnav a[href="/settings/tokens"]`).Length(), "no tab without rights management")
	assert.Equal(t, http.StatusForbidden, plain.Get("/settings/tokens").StatusCode)
	res = plain.PostForm("/settings/tokens", url.Values{"description": {"x"}, "scope": {"smartlock.action"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	tok := e.tokens(t)[0]
	assert.Equal(t, http.StatusForbidden, plain.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", tok.ID), nil).StatusCode)
	assert.Len(t, e.tokens(t), 1)
}

// Every login with rights management sees the account's tokens; it revokes its own and those
// of logins it may manage, the main login any; the revoked token stops at once.
func TestAPITokenRevoke(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	manager, mc := e.sub(t, "lea@example.com", models.RightRightsManagement|models.RightActivityLog)
	_, admin := e.sub(t, "max@example.com", models.RightsAll)
	reader := e.app.CreateSubAccount(e.main, "otto@example.com", models.Grant{Rights: models.RightActivityLog})
	_, readerSecret := e.app.CreateToken(reader, models.Scopes{models.ScopeSmartlockLog}, nil)

	mainSecret := createToken(t, e.owner, "Owner's script", models.ScopeAccount)
	leaSecret := createToken(t, mc, "Lea's script", models.ScopeAccount)
	createToken(t, admin, "Max's script", models.ScopeSmartlockAction)

	res := mc.Get("/settings/tokens")
	require.Equal(t, 4, res.Doc(t).Find(`[data-testid="token-row"]`).Length(), "the account's tokens")
	canRevoke := func(res apptest.Response, d string) bool {
		return tokenRow(t, res, d).Find(`[data-testid="revoke-token"]`).Length() == 1
	}
	assert.True(t, canRevoke(res, "Lea's script"), "its own")
	assert.True(t, canRevoke(res, "test"), "of a login it may manage")
	assert.False(t, canRevoke(res, "Owner's script"), "not the main login's")
	assert.False(t, canRevoke(res, "Max's script"), "not of a login with more rights")
	assert.Equal(t, "lea", cell(tokenRow(t, res, "Lea's script"), "token-creator"))

	idOf := func(d string) int64 {
		for _, tok := range e.tokens(t) {
			if tok.Description == d {
				return tok.ID
			}
		}
		t.Fatalf("no token %q", d)
		return 0
	}
	revoke := func(c *apptest.Client, d string) apptest.Response {
		return c.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", idOf(d)), nil)
	}
	// A forged revoke of a token it may not manage.
	assert.Equal(t, http.StatusForbidden, revoke(mc, "Owner's script").StatusCode)
	assert.Equal(t, http.StatusForbidden, revoke(mc, "Max's script").StatusCode)
	assert.Equal(t, http.StatusOK, callAPI(t, e.app, "/api/account", mainSecret).StatusCode)

	res = revoke(mc, "Lea's script")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, e.app, "/api/account", leaSecret).StatusCode, "stops at once")
	res = revoke(mc, "test")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, e.app, "/api/smartlock/log", readerSecret).StatusCode)
	res = mc.Get("/settings/tokens")
	assert.Contains(t, res.Body, "was revoked")
	assert.Equal(t, "Revoked", cell(tokenRow(t, res, "Lea's script"), "token-status"))
	assert.False(t, canRevoke(res, "Lea's script"))

	res = revoke(mc, "Lea's script")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "revoking twice is no error")
	assert.Contains(t, mc.Get("/settings/tokens").Body, "already revoked")

	// The main login revokes any token.
	res = revoke(e.owner, "Max's script")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	audits := e.audit(t, models.AuditTokenRevoked)
	require.Len(t, audits, 3)
	assert.Equal(t, "anna@example.com", audits[0].Actor)
	assert.Equal(t, manager.ID, *audits[1].LoginID)
	assert.Contains(t, audits[0].Detail, "max@example.com")

	assert.Equal(t, http.StatusNotFound, e.owner.PostForm("/settings/tokens/99999/revoke", nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, e.owner.PostForm("/settings/tokens/abc/revoke", nil).StatusCode)
	// Another account's token is not found.
	_, other := e.app.CreateAccount(models.AccountWeb, "Other", "olga@example.com", "another long password")
	otherTok, _ := e.app.CreateToken(other, models.Scopes{models.ScopeAccount}, nil)
	assert.Equal(t, http.StatusNotFound, e.owner.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", otherTok.ID), nil).StatusCode)
}

// A token whose creator lost the right a scope needs stays listed with a note, and the API
// refuses that scope on the next request; deleting the creator deletes its tokens.
func TestAPITokenFollowsItsCreatorsRights(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	ctx := context.Background()
	lea, c := e.sub(t, "lea@example.com", models.RightRightsManagement|models.RightActivityLog)
	secret := createToken(t, c, "Log export", models.ScopeSmartlockLog, models.ScopeAccount)
	res := callAPI(t, e.app, "/api/smartlock/log", secret)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Empty(t, cell(tokenRow(t, e.owner.Get("/settings/tokens"), "Log export"), "token-lacking"))

	require.NoError(t, e.app.Store.InTx(ctx, func(tx *db.Tx) error {
		return tx.UpdateSubAccount(ctx, e.main.AccountID, lea.ID, db.SubAccountUpdate{Grant: &models.Grant{Rights: models.RightRightsManagement}})
	}))
	res = callAPI(t, e.app, "/api/smartlock/log", secret)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "the next call is refused")
	assert.Contains(t, res.Body, "no longer has the right")
	assert.Equal(t, http.StatusOK, callAPI(t, e.app, "/api/account", secret).StatusCode, "its other scope still works")
	row := tokenRow(t, e.owner.Get("/settings/tokens"), "Log export")
	assert.Equal(t, "Active", cell(row, "token-status"))
	assert.Contains(t, cell(row, "token-lacking"), "smartlock.log")
	assert.NotContains(t, cell(row, "token-lacking"), "account")

	require.NoError(t, e.app.Store.InTx(ctx, func(tx *db.Tx) error { return tx.DeleteSubAccount(ctx, e.main.AccountID, lea.ID) }))
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, e.app, "/api/account", secret).StatusCode)
	assert.Empty(t, e.tokens(t), "the tokens died with their creator")
	assert.NotEmpty(t, e.owner.Get("/settings/tokens").TestID(t, "tokens-empty"))
}

func TestAPITokensPageInGerman(t *testing.T) {
	t.Parallel()
	e := newTokenEnv(t)
	res := e.owner.PostForm("/settings/account/preferences", url.Values{"language": {"de"}, "time_zone": {"Europe/Vienna"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = postCreateToken(t, e.owner, url.Values{"description": {"Hausautomation"}, "scope": {"account"}})
	assert.Contains(t, res.TestID(t, "new-token"), "nicht noch einmal angezeigt")
	assert.Equal(t, "Aktiv", cell(tokenRow(t, res, "Hausautomation"), "token-status"))
}
