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
	"portier/auth"
	"portier/models"
)

// Every change a login makes to its own settings, password, email, sessions and second factor
// emits exactly one event, by the login, through the page it came in by (issue 19); a refused
// change writes none, and no event carries a password, a hash, a token, the TOTP secret or a
// recovery code.
func TestEverySettingsChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	c := f.owner
	dora := f.holder(t)
	doraLogin, _, err := f.app.Store.FindLoginByEmail(ctx, f.dora.Email)
	require.NoError(t, err)
	f.signInOwner(t)
	owner := f.app.OwnerLogin()
	w := newEventWatch(f.app, owner.AccountID)
	password := apptest.DefaultOwner.Password
	var secrets []string // what no event may carry
	keep := func(s ...string) { secrets = append(secrets, s...) }

	// Language and time zone.
	e := w.expect(t, "page: language and time zone", func(t *testing.T) {
		res := c.PostForm("/settings/account/preferences", url.Values{"language": {"de"}, "time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventPreferencesChanged, owner, models.ActorWeb, "login")
	assert.JSONEq(t, `{"language":"de","time_zone":"Europe/Berlin"}`, string(e.Payload))
	res := c.PostForm("/settings/account/preferences", url.Values{"language": {"xx"}, "time_zone": {"Europe/Berlin"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: an unknown language")

	// How long the activity log is kept.
	e = w.expect(t, "page: log retention", func(t *testing.T) {
		res := c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"90"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventLogRetentionChanged, owner, models.ActorWeb, "account")
	assert.JSONEq(t, `{"before_days":0,"days":90}`, string(e.Payload))
	res = c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"-3"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a retention out of range")

	// Log notifications.
	front := deviceNamed(t, f.devs, "Front door")
	e = w.expect(t, "page: log notifications", func(t *testing.T) {
		res := c.PostForm("/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:%s", front.ID, models.LogKindUnlock)}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventLogNotificationsChanged, owner, models.ActorWeb, "login")
	assert.JSONEq(t, `{"subscriptions":1}`, string(e.Payload))

	// Password, on the settings page and on the web key.
	newPassword := "a brand new horse staple"
	keep(password, newPassword)
	res = c.PostForm("/settings/account/password", url.Values{"current_password": {"not the password"}, "new_password": {newPassword}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a wrong current password")
	w.expect(t, "page: password", func(t *testing.T) {
		res := c.PostForm("/settings/account/password", url.Values{"current_password": {password}, "new_password": {newPassword}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventPasswordChanged, owner, models.ActorWeb, "login")
	password = newPassword
	doraNew := "a louder lighthouse at dawn"
	keep(doraPassword, doraNew)
	w.expect(t, "web key: password", func(t *testing.T) {
		res := dora.PostForm("/key/password", url.Values{"current_password": {doraPassword}, "new_password": {doraNew}, "password_confirm": {doraNew}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventPasswordChanged, doraLogin, models.ActorWebKey, "login")

	// Sessions: end one, end all others.
	phone := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, phone.Login(owner.Email, password).StatusCode)
	require.NoError(t, w.skip()) // signing in is not a settings change
	action, ok := c.Get("/settings/account").Doc(t).Find(`[data-testid="session-row"] form`).Attr("action")
	require.True(t, ok)
	w.expect(t, "page: end a session", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, c.PostForm(action, nil).StatusCode)
	}, models.EventSessionEnded, owner, models.ActorWeb, "login")
	assert.Equal(t, http.StatusNotFound, c.PostForm("/settings/sessions/deadbeef/end", nil).StatusCode)
	w.expectNone(t, "page: a session that is not")
	w.expect(t, "page: end all other sessions", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, c.PostForm("/settings/sessions/end-others", nil).StatusCode)
	}, models.EventOtherSessionsEnded, owner, models.ActorWeb, "login")

	// Two-factor: on, new recovery codes, off.
	var totpSecret string
	w.expect(t, "page: two-factor on", func(t *testing.T) {
		var codes []string
		totpSecret, codes = enableTwoFactor(t, f.app, c)
		keep(totpSecret)
		keep(codes...)
	}, models.EventTwoFactorEnabled, owner, models.ActorWeb, "login")
	code := func() string {
		f.app.Clock.Advance(30 * time.Second)
		code, err := auth.TOTPCode(totpSecret, f.app.Clock.Now())
		require.NoError(t, err)
		return code
	}
	res = c.PostForm("/settings/2fa/recovery-codes", url.Values{"regen_password": {password}, "regen_code": {"000000"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: new recovery codes with a wrong code")
	w.expect(t, "page: new recovery codes", func(t *testing.T) {
		res := c.PostForm("/settings/2fa/recovery-codes", url.Values{"regen_password": {password}, "regen_code": {code()}})
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		res.Doc(t).Find(`[data-testid="recovery-code"]`).Each(func(_ int, s *goquery.Selection) { keep(strings.TrimSpace(s.Text())) })
	}, models.EventRecoveryCodesReplaced, owner, models.ActorWeb, "login")
	w.expect(t, "page: two-factor off", func(t *testing.T) {
		res := c.PostForm("/settings/2fa/disable", url.Values{"disable_password": {password}, "disable_code": {code()}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventTwoFactorDisabled, owner, models.ActorWeb, "login")

	// Email: asked for, then confirmed by the link (from a browser that is not signed in).
	res = c.PostForm("/settings/account/email", url.Values{"new_email": {"new@example.com"}, "email_password": {"wrong"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: email change with a wrong password")
	e = w.expect(t, "page: ask to change the email", func(t *testing.T) {
		res := c.PostForm("/settings/account/email", url.Values{"new_email": {"new@example.com"}, "email_password": {password}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventEmailChangeRequested, owner, models.ActorWeb, "login")
	assert.JSONEq(t, `{"new_email":"new@example.com"}`, string(e.Payload))
	mails, err := f.app.Store.FindMailTo(ctx, "new@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	confirm := strings.TrimPrefix(linkIn.FindString(mails[0].Text[strings.Index(mails[0].Text, "24"):]), f.app.URL)
	keep(strings.TrimPrefix(confirm, "/email/confirm/"))
	e = w.expect(t, "link: confirm the email", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, f.app.NewClient().PostForm(confirm, nil).StatusCode)
	}, models.EventEmailChanged, owner, models.ActorWeb, "login")
	assert.JSONEq(t, `{"old_email":"`+owner.Email+`","new_email":"new@example.com"}`, string(e.Payload))
	assert.Equal(t, http.StatusNotFound, f.app.NewClient().PostForm(confirm, nil).StatusCode)
	w.expectNone(t, "link: an email change link used up")
	owner.Email = "new@example.com"

	// Password reset: asked for and set, by someone who is not signed in.
	anon := f.app.NewClient()
	e = w.expect(t, "page: ask for a reset link", func(t *testing.T) {
		require.Equal(t, http.StatusOK, anon.PostForm("/password/forgot", url.Values{"email": {owner.Email}}).StatusCode)
	}, models.EventPasswordResetRequested, owner, models.ActorWeb, "login")
	require.Equal(t, http.StatusOK, anon.PostForm("/password/forgot", url.Values{"email": {"nobody@example.com"}}).StatusCode)
	w.expectNone(t, "page: a reset link for an email without a login")
	mails, err = f.app.Store.FindMailTo(ctx, owner.Email)
	require.NoError(t, err)
	reset := ""
	for _, m := range mails {
		if l := linkIn.FindString(m.Text); strings.Contains(l, "/password/reset/") {
			reset = strings.TrimPrefix(l, f.app.URL)
		}
	}
	require.NotEmpty(t, reset)
	keep(strings.TrimPrefix(reset, "/password/reset/"))
	res = anon.PostForm(reset, url.Values{"password": {"short"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a reset to a password too short")
	resetPassword := "the password after the reset"
	keep(resetPassword)
	w.expect(t, "page: set a password with the reset link", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, anon.PostForm(reset, url.Values{"password": {resetPassword}}).StatusCode)
	}, models.EventPasswordReset, owner, models.ActorWeb, "login")

	// No event carries a secret: no password, hash, token, TOTP secret or recovery code.
	events, err := f.app.Store.FindEvents(ctx, 0, 1000)
	require.NoError(t, err)
	for _, e := range events {
		payload := string(e.Payload)
		assert.NotContains(t, payload, "$argon2id", "%s: a password hash", e.Kind)
		for _, s := range secrets {
			assert.NotContains(t, payload, s, "%s carries a secret", e.Kind)
			assert.NotContains(t, payload, auth.HashToken(s), "%s carries a token hash", e.Kind)
		}
	}
}

// Setting Portier up and signing up each create an account with one event, by its new main
// login; a refused form writes none.
func TestEveryAccountCreationEmitsOneEvent(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{AllowSignup: true})
	form := func(account, email, password string) url.Values {
		return url.Values{"kind": {"web"}, "account_name": {account}, "name": {"Anna Berger"}, "email": {email}, "password": {password}}
	}
	// A fresh database numbers its accounts and logins from 1.
	w := newEventWatch(app, 1)
	res := app.NewClient().PostForm("/setup", form("ACME Office", apptest.DefaultOwner.Email, "short"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "setup: a password too short")
	e := w.expect(t, "setup", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, app.NewClient().PostForm("/setup", form("ACME Office", apptest.DefaultOwner.Email, apptest.DefaultOwner.Password)).StatusCode)
	}, models.EventAccountCreated, models.Login{ID: 1, Email: apptest.DefaultOwner.Email}, models.ActorWeb, "account", "login")
	assert.JSONEq(t, `{"kind":"web","name":"ACME Office"}`, string(e.Payload))

	w = newEventWatch(app, 2)
	res = app.NewClient().PostForm("/signup", form("Bäckerei", apptest.DefaultOwner.Email, "a long enough password"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "the email signs in already")
	w.expectNone(t, "sign-up: an email taken")
	w.expect(t, "sign-up", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, app.NewClient().PostForm("/signup", form("Bäckerei", "bea@example.com", "a long enough password")).StatusCode)
	}, models.EventAccountCreated, models.Login{ID: 2, Email: "bea@example.com"}, models.ActorWeb, "account", "login")
}
