package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/auth"
	"portier/devices/sim"
	"portier/models"
)

// lockEmail sends the per-login limit of wrong passwords for email, each from a fresh browser.
func lockEmail(t *testing.T, app *apptest.App, email string) {
	t.Helper()
	for range models.ThrottleLoginPerAccount.MaxFailures {
		require.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(email, "not the password").StatusCode)
	}
}

// A browser that signed in before keeps signing in while others have locked the email; a fresh
// browser, and one with a forged device cookie, are refused.
func TestDeviceCookieSignsInDuringLockout(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	mine := app.NewClient()
	require.Equal(t, http.StatusSeeOther, mine.Login(owner.Email, owner.Password).StatusCode)
	require.Equal(t, http.StatusSeeOther, mine.PostForm("/logout", nil).StatusCode)

	lockEmail(t, app, owner.Email)
	assert.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(owner.Email, owner.Password).StatusCode,
		"a fresh browser is refused, the right password included")
	forged := app.NewClient()
	u, _ := url.Parse(app.URL)
	forged.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "portier_device", Value: "bm9uY2U.0123abcd", Path: "/"}})
	assert.Equal(t, http.StatusUnprocessableEntity, forged.Login(owner.Email, owner.Password).StatusCode, "a forged device cookie is worthless")

	res := mine.Login(owner.Email, owner.Password)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the browser that signed in before is not locked out")
	assert.Equal(t, "/", res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, mine.Get("/").StatusCode)
}

// A browser with a device cookie counts its own failures: it locks itself after the limit,
// and neither the email nor the address is locked for others by them.
func TestDeviceCookieFailuresCountAgainstTheDeviceOnly(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	mine := app.NewClient()
	require.Equal(t, http.StatusSeeOther, mine.Login(owner.Email, owner.Password).StatusCode)
	require.Equal(t, http.StatusSeeOther, mine.PostForm("/logout", nil).StatusCode)
	for range models.ThrottleSignInPerDevice.MaxFailures {
		require.Equal(t, http.StatusUnprocessableEntity, mine.Login(owner.Email, "not the password").StatusCode)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, mine.Login(owner.Email, owner.Password).StatusCode, "the device is locked")
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode, "the email is not")
	app.Clock.Advance(models.ThrottleSignInPerDevice.LockFor + time.Second)
	assert.Equal(t, http.StatusSeeOther, mine.Login(owner.Email, owner.Password).StatusCode)
}

// The second factor follows the same rule: while others have locked the login's second step
// (with its password, but wrong codes), the browser that signed in before still completes it;
// a fresh browser with the right code does not.
func TestDeviceCookieSecondFactorDuringLockout(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	secret, _ := enableTwoFactor(t, app, app.Setup())
	code := func() string {
		c, err := auth.TOTPCode(secret, app.Clock.Now())
		require.NoError(t, err)
		return c
	}
	mine := app.NewClient()
	signInWithPassword(t, mine)
	app.Clock.Advance(30 * time.Second) // the code of enrolment is used up
	require.Equal(t, http.StatusSeeOther, mine.PostForm("/login/2fa", url.Values{"code": {code()}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, mine.PostForm("/logout", nil).StatusCode)

	for range models.ThrottleTwoFactorPerLogin.MaxFailures {
		c := app.NewClient()
		signInWithPassword(t, c)
		require.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/login/2fa", url.Values{"code": {"000000"}}).StatusCode)
	}
	app.Clock.Advance(30 * time.Second) // a fresh code: each works once
	fresh := app.NewClient()
	signInWithPassword(t, fresh)
	assert.Equal(t, http.StatusUnprocessableEntity, fresh.PostForm("/login/2fa", url.Values{"code": {code()}}).StatusCode,
		"a fresh browser is refused at the second step")

	signInWithPassword(t, mine)
	res := mine.PostForm("/login/2fa", url.Values{"code": {code()}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the browser that signed in before completes the second step")
	assert.Equal(t, http.StatusOK, mine.Get("/").StatusCode)
}

// Web-key sessions keep opening doors while their email and their address are locked for
// sign-in by others.
func TestWebKeyOpensDuringSignInLockout(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.holder(t)
	lockEmail(t, f.app, f.dora.Email)
	lockAddress(t, f.app, "")
	require.Equal(t, http.StatusUnprocessableEntity, f.app.NewClient().Login(f.dora.Email, doraPassword).StatusCode)

	front := deviceNamed(t, f.devs, "Front door")
	res := c.PostForm(fmt.Sprintf("/key/devices/%d/actions/1", front.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Eventually(t, func() bool {
		d, err := f.app.Store.FindDevice(context.Background(), front.AccountID, front.ID)
		return err == nil && d.Reported.State == sim.StateUnlocked
	}, 5*time.Second, 10*time.Millisecond)
}
