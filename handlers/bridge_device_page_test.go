package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// fact is the value of the device page's fact with this label ("" when there is none).
func fact(t *testing.T, res apptest.Response, label string) string {
	t.Helper()
	var value string
	res.Doc(t).Find(`.facts dt`).Each(func(_ int, dt *goquery.Selection) {
		if strings.TrimSpace(dt.Text()) == label {
			value = strings.TrimSpace(dt.Next().Text())
		}
	})
	return value
}

// Issue 20 item 9: a device behind a Nuki Bridge was offered "Manage device", whose page then
// said the bridge can change nothing, and its Hardware was empty. Manage device is offered only
// where settings can be changed (a simulated bridge's devices); the Bridge HTTP API reports no
// hardware of the devices themselves, so Hardware says so, and a Bridge line gives the bridge's
// own hardware id and firmware from its /info.
func TestBridgeDevicePageOffersNoManageDeviceAndNamesTheBridge(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{HardwareID: 305419896, Firmware: "2.16.1"})
	front := deviceNamed(t, addBridge(t, app, c, s), "Front door")
	require.Eventually(t, func() bool {
		st, ok := app.Devices.BridgeStatus(front.ConnectionID)
		return ok && st.Info != nil
	}, wait, 5*time.Millisecond, "the connection read /info")

	res := c.Get(fmt.Sprintf("/devices/%d", front.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.Doc(t).Find(`[data-testid="manage-device"]`).Length(), "no Manage device for a bridge's device")
	assert.NotContains(t, res.Body, fmt.Sprintf("/devices/%d/config", front.ID))
	assert.Equal(t, "Not reported by the bridge", fact(t, res, "Hardware"), "never empty")
	assert.Equal(t, "Hardware ID 305419896, firmware 2.16.1", fact(t, res, "Bridge"))
	assert.Equal(t, "4.2.6", fact(t, res, "Firmware"), "the device's firmware, from /list")
	assert.Equal(t, 1, s.count("HTTP-Info"), "read once, when the connection started")

	res = c.Get(fmt.Sprintf("/devices/%d/config", front.ID))
	assert.Contains(t, res.TestID(t, "config-unavailable"), "cannot read or change a device's settings", "opened anyway, the page says why")

	var simFront models.Device
	for _, d := range addSimulated(t, app, c) {
		if d.Name == "Front door" && d.ConnectionID != front.ConnectionID {
			simFront = d
		}
	}
	require.NotZero(t, simFront.ID)
	res = c.Get(fmt.Sprintf("/devices/%d", simFront.ID))
	assert.Equal(t, 1, res.Doc(t).Find(`[data-testid="manage-device"]`).Length(), "a simulated device's settings can be changed")
	assert.Equal(t, "8.2", fact(t, res, "Hardware"))
	assert.Empty(t, fact(t, res, "Bridge"))
}
