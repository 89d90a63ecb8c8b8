package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

var owner = apptest.DefaultOwner

func TestFirstVisitGoesToSetupAndSetupClosesForGood(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.NewClient()

	res := c.Get("/")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c.Get(res.Header.Get("Location"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/setup", res.Header.Get("Location"))
	res = c.Get("/setup")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.Doc(t).Find(`[data-testid="account-form"]`).Length())

	// Bad input: a clear message per field, status 422, nothing written.
	res = c.PostForm("/setup", url.Values{"kind": {"castle"}, "account_name": {""}, "name": {""}, "email": {"not-an-email"}, "password": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	for _, f := range []string{"kind", "name", "email", "password"} {
		assert.NotEmpty(t, res.TestID(t, "error-"+f), "field %s", f)
	}
	res = c.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"ACME"}, "name": {"Anna"}, "email": {"anna@example.com"}, "password": {"password123"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-password"), "most common")
	n, err := app.Store.CountAccounts(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)

	// A good submission creates the account and signs its owner in.
	res = c.PostForm("/setup", url.Values{"kind": {"box"}, "account_name": {"Haus am See"}, "name": {owner.Name}, "email": {" Anna@Example.com "}, "password": {owner.Password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
	res = c.Get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Haus am See", res.TestID(t, "account-name"))
	assert.Contains(t, res.TestID(t, "flash"), "is ready")
	assert.Contains(t, res.Body, "Nuki Box account")

	// The setup page is gone for everyone, logged in or not, GET or POST.
	for _, cl := range []*apptest.Client{c, app.NewClient()} {
		assert.Equal(t, http.StatusNotFound, cl.Get("/setup").StatusCode)
		res = cl.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"Evil"}, "name": {"Eve"}, "email": {"eve@example.com"}, "password": {"another long password"}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
	}
	n, _ = app.Store.CountAccounts(context.Background())
	assert.Equal(t, 1, n)

	// The login's email was normalised; the login is the main one with all rights.
	login, _, err := app.Store.FindLoginByEmail(context.Background(), "anna@example.com")
	require.NoError(t, err)
	assert.True(t, login.IsMain)
	assert.Equal(t, models.RightsAll, login.Rights)
}

func TestConcurrentSetupCreatesOneAccount(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	done := make(chan int, 8)
	for i := range 8 {
		go func() {
			c := app.NewClient()
			res := c.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"A"}, "name": {"N"},
				"email": {"user" + string(rune('a'+i)) + "@example.com"}, "password": {"a perfectly fine password"}})
			done <- res.StatusCode
		}()
	}
	created := 0
	for range 8 {
		if <-done == http.StatusSeeOther {
			created++
		}
	}
	assert.Equal(t, 1, created)
	n, _ := app.Store.CountAccounts(context.Background())
	assert.Equal(t, 1, n)
}

func TestLoginLogoutAndGenericErrors(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	c := app.NewClient()

	res := c.Get("/login")
	require.Equal(t, http.StatusOK, res.StatusCode)

	wrong := c.Login(owner.Email, "wrong password here")
	unknown := c.Login("nobody@example.com", "wrong password here")
	require.Equal(t, http.StatusUnprocessableEntity, wrong.StatusCode)
	require.Equal(t, wrong.StatusCode, unknown.StatusCode)
	// Same page but for the echoed email.
	assert.Equal(t, strings.ReplaceAll(wrong.Body, owner.Email, "EMAIL"), strings.ReplaceAll(unknown.Body, "nobody@example.com", "EMAIL"))
	assert.Contains(t, wrong.TestID(t, "form-error"), "not right")
	assert.Empty(t, c.SessionCookie(), "a failed sign-in starts no session")

	res = c.Login(strings.ToUpper(owner.Email), owner.Password)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
	res = c.Get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "home-title"), owner.Name)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	// The home page lists this sign-in and the failed attempt.
	events := res.TestID(t, "security-events")
	assert.Contains(t, events, "Signed in")
	assert.Contains(t, events, "Failed sign-in")

	// Logged-in visitors of /login go home.
	res = c.Get("/login")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)

	res = c.PostForm("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/login", res.Header.Get("Location"))
	res = c.Get("/login")
	assert.Equal(t, "You have been logged out.", res.TestID(t, "flash"))
	assert.Equal(t, http.StatusSeeOther, c.Get("/").StatusCode)
}

