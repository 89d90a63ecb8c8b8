package handlers_test

// Bridge callbacks end to end: Portier on a loopback httptest server, the simulator's Bridge
// HTTP face on another port, the bridge posting to Portier's /bridge-callback/:secret.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	"portier/i18n"
	"portier/models"
)

const bridgeToken = "s3cret"

// simBridge is a simulated bridge with the demo devices, served over HTTP on loopback.
type simBridge struct {
	b    *sim.Bridge
	face *sim.HTTPBridge
	host string
	port string
}

func newSimBridge(t *testing.T, bopt sim.Options, hopt sim.HTTPOptions) *simBridge {
	t.Helper()
	if bopt.Speed == 0 {
		bopt.Speed = 0.01
	}
	hopt.Token = bridgeToken
	b := sim.New(bopt)
	for _, spec := range sim.DemoDevices() {
		_, err := b.Pair(spec)
		require.NoError(t, err)
	}
	face := sim.NewHTTP(b, hopt)
	require.NoError(t, face.Start("127.0.0.1:0"))
	// The bridge goes before Portier's manager stops (cleanups run last first).
	t.Cleanup(b.Close)
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")
	return &simBridge{b: b, face: face, host: host, port: port}
}

// get sends a request to the bridge as another app would, with the plain token.
func (s *simBridge) get(t *testing.T, path string, q url.Values) string {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("token", bridgeToken)
	// A bridge answers one request at a time and 503 to the others: while Portier polls it, the
	// other app tries again, as apps do.
	for try := 0; ; try++ {
		res, err := http.Get(s.face.URL() + path + "?" + q.Encode())
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable && try < 50 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		return string(body)
	}
}

// count is how many entries of a type the bridge log holds.
func (s *simBridge) count(typ string) int {
	n := 0
	for _, e := range s.face.Log() {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// settled waits until Portier has registered its callback and then read /list once (in this
// order): with long intervals, nothing polls after that.
func (s *simBridge) settled(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		log := s.face.Log() // newest first
		return len(log) > 1 && log[0].Type == "HTTP-List" && s.count("HTTP-CallbackAdd") == 1
	}, wait, 5*time.Millisecond)
}

// ours lists the registered callbacks that point at app.
func (s *simBridge) ours(app *apptest.App) []string {
	var out []string
	for _, u := range s.face.Callbacks() {
		if strings.HasPrefix(u, app.URL+devices.CallbackPath) {
			out = append(out, u)
		}
	}
	return out
}

