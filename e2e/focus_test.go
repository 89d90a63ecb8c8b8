package e2e

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// After a refused form the focus is on the first field in error, not on the page; setup and
// the password reset ask for the new password twice, with the invitation page's rule and
// message (issue 20, item 15).
func TestFocusGoesToTheFirstFieldInError(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	b := NewBrowser(t, 1280, 900)
	focused := func() string { return Eval[string](b, `document.activeElement ? document.activeElement.id : ""`) }
	const mismatch = "The two passwords differ. Type the same password twice."
	owner := apptest.DefaultOwner

	// Setup: the account name above the email is fine, so the email is the first in error.
	b.Do("setup with a bad email", chromedp.Navigate(app.URL+"/setup"), chromedp.WaitVisible(css(`[data-testid="account-form"]`)),
		chromedp.SendKeys(css(`#account_name`), "ACME Office"), chromedp.SendKeys(css(`#name`), owner.Name),
		chromedp.SendKeys(css(`#email`), "not-an-email"), chromedp.SendKeys(css(`#password`), owner.Password),
		chromedp.SendKeys(css(`#password_confirm`), "another password"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="error-email"]`)))
	assert.Equal(t, "email", focused(), "setup: the first field in error")
	assert.Equal(t, mismatch, b.Text(`[data-testid="error-password_confirm"]`))

	b.Do("setup with passwords that differ", chromedp.SetValue(css(`#email`), owner.Email),
		chromedp.SendKeys(css(`#password`), owner.Password), chromedp.SendKeys(css(`#password_confirm`), "another password"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="error-email"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-password_confirm"]`)))
	assert.Equal(t, "password_confirm", focused(), "setup: the repeat")

	b.Do("finish setup", chromedp.SendKeys(css(`#password`), owner.Password), chromedp.SendKeys(css(`#password_confirm`), owner.Password),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="home-title"]`)))

	// A form of Manage account, which every login has.
	b.Do("change the password with a wrong current one", chromedp.Navigate(app.URL+"/settings/account"),
		chromedp.WaitVisible(css(`[data-testid="change-password"]`)),
		chromedp.SendKeys(css(`#current_password`), "not my password"), chromedp.SendKeys(css(`#new_password`), "a brand new horse staple"),
		chromedp.Click(css(`[data-testid="change-password"]`)), chromedp.WaitVisible(css(`[data-testid="error-current_password"]`)))
	assert.Equal(t, "current_password", focused(), "settings: the first field in error")

	// The password reset.
	res := app.NewClient().PostForm("/password/forgot", url.Values{"email": {owner.Email}})
	require.Equal(t, 200, res.StatusCode)
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	link := regexp.MustCompile(`https?://\S+/password/reset/\S+`).FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)
	b.Do("reset with passwords that differ", chromedp.Navigate(link), chromedp.WaitVisible(css(`[data-testid="reset-form"]`)),
		chromedp.SendKeys(css(`#password`), "the password after the reset"), chromedp.SendKeys(css(`#password_confirm`), "something else"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="error-password_confirm"]`)))
	assert.Equal(t, "password_confirm", focused(), "reset: the repeat")
	assert.Equal(t, mismatch, b.Text(`[data-testid="error-password_confirm"]`))
	b.Do("reset with a password too short", chromedp.SendKeys(css(`#password`), "short"), chromedp.SendKeys(css(`#password_confirm`), "short"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="error-password_confirm"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-password"]`)))
	assert.Equal(t, "password", focused(), "reset: the password")
	b.Do("reset", chromedp.SendKeys(css(`#password`), "the password after the reset"),
		chromedp.SendKeys(css(`#password_confirm`), "the password after the reset"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	b.LogIn(app.URL, owner.Email, "the password after the reset")
}
