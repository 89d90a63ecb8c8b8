package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	usecases "portier/app"
	"portier/apptest"
	"portier/auth"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// The owner creates Dora and gives her web-key permissions on three devices through "Create new
// permission", which invites her; the latest email's link, followed from the mail outbox on a
// phone, sets a password and lands on the web key, where Dora unlocks the front door and sees it
// unlocked.
func TestWebKeyInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	ctx := context.Background()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	named := map[string]models.Device{}
	for _, d := range devs {
		named[d.Name] = d
	}
	front := named["Front door"]

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("create Dora", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Dora Weiß"), chromedp.SendKeys(css(`#email`), "dora@example.com"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="user-name"]`)))
	dora := Value(b, "location", chromedp.Location())
	var userID int64
	_, err := fmt.Sscanf(dora, app.URL+"/users/%d", &userID)
	require.NoError(t, err)

	// Office on Saturdays 09:00–12:00 first, then the front door and the building entrance at
	// any time: each creation invites Dora; the second invitation replaces the first.
	office := named["Office"]
	b.Do("new permission: Office on Saturdays", chromedp.Navigate(fmt.Sprintf("%s/users/%d/permissions/new", app.URL, userID)),
		chromedp.WaitVisible(css(`[data-testid="permission-form"]`)),
		chromedp.Click(css(fmt.Sprintf(`[data-testid="device-%d"] input`, office.ID))),
		chromedp.Click(css(`input[name="weekday"][value="6"]`)),
		chromedp.SetValue(css(`#from_time`), "09:00"), chromedp.SetValue(css(`#until_time`), "12:00"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "An invitation to the web key went to dora@example.com")
	b.Do("new permission: two devices", chromedp.Navigate(fmt.Sprintf("%s/users/%d/permissions/new", app.URL, userID)),
		chromedp.WaitVisible(css(`[data-testid="permission-form"]`)),
		chromedp.Click(css(fmt.Sprintf(`[data-testid="device-%d"] input`, front.ID))),
		chromedp.Click(css(fmt.Sprintf(`[data-testid="device-%d"] input`, named["Building entrance"].ID))),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "Created the permission on 2 devices")
	b.Do("invitation listed", chromedp.WaitVisible(css(`[data-testid="invitation-0"]`)))
	assert.Contains(t, b.Text(`[data-testid="invitation-0"]`), "Pending")
	b.Shot("user-invited")

	b.Do("open the outbox", chromedp.Navigate(app.URL+"/settings/outbox"), chromedp.WaitVisible(css(`[data-testid="outbox-message"]`)),
		chromedp.Click(css(`[data-testid="outbox-message"] summary`)), chromedp.WaitVisible(css(`[data-testid="outbox-message"] a[href*="/invite/"]`)))
	assert.Contains(t, b.Text(`[data-testid="outbox-message"] .mail-body`), "Front door", "the newest invitation names every device")
	assert.Contains(t, b.Text(`[data-testid="outbox-message"] .mail-body`), "Office")
	b.Shot("outbox")

	// Dora opens the link on her phone.
	b.Do("phone", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile))
	b.Do("follow the link", chromedp.Click(css(`[data-testid="outbox-message"] a[href*="/invite/"]`)),
		chromedp.WaitVisible(css(`[data-testid="invite-form"]`)))
	assert.Contains(t, b.Text(`[data-testid="invite-devices"]`), "Building entrance")
	b.NoSidewaysScroll("invitation on a phone")
	b.Shot("invite-phone")
	b.Do("mismatched passwords", chromedp.SendKeys(css(`#password`), "a quiet lighthouse at dusk"),
		chromedp.SendKeys(css(`#password_confirm`), "a quiet lighthouse at dawn"), chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-password_confirm"]`)))
	b.Shot("invite-mismatch")
	b.Do("set the password", chromedp.SendKeys(css(`#password`), "a quiet lighthouse at dusk"),
		chromedp.SendKeys(css(`#password_confirm`), "a quiet lighthouse at dusk"), chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="key-title"]`)))
	assert.Equal(t, app.URL+"/key", b.Location())
	assert.Equal(t, "Dora Weiß", b.Text(`[data-testid="key-holder"]`))
	card := fmt.Sprintf(`[data-testid="key-device-%d"]`, front.ID)
	assert.Contains(t, b.Text(card+` [data-testid="state"]`), "Locked")
	officeCard := fmt.Sprintf(`[data-testid="key-device-%d"]`, office.ID)
	assert.Contains(t, b.Text(officeCard+` [data-testid="not-now"]`), "Sat")
	assert.Empty(t, Eval[int](b, `document.querySelectorAll('`+officeCard+` button').length`), "no buttons outside the window")
	b.NoSidewaysScroll("web key on a phone")
	b.Shot("key-phone")

	b.Do("unlock", chromedp.Click(css(card+` [data-testid="action-1"]`)))
	b.Do("unlocked", chromedp.WaitVisible(css(card+` [data-testid="action-status"] .alert`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+card+` [data-testid="state"]').textContent.trim() === "Unlocked"`,
			chromedp.WithPollingTimeout(20*time.Second)))
	b.Shot("key-unlocked")
	d, err := app.Store.FindDevice(ctx, front.AccountID, front.ID)
	require.NoError(t, err)
	assert.Equal(t, sim.StateUnlocked, d.Reported.State)

	// The opener's "open" asks first, on the page.
	entrance := fmt.Sprintf(`[data-testid="key-device-%d"]`, named["Building entrance"].ID)
	b.Do("open asks", chromedp.Click(css(entrance+` [data-testid="action-3"]`)), chromedp.WaitVisible(css(entrance+` [data-testid="confirm"]`)))
	b.NoSidewaysScroll("confirmation on a phone")
	b.Shot("key-confirm")
	b.Do("cancel", chromedp.Click(css(entrance+` [data-testid="confirm"] a`)), chromedp.WaitVisible(css(entrance+` [data-testid="actions"]`)))

	// The admin pages are not hers.
	b.Do("admin pages send back", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css(`[data-testid="key-title"]`)))
	b.Do("password page", chromedp.Click(css(`[data-testid="change-password"]`)), chromedp.WaitVisible(css(`[data-testid="password-form"]`)))
	b.NoSidewaysScroll("web key password on a phone")
	b.Shot("key-password")
	b.Do("log out", chromedp.Navigate(app.URL+"/key"), chromedp.WaitVisible(css(`[data-testid="logout"]`)),
		chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	res, err := http.Get(app.URL + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// On a phone (375 px), the web key's header holds a long name and a long account name: it
// wraps them, and nothing on the page is wider than the phone.
func TestWebKeyHeaderOnAPhoneWithALongName(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	login := app.OwnerLogin()
	_, err := app.DB.Writer.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ?`,
		"Wohnungseigentümergemeinschaft Donaudampfschifffahrtsgasse 12", login.AccountID)
	require.NoError(t, err)
	var front models.Device
	for _, d := range app.AddDemoBridge(login.AccountID) {
		if d.Name == "Front door" {
			front = d
		}
	}
	const name, email, password = "Maximiliane Alexandra Oberhollenzerwittgensteinhausen", "maximiliane@example.com", "a quiet lighthouse at dusk"
	owner := models.SessionOperator(login)
	person, err := app.Handler.App.CreateUser(ctx, owner, models.LoginActor(login, models.ActorWeb, ""),
		usecases.UserFields{Name: name, Email: email, Language: "en"})
	require.NoError(t, err)
	app.CreatePermissions(t, login.AccountID, db.NewPermission{AccountUserID: person.ID, Type: models.AuthTypeApp, Name: name,
		RemoteAllowed: true, Devices: map[int64]models.PushStatus{front.ID: models.PushPortierOnly}})
	inv := app.CreateInvitation(t, login.AccountID, db.NewInvitation{AccountUserID: person.ID, TokenHash: auth.HashToken("key-token"),
		CodeHash: auth.HashToken("key-code"), Language: "en"})
	_, err = app.Handler.App.AcceptInvitation(ctx, inv, person, password, password, "link", "")
	require.NoError(t, err)

	b := NewBrowser(t, 375, 800)
	b.Do("sign in to the web key", chromedp.Navigate(app.URL+"/login"), chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), email), chromedp.SendKeys(css(`#password`), password),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="key-title"]`)))
	assert.Equal(t, name, b.Text(`[data-testid="key-holder"]`))
	b.Shot("key-long-name")
	assert.LessOrEqual(t, Eval[int](b, `document.documentElement.scrollWidth`), 375, "the web key scrolls sideways")
	assert.Equal(t, "[]", Eval[string](b, tooWide), "elements wider than the phone")
	assert.Empty(t, b.Problems())
}
