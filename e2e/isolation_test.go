package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"portier/apptest"
)

// The tests share one Chromium: a Browser signed in leaves nothing behind for another Browser
// (each has a browser context of its own), so no test starts signed in by accident.
func TestBrowsersShareNoCookies(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	signedIn := NewBrowser(t, 1280, 900)
	signedIn.LogIn(app.URL, owner.Email, owner.Password)

	other := NewBrowser(t, 1280, 900)
	other.Do("open settings", chromedp.Navigate(app.URL+"/settings"), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	assert.Contains(t, other.Location(), "/login", "a second browser is not signed in")

	signedIn.Do("the first stays signed in", chromedp.Navigate(app.URL+"/settings"), chromedp.WaitVisible(css(`[data-testid="two-factor"]`)))
}