func TestLoginRedirectsBackToTheRequestedPageButNeverOffSite(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	for next, want := range map[string]string{
		"/?x=1":                "/?x=1",
		"//evil.example/":      "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
	} {
		c := app.NewClient()
		res := c.PostForm("/login", url.Values{"email": {owner.Email}, "password": {owner.Password}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, want, res.Header.Get("Location"), "next=%q", next)
	}
}

// N wrong passwords from fresh cookies lock the login; then even the right one is refused,
// with the same answer, until the lock ends.
func TestBruteForceLockoutPerLoginSurvivesFreshCookies(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	max := models.ThrottleLoginPerAccount.MaxFailures
	var wrong apptest.Response
	for range max {
		wrong = app.NewClient().Login(owner.Email, "not the password")
		require.Equal(t, http.StatusUnprocessableEntity, wrong.StatusCode)
	}
	locked := app.NewClient().Login(owner.Email, owner.Password)
	assert.Equal(t, http.StatusUnprocessableEntity, locked.StatusCode)
	assert.Equal(t, wrong.Body, locked.Body, "a locked login looks like a wrong password")

	app.Clock.Advance(models.ThrottleLoginPerAccount.LockFor + time.Second)
	res := app.NewClient().Login(owner.Email, owner.Password)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestBruteForceLockoutPerClientAddress(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	for i := range models.ThrottleLoginPerIP.MaxFailures {
		res := app.NewClient().Login("guess"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com", "whatever it is")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	}
	res := app.NewClient().Login(owner.Email, owner.Password)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "the address is locked")
}

// The session id known before sign-in is dead afterwards (fixation).
func TestSessionIDRotatesAtLogin(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(owner.Email, owner.Password).StatusCode)
	require.Equal(t, http.StatusSeeOther, c.PostForm("/logout", nil).StatusCode)
	preLogin := c.SessionCookie()
	require.NotEmpty(t, preLogin, "logout leaves an anonymous session carrying the goodbye message")

	// An attacker who planted preLogin in the victim's browser…
	attacker := app.NewClient()
	attacker.SetSessionCookie(preLogin)

	require.Equal(t, http.StatusSeeOther, c.Login(owner.Email, owner.Password).StatusCode)
	postLogin := c.SessionCookie()
	assert.NotEqual(t, preLogin, postLogin)
	// …gets nothing once the victim has signed in.
	assert.Equal(t, http.StatusSeeOther, attacker.Get("/").StatusCode)
	_, err := app.Store.FindSession(context.Background(), hashOf(preLogin))
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.Equal(t, http.StatusOK, c.Get("/").StatusCode)
}

func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	old := c.SessionCookie()
	require.Equal(t, http.StatusOK, c.Get("/").StatusCode)
	require.Equal(t, http.StatusSeeOther, c.PostForm("/logout", nil).StatusCode)

	replay := app.NewClient()
	replay.SetSessionCookie(old)
	assert.Equal(t, http.StatusSeeOther, replay.Get("/").StatusCode)
	assert.Equal(t, http.StatusUnauthorized, replay.PostForm("/logout", nil).StatusCode)
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(owner.Email, owner.Password).StatusCode)

	// Activity every 20 minutes keeps the session alive…
	for range 3 {
		app.Clock.Advance(20 * time.Minute)
		require.Equal(t, http.StatusOK, c.Get("/").StatusCode)
	}
	// …and 31 idle minutes end it.
	app.Clock.Advance(31 * time.Minute)
	assert.Equal(t, http.StatusSeeOther, c.Get("/").StatusCode)

	// Absolute: even an active session ends 12 hours after sign-in.
	require.Equal(t, http.StatusSeeOther, c.Login(owner.Email, owner.Password).StatusCode)
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		app.Clock.Advance(20 * time.Minute)
		require.Equal(t, http.StatusOK, c.Get("/").StatusCode, "after %v", elapsed)
	}
	app.Clock.Advance(25 * time.Minute)
	assert.Equal(t, http.StatusSeeOther, c.Get("/").StatusCode)
}

