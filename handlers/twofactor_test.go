package handlers_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/auth"
	"portier/db"
	"portier/models"
)

// enableTwoFactor turns 2FA on through the settings pages like a person with an authenticator
// app: it reads the key from the page and answers with the current code. It returns the secret
// and the recovery codes shown.
func enableTwoFactor(t *testing.T, app *apptest.App, c *apptest.Client) (string, []string) {
	t.Helper()
	res := c.Get("/settings/2fa/setup")
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	secret := strings.ReplaceAll(res.TestID(t, "totp-key"), " ", "")
	require.Len(t, secret, 32, "a 160-bit key is 32 base32 characters")

	qr := c.Get("/settings/2fa/qr.png")
	require.Equal(t, http.StatusOK, qr.StatusCode)
	assert.Equal(t, "image/png", qr.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(qr.Body, "\x89PNG"), "the QR code is a PNG drawn here")

	code, err := auth.TOTPCode(secret, app.Clock.Now())
	require.NoError(t, err)
	res = c.PostForm("/settings/2fa/setup", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var codes []string
	res.Doc(t).Find(`[data-testid="recovery-code"]`).Each(func(_ int, s *goquery.Selection) {
		codes = append(codes, strings.TrimSpace(s.Text()))
	})
	require.Len(t, codes, 10)
	return secret, codes
}

// signInWithPassword posts the password and expects the second step.
func signInWithPassword(t *testing.T, c *apptest.Client) {
	t.Helper()
	res := c.Login(owner.Email, owner.Password)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login/2fa", res.Header.Get("Location"))
}

func TestTwoFactorEnrollmentAndLogin(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	secret, codes := enableTwoFactor(t, app, c)

	// The page says it is on; the login got an email about it.
	res := c.Get("/settings/account")
	assert.Equal(t, "On", res.TestID(t, "two-factor-status"))
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	assert.Equal(t, "Two-factor authentication is on", mails[0].Subject)

	// After the password only the code page is reachable: the home page still wants a login.
	c2 := app.NewClient()
	signInWithPassword(t, c2)
	pendingCookie := c2.SessionCookie()
	res = c2.Get("/")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"), "a password alone reaches nothing")
	res = c2.Get("/settings/account")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	// Five digits (or seven) are not a code: the page says so and the attempt is not counted.
	for _, short := range []string{"12345", "123 4567"} {
		res = c2.PostForm("/login/2fa", url.Values{"code": {short}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Contains(t, res.TestID(t, "form-error"), "6 digits", short)
	}
	var failures int
	require.NoError(t, app.DB.Reader.QueryRow(`SELECT count(*) FROM audit_log WHERE kind = ?`, models.AuditTwoFactorFailure).Scan(&failures))
	assert.Zero(t, failures, "no failed attempt recorded")

	// The code that confirmed enrollment does not sign in, even within its 30 seconds.
	enrollCode, err := auth.TOTPCode(secret, app.Clock.Now())
	require.NoError(t, err)
	res = c2.PostForm("/login/2fa", url.Values{"code": {enrollCode}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "form-error"))

	// The next code does, and the session id changes again.
	app.Clock.Advance(30 * time.Second)
	next, _ := auth.TOTPCode(secret, app.Clock.Now())
	res = c2.PostForm("/login/2fa", url.Values{"code": {next}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
	assert.NotEqual(t, pendingCookie, c2.SessionCookie(), "the session id rotates at 2FA completion")
	res = c2.Get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The pending id is dead.
	c3 := app.NewClient()
	c3.SetSessionCookie(pendingCookie)
	assert.Equal(t, http.StatusSeeOther, c3.Get("/").StatusCode)

	// A recovery code works once, with spaces or capitals as a person might type it.
	c4 := app.NewClient()
	signInWithPassword(t, c4)
	res = c4.PostForm("/login/2fa", url.Values{"code": {" " + strings.ToUpper(codes[3]) + " "}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c4.Get("/")
	assert.Contains(t, res.TestID(t, "flash"), "9 codes are left")
	c5 := app.NewClient()
	signInWithPassword(t, c5)
	res = c5.PostForm("/login/2fa", url.Values{"code": {codes[3]}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "a used recovery code is refused")
}

// SECURITY.md: a TOTP code works once, even when 20 requests carry it at the same moment.
func TestTwoFactorCodeWorksOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	secret, _ := enableTwoFactor(t, app, app.Setup())
	app.Clock.Advance(30 * time.Second)
	code, _ := auth.TOTPCode(secret, app.Clock.Now())

	const n = 20
	clients := make([]*apptest.Client, n)
	for i := range clients {
		clients[i] = app.NewClient()
		signInWithPassword(t, clients[i])
	}
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			statuses[i] = c.PostForm("/login/2fa", url.Values{"code": {code}}).StatusCode
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusSeeOther {
			ok++
		} else {
			assert.Equal(t, http.StatusUnprocessableEntity, s)
		}
	}
	assert.Equal(t, 1, ok, "exactly one request may use the code: %v", statuses)
}

func TestTwoFactorClockSkewIsOneStep(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	secret, _ := enableTwoFactor(t, app, app.Setup())
	app.Clock.Advance(10 * time.Minute)
	now := app.Clock.Now()

	twoStepsAgo, _ := auth.TOTPCode(secret, now.Add(-60*time.Second))
	twoStepsAhead, _ := auth.TOTPCode(secret, now.Add(60*time.Second))
	oneStepAgo, _ := auth.TOTPCode(secret, now.Add(-30*time.Second))
	for _, code := range []string{twoStepsAgo, twoStepsAhead, "000000", "12345", "abcdef", ""} {
		c := app.NewClient()
		signInWithPassword(t, c)
		res := c.PostForm("/login/2fa", url.Values{"code": {code}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "code %q", code)
		app.Store.ClearThrottle(context.Background(), "2fa:login:1")
		app.Store.ClearThrottle(context.Background(), "2fa:ip:127.0.0.1")
	}
	c := app.NewClient()
	signInWithPassword(t, c)
	assert.Equal(t, http.StatusSeeOther, c.PostForm("/login/2fa", url.Values{"code": {oneStepAgo}}).StatusCode, "one step of skew is allowed")
}

func TestRecoveryCodesBelongToOneLogin(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	_, codes := enableTwoFactor(t, app, app.Setup())

	// Another account's owner with 2FA on cannot use Anna's codes.
	_, bert := app.CreateAccount("web", "Bert GmbH", "bert@example.com", "another horse battery staple")
	_ = bert
	cb := app.NewClient()
	require.Equal(t, http.StatusSeeOther, cb.Login("bert@example.com", "another horse battery staple").StatusCode)
	enableTwoFactorFor(t, app, cb)
	cb2 := app.NewClient()
	res := cb2.Login("bert@example.com", "another horse battery staple")
	require.Equal(t, "/login/2fa", res.Header.Get("Location"))
	res = cb2.PostForm("/login/2fa", url.Values{"code": {codes[0]}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "a recovery code of another login is refused")
}

func enableTwoFactorFor(t *testing.T, app *apptest.App, c *apptest.Client) {
	t.Helper()
	res := c.Get("/settings/2fa/setup")
	secret := strings.ReplaceAll(res.TestID(t, "totp-key"), " ", "")
	code, _ := auth.TOTPCode(secret, app.Clock.Now())
	require.Equal(t, http.StatusOK, c.PostForm("/settings/2fa/setup", url.Values{"code": {code}}).StatusCode)
}

func TestTwoFactorPendingStateExpiresAndIsAttemptLimited(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	secret, _ := enableTwoFactor(t, app, app.Setup())

	c := app.NewClient()
	signInWithPassword(t, c)
	app.Clock.Advance(6 * time.Minute)
	code, _ := auth.TOTPCode(secret, app.Clock.Now())
	res := c.PostForm("/login/2fa", url.Values{"code": {code}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/login", res.Header.Get("Location"), "an expired pending state goes back to the password")
	assert.NotEmpty(t, c.Get("/login").TestID(t, "flash"))

	// Five wrong codes end the pending state even before the per-login lock.
	c = app.NewClient()
	signInWithPassword(t, c)
	for range 5 {
		assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/login/2fa", url.Values{"code": {"000000"}}).StatusCode)
	}
	app.Clock.Advance(30 * time.Second)
	code, _ = auth.TOTPCode(secret, app.Clock.Now())
	res = c.PostForm("/login/2fa", url.Values{"code": {code}})
	assert.Equal(t, "/login", res.Header.Get("Location"))

	// And the login is locked for the second factor from fresh cookies too.
	c = app.NewClient()
	signInWithPassword(t, c)
	res = c.PostForm("/login/2fa", url.Values{"code": {code}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "locked after 5 failures even with the right code")
}

// The database never holds the TOTP secret in plain or base32 form; the sealed value does not
// open when a byte is flipped.
func TestTwoFactorSecretIsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	secret, codes := enableTwoFactor(t, app, app.Setup())
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	require.NoError(t, err)

	dump := databaseBytes(t, app)
	for _, needle := range [][]byte{[]byte(secret), []byte(strings.ToLower(secret)), raw, []byte(codes[0]), []byte(strings.ReplaceAll(codes[0], "-", ""))} {
		assert.False(t, bytes.Contains(dump, needle), "the database contains %q", needle)
	}

	sealed, err := app.Store.FindTwoFactorSecret(context.Background(), 1)
	require.NoError(t, err)
	opened, err := app.Handler.Secrets.Open(sealed, "totp:login:1")
	require.NoError(t, err)
	assert.Equal(t, secret, string(opened))
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 0x01
	_, err = app.Handler.Secrets.Open(flipped, "totp:login:1")
	assert.ErrorIs(t, err, auth.ErrDecrypt)
	_, err = app.Handler.Secrets.Open(sealed, "totp:login:2")
	assert.ErrorIs(t, err, auth.ErrDecrypt, "a secret copied to another login does not open")
}

// databaseBytes is everything SQLite has on disk for the app: the file and its WAL.
func databaseBytes(t *testing.T, app *apptest.App) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(app.DataDir, db.FileName+suffix))
		if err == nil {
			all = append(all, b...)
		}
	}
	require.NotEmpty(t, all)
	return all
}

// Old cookies stop working after a password change, 2FA disable, 2FA recovery code renewal and
// "end all other sessions"; the session that made the change stays.
func TestSecurityChangesEndOtherSessions(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	otherSession := func() string {
		o := app.NewClient()
		require.Equal(t, http.StatusSeeOther, o.Login(owner.Email, owner.Password).StatusCode)
		return o.SessionCookie()
	}
	refused := func(cookie, what string) {
		t.Helper()
		o := app.NewClient()
		o.SetSessionCookie(cookie)
		assert.Equal(t, http.StatusSeeOther, o.Get("/").StatusCode, "old cookie works after %s", what)
	}

	// End all other sessions.
	old := otherSession()
	require.Equal(t, http.StatusSeeOther, c.PostForm("/settings/sessions/end-others", nil).StatusCode)
	refused(old, "end all others")
	require.Equal(t, http.StatusOK, c.Get("/").StatusCode)

	// Password change.
	old = otherSession()
	res := c.PostForm("/settings/account/password", url.Values{"current_password": {owner.Password}, "new_password": {"a brand new horse staple"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	refused(old, "password change")
	require.Equal(t, http.StatusOK, c.Get("/").StatusCode)
	owner := owner
	owner.Password = "a brand new horse staple"

	// Enabling 2FA, renewing recovery codes, disabling 2FA.
	secret, _ := func() (string, []string) {
		o := app.NewClient()
		require.Equal(t, http.StatusSeeOther, o.Login(owner.Email, owner.Password).StatusCode)
		old = o.SessionCookie()
		return enableTwoFactor(t, app, c)
	}()
	refused(old, "enabling 2FA")
	pass := func() string {
		o := app.NewClient()
		require.Equal(t, http.StatusSeeOther, o.Login(owner.Email, owner.Password).StatusCode)
		app.Clock.Advance(30 * time.Second)
		code, _ := auth.TOTPCode(secret, app.Clock.Now())
		require.Equal(t, http.StatusSeeOther, o.PostForm("/login/2fa", url.Values{"code": {code}}).StatusCode)
		return o.SessionCookie()
	}
	old = pass()
	app.Clock.Advance(30 * time.Second)
	code, _ := auth.TOTPCode(secret, app.Clock.Now())
	res = c.PostForm("/settings/2fa/recovery-codes", url.Values{"regen_password": {owner.Password}, "regen_code": {code}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Equal(t, 10, res.Doc(t).Find(`[data-testid="recovery-code"]`).Length())
	refused(old, "new recovery codes")

	old = pass()
	app.Clock.Advance(30 * time.Second)
	code, _ = auth.TOTPCode(secret, app.Clock.Now())
	res = c.PostForm("/settings/2fa/disable", url.Values{"disable_password": {owner.Password}, "disable_code": {code}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	refused(old, "disabling 2FA")
	assert.Equal(t, "Off", c.Get("/settings/account").TestID(t, "two-factor-status"))

	// Each change told the login by email, and is in the audit trail.
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	var subjects []string
	for _, m := range mails {
		subjects = append(subjects, m.Subject)
	}
	assert.Subset(t, subjects, []string{"Your Portier password was changed", "Two-factor authentication is on",
		"New recovery codes for Portier", "Two-factor authentication is off"})
	entries, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: 1, Limit: 100})
	require.NoError(t, err)
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	assert.Subset(t, kinds, []string{"password.changed", "2fa.enabled", "2fa.recovery_codes_replaced", "2fa.disabled", "session.others_ended"})
}

// Disabling 2FA needs the password and a current code; wrong input changes nothing.
func TestTwoFactorDisableRefusesBadInput(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	secret, _ := enableTwoFactor(t, app, c)
	app.Clock.Advance(30 * time.Second)
	code, _ := auth.TOTPCode(secret, app.Clock.Now())

	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"disable_password": {"wrong horse"}, "disable_code": {code}}, "disable_password"},
		{url.Values{"disable_password": {""}, "disable_code": {code}}, "disable_password"},
		{url.Values{"disable_password": {owner.Password}, "disable_code": {""}}, "disable_code"},
		{url.Values{"disable_password": {owner.Password}, "disable_code": {"123456"}}, "disable_code"},
		{url.Values{"disable_password": {strings.Repeat("x", 1100)}, "disable_code": {code}}, "disable_password"},
	} {
		res := c.PostForm("/settings/2fa/disable", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), "message next to %s", tc.field)
		assert.Equal(t, "On", res.TestID(t, "two-factor-status"), "nothing changed")
	}
}

func TestRecoveryCodesDownload(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	_, codes := enableTwoFactor(t, app, c)
	res := c.PostForm("/settings/2fa/recovery-codes.txt", url.Values{"code": codes})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
	for _, code := range codes {
		assert.Contains(t, res.Body, code+"\n")
	}
	assert.Equal(t, http.StatusBadRequest, c.PostForm("/settings/2fa/recovery-codes.txt", url.Values{"code": {"<script>"}}).StatusCode)
	assert.Equal(t, http.StatusBadRequest, c.PostForm("/settings/2fa/recovery-codes.txt", nil).StatusCode)
}

// Visiting the code page without a pending sign-in creates no session row.
func TestTwoFactorPageWithoutPendingStateWritesNothing(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	before := countSessions(t, app)
	for range 5 {
		res := app.NewClient().Get("/login/2fa")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
	}
	assert.Equal(t, before, countSessions(t, app))
}

func countSessions(t *testing.T, app *apptest.App) int {
	t.Helper()
	var n int
	require.NoError(t, app.DB.Writer.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n))
	return n
}
