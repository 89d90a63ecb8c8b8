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

	"portier/apptest"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// The owner creates Dora, gives her a web key on two devices and sends the invitation from her
// page; the email's link, followed from the mail outbox on a phone, sets a password and lands on
// the web key, where Dora unlocks the front door and sees it unlocked.
func TestWebKeyInTheBrowser(t *testing.T) {
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	ctx := context.Background()
	owner := apptest.DefaultOwner
	login, _, err := app.Store.FindLoginByEmail(ctx, owner.Email)
	require.NoError(t, err)
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, login.AccountID, "Home", sim.DemoDevices(),
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	named := map[string]models.Device{}
	for _, d := range devs {
		named[d.Name] = d
	}
	front := named["Front door"]

	b := NewBrowser(t, 1280, 900)
	b.Do("log in",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), owner.Email),
		chromedp.SendKeys(css(`#password`), owner.Password),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	b.Do("create Dora", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Dora Weiß"), chromedp.SendKeys(css(`#email`), "dora@example.com"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="user-name"]`)))
	dora := Value(b, "location", chromedp.Location())
	var userID int64
	_, err = fmt.Sscanf(dora, app.URL+"/users/%d", &userID)
	require.NoError(t, err)

	// The permission pages are another piece of work: the web-key permissions come from the store.
	_, err = app.Store.CreatePermissions(ctx, login.AccountID, db.NewPermission{AccountUserID: userID, Type: models.AuthTypeApp,
		Name: "Dora Weiß", RemoteAllowed: true, Devices: map[int64]models.PushStatus{
			front.ID: models.PushPortierOnly, named["Building entrance"].ID: models.PushPortierOnly}},
		models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	// Office on Saturdays only: listed, with when instead of buttons (the test clock says Monday).
	_, err = app.Store.CreatePermissions(ctx, login.AccountID, db.NewPermission{AccountUserID: userID, Type: models.AuthTypeApp,
		Name: "Dora Weiß", RemoteAllowed: true, Restrictions: models.Restrictions{AllowedWeekdays: models.WeekdayBit(time.Saturday),
			AllowedFromTime: 9 * 60, AllowedUntilTime: 12 * 60},
		Devices: map[int64]models.PushStatus{named["Office"].ID: models.PushPortierOnly}},
		models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	b.Do("send the invitation", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="send-invitation"]`)),
		chromedp.Click(css(`[data-testid="send-invitation"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)),
		chromedp.WaitVisible(css(`[data-testid="invitation-0"]`)))
	assert.Contains(t, b.Text(`[data-testid="invitation-0"]`), "Pending")
	b.Shot("user-invited")

	b.Do("open the outbox", chromedp.Navigate(app.URL+"/settings/outbox"), chromedp.WaitVisible(css(`[data-testid="outbox-message"]`)),
		chromedp.Click(css(`[data-testid="outbox-message"] summary`)), chromedp.WaitVisible(css(`[data-testid="outbox-message"] a[href*="/invite/"]`)))
	assert.Contains(t, b.Text(`[data-testid="outbox-message"] .mail-body`), "Front door")
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
	office := fmt.Sprintf(`[data-testid="key-device-%d"]`, named["Office"].ID)
	assert.Contains(t, b.Text(office+` [data-testid="not-now"]`), "Sat")
	assert.Empty(t, Eval[int](b, `document.querySelectorAll('`+office+` button').length`), "no buttons outside the window")
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
