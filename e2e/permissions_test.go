package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// An owner creates a user, gives them a web key on two devices with weekday and time
// restrictions and watches the devices take it (the offline one once it is back, without a
// reload), adds a keypad code with the Generate button, deactivates one permission, and the
// pages fit a phone.
func TestPermissionsInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	byName := map[string]models.Device{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	front, back, garden, office := byName["Front door"], byName["Back door"], byName["Garden gate"], byName["Office"]
	bridge := app.Devices.Simulator(back.ConnectionID)
	require.NoError(t, bridge.SetOnline(back.Type, back.NukiID, false))

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("create a user", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Dora Weiß"), chromedp.SendKeys(css(`#email`), "dora@example.com"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="user-name"]`)))
	userURL := b.Location()

	b.Do("open Create new permission", chromedp.Click(css(`[data-testid="create-permission"]`)),
		chromedp.WaitVisible(css(`[data-testid="permission-form"]`)))
	b.Shot("new-permission")
	b.NoSidewaysScroll("create new permission")
	assert.Contains(t, b.Text(`[data-testid="times-hint"]`), "Europe/Berlin")
	b.Do("choose two devices, weekdays and times",
		chromedp.Click(css(fmt.Sprintf(`input[name="device"][value="%d"]`, garden.ID))),
		chromedp.Click(css(fmt.Sprintf(`input[name="device"][value="%d"]`, back.ID))),
		chromedp.Click(css(`input[name="weekday"][value="1"]`)),
		chromedp.Click(css(`input[name="weekday"][value="3"]`)),
		chromedp.Click(css(`input[name="weekday"][value="5"]`)),
		chromedp.SetValue(css(`#from_time`), "08:00"),
		chromedp.SetValue(css(`#until_time`), "17:30"),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	auths, err := app.Store.FindUserAuthorizations(ctx, login.AccountID, userID(t, userURL))
	require.NoError(t, err)
	require.Len(t, auths, 2)
	perm := map[int64]models.Authorization{}
	for _, a := range auths {
		perm[a.DeviceID] = a
	}
	status := func(d models.Device) string { return fmt.Sprintf(`[data-testid="perm-status-%d"]`, perm[d.ID].ID) }
	b.Do("the garden gate takes it", chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelector('%s').textContent.indexOf("Applied") >= 0`, status(garden)), chromedp.WithPollingTimeout(15*time.Second)))
	b.Do("the back door is offline: pending with the reason", chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelector('%s').textContent.indexOf("device offline") >= 0`, status(back)), chromedp.WithPollingTimeout(15*time.Second)))
	assert.Contains(t, b.Text(`[data-testid="permissions"]`), "Mon, Wed, Fri · 08:00–17:30 (Europe/Berlin)")
	assert.Contains(t, b.Text(`[data-testid="permissions"]`), "07:00–16:30 your time (UTC)")
	b.Shot("pending")
	require.NoError(t, bridge.SetOnline(back.Type, back.NukiID, true))
	app.Devices.RetryPermissions()
	b.Do("applied without a reload", chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelector('%s').textContent.indexOf("Applied") >= 0`, status(back)), chromedp.WithPollingTimeout(15*time.Second)))
	b.Do("the poller stops", chromedp.Poll[chromedp.Void](
		`!document.querySelector('#perm-poller').hasAttribute('hx-get')`, chromedp.WithPollingTimeout(15*time.Second)))
	b.Shot("applied")

	// A keypad code, proposed by Generate.
	b.Do("keypad code", chromedp.Click(css(`[data-testid="create-permission"]`)), chromedp.WaitVisible(css(`[data-testid="permission-form"]`)),
		chromedp.Click(css(`[data-testid="kind-keypad"]`)), chromedp.WaitVisible(css(`#code`)))
	assert.Contains(t, b.Text(fmt.Sprintf(`[data-testid="device-%d"]`, office.ID)), "No keypad")
	assert.Contains(t, b.Text(fmt.Sprintf(`[data-testid="device-%d"]`, back.ID)), "already has a permission")
	b.Do("generate", chromedp.Click(css(fmt.Sprintf(`input[name="device"][value="%d"]`, front.ID))),
		chromedp.Click(css(`[data-testid="generate-code"]`)),
		chromedp.Poll[chromedp.Void](`/^[1-9]{6}$/.test(document.querySelector('#code').value)`, chromedp.WithPollingTimeout(10*time.Second)))
	code := Eval[string](b, `document.querySelector('#code').value`)
	n, err := models.ParseKeypadCode(code)
	require.NoError(t, err, code)
	assert.NotEqual(t, 468357, n, "the Postman's code is taken")
	assert.Contains(t, b.Location(), "/permissions/new", "Generate replaced the field, not the page")
	b.Shot("keypad-generated")
	b.Do("create the keypad code", chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Equal(t, code, b.Text(`[data-testid="perm-code"]`))

	// Deactivate the back door.
	b.Do("deactivate", chromedp.Click(css(fmt.Sprintf(`#perm-%d [data-testid="perm-deactivate"]`, perm[back.ID].ID))),
		chromedp.WaitVisible(css(fmt.Sprintf(`#perm-%d [data-testid="perm-reactivate"]`, perm[back.ID].ID))))
	assert.Contains(t, b.Text(fmt.Sprintf(`#perm-%d [data-testid="perm-state"]`, perm[back.ID].ID)), "Deactivated")
	b.Do("the back door takes that too", chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelector('%s').textContent.indexOf("Applied") >= 0`, status(back)), chromedp.WithPollingTimeout(15*time.Second)))
	a, err := app.Store.FindAuthorization(ctx, login.AccountID, perm[back.ID].ID)
	require.NoError(t, err)
	assert.False(t, a.Enabled)
	keypad, err := app.Store.FindUserAuthorizations(ctx, login.AccountID, userID(t, userURL))
	require.NoError(t, err)
	for _, a := range keypad {
		if a.Type == models.AuthTypeKeypadCode {
			b.Do("edit the keypad code", chromedp.Click(css(fmt.Sprintf(`#perm-%d [data-testid="perm-edit"]`, a.ID))),
				chromedp.WaitVisible(css(`[data-testid="permission-form"]`)))
			assert.Equal(t, code, Eval[string](b, `document.querySelector('#code').value`))
			b.Shot("edit-permission")
			b.Do("generate another", chromedp.Click(css(`[data-testid="generate-code"]`)),
				chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#code').value !== %q`, code), chromedp.WithPollingTimeout(10*time.Second)))
			b.Do("back", chromedp.Navigate(userURL), chromedp.WaitVisible(css(`[data-testid="permissions"]`)))
		}
	}
	b.Do("open the suspend form", chromedp.Click(css(fmt.Sprintf(`#perm-%d [data-testid="perm-suspend"]`, perm[garden.ID].ID))))
	b.Shot("user-page")
	b.NoSidewaysScroll("user page")

	b.Do("phone", chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile), chromedp.Navigate(userURL),
		chromedp.WaitVisible(css(`[data-testid="permissions"]`)))
	b.NoSidewaysScroll("user page on a phone")
	b.Shot("user-phone")
	b.Do("new permission on a phone", chromedp.Navigate(userURL+"/permissions/new?kind=keypad"), chromedp.WaitVisible(css(`[data-testid="permission-form"]`)))
	b.NoSidewaysScroll("create new permission on a phone")
	b.Shot("new-permission-phone")
	b.Do("delete asks first", chromedp.Navigate(userURL), chromedp.WaitVisible(css(`[data-testid="delete-user"]`)),
		chromedp.Click(css(`[data-testid="delete-user"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-delete"]`)))
	assert.Contains(t, b.Text(`[data-testid="confirm-delete"]`), "Back door, Front door, Garden gate")
	b.NoSidewaysScroll("delete confirmation on a phone")
	b.Shot("delete-phone")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// userID reads the id of a user page's address.
func userID(t *testing.T, url string) int64 {
	t.Helper()
	var id int64
	for i := len(url) - 1; i >= 0; i-- {
		if url[i] == '/' {
			_, err := fmt.Sscanf(url[i+1:], "%d", &id)
			require.NoError(t, err, url)
			return id
		}
	}
	t.Fatalf("no user id in %s", url)
	return 0
}