// addBridge connects the bridge through the pages and adds all its devices.
func addBridge(t *testing.T, app *apptest.App, c *apptest.Client, s *simBridge) []models.Device {
	t.Helper()
	res := c.PostForm("/devices/bridge", url.Values{"host": {s.host}, "port": {s.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	form := url.Values{"bridge_name": {"Hall bridge"}}
	res.Doc(t).Find(`[data-testid="choose-devices"] input[name="device"]`).Each(func(_ int, sel *goquery.Selection) {
		form.Add("device", sel.AttrOr("value", ""))
	})
	res = c.PostForm("/devices/bridge/add", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	devs, err := app.Store.FindDevices(context.Background(), login.AccountID, db.SortByAdded)
	require.NoError(t, err)
	require.NotEmpty(t, devs)
	return devs
}

// intervals sets the poll and check intervals of the app's device manager, and makes the
// bridge client's waits between retries short.
func intervals(poll, safety, check time.Duration) func(*devices.Options) {
	return func(o *devices.Options) {
		o.PollEvery, o.SafetyPollEvery, o.CallbackCheckEvery = poll, safety, check
		o.BridgeSleep = shortBridgeSleep
	}
}

// shortBridgeSleep stands in for the bridge client's waits (0.5 s, 1 s, 2 s … between retries):
// at most 5 ms, so a test of a bridge that does not answer does not sit through the back-off.
func shortBridgeSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, 5*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func reported(t *testing.T, app *apptest.App, d models.Device) models.DeviceState {
	t.Helper()
	got, err := app.Store.FindDevice(context.Background(), d.AccountID, d.ID)
	require.NoError(t, err)
	return got.Reported
}

func bridgeStatus(app *apptest.App, d models.Device) devices.BridgeStatus {
	st, _ := app.Devices.BridgeStatus(d.ConnectionID)
	return st
}

const wait = 10 * time.Second

// Adding a bridge registers exactly one callback; a change made on the device itself (not
// through Portier) arrives through it and is stored without a poll, and from then on /list
// is read only at the safety interval.
func TestBridgeCallbackDeliversChangesWithoutPolling(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")

	s.settled(t)
	require.Len(t, s.ours(app), 1, "exactly one callback")
	assert.Equal(t, 1, s.count("HTTP-CallbackAdd"))
	assert.Equal(t, devices.CallbacksPending, bridgeStatus(app, front).Callbacks)
	lists := s.count("HTTP-List")
	require.Equal(t, sim.StateLocked, reported(t, app, front).State)

	// Someone unlocks the front door with the app: the bridge posts the change.
	require.NoError(t, s.b.Action(context.Background(), front.Type, front.NukiID, models.ActionUnlock, sim.Actor{Name: "App", Trigger: sim.TriggerApp}, true))
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateUnlocked }, wait, 5*time.Millisecond)
	assert.Equal(t, lists, s.count("HTTP-List"), "stored through the callback, not a poll")
	require.Eventually(t, func() bool { return bridgeStatus(app, front).Callbacks == devices.CallbacksActive }, wait, 5*time.Millisecond)
	st := bridgeStatus(app, front)
	assert.Equal(t, time.Hour, st.PollEvery)

	// The door sensor too.
	require.NoError(t, s.b.SetDoor(front.Type, front.NukiID, true))
	require.Eventually(t, func() bool {
		d := reported(t, app, front).DoorState
		return d != nil && *d == sim.DoorOpened
	}, wait, 5*time.Millisecond)

	// Locking through Portier: the read right after the action races the action's callbacks,
	// and is not taken for a lost callback.
	require.Equal(t, http.StatusSeeOther, c.PostForm(fmt.Sprintf("/devices/%d/actions/2", front.ID), nil).StatusCode)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && !st.Pending
	}, wait, 5*time.Millisecond)
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateLocked }, wait, 5*time.Millisecond)
	assert.Equal(t, devices.CallbacksActive, bridgeStatus(app, front).Callbacks)

	page := c.Get(fmt.Sprintf("/devices/%d", front.ID))
	assert.Contains(t, page.Doc(t).Find("dl.facts").Text(), "At once: the bridge reports every change to Portier")
	assert.Len(t, s.ours(app), 1, "still one callback")
}

// The bridge's 3 slots belong to other apps: Portier keeps polling, says why, and never
// removes another app's callback, not even when it checks again.
func TestBridgeCallbackSlotsFullFallsBackToPolling(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(20*time.Millisecond, time.Hour, 50*time.Millisecond)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	others := []string{"http://192.0.2.20:8123/api/nuki", "http://192.0.2.21:8581/nb", "http://192.0.2.22/openhab/nuki"}
	for _, u := range others {
		s.get(t, "/callback/add", url.Values{"url": {u}})
	}
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")

	require.Eventually(t, func() bool { return bridgeStatus(app, front).Callbacks == devices.CallbacksFull }, wait, 5*time.Millisecond)
	assert.Equal(t, 20*time.Millisecond, bridgeStatus(app, front).PollEvery)
	// Several checks later the other apps' entries are all still there.
	adds := s.count("HTTP-CallbackAdd")
	require.Eventually(t, func() bool { return s.count("HTTP-CallbackAdd") >= adds+2 }, wait, 5*time.Millisecond)
	assert.Equal(t, others, s.face.Callbacks())
	assert.Zero(t, s.count("HTTP-CallbackRemove"))

	// Changes arrive by polling.
	require.NoError(t, s.b.Action(context.Background(), front.Type, front.NukiID, models.ActionUnlock, sim.Actor{Name: "App", Trigger: sim.TriggerApp}, true))
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateUnlocked }, wait, 5*time.Millisecond)

	page := c.Get(fmt.Sprintf("/devices/%d", front.ID))
	assert.Contains(t, page.Doc(t).Find("dl.facts").Text(), "the bridge already reports changes to 3 other apps")

	// One of the other apps leaves: Portier takes the free slot at its next check.
	s.get(t, "/callback/remove", url.Values{"id": {"1"}})
	require.Eventually(t, func() bool { return len(s.ours(app)) == 1 }, wait, 5*time.Millisecond)
	assert.Equal(t, others[0], s.face.Callbacks()[0])
	assert.Equal(t, others[2], s.face.Callbacks()[2])
}

