package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// An owner opens Manage device from a lock's page, changes two settings and sees them applied;
// an opener that is offline shows its change pending, and the page turns it to applied by itself
// once the device is back.
func TestManageDeviceInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	var front, opener models.Device
	for _, d := range devs {
		switch d.Name {
		case "Front door":
			front = d
		case "Building entrance":
			opener = d
		}
	}
	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	configURL := fmt.Sprintf("/devices/%d/config", front.ID)
	b.Do("open Manage device from the device page",
		chromedp.Navigate(fmt.Sprintf("%s/devices/%d", app.URL, front.ID)),
		chromedp.Click(css(`a[href="`+configURL+`"]`)),
		chromedp.WaitVisible(css(`[data-testid="config-form"]`)),
	)
	b.Shot("config-lock")
	b.NoSidewaysScroll("manage device")
	b.Do("change lock 'n' go timeout and auto lock",
		chromedp.SetValue(css(`#cfg-lngTimeout`), "45"),
		chromedp.Click(css(`#cfg-autoLock`)),
		chromedp.Click(css(`[data-testid="config-form"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	b.Do("applied", chromedp.Poll[chromedp.Void](
		`document.querySelector('[data-testid="status-lngTimeout"]').textContent.indexOf("Applied") >= 0`, chromedp.WithPollingTimeout(15*time.Second)))
	assert.Contains(t, b.Text(`[data-testid="status-autoLock"]`), "Applied")
	b.Shot("config-applied")
	cfg, err := app.Devices.Simulator(front.ConnectionID).Config(front.Type, front.NukiID)
	require.NoError(t, err)
	assert.Equal(t, 45, cfg["lngTimeout"])
	assert.Equal(t, true, cfg["autoLock"])

	// A number outside the allowed range: the form says so next to the field.
	b.Do("bad auto lock timeout",
		chromedp.SetValue(css(`#cfg-autoLockTimeout`), "1"),
		chromedp.Click(css(`[data-testid="config-form"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-autoLockTimeout"]`)),
	)
	assert.Contains(t, b.Text(`[data-testid="error-autoLockTimeout"]`), "from 2 to 3600")
	b.Shot("config-error")

	// The opener is offline: its change waits, and the page follows it without a reload.
	bridge := app.Devices.Simulator(opener.ConnectionID)
	require.NoError(t, bridge.SetOnline(opener.Type, opener.NukiID, false))
	b.Do("opener: ring to open timeout",
		chromedp.Navigate(fmt.Sprintf("%s/devices/%d/config", app.URL, opener.ID)),
		chromedp.WaitVisible(css(`[data-testid="config-form"]`)),
		chromedp.SetValue(css(`#cfg-rtoTimeout`), "30"),
		chromedp.Click(css(`[data-testid="config-form"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="config-pending"]`)),
	)
	b.Do("pending: device offline", chromedp.Poll[chromedp.Void](
		`document.querySelector('[data-testid="status-rtoTimeout"]').textContent.indexOf("device offline") >= 0`, chromedp.WithPollingTimeout(15*time.Second)))
	b.Shot("config-pending")
	href := b.Location()
	require.NoError(t, bridge.SetOnline(opener.Type, opener.NukiID, true))
	app.Devices.RetryConfig()
	b.Do("applied without a reload", chromedp.Poll[chromedp.Void](
		`document.querySelector('[data-testid="status-rtoTimeout"]').textContent.indexOf("Applied") >= 0`, chromedp.WithPollingTimeout(15*time.Second)))
	assert.Equal(t, href, b.Location())
	b.Shot("config-opener-applied")

	b.Do("narrow screen", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile), chromedp.Navigate(app.URL+configURL),
		chromedp.WaitVisible(css(`[data-testid="config-form"]`)))
	b.NoSidewaysScroll("manage device on a phone")
	b.Shot("config-phone")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