func TestRememberMeKeepsTheSessionForThirtyDays(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	c := app.NewClient()
	res := c.PostForm("/login", url.Values{"email": {owner.Email}, "password": {owner.Password}, "remember": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Regexp(t, regexp.MustCompile(`Max-Age=2592000`), res.Header.Get("Set-Cookie"))
	app.Clock.Advance(3 * 24 * time.Hour)
	assert.Equal(t, http.StatusOK, c.Get("/").StatusCode)
	app.Clock.Advance(31 * 24 * time.Hour)
	assert.Equal(t, http.StatusSeeOther, c.Get("/").StatusCode)
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	res := app.NewClient().PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"A"}, "name": {"N"}, "email": {"n@example.com"}, "password": {"a perfectly fine password"}})
	ck := res.Header.Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(ck, "portier_session="), ck)
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		assert.Contains(t, ck, attr)
	}
	assert.NotContains(t, ck, "Domain=")
	assert.Less(t, len(ck), 4096)

	secure := apptest.New(t, apptest.Options{BaseURL: "https://portier.example.com"})
	res = secure.NewClient().PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"A"}, "name": {"N"}, "email": {"n@example.com"}, "password": {"a perfectly fine password"}})
	ck = res.Header.Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(ck, "__Host-portier_session="), ck)
	assert.Contains(t, ck, "Secure")
	assert.Contains(t, res.Header.Get("Strict-Transport-Security"), "max-age=31536000")
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	signedIn := app.Setup()
	c := app.NewClient()
	ctx := context.Background()

	assert.Equal(t, http.StatusOK, c.Get("/password/forgot").StatusCode)
	bad := c.PostForm("/password/forgot", url.Values{"email": {"nope"}})
	assert.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode)

	known := c.PostForm("/password/forgot", url.Values{"email": {owner.Email}})
	unknown := c.PostForm("/password/forgot", url.Values{"email": {"ghost@example.com"}})
	require.Equal(t, http.StatusOK, known.StatusCode)
	require.Equal(t, known.StatusCode, unknown.StatusCode)
	assert.Equal(t, strings.ReplaceAll(known.Body, owner.Email, "E"), strings.ReplaceAll(unknown.Body, "ghost@example.com", "E"))
	ghostMail, err := app.Store.FindMailTo(ctx, "ghost@example.com")
	require.NoError(t, err)
	assert.Empty(t, ghostMail)

	mails, err := app.Store.FindMailTo(ctx, owner.Email)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	link := regexp.MustCompile(`http://[^\s]+/password/reset/[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)
	path := strings.TrimPrefix(link, app.URL)

	res := c.Get(path)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res = c.PostForm(path, url.Values{"password": {"short"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-password"))

	res = c.PostForm(path, url.Values{"password": {"a brand new passphrase"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "Your password was changed. Log in with the new one.", c.Get("/login").TestID(t, "flash"))
	// Every session of the login ended; the old password is dead, the new one works.
	assert.Equal(t, http.StatusSeeOther, signedIn.Get("/").StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(owner.Email, owner.Password).StatusCode)
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, "a brand new passphrase").StatusCode)
	// The link works once.
	assert.Equal(t, http.StatusNotFound, c.Get(path).StatusCode)
	assert.Equal(t, http.StatusNotFound, c.PostForm(path, url.Values{"password": {"yet another passphrase"}}).StatusCode)

	// A link older than an hour is dead.
	c.PostForm("/password/forgot", url.Values{"email": {owner.Email}})
	mails, _ = app.Store.FindMailTo(ctx, owner.Email)
	require.Len(t, mails, 2)
	link = regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	app.Clock.Advance(61 * time.Minute)
	res = c.Get(link)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "reset-invalid"))
}

func TestPasswordResetRequestsAreLimitedPerEmail(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	for range models.ThrottleResetPerEmail.MaxFailures + 3 {
		res := app.NewClient().PostForm("/password/forgot", url.Values{"email": {owner.Email}})
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	assert.Len(t, mails, models.ThrottleResetPerEmail.MaxFailures)
}

func TestSignupOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	closed := apptest.New(t, apptest.Options{})
	closed.Setup()
	assert.Equal(t, http.StatusNotFound, closed.NewClient().Get("/signup").StatusCode)

	open := apptest.New(t, apptest.Options{AllowSignup: true})
	open.Setup()
	c := open.NewClient()
	assert.Contains(t, c.Get("/login").Body, `href="/signup"`)
	require.Equal(t, http.StatusOK, c.Get("/signup").StatusCode)
	res := c.PostForm("/signup", url.Values{"kind": {"web"}, "account_name": {"Second"}, "name": {"Bob"}, "email": {owner.Email}, "password": {"bobs long password"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-email"))
	res = c.PostForm("/signup", url.Values{"kind": {"web"}, "account_name": {"Second"}, "name": {"Bob"}, "email": {"bob@example.com"}, "password": {"bobs long password"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "Second", c.Get("/").TestID(t, "account-name"))
}

func TestAuditTrailRecordsAuthenticationEvents(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	c.PostForm("/logout", nil)
	c.Login(owner.Email, "wrong one, surely")
	c.Login(owner.Email, owner.Password)
	c.PostForm("/password/forgot", url.Values{"email": {owner.Email}})
	login, _, err := app.Store.FindLoginByEmail(context.Background(), owner.Email)
	require.NoError(t, err)
	app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)

	entries, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: login.AccountID, Limit: 100})
	require.NoError(t, err)
	var kinds []string
	for _, e := range entries {
		kinds = append([]string{e.Kind}, kinds...)
		assert.NotContains(t, e.Detail, owner.Password)
	}
	assert.Equal(t, []string{models.AuditSetup, models.AuditLogout, models.AuditLoginFailure, models.AuditLoginSuccess,
		models.AuditPasswordResetReq, models.AuditTokenCreated}, kinds)
}
