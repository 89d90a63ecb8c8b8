package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/devices"
	"portier/devices/sim"
	"portier/models"
)

// addSimulated adds a simulated bridge through the page and returns the account's devices.
func addSimulated(t *testing.T, app *apptest.App, c *apptest.Client) []models.Device {
	t.Helper()
	res := c.PostForm("/devices/simulated", url.Values{"sim_name": {"Demo bridge"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	devs, err := app.Store.FindDevices(context.Background(), login.AccountID, db.SortByName)
	require.NoError(t, err)
	return devs
}

func deviceNamed(t *testing.T, devs []models.Device, name string) models.Device {
	t.Helper()
	for _, d := range devs {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no device %q", name)
	return models.Device{}
}

func TestDevicesPageEmptyThenSimulatedBridge(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	res := c.Get("/devices")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "devices-empty"), "No devices yet")

	// A bad name is refused next to the field and nothing is added.
	res = c.PostForm("/devices/simulated", url.Values{"sim_name": {strings.Repeat("x", 41)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-sim_name"))
	res = c.PostForm("/devices/simulated", url.Values{"sim_name": {"  "}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	devs := addSimulated(t, app, c)
	require.Len(t, devs, 5)
	res = c.Get("/devices")
	assert.Contains(t, res.TestID(t, "flash"), "Added 5 devices")
	list := res.TestID(t, "device-list")
	for _, name := range []string{"Front door", "Back door", "Office", "Building entrance", "Garden gate"} {
		assert.Contains(t, list, name)
	}
	front := deviceNamed(t, devs, "Front door")
	tile := res.TestID(t, fmt.Sprintf("device-%d", front.ID))
	assert.Contains(t, tile, "Locked")
	assert.Contains(t, tile, "Door closed")
	assert.Contains(t, tile, "84 %")

	// List view sorted by date added is remembered for the login.
	res = c.PostForm("/devices/layout", url.Values{"view": {"list"}, "sort": {"added"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c.Get("/devices")
	doc := res.Doc(t)
	assert.Equal(t, 1, doc.Find(`[data-testid="device-list"] table`).Length())
	first := doc.Find(`[data-testid="device-list"] tbody tr`).First().Text()
	assert.Contains(t, first, "Front door", "date added keeps the demo's order")
	res = c.PostForm("/devices/layout", url.Values{"view": {"grid"}, "sort": {"added"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func TestDevicesListPollAnswers204WhileNothingChanged(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	addSimulated(t, app, c)
	res := c.Get("/devices")
	poll := res.Doc(t).Find(`#device-list`).AttrOr("hx-get", "")
	require.Contains(t, poll, "/devices/list?v=")
	res = c.Get(poll)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	res = c.Get("/devices/list?v=0")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "Front door")
}

func TestUnlockFromTheDevicePage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d", front.ID)

	res := c.Get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Front door", res.TestID(t, "device-name"))
	actions := res.TestID(t, "actions")
	for _, a := range []string{"Unlock", "Lock", "Unlatch", "Lock 'n' go"} {
		assert.Contains(t, actions, a)
	}
	res = c.PostForm(page+"/actions/1", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Eventually(t, func() bool {
		d, err := app.Store.FindDevice(context.Background(), front.AccountID, front.ID)
		return err == nil && d.Reported.State == sim.StateUnlocked
	}, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && !st.Pending
	}, 5*time.Second, 10*time.Millisecond)
	res = c.Get(page)
	assert.Contains(t, res.TestID(t, "state"), "Unlocked")
	assert.Contains(t, res.TestID(t, "outcome"), "Done.")
	assert.Contains(t, res.TestID(t, "activity"), "Anna Berger")

	// An action the device kind does not have; a bad number.
	res = c.PostForm(page+"/actions/7", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "action-refused"))
	res = c.PostForm(page+"/actions/x", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	// Another account's device is not found.
	res = c.Get("/devices/999999")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestUnlatchAsksFirst(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d", front.ID)
	conn := app.Devices.Simulator(front.ConnectionID)
	require.NotNil(t, conn)

	res := c.PostForm(page+"/actions/3", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the question is asked on the device page (a reload does not post again)")
	assert.Equal(t, page+"?confirm=3", res.Header.Get("Location"))
	res = c.Get(page + "?confirm=3")
	assert.Contains(t, res.TestID(t, "confirm"), "This opens the door of Front door")
	assert.Empty(t, c.Get(page+"?confirm=1").Doc(t).Find(`[data-testid="confirm"]`).Nodes, "unlock does not ask")
	assert.Equal(t, 0, conn.Executed(front.Type, front.NukiID, models.ActionUnlatch), "nothing sent before yes")

	res = c.PostForm(page+"/actions/3", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	// A second action while the first is pending is refused with 423.
	res = c.PostForm(page+"/actions/2", nil)
	if res.StatusCode != http.StatusSeeOther {
		assert.Equal(t, http.StatusLocked, res.StatusCode)
	}
	require.Eventually(t, func() bool { return conn.Executed(front.Type, front.NukiID, models.ActionUnlatch) == 1 }, 5*time.Second, 10*time.Millisecond)
}

func TestDeviceActionFailureIsNamed(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	conn := app.Devices.Simulator(front.ConnectionID)
	require.NoError(t, conn.SetFault(front.Type, front.NukiID, sim.FaultMotorBlocked))
	page := fmt.Sprintf("/devices/%d", front.ID)
	require.Equal(t, http.StatusSeeOther, c.PostForm(page+"/actions/1", nil).StatusCode)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && !st.Pending
	}, 5*time.Second, 10*time.Millisecond)
	res := c.Get(page)
	assert.Contains(t, res.TestID(t, "outcome"), "The motor is blocked")
	assert.Contains(t, res.TestID(t, "state"), "Motor blocked")
}

func TestDeviceSettingsAndDelete(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	office := deviceNamed(t, devs, "Office")
	page := fmt.Sprintf("/devices/%d", office.ID)

	for _, bad := range []string{"", strings.Repeat("a", 41), "two\nlines"} {
		res := c.PostForm(page+"/settings", url.Values{"name": {bad}, "favorite": {"1"}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.NotEmpty(t, res.TestID(t, "error-name"))
	}
	res := c.PostForm(page+"/settings", url.Values{"name": {"Studio"}, "favorite": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c.Get("/devices")
	first := res.Doc(t).Find(`.tile`).First().Text()
	assert.Contains(t, first, "Studio", "favorites come first")
	d, err := app.Store.FindDevice(context.Background(), office.AccountID, office.ID)
	require.NoError(t, err)
	assert.False(t, d.WarningsEnabled, "the unchecked box turns warnings off")

	res = c.PostForm(page+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusNotFound, c.Get(page).StatusCode)
	res = c.Get("/devices")
	assert.NotContains(t, res.TestID(t, "device-list"), "Studio")
	assert.Contains(t, res.TestID(t, "flash"), "Studio was removed")
}

func TestConnectBridgeErrorsSaveNothing(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: func(o *devices.Options) { o.BridgeSleep = shortBridgeSleep }})
	c := app.Setup()
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"host": {""}, "port": {"8080"}, "token": {"abc"}, "step": {"connect"}}, "host"},
		{url.Values{"host": {"http://x/"}, "port": {"8080"}, "token": {"abc"}, "step": {"connect"}}, "host"},
		{url.Values{"host": {"10.0.0.2"}, "port": {"0"}, "token": {"abc"}, "step": {"connect"}}, "port"},
		{url.Values{"host": {"10.0.0.2"}, "port": {"8080"}, "token": {""}, "step": {"connect"}}, "token"},
	} {
		res := c.PostForm("/devices/bridge", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), tc.form.Encode())
	}
	// Nobody listens on this port: the form's one message for a failed connection, nothing saved.
	res := c.PostForm("/devices/bridge", url.Values{"host": {"127.0.0.1"}, "port": {"1"}, "token": {"abc"}, "step": {"connect"}})
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "could not connect to a Nuki Bridge at this address")
	res = c.Get("/devices")
	assert.NotEmpty(t, res.TestID(t, "devices-empty"))
	// Adding without connecting first.
	res = c.PostForm("/devices/bridge/add", url.Values{"device": {"4:1"}, "bridge_name": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestConnectBridgeThroughTheSimulatorsHTTPFace(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	b := sim.New(sim.Options{Speed: 0.01})
	t.Cleanup(b.Close)
	for _, spec := range sim.DemoDevices() {
		_, err := b.Pair(spec)
		require.NoError(t, err)
	}
	face := sim.NewHTTP(b, sim.HTTPOptions{Token: "s3cret"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")

	res := c.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {port}, "token": {"wrong"}, "hashed": {"1"}, "step": {"connect"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "form-error"), "refused the token")

	res = c.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {port}, "token": {"s3cret"}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	choose := res.Doc(t).Find(`[data-testid="choose-devices"] input[name="device"]`)
	assert.Equal(t, 4, choose.Length(), "the 5th generation lock and the box cannot pair with a bridge")
	var keys []string
	choose.Each(func(_ int, s *goquery.Selection) { keys = append(keys, s.AttrOr("value", "")) })

	res = c.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-devices"))

	res = c.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}, "device": keys[:2]})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	devs, err := app.Store.FindDevices(context.Background(), login.AccountID, db.SortByAdded)
	require.NoError(t, err)
	require.Len(t, devs, 2)
	_, err = strconv.Atoi(port)
	require.NoError(t, err)

	// Unlock through the bridge.
	d := devs[0]
	require.Equal(t, http.StatusSeeOther, c.PostForm(fmt.Sprintf("/devices/%d/actions/1", d.ID), nil).StatusCode)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(d.ID)
		return ok && !st.Pending
	}, 10*time.Second, 20*time.Millisecond)
	st, _ := app.Devices.Action(d.ID)
	assert.Equal(t, "ok", string(st.Outcome))
	s, err := b.Device(d.Type, d.NukiID)
	require.NoError(t, err)
	assert.Equal(t, sim.StateUnlocked, s.State.State)
}

// The bridge form reaches only the local network: a public address is a field error before any
// connection is tried (a dial would answer 502), and nothing is saved; loopback and private
// addresses go on to be dialled.
func TestConnectBridgeOnlyOnTheLocalNetwork(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	for _, host := range []string{"8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "100.64.0.1", "0.0.0.0"} {
		res := c.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {"8080"}, "token": {"abc"}, "step": {"connect"}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, host)
		assert.Contains(t, res.TestID(t, "error-host"), "local network", host)
		res = c.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {"8080"}, "step": {"token"}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s: the button-press flow too", host)
	}
	res := c.PostForm("/devices/bridge", url.Values{"host": {"localhost"}, "port": {"1"}, "token": {"abc"}, "step": {"connect"}})
	assert.Equal(t, http.StatusBadGateway, res.StatusCode, "a name resolving to loopback is dialled")
	res = c.Get("/devices")
	assert.NotEmpty(t, res.TestID(t, "devices-empty"))
}
