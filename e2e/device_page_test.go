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

// The device page after an action (issue 20 item 12): the recent activity shows the action's
// entry without a reload; the "Done." of the last action is gone when the next one asks for
// confirmation; an opener offers only the switches that make sense in its mode. The devices
// page's tiles show the kind's icon and the main action one click away (PRODUCT.md §8).
func TestDevicePageAfterAnAction(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	named := map[string]models.Device{}
	for _, d := range devs {
		named[d.Name] = d
	}
	front, opener := named["Front door"], named["Building entrance"]
	require.NotZero(t, front.ID)
	require.Equal(t, models.DeviceOpener, opener.Type)
	done := func(d models.Device, a models.LockAction) {
		t.Helper()
		require.Eventually(t, func() bool {
			st, ok := app.Devices.Action(d.ID)
			return ok && st.Action == a && !st.Pending
		}, 15*time.Second, 20*time.Millisecond)
	}

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)

	// Tiles: the kind's icon, and the main action one click away.
	tile := fmt.Sprintf(`[data-testid="device-%d"]`, front.ID)
	b.Do("the devices", chromedp.Navigate(app.URL+"/devices"), chromedp.WaitVisible(css(tile)))
	b.Shot("tiles")
	assert.Equal(t, 1, Eval[int](b, fmt.Sprintf(`document.querySelectorAll('%s [data-testid="kind-icon-lock"]').length`, tile)))
	assert.Equal(t, 1, Eval[int](b, fmt.Sprintf(`document.querySelectorAll('[data-testid="device-%d"] [data-testid="kind-icon-opener"]').length`, opener.ID)))
	assert.Equal(t, "Unlock", b.Text(tile+` [data-testid="tile-action"]`), "a locked lock unlocks")
	assert.Equal(t, "Open…", b.Text(fmt.Sprintf(`[data-testid="device-%d"] [data-testid="tile-action"]`, opener.ID)), "an opener opens, after asking")
	b.Do("unlock from the tile", chromedp.Click(css(tile+` [data-testid="tile-action"]`)))
	done(front, models.ActionUnlock)
	b.Do("the tile follows", chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector('%s [data-testid="tile-action"]') || {}).textContent === "Lock"`, tile),
		chromedp.WithPollingTimeout(10*time.Second)))
	assert.Contains(t, b.Text(tile+` [data-testid="state"]`), "Unlocked")
	assert.Equal(t, app.URL+"/devices", b.Location(), "still on the devices page")
	b.Shot("tile-unlocked")

	// The device page: lock, and the activity shows it without a reload.
	b.Do("the front door", chromedp.Navigate(fmt.Sprintf("%s/devices/%d", app.URL, front.ID)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	rows := Eval[int](b, `document.querySelectorAll('[data-testid="activity"] [data-testid="activity-row"]').length`)
	first := Eval[string](b, `(document.querySelector('[data-testid="activity"] [data-testid="activity-row"]') || {}).textContent || ""`)
	b.Do("lock", chromedp.Click(css(fmt.Sprintf(`[data-testid="action-%d"]`, models.ActionLock))))
	done(front, models.ActionLock)
	b.Do("done", chromedp.Poll[chromedp.Void](`(document.querySelector('[data-testid="outcome"]') || {}).textContent === "Done."`,
		chromedp.WithPollingTimeout(10*time.Second)))
	b.Do("the activity shows the lock", chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`(document.querySelector('[data-testid="activity"] [data-testid="activity-row"]') || {}).textContent !== %q`, first), chromedp.WithPollingTimeout(10*time.Second)))
	assert.Contains(t, b.Text(`[data-testid="activity"] [data-testid="activity-row"]`), "Locked")
	assert.GreaterOrEqual(t, Eval[int](b, `document.querySelectorAll('[data-testid="activity"] [data-testid="activity-row"]').length`), min(rows+1, 10))
	b.Shot("after-lock")

	// The next action asks: the last one's "Done." is not shown beside the question.
	b.Do("unlatch asks", chromedp.Click(css(fmt.Sprintf(`[data-testid="action-%d"]`, models.ActionUnlatch))), chromedp.WaitVisible(css(`[data-testid="confirm"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="outcome"]').length`), "no old Done. next to the question")
	b.Shot("confirm")
	b.Do("cancel", chromedp.Click(css(`[data-testid="confirm-cancel"]`)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))

	// An opener offers ring to open on (it is off), open, and continuous mode on; once
	// continuous mode is on, open and continuous mode off.
	actions := `Array.from(document.querySelectorAll('[data-testid="actions"] button')).map(b => b.textContent.trim()).join("|")`
	b.Do("the opener", chromedp.Navigate(fmt.Sprintf("%s/devices/%d", app.URL, opener.ID)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	assert.Equal(t, "Ring to open on|Open|Continuous mode on", Eval[string](b, actions))
	b.Shot("opener")
	b.Do("continuous mode on", chromedp.Click(css(fmt.Sprintf(`[data-testid="action-%d"]`, models.ActionOpenerCMOn))))
	done(opener, models.ActionOpenerCMOn)
	// The buttons follow the state the opener reports, which the page polls every 2 s: on a busy
	// machine that can take a few rounds.
	b.Do("the switches follow", chromedp.Poll[chromedp.Void](actions+` === "Open|Continuous mode off"`, chromedp.WithPollingTimeout(30*time.Second)))
	b.Shot("opener-continuous")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
