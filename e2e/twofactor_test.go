package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/auth"
)

// An owner turns on two-factor authentication in Settings with the key shown on the page, logs
// out, logs in with a code from the app, then with a recovery code, and sees that recovery code
// refused the second time.
func TestTwoFactorInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	b := NewBrowser(t, 1280, 900)
	owner := apptest.DefaultOwner

	logIn := func(step string) {
		b.Do(step,
			chromedp.Navigate(app.URL+"/login"),
			chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
			chromedp.SendKeys(css(`#email`), owner.Email),
			chromedp.SendKeys(css(`#password`), owner.Password),
			chromedp.Click(css(`[data-testid="submit"]`)),
		)
	}
	logIn("log in")
	b.Do("home", chromedp.WaitVisible(css(`[data-testid="home-title"]`)))

	b.Do("open settings",
		chromedp.Click(css(`nav a[href="/settings"]`)),
		chromedp.WaitVisible(css(`[data-testid="two-factor"]`)),
	)
	b.Shot("settings")
	b.NoSidewaysScroll("settings")
	b.Do("start 2FA setup", chromedp.Click(css(`[data-testid="enable-2fa"]`)), chromedp.WaitVisible(css(`[data-testid="totp-key"]`)))
	// The QR code is an image that loaded from this server.
	qrLoaded := `new Promise(function(resolve){var i=document.querySelector("img.qr");
		if (i.complete) { resolve(i.naturalWidth > 100); return; }
		i.addEventListener("load", function(){ resolve(i.naturalWidth > 100) });
		i.addEventListener("error", function(){ resolve(false) });})`
	assert.True(t, Value(b, "QR code", chromedp.Evaluate[bool](qrLoaded, chromedp.EvalAwaitPromise)), "the QR code shows")
	b.Shot("setup")
	b.NoSidewaysScroll("2FA setup")
	secret := strings.ReplaceAll(b.Text(`[data-testid="totp-key"]`), " ", "")
	require.Len(t, secret, 32)

	// A wrong code first: a message next to the field.
	b.Do("wrong code",
		chromedp.SendKeys(css(`#code`), "000000"),
		chromedp.Click(css(`[data-testid="confirm-2fa"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-code"]`)),
	)
	code, err := auth.TOTPCode(secret, app.Clock.Now())
	require.NoError(t, err)
	b.Do("confirm with the app's code",
		chromedp.Clear(css(`#code`)),
		chromedp.SendKeys(css(`#code`), code),
		chromedp.Click(css(`[data-testid="confirm-2fa"]`)),
		chromedp.WaitVisible(css(`[data-testid="recovery-codes"]`)),
	)
	b.Shot("recovery-codes")
	codes := Value(b, "read recovery codes", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="recovery-code"]')).map(function(e){return e.textContent.trim()})`))
	require.Len(t, codes, 10)
	b.Do("done", chromedp.Click(css(`[data-testid="codes-done"]`)), chromedp.WaitVisible(css(`[data-testid="two-factor-status"]`)))
	assert.Equal(t, "On", b.Text(`[data-testid="two-factor-status"]`))

	// Log out, log in with the next code from the app.
	b.Do("log out", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	logIn("password")
	b.Do("second step", chromedp.WaitVisible(css(`[data-testid="two-factor-form"]`)))
	b.Shot("login-2fa")
	app.Clock.Advance(30 * time.Second)
	code, _ = auth.TOTPCode(secret, app.Clock.Now())
	b.Do("code from the app",
		chromedp.SendKeys(css(`#code`), code),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)

	// Log out, log in with a recovery code.
	b.Do("log out again", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	logIn("password again")
	b.Do("recovery code",
		chromedp.WaitVisible(css(`[data-testid="two-factor-form"]`)),
		chromedp.SendKeys(css(`#code`), codes[0]),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "9 codes are left")

	// The same recovery code is refused the second time.
	b.Do("log out a third time", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	logIn("password a third time")
	b.Do("used recovery code",
		chromedp.WaitVisible(css(`[data-testid="two-factor-form"]`)),
		chromedp.SendKeys(css(`#code`), codes[0]),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="form-error"]`)),
	)
	b.Shot("recovery-refused")
	assert.Contains(t, b.Location(), "/login/2fa")

	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
