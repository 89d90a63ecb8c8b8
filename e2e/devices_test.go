package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// An owner adds a simulated bridge from the empty devices page, opens the front door's page,
// unlocks it and sees the state change without reloading; unlatching asks first.
func TestAddSimulatedBridgeAndUnlock(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	b := NewBrowser(t, 1280, 900)
	owner := apptest.DefaultOwner
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("devices, empty", chromedp.Click(css(`nav a[href="/devices"]`)), chromedp.WaitVisible(css(`[data-testid="devices-empty"]`)))
	b.Shot("devices-empty")
	b.Do("add a simulated bridge",
		chromedp.Click(css(`[data-testid="add-devices"]`)),
		chromedp.WaitVisible(css(`[data-testid="add-simulated"]`)),
	)
	b.Shot("add-devices")
	b.NoSidewaysScroll("add devices")
	b.Do("add", chromedp.Click(css(`[data-testid="add-simulated-button"]`)), chromedp.WaitVisible(css(`[data-testid="device-list"]`)))
	b.Shot("devices-tiles")
	b.NoSidewaysScroll("devices")
	list := b.Text(`[data-testid="device-list"]`)
	for _, name := range []string{"Front door", "Back door", "Office", "Building entrance", "Garden gate"} {
		assert.Contains(t, list, name)
	}

	front := Eval[string](b, `Array.from(document.querySelectorAll("a.tile-link")).find(function(a){return a.textContent.indexOf("Front door") >= 0}).getAttribute("href")`)
	b.Do("open the front door's page",
		chromedp.Click(css(`a.tile-link[href="`+front+`"]`)),
		chromedp.WaitVisible(css(`[data-testid="actions"]`)),
	)
	require.Equal(t, "Front door", b.Text(`[data-testid="device-name"]`))
	require.Contains(t, b.Text(`#device-panel [data-testid="state"]`), "Locked")
	href := b.Location()

	b.Do("unlock", chromedp.Click(css(`[data-testid="action-1"]`)))
	// The panel follows the device by itself: no reload.
	b.Do("state changes to unlocked", chromedp.Poll[chromedp.Void](
		`document.querySelector('#device-panel [data-testid="state"]').textContent.trim() === "Unlocked"`, chromedp.WithPollingTimeout(15*time.Second)))
	b.Shot("device-unlocked")
	assert.Equal(t, href, b.Location(), "no navigation happened")

	b.Do("unlatch asks first", chromedp.Click(css(`[data-testid="action-3"]`)), chromedp.WaitVisible(css(`[data-testid="confirm"]`)))
	b.Shot("device-confirm")
	assert.True(t, strings.Contains(b.Text(`[data-testid="confirm"]`), "opens the door"))
	b.Do("cancel", chromedp.Click(css(`[data-testid="confirm"] a.button`)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	b.Do("unlatch", chromedp.Click(css(`[data-testid="action-3"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-yes"]`)),
		chromedp.Click(css(`[data-testid="confirm-yes"]`)))
	id, err := strconv.ParseInt(strings.TrimPrefix(front, "/devices/"), 10, 64)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(id)
		return ok && st.Action == models.ActionUnlatch && !st.Pending
	}, 15*time.Second, 20*time.Millisecond, "the unlatch ends")
	b.Do("the page shows it ended", chromedp.Poll[chromedp.Void](
		`document.querySelectorAll('#device-panel .alert.info').length === 0`, chromedp.WithPollingTimeout(15*time.Second)))
	b.Do("reload", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="activity"]`)))
	activity := b.Text(`[data-testid="activity"]`)
	assert.Contains(t, activity, "Unlatched")
	assert.Contains(t, activity, "Unlocked")
	assert.Contains(t, activity, owner.Name)
	b.Shot("device-activity")
	assert.Equal(t, 0, Eval[int](b, `document.querySelectorAll('[data-testid="confirm"]').length`), "after the reload nothing asks again")

	b.Do("narrow screen", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile), chromedp.Navigate(app.URL+"/devices"),
		chromedp.WaitVisible(css(`[data-testid="device-list"]`)))
	b.NoSidewaysScroll("devices on a phone")
	b.Shot("devices-phone")
	b.Do("device on a phone", chromedp.Navigate(href), chromedp.WaitVisible(css(`[data-testid="device-panel"]`)))
	b.NoSidewaysScroll("device on a phone")
	b.Shot("device-phone")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
