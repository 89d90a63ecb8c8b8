package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
)

// An owner connects a (simulated) Nuki Bridge over its HTTP API: a wrong token is refused at
// once with what to do, the right one lists the devices, and a device's page offers no Manage
// device (the Bridge HTTP API has no settings) and names the bridge's hardware and firmware.
func TestConnectNukiBridgeInTheBrowser(t *testing.T) {
	t.Parallel()
	bridge := sim.New(sim.Options{Speed: 0.2})
	t.Cleanup(bridge.Close)
	for _, spec := range sim.DemoDevices() {
		_, err := bridge.Pair(spec)
		require.NoError(t, err)
	}
	face := sim.NewHTTP(bridge, sim.HTTPOptions{Token: "s3cret", HardwareID: 305419896, Firmware: "2.16.1"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")

	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	b := NewBrowser(t, 1280, 900)
	owner := apptest.DefaultOwner
	b.Do("log in",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), owner.Email),
		chromedp.SendKeys(css(`#password`), owner.Password),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	connect := func(token string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(app.URL + "/devices/new"),
			chromedp.WaitVisible(css(`[data-testid="add-bridge"] #host`)),
			chromedp.SendKeys(css(`#host`), host),
			chromedp.SetValue(css(`#port`), port),
			chromedp.SendKeys(css(`#token`), token),
			chromedp.Click(css(`[data-testid="add-bridge"] button[value="connect"]`)),
		}
	}
	b.Do("a wrong token", append(connect("wrong"), chromedp.WaitVisible(css(`[data-testid="form-error"]`)))...)
	assert.Contains(t, b.Text(`[data-testid="form-error"]`), "refused the token")
	b.Shot("token-refused")

	b.Do("the right token", append(connect("s3cret"), chromedp.WaitVisible(css(`[data-testid="choose-devices"]`)))...)
	b.Do("add them", chromedp.SetValue(css(`#bridge_name`), "Hall bridge"),
		chromedp.Click(css(`[data-testid="choose-devices"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="device-list"]`)))
	front := Eval[string](b, `Array.from(document.querySelectorAll("a.tile-link")).find(function(a){return a.textContent.indexOf("Front door") >= 0}).getAttribute("href")`)
	id, err := strconv.ParseInt(strings.TrimPrefix(front, "/devices/"), 10, 64)
	require.NoError(t, err)
	d, err := app.Store.FindDevice(context.Background(), 1, id)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.BridgeStatus(d.ConnectionID)
		return ok && st.Info != nil
	}, 15*time.Second, 20*time.Millisecond, "the connection read the bridge's /info")
	b.Do("the front door's page", chromedp.Navigate(app.URL+front), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="manage-device"]').length`), "no Manage device")
	facts := b.Text(`section[aria-labelledby="facts-h"]`)
	assert.Contains(t, facts, "Not reported by the bridge")
	assert.Contains(t, facts, "Hardware ID 305419896, firmware 2.16.1")
	b.Shot("bridge-device")
}