// A bridge whose reboot forgot its callbacks gets Portier's again at the next check.
func TestBridgeCallbackRegisteredAgainAfterReboot(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(time.Hour, time.Hour, 50*time.Millisecond)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{RebootWipesCallbacks: true})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")
	require.Eventually(t, func() bool { return len(s.ours(app)) == 1 }, wait, 5*time.Millisecond)
	mine := s.ours(app)[0]

	s.get(t, "/reboot", nil)
	require.Eventually(t, func() bool { return s.count("HTTP-CallbackAdd") == 2 }, wait, 5*time.Millisecond)
	assert.Equal(t, []string{mine}, s.ours(app), "the same address again, once")

	require.NoError(t, s.b.Action(context.Background(), front.Type, front.NukiID, models.ActionUnlock, sim.Actor{Name: "App", Trigger: sim.TriggerApp}, true))
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateUnlocked }, wait, 5*time.Millisecond)
}

// A bridge that was unreachable is checked as soon as it answers again, without waiting for
// the periodic check: a power cut may have cost it the callback.
func TestBridgeCallbackCheckedWhenTheBridgeIsBack(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(20*time.Millisecond, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")
	require.Eventually(t, func() bool { return len(s.ours(app)) == 1 }, wait, 5*time.Millisecond)

	s.get(t, "/callback/remove", url.Values{"id": {"0"}}) // lost, as in a power cut
	s.face.SetDown(true)
	require.Eventually(t, func() bool { return !reported(t, app, front).Online }, wait, 5*time.Millisecond)
	s.face.SetDown(false)
	require.Eventually(t, func() bool { return len(s.ours(app)) == 1 }, wait, 5*time.Millisecond)
	require.Eventually(t, func() bool { return reported(t, app, front).Online }, wait, 5*time.Millisecond)
}

// Portier's address is https (bridges post plain http only): no callback is registered, the
// bridge is polled, and the device page says why.
func TestBridgeCallbackNeedsAnAddressTheBridgeCanReach(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{BaseURL: "https://portier.example.com", Devices: intervals(20*time.Millisecond, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")
	assert.Equal(t, devices.CallbacksNoURL, bridgeStatus(app, front).Callbacks)

	require.NoError(t, s.b.Action(context.Background(), front.Type, front.NukiID, models.ActionUnlock, sim.Actor{Name: "App", Trigger: sim.TriggerApp}, true))
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateUnlocked }, wait, 5*time.Millisecond)
	assert.Zero(t, s.count("HTTP-CallbackList")+s.count("HTTP-CallbackAdd"), "not even tried")
	assert.Equal(t, []string{"", "", ""}, s.face.Callbacks())

	page := c.Get(fmt.Sprintf("/devices/%d", front.ID))
	assert.Contains(t, page.Doc(t).Find("dl.facts").Text(), "the bridge cannot reach Portier's address")
}

// The receiver: 404 for a secret no bridge has, 400 for a body that is not a state, 413 for
// an oversized one, 200 at once otherwise; browsers from other sites are refused.
func TestBridgeCallbackReceiver(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")
	s.settled(t) // the first poll, which would store the bridge's own state over the one posted here
	require.Len(t, s.ours(app), 1)
	mine := s.ours(app)[0]
	secret := strings.TrimPrefix(mine, app.URL+devices.CallbackPath)
	require.Len(t, secret, 32)

	post := func(u, body string, header ...string) int {
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	state := fmt.Sprintf(`{"deviceType":%d,"nukiId":%d,"mode":2,"state":3,"stateName":"unlocked","batteryCritical":false,"batteryChargeState":77,"doorsensorState":2}`,
		front.Type, front.NukiID)

	wrong := app.URL + devices.CallbackPath + strings.Repeat("0", 32)
	assert.Equal(t, http.StatusNotFound, post(wrong, state))
	assert.Equal(t, http.StatusNotFound, post(app.URL+devices.CallbackPath+secret[:31], state))
	assert.Equal(t, http.StatusNotFound, post(wrong, "not json"), "an unknown secret says nothing about the body")
	for _, bad := range []string{"not json", `[]`, `{}`, `{"nukiId":1}`, `{"nukiId":-1,"deviceType":4}`, `{"nukiId":1,"deviceType":1,"mode":2,"state":1}`,
		`{"nukiId":1,"deviceType":4,"mode":2,"state":"locked"}`} {
		assert.Equal(t, http.StatusBadRequest, post(mine, bad), bad)
	}
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(mine, `{"x":"`+strings.Repeat("a", devices.MaxCallbackBody)+`"}`))
	assert.Equal(t, http.StatusMethodNotAllowed, c.Get(strings.TrimPrefix(mine, app.URL)).StatusCode)
	assert.Equal(t, http.StatusForbidden, post(mine, state, "Sec-Fetch-Site", "cross-site"))
	assert.Equal(t, sim.StateLocked, reported(t, app, front).State, "nothing stored so far")

	assert.Equal(t, http.StatusOK, post(mine, state))
	require.Eventually(t, func() bool { return reported(t, app, front).State == sim.StateUnlocked }, wait, 5*time.Millisecond)
	assert.Equal(t, 77, *reported(t, app, front).BatteryCharge)
	// A device Portier does not have, and a body without a state (early firmware), are taken.
	assert.Equal(t, http.StatusOK, post(mine, `{"deviceType":4,"nukiId":12345,"mode":2,"state":1,"stateName":"locked","batteryCritical":false}`))
	assert.Equal(t, http.StatusOK, post(mine, fmt.Sprintf(`{"deviceType":%d,"nukiId":%d}`, front.Type, front.NukiID)))
}

// Two connections to one bridge (its devices added at two times) share one callback slot
// instead of removing each other's entry, and both hear the changes.
func TestBridgeCallbackSharedByTwoConnectionsToOneBridge(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(time.Hour, time.Hour, 30*time.Millisecond)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	connect := func(pick int) {
		res := c.PostForm("/devices/bridge", url.Values{"host": {s.host}, "port": {s.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var keys []string
		res.Doc(t).Find(`[data-testid="choose-devices"] input[name="device"]:not([disabled])`).Each(func(_ int, sel *goquery.Selection) {
			keys = append(keys, sel.AttrOr("value", ""))
		})
		require.Greater(t, len(keys), pick)
		res = c.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}, "device": {keys[pick]}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}
	connect(0)
	connect(0)
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	devs, err := app.Store.FindDevices(context.Background(), login.AccountID, db.SortByAdded)
	require.NoError(t, err)
	require.Len(t, devs, 2)
	require.NotEqual(t, devs[0].ConnectionID, devs[1].ConnectionID)

	require.Eventually(t, func() bool { return s.count("HTTP-CallbackList") >= 6 }, wait, 5*time.Millisecond, "several checks by both")
	assert.Len(t, s.ours(app), 1)
	assert.Equal(t, 1, s.count("HTTP-CallbackAdd"))
	assert.Zero(t, s.count("HTTP-CallbackRemove"))

	for _, d := range devs {
		action := models.ActionUnlock
		if d.Type == models.DeviceOpener {
			action = models.ActionOpenerRTOOn
		}
		require.NoError(t, s.b.Action(context.Background(), d.Type, d.NukiID, action, sim.Actor{Name: "App", Trigger: sim.TriggerApp}, true))
	}
	for _, d := range devs {
		want := sim.StateUnlocked
		if d.Type == models.DeviceOpener {
			want = sim.OpenerRTOActive
		}
		require.Eventually(t, func() bool { return reported(t, app, d).State == want }, wait, 5*time.Millisecond, d.Name)
	}
}

// The device page names every callback state (the keys are built from the state, so the
// catalogue's scan of the code cannot see them).
func TestEveryCallbackStateHasAMessage(t *testing.T) {
	t.Parallel()
	for _, st := range []devices.CallbackState{devices.CallbacksActive, devices.CallbacksPending, devices.CallbacksNoURL,
		devices.CallbacksFull, devices.CallbacksFailed} {
		assert.True(t, i18n.Has("devices.updates."+string(st)), st)
	}
}
