package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"portier/apptest"
)

// The owner also needs a door key (issue 20, item 2): a person with the owner's email gets a
// web-key permission; the form says the key goes to the owner's login. Signed out, the emailed
// link asks to sign in; signing in comes back to it, "Accept the key" lands on the key, and the
// navigation shows "My key" from then on.
func TestOwnerAcceptsAKeyBySigningIn(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	devs := app.AddDemoBridge(app.OwnerLogin().AccountID)
	front := devs[0]
	for _, d := range devs {
		if d.Name == "Front door" {
			front = d
		}
	}

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("create the owner's person", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Olivia Owner"), chromedp.SendKeys(css(`#email`), owner.Email),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="user-name"]`)))
	id := userID(t, b.Location())
	b.Do("new permission", chromedp.Navigate(fmt.Sprintf("%s/users/%d/permissions/new", app.URL, id)),
		chromedp.WaitVisible(css(`[data-testid="key-note"]`)))
	assert.Contains(t, b.Text(`[data-testid="key-note"]`), owner.Email+" is a login of this account")
	b.Shot("form-note")
	b.Do("web key on the front door", chromedp.Click(css(fmt.Sprintf(`[data-testid="device-%d"] input`, front.ID))),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))

	b.Do("the invitation in the outbox", chromedp.Navigate(app.URL+"/settings/outbox"), chromedp.WaitVisible(css(`[data-testid="outbox-message"]`)),
		chromedp.Click(css(`[data-testid="outbox-message"] summary`)), chromedp.WaitVisible(css(`[data-testid="outbox-message"] a[href*="/invite/"]`)))
	link := Eval[string](b, `document.querySelector('[data-testid="outbox-message"] a[href*="/invite/"]').getAttribute("href")`)
	b.Do("sign out", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))

	b.Do("phone", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile))
	b.Do("follow the link signed out", chromedp.Navigate(link), chromedp.WaitVisible(css(`[data-testid="invite-sign-in"]`)))
	assert.Contains(t, b.Text(`[data-testid="invite-holder"]`), "has a Portier login already")
	b.NoSidewaysScroll("invitation, sign in to accept")
	b.Shot("sign-in-to-accept")
	b.Do("sign in to accept", chromedp.Click(css(`[data-testid="invite-sign-in"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), owner.Email), chromedp.SendKeys(css(`#password`), owner.Password),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="invite-holder"]`)))
	assert.Contains(t, b.Text(`[data-testid="invite-holder"]`), "You are signed in as "+owner.Email)
	b.Shot("accept")
	b.Do("accept the key", chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(fmt.Sprintf(`[data-testid="key-device-%d"]`, front.ID))))
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "My key")
	b.NoSidewaysScroll("the owner's key")
	b.Shot("key")

	b.Do("back to the admin pages", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
		chromedp.EmulateViewport(1280, 900))
	assert.Contains(t, b.Text(`#app-nav`), "My key")
	b.Shot("nav")
	b.Do("My key in the navigation", chromedp.Click(css(`#app-nav a[href="/key"]`)),
		chromedp.WaitVisible(css(fmt.Sprintf(`[data-testid="key-device-%d"]`, front.ID))))
	assert.Empty(t, b.Problems())
}
