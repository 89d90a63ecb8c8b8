package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The owner adds a sub-account with two rights (Operate devices, View activity log) on all
// devices and a password typed in, in Settings → Rights management. Signed in as it in a second
// browser, the navigation offers Devices and Activity log but not Users, the front door has its
// lock buttons, /users by address is refused, and Settings has no Rights management tab.
func TestRightsManagementInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	ctx := context.Background()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	var front models.Device
	for _, d := range devs {
		if d.Name == "Front door" {
			front = d
		}
	}
	require.NotZero(t, front.ID)

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("Settings → Rights management", chromedp.Click(css(`nav a[href="/settings"]`)), chromedp.WaitVisible(css(`.subnav a[href="/settings/rights"]`)),
		chromedp.Click(css(`.subnav a[href="/settings/rights"]`)), chromedp.WaitVisible(css(`[data-testid="sub-accounts-empty"]`)))
	b.Shot("rights-empty")
	b.Do("add a sub-account", chromedp.Click(css(`[data-testid="add-sub-account"]`)), chromedp.WaitVisible(css(`[data-testid="sub-account-form"]`)),
		chromedp.SendKeys(css(`#email`), "max@example.com"), chromedp.SendKeys(css(`#name`), "Max Schreiner"),
		chromedp.Click(css(`[data-testid="right-operate_devices"] input`)), chromedp.Click(css(`[data-testid="right-activity_log"] input`)),
		chromedp.Click(css(`[data-testid="password-set"] input`)), chromedp.SendKeys(css(`#password`), "max's own long passphrase"))
	assert.True(t, Eval[bool](b, `document.querySelector('[data-testid="devices-all"] input').checked`), "all devices is the default")
	b.NoSidewaysScroll("add a sub-account")
	b.Shot("rights-form")
	b.Do("save", chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "Added the sub-account Max Schreiner")
	max, _, err := app.Store.FindLoginByEmail(ctx, "max@example.com")
	require.NoError(t, err)
	row := fmt.Sprintf(`[data-testid="sub-account-%d"]`, max.ID)
	assert.Equal(t, "Operate devices, View activity log & get log notifications", b.Text(row+` [data-testid="sub-account-rights"]`))
	assert.Equal(t, "All devices", b.Text(row+` [data-testid="sub-account-devices"]`))
	b.Shot("rights-list")

	// Max, in a browser of his own.
	m := NewBrowser(t, 1280, 900)
	m.LogIn(app.URL, "max@example.com", "max's own long passphrase")
	nav := func(href string) int {
		return Eval[int](m, fmt.Sprintf(`document.querySelectorAll('nav a[href="%s"]').length`, href))
	}
	assert.Equal(t, 1, nav("/devices"))
	assert.Equal(t, 1, nav("/activity"))
	assert.Zero(t, nav("/users"), "no Users without the authorizations right")
	m.Shot("sub-account-home")

	m.Do("the front door", chromedp.Navigate(fmt.Sprintf("%s/devices/%d", app.URL, front.ID)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	assert.Equal(t, 1, Eval[int](m, `document.querySelectorAll('[data-testid="action-1"]').length`), "a lock action button")
	m.Do("the activity log", chromedp.Click(css(`nav a[href="/activity"]`)), chromedp.WaitVisible(css(`h1`)))
	assert.Equal(t, app.URL+"/activity", m.Location())

	m.Do("/users by address", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css(`[data-testid="error-page"]`)))
	assert.Contains(t, m.Text(`[data-testid="error-page"]`), "does not have the right")
	m.Shot("sub-account-users-refused")

	m.Do("Settings", chromedp.Navigate(app.URL+"/settings"), chromedp.WaitVisible(css(`.subnav`)))
	assert.Zero(t, Eval[int](m, `document.querySelectorAll('.subnav a[href="/settings/rights"]').length`), "no Rights management tab")
	m.Do("/settings/rights by address", chromedp.Navigate(app.URL+"/settings/rights"), chromedp.WaitVisible(css(`[data-testid="error-page"]`)))

	assert.Empty(t, b.Problems(), "owner: console errors, exceptions or CSP violations")
	assert.Empty(t, m.Problems(), "sub-account: console errors, exceptions or CSP violations")
}
