package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// A sub-account with rights management and the activity log right opens Settings → API tokens,
// sees the scopes it cannot give greyed out, creates a token, copies it from the one page load that
// shows it, reloads (no second token), uses it, and revokes it.
func TestAPITokensInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	main, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	app.CreateSubAccount(main, "lea@example.com", models.Grant{Rights: models.RightRightsManagement | models.RightActivityLog})
	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, "lea@example.com", apptest.SubAccountPassword)
	b.Do("open the tab", chromedp.Navigate(app.URL+"/settings"), chromedp.Click(css(`.subnav a[href="/settings/tokens"]`)),
		chromedp.WaitVisible(css(`[data-testid="token-form"]`)))
	assert.True(t, Eval[bool](b, `document.querySelector('input[value="smartlock.action"]').disabled`), "a scope beyond her rights is greyed out")
	assert.Contains(t, b.Text(`[data-testid="scope-smartlock.action"] [data-testid="scope-needs"]`), "Operate devices")
	assert.False(t, Eval[bool](b, `document.querySelector('input[value="smartlock.log"]').disabled`))
	b.Shot("form")

	b.Do("create",
		chromedp.SendKeys(css(`#description`), "Log export"),
		chromedp.Click(css(`[data-testid="scope-smartlock.log"] input`)),
		chromedp.Click(css(`[data-testid="create-token"]`)),
		chromedp.WaitVisible(css(`[data-testid="new-token"]`)),
	)
	secret := b.Text(`[data-testid="new-token-secret"]`)
	require.Len(t, secret, 64)
	b.Shot("created")
	b.Do("copy", chromedp.Click(css(`[data-testid="copy-token"]`)))
	assert.Equal(t, secret, Eval[string](b, `window.getSelection().toString().trim()`), "the token is selected, ready to copy")

	req, err := http.NewRequest(http.MethodGet, app.URL+"/api/smartlock/log", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	res := app.NewClient().Do(req)
	assert.Equal(t, http.StatusOK, res.StatusCode, "the token works")

	assert.Equal(t, app.URL+"/settings/tokens", Eval[string](b, `location.href`), "the form redirected to the list")
	b.Do("reload the page", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="token-row"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="new-token"]').length`), "shown once")
	assert.Equal(t, 1, Eval[int](b, `document.querySelectorAll('[data-testid="token-row"]').length`), "a reload creates no second token")
	b.Shot("reloaded")
	assert.Equal(t, "Active", b.Text(`[data-testid="token-status"]`))

	b.Do("phone", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile), chromedp.Navigate(app.URL+"/settings/tokens"),
		chromedp.WaitVisible(css(`[data-testid="token-row"]`)))
	b.NoSidewaysScroll("API tokens on a phone")
	b.Shot("phone")
	b.Do("desktop", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(app.URL+"/settings/tokens"), chromedp.WaitVisible(css(`[data-testid="token-row"]`)))

	b.Do("revoke", chromedp.Click(css(`[data-testid="revoke-token"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-revoke-yes"]`)),
		chromedp.Click(css(`[data-testid="confirm-revoke-yes"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Equal(t, "Revoked", b.Text(`[data-testid="token-status"]`))
	res = app.NewClient().Do(req)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the revoked token no longer works")
	b.Shot("revoked")

	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
