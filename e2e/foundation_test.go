package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

type css = chromedp.CSS

// A person installs Portier, creates the first account on the setup page, logs out and logs
// back in, and sees the home page. No page reports a console error or CSP violation.
func TestSetupLogoutLogin(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	b := NewBrowser(t, 1280, 900)

	b.Do("open the empty installation", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css(`[data-testid="account-form"]`)))
	assert.True(t, strings.HasSuffix(b.Location(), "/setup"), "an empty installation opens the setup page, got %s", b.Location())
	b.Shot("setup")

	// A weak password is refused next to the field, and what was typed stays.
	b.Do("setup with a short password",
		chromedp.SendKeys(css(`#account_name`), "Hofmann Büro"),
		chromedp.SendKeys(css(`#name`), "Anna Hofmann"),
		chromedp.SendKeys(css(`#email`), "anna@example.com"),
		chromedp.SendKeys(css(`#password`), "short"),
		chromedp.SendKeys(css(`#password_confirm`), "short"),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-password"]`)),
	)
	assert.Equal(t, "Hofmann Büro", Value(b, "form keeps input", chromedp.Value(css(`#account_name`))))
	b.Shot("setup-error")

	b.Do("finish setup",
		chromedp.SendKeys(css(`#password`), "correct horse battery staple"),
		chromedp.SendKeys(css(`#password_confirm`), "correct horse battery staple"),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	assert.Equal(t, "Hofmann Büro", b.Text(`[data-testid="account-name"]`))
	assert.Equal(t, "Anna Hofmann", b.Text(`[data-testid="login-name"]`))
	b.Shot("home")

	b.Do("log out", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	assert.NotEmpty(t, b.Text(`[data-testid="flash"]`), "logging out says so")

	// The setup page is gone for good.
	b.Do("setup is gone", chromedp.Navigate(app.URL+"/setup"), chromedp.WaitVisible(css(`[data-testid="error-page"]`)))
	b.Shot("setup-gone")

	// A wrong password gets the generic message.
	b.Do("wrong password",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), "anna@example.com"),
		chromedp.SendKeys(css(`#password`), "wrong horse battery staple"),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="form-error"]`)),
	)
	b.Shot("login-error")

	// Log in with the keyboard only: type, Tab to the password, Enter submits.
	b.Do("log in with the keyboard",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.Focus(css(`#email`)),
		chromedp.KeyEvent("anna@example.com"),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("correct horse battery staple"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	assert.Equal(t, "Anna Hofmann", b.Text(`[data-testid="login-name"]`))

	// The first Tab on a page reaches the skip link, which leads to the content.
	b.Do("first Tab", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css(`[data-testid="home-title"]`)), chromedp.KeyEvent(kb.Tab))
	assert.Equal(t, "skip-link", Eval[string](b, `document.activeElement.className`))
	b.Shot("skip-link")

	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// At 375 px the navigation folds into a menu button that opens it, the page does not scroll
// sideways, and Escape closes the menu again.
func TestNarrowScreenMenu(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	b := NewBrowser(t, 375, 812)

	b.LogIn(app.URL, apptest.DefaultOwner.Email, apptest.DefaultOwner.Password)
	b.Shot("home-375")

	b.NoSidewaysScroll("home at 375 px")
	navShown := `(function(){var r=document.getElementById("app-nav").getBoundingClientRect();return r.height>0&&r.width>0})()`
	require.False(t, Eval[bool](b, navShown), "the navigation is folded away on a narrow screen")

	b.Do("open the menu", chromedp.Click(css(`[data-menu-toggle]`)), chromedp.WaitVisible(css(`#app-nav`)))
	assert.Equal(t, "true", Value(b, "aria-expanded", chromedp.AttributeValue(css(`[data-menu-toggle]`), "aria-expanded")).Value)
	b.Shot("menu-open-375")

	b.Do("Escape closes it", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(css(`#app-nav`)))
	assert.True(t, Eval[bool](b, `document.activeElement.hasAttribute("data-menu-toggle")`), "focus returns to the menu button")

	// Settings through the menu, and every settings page fits.
	b.Do("settings from the menu",
		chromedp.Click(css(`[data-menu-toggle]`)),
		chromedp.Click(css(`#app-nav a[href="/settings"]`)),
		chromedp.WaitVisible(css(`[data-testid="sessions"]`)),
	)
	b.NoSidewaysScroll("settings at 375 px")
	b.Shot("settings-375")
	b.Do("2FA setup", chromedp.Click(css(`[data-testid="enable-2fa"]`)), chromedp.WaitVisible(css(`[data-testid="totp-key"]`)))
	b.NoSidewaysScroll("2FA setup at 375 px")
	b.Shot("setup-375")
	b.Do("outbox", chromedp.Navigate(app.URL+"/settings/outbox"), chromedp.WaitVisible(css(`[data-testid="outbox"]`)))
	b.NoSidewaysScroll("outbox at 375 px")

	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
