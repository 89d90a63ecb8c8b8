package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"portier/apptest"
)

// The Users page lists the people the demo devices report; typing in the search filters in
// place and the address follows, so the back button returns to the whole list.
func TestUsersPageInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	app.AddDemoBridge(login.AccountID)
	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("users", chromedp.Click(css(`nav a[href="/users"]`)), chromedp.WaitVisible(css(`[data-testid="user-list"] table`)))
	b.Shot("users")
	b.NoSidewaysScroll("users")
	rows := `document.querySelectorAll('[data-testid="user-list"] tbody tr').length`
	assert.Equal(t, 10, Eval[int](b, rows))
	b.Do("search", chromedp.SendKeys(css(`#q`), "anna"),
		chromedp.Poll[chromedp.Void](rows+` === 3`, chromedp.WithPollingTimeout(10*time.Second)))
	assert.Contains(t, b.Location(), "/users?q=anna", "the address carries the filter")
	b.Shot("users-search")
	b.Do("back", chromedp.NavigateBack(), chromedp.Poll[chromedp.Void](rows+` === 10`, chromedp.WithPollingTimeout(10*time.Second)))
	b.Do("open Postman", chromedp.Navigate(app.URL+"/users?kind=keypad"), chromedp.WaitVisible(css(`[data-testid="user-list"] tbody a`)),
		chromedp.Click(css(`[data-testid="user-list"] tbody a`)), chromedp.WaitVisible(css(`[data-testid="permissions"]`)))
	assert.Contains(t, b.Text(`[data-testid="permissions"]`), "Front door")
	b.Shot("user")
	b.Do("create", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Dora Weiß"), chromedp.SendKeys(css(`#email`), "dora@example.com"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="user-name"]`)))
	assert.Equal(t, "Dora Weiß", b.Text(`[data-testid="user-name"]`))
	b.Do("duplicates", chromedp.Navigate(app.URL+"/users"), chromedp.Click(css(`[data-testid="duplicates-link"]`)),
		chromedp.WaitVisible(css(`[data-testid="duplicate-0"]`)))
	b.Shot("duplicates")
	b.Do("merge the first suggestion", chromedp.Click(css(`[data-testid="merge-0"]`)), chromedp.WaitVisible(css(`[data-testid="merges"]`)))
	b.Shot("merged")
	b.Do("phone", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile), chromedp.Navigate(app.URL+"/users"),
		chromedp.WaitVisible(css(`[data-testid="user-list"]`)))
	b.NoSidewaysScroll("users on a phone")
	b.Shot("users-phone")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
