package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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

// Every change of the devices area — adding (a simulated bridge, a Nuki Bridge), settings,
// configuration, admin PIN, lock actions, removing — emits exactly one event with its actor,
// through the pages, the web key and the Web API alike (issue 19); a refused change emits none.
func TestEveryDeviceChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	app, owner := f.app, f.owner
	ctx := context.Background()
	main, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	holder := f.holder(t)
	dora, _, err := app.Store.FindLoginByEmail(ctx, f.dora.Email)
	require.NoError(t, err)
	_, token := app.CreateToken(main, models.Scopes(models.AllScopes), nil)
	api := app.NewClient()
	w := newEventWatch(app, main.AccountID)
	skipEventsSoFar(t, w)
	front, office, back := deviceNamed(t, f.devs, "Front door"), deviceNamed(t, f.devs, "Office"), deviceNamed(t, f.devs, "Back door")
	dev := func(d models.Device, rest string) string { return fmt.Sprintf("/devices/%d%s", d.ID, rest) }
	smartlock := func(d models.Device, rest string) string {
		return fmt.Sprintf("/api/smartlock/%d%s", d.SmartlockID(), rest)
	}
	settled := func(d models.Device) {
		require.Eventually(t, func() bool {
			st, ok := app.Devices.Action(d.ID)
			return ok && !st.Pending
		}, 10*time.Second, 10*time.Millisecond)
	}

	// How the devices page lists them.
	e := w.expect(t, "page: the devices as a list", func(t *testing.T) {
		postOK(t, owner, "/devices/layout", url.Values{"view": {"list"}, "sort": {"added"}})
	}, models.EventDevicesLayoutChanged, main, models.ActorWeb, "login")
	assert.JSONEq(t, `{"view":"list","sort":"added"}`, string(e.Payload))
	assert.Equal(t, http.StatusBadRequest, owner.PostForm("/devices/layout", url.Values{"view": {"grid"}, "sort": {"added"}}).StatusCode)
	w.expectNone(t, "page: a layout that is none")

	// Adding.
	e = w.expect(t, "page: add a simulated bridge", func(t *testing.T) {
		postOK(t, owner, "/devices/simulated", url.Values{"sim_name": {"Second bridge"}})
	}, models.EventDevicesAdded, main, models.ActorWeb, "connection")
	assert.Contains(t, string(e.Payload), `"name":"Second bridge"`)
	b := sim.New(sim.Options{Speed: 0.01})
	t.Cleanup(b.Close)
	for _, spec := range sim.DemoDevices()[:2] {
		spec.Name += " (hall)"
		_, err := b.Pair(spec)
		require.NoError(t, err)
	}
	face := sim.NewHTTP(b, sim.HTTPOptions{Token: "s3cret"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")
	res := owner.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {port}, "token": {"s3cret"}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var keys []string
	res.Doc(t).Find(`[data-testid="choose-devices"] input[name="device"]`).Each(func(_ int, s *goquery.Selection) {
		keys = append(keys, s.AttrOr("value", ""))
	})
	require.NotEmpty(t, keys)
	w.expectNone(t, "page: connecting to a bridge stores nothing yet")
	res = owner.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a bridge without devices chosen")
	w.expect(t, "page: add a Nuki Bridge", func(t *testing.T) {
		postOK(t, owner, "/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}, "device": keys})
	}, models.EventDevicesAdded, main, models.ActorWeb, "connection")

	// Settings.
	e = w.expect(t, "page: rename and favorite", func(t *testing.T) {
		postOK(t, owner, dev(back, "/settings"), url.Values{"name": {"Back door (yard)"}, "favorite": {"1"}})
	}, models.EventDeviceUpdated, main, models.ActorWeb, "device")
	assert.JSONEq(t, `{"name":"Back door (yard)","favorite":true,"warnings":false}`, string(e.Payload))
	res = owner.PostForm(dev(back, "/settings"), url.Values{"name": {strings.Repeat("x", 41)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a name too long")
	w.expect(t, "API: rename", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, smartlock(back, ""), token, `{"name":"Back door"}`, http.StatusNoContent)
	}, models.EventDeviceUpdated, main, models.ActorAPI, "device")
	res = apiCall(t, api, http.MethodPost, smartlock(back, ""), token, `{"nmae":"Back door"}`, http.StatusBadRequest)
	assert.Contains(t, res.Body, "nmae is not a field")
	w.expectNone(t, "API: a misspelt field")

	// Configuration and the admin PIN; the activity log names who changed what.
	e = w.expect(t, "page: device configuration", func(t *testing.T) {
		form := configForm(t, owner.Get(dev(front, "/config")))
		form.Set("lngTimeout", "30")
		postOK(t, owner, dev(front, "/config"), form)
	}, models.EventDeviceConfigChanged, main, models.ActorWeb, "device")
	assert.JSONEq(t, `{"settings":{"lngTimeout":30}}`, string(e.Payload))
	acts, err := app.Store.FindDeviceActivity(ctx, main.AccountID, front.ID, 1)
	require.NoError(t, err)
	assert.Equal(t, models.ActionConfigChanged, acts[0].Action)
	assert.Equal(t, "lngTimeout=30", acts[0].Detail)
	assert.Equal(t, main.Name, acts[0].Name)
	w.expect(t, "API: advanced configuration", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, smartlock(front, "/advanced/config"), token, `{"lngTimeout":45}`, http.StatusNoContent)
	}, models.EventDeviceConfigChanged, main, models.ActorAPI, "device")
	apiCall(t, api, http.MethodPost, smartlock(front, "/advanced/config"), token, `{"lngTimeout":7}`, http.StatusBadRequest)
	w.expectNone(t, "API: a value the device does not allow")
	e = w.expect(t, "page: admin PIN", func(t *testing.T) {
		postOK(t, owner, dev(front, "/config/admin-pin"), url.Values{"admin_pin": {"4711"}})
	}, models.EventDeviceAdminPINChanged, main, models.ActorWeb, "device")
	assert.NotContains(t, string(e.Payload), "4711", "never the PIN")
	w.expect(t, "API: admin PIN", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, smartlock(front, "/admin/pin"), token, `{"adminPin":1234}`, http.StatusNoContent)
	}, models.EventDeviceAdminPINChanged, main, models.ActorAPI, "device")

	// Lock actions: the request is the change (the device's result is in the activity log).
	e = w.expect(t, "page: lock", func(t *testing.T) {
		postOK(t, owner, dev(office, "/actions/2"), nil)
	}, models.EventDeviceActionRequested, main, models.ActorWeb, "device")
	assert.JSONEq(t, `{"action":"lock"}`, string(e.Payload))
	settled(office)
	w.expectNone(t, "the device's result is no event of its own")
	w.expect(t, "web key: unlock", func(t *testing.T) {
		postOK(t, holder, fmt.Sprintf("/key/devices/%d/actions/1", front.ID), nil)
	}, models.EventDeviceActionRequested, dora, models.ActorWebKey, "device")
	settled(front)
	w.expect(t, "API: unlock", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, smartlock(office, "/action/unlock"), token, ``, http.StatusNoContent)
	}, models.EventDeviceActionRequested, main, models.ActorAPI, "device")
	settled(office)
	opener := deviceNamed(t, f.devs, "Building entrance")
	apiCall(t, api, http.MethodPost, smartlock(opener, "/action/lock"), token, ``, http.StatusMethodNotAllowed)
	w.expectNone(t, "API: an action the device kind does not have")
	w.expect(t, "API: action by number", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, smartlock(office, "/action"), token, `{"action":2}`, http.StatusNoContent)
	}, models.EventDeviceActionRequested, main, models.ActorAPI, "device")
	settled(office)

	// Removing.
	w.expect(t, "page: remove a device", func(t *testing.T) {
		postOK(t, owner, dev(back, "/delete"), nil)
	}, models.EventDeviceDeleted, main, models.ActorWeb, "device")
	w.expect(t, "API: remove a device", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, smartlock(office, ""), token, ``, http.StatusNoContent)
	}, models.EventDeviceDeleted, main, models.ActorAPI, "device")
	res = owner.PostForm(dev(back, "/delete"), nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	w.expectNone(t, "page: a device removed already")
}

// skipEventsSoFar makes w look only at events written from now on (a fixture's own changes
// came before).
func skipEventsSoFar(t *testing.T, w *eventWatch) {
	t.Helper()
	for {
		events, err := w.app.Store.FindEvents(context.Background(), w.last, 100)
		require.NoError(t, err)
		if len(events) == 0 {
			return
		}
		w.last = events[len(events)-1].ID
	}
}
