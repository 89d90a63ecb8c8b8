package e2e

import (
	"context"
	"fmt"
	"regexp"
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

// A property manager marks a new user as a partner company and adds a staff member on its page.
// In a second browser, on a phone, the staff member chooses a password with the emailed link,
// signs in and opens the box from their own web key. The manager's log names the company only;
// removing the staff member ends their web key at once.
func TestPartnerCompanyStaffInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	ctx := context.Background()
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung Berger", "verwaltung@example.com", "box owner password")
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, owner.AccountID, "Entrances", []sim.DeviceSpec{
		{Type: models.DeviceBox, Name: "Main entrance", Charge: 90},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	box := devs[0]

	m := NewBrowser(t, 1280, 900)
	m.LogIn(app.URL, "verwaltung@example.com", "box owner password")
	m.Do("create the company", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Putzteam GmbH"), chromedp.SendKeys(css(`#email`), "office@putzteam.example"),
		chromedp.Click(css(`[data-testid="company"]`)), chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="staff-empty"]`)))
	assert.Equal(t, "Company", m.Text(`[data-testid="company-badge"]`))
	users, _, err := app.Store.FindUsersPage(ctx, db.UserQuery{AccountID: owner.AccountID})
	require.NoError(t, err)
	require.Len(t, users, 1)
	company := users[0].User
	app.CreatePermissions(t, owner.AccountID, db.NewPermission{AccountUserID: company.ID, Type: models.AuthTypeApp,
		Name: company.Name, RemoteAllowed: true, Devices: map[int64]models.PushStatus{box.ID: models.PushPortierOnly}})

	m.Do("add a staff member", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="staff-form"]`)),
		chromedp.SendKeys(css(`#staff_name`), "Kim Berger"), chromedp.SendKeys(css(`#staff_email`), "kim@putzteam.example"),
		chromedp.Click(css(`[data-testid="staff-add"]`)), chromedp.WaitVisible(css(`[data-testid="staff-list"]`)))
	assert.Contains(t, m.Text(`[data-testid="staff-list"]`), "Kim Berger")
	m.Shot("company-page")
	mails, err := app.Store.FindMailTo(ctx, "kim@putzteam.example")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	link := regexp.MustCompile(`https?://\S+/password/reset/\S+`).FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)

	// The staff member, in a browser of their own, on a phone.
	s := NewBrowser(t, 375, 800)
	s.Do("choose a password", chromedp.Navigate(link), chromedp.WaitVisible(css(`[data-testid="reset-form"]`)),
		chromedp.SendKeys(css(`#password`), "a broom closet key"), chromedp.SendKeys(css(`#password_confirm`), "a broom closet key"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	s.Do("sign in", chromedp.SendKeys(css(`#email`), "kim@putzteam.example"), chromedp.SendKeys(css(`#password`), "a broom closet key"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="key-title"]`)))
	s.NoSidewaysScroll("the staff member's web key on a phone")
	s.Shot("staff-key")
	card := fmt.Sprintf(`[data-testid="key-device-%d"]`, box.ID)
	s.Do("open the box", chromedp.Click(css(card+` [data-testid="action-1"]`)), chromedp.WaitVisible(css(card+` [data-testid="confirm"]`)),
		chromedp.Click(css(card+` [data-testid="confirm-yes"]`)), chromedp.WaitVisible(css(card+` [data-testid="action-status"] .alert`)))
	require.Eventually(t, func() bool {
		page, err := app.Store.FindLogEntries(ctx, models.LogFilter{AccountID: owner.AccountID, DeviceID: box.ID, Limit: 5})
		return err == nil && len(page.Entries) > 0
	}, 20*time.Second, 50*time.Millisecond)

	m.Do("the log", chromedp.Navigate(app.URL+"/activity"), chromedp.WaitVisible(css(`[data-testid="activity-row"]`)))
	assert.Contains(t, m.Text(`[data-testid="activity-who"]`), "Putzteam GmbH")
	assert.NotContains(t, m.Text(`[data-testid="activity-log"]`), "Kim")
	m.Shot("manager-log")

	m.Do("remove the staff member", chromedp.Navigate(fmt.Sprintf("%s/users/%d", app.URL, company.ID)),
		chromedp.WaitVisible(css(`[data-testid="staff-remove"]`)), chromedp.Click(css(`[data-testid="staff-remove"]`)),
		chromedp.WaitVisible(css(`[data-testid="confirm-staff-remove"]`)))
	m.Shot("remove-staff")
	m.Do("yes", chromedp.Click(css(`[data-testid="confirm-staff-remove-yes"]`)), chromedp.WaitVisible(css(`[data-testid="staff-empty"]`)))
	// The web key page may be on its way to the sign-in page already (its refresh finds the
	// session ended): go there afresh rather than reload a page that is navigating.
	s.Do("the web key is gone", chromedp.Navigate(app.URL+"/key"), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	assert.Empty(t, m.Problems(), "console errors, exceptions or CSP violations")
	assert.Empty(t, s.Problems(), "console errors, exceptions or CSP violations")
}
