package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// Battery and offline warnings go to the main login only: a sub-account's Log notifications
// have no Warnings column and say where warnings go, and a device's settings say the same.
func TestWarningsForTheMainLoginOnlyInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	main, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, main.AccountID, "Demo", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	app.CreateSubAccount(main, "lea@example.com", models.Grant{Rights: models.RightsAll})

	b := NewBrowser(t, 1280, 900)
	logIn := func(email, password string) {
		b.Do("log in as "+email,
			chromedp.Navigate(app.URL+"/login"),
			chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
			chromedp.SendKeys(css(`#email`), email),
			chromedp.SendKeys(css(`#password`), password),
			chromedp.Click(css(`[data-testid="submit"]`)),
			chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
		)
	}
	logIn("lea@example.com", apptest.SubAccountPassword)
	b.Do("log notifications", chromedp.Navigate(app.URL+"/settings/notifications"), chromedp.WaitVisible(css(`[data-testid="log-notifications-matrix"]`)))
	assert.NotContains(t, b.Text(`[data-testid="log-notifications-matrix"] thead`), "Warnings")
	assert.Contains(t, b.Text(`[data-testid="log-notifications"]`), "go by email to the account's main login only")
	b.Shot("sub-account-log-notifications")

	b.Do("log out", chromedp.Click(css(`[data-testid="logout"]`)), chromedp.WaitVisible(css(`[data-testid="login-form"]`)))
	logIn(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password)
	b.Do("device settings", chromedp.Navigate(app.URL+fmt.Sprintf("/devices/%d/settings", devs[0].ID)), chromedp.WaitVisible(css(`[data-testid="device-settings"]`)))
	assert.Contains(t, b.Text(`[data-testid="device-settings"]`), "main login only (never to sub-accounts)")
	b.Shot("device-settings")
}
