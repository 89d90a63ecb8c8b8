package devices

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/devices/sim"
	"portier/models"
)

// Which address a bridge gets: only plain http, and loopback only for a bridge on loopback
// (the simulator next to Portier). The secret depends on the bridge's address, not on the
// connection, and on the key.
func TestCallbackTarget(t *testing.T) {
	t.Parallel()
	box, err := auth.NewSecretBox(make([]byte, 32))
	require.NoError(t, err)
	m := &Manager{secrets: box}
	for _, tc := range []struct {
		base, host string
		ok         bool
	}{
		{"http://192.168.1.10:8080", "192.168.1.20", true},
		{"http://portier.lan:8080/", "192.168.1.20", true},
		{"http://127.0.0.1:8080", "127.0.0.1", true},
		{"http://localhost:8080", "::1", true},
		{"http://127.0.0.1:8080", "192.168.1.20", false},
		{"http://localhost:8080", "nuki-bridge.lan", false},
		{"http://[::1]:8080", "192.168.1.20", false},
		{"https://portier.example.com", "192.168.1.20", false},
		{"", "192.168.1.20", false},
		{"http://", "192.168.1.20", false},
	} {
		m.opt.CallbackBase = tc.base
		u, secret, st := m.callbackTarget(tc.host, 8080)
		if !tc.ok {
			assert.Empty(t, u, "%s for %s", tc.base, tc.host)
			assert.Equal(t, CallbacksNoURL, st)
			continue
		}
		assert.Equal(t, strings.TrimRight(tc.base, "/")+CallbackPath+secret, u)
		assert.True(t, strings.HasPrefix(u, m.callbackPrefix()))
		assert.Len(t, secret, 32)
		assert.Equal(t, CallbacksPending, st)
	}
	m.opt.CallbackBase = "http://192.168.1.10:8080"
	_, a, _ := m.callbackTarget("192.168.1.20", 8080)
	_, b, _ := m.callbackTarget("192.168.1.20", 8080)
	_, other, _ := m.callbackTarget("192.168.1.21", 8080)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, other)
	box2, _ := auth.NewSecretBox([]byte(strings.Repeat("k", 32)))
	_, otherKey, _ := (&Manager{secrets: box2, opt: m.opt}).callbackTarget("192.168.1.20", 8080)
	assert.NotEqual(t, a, otherKey)
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	// The real body from homebridge-nb #156 (reference §1.4).
	cb, err := parseCallback([]byte(`{"deviceType":4,"nukiId":1046726733,"mode":2,"state":3,"stateName":"unlocked","batteryCritical":false,
		"batteryCharging":false,"batteryChargeState":100,"keypadBatteryCritical":false,"doorsensorState":3,"doorsensorStateName":"door opened"}`))
	require.NoError(t, err)
	assert.Equal(t, models.DeviceSmartLock3, cb.typ)
	assert.Equal(t, uint32(1046726733), cb.nukiID)
	require.NotNil(t, cb.state)
	assert.Equal(t, 3, cb.state.State)
	assert.Equal(t, 100, *cb.state.BatteryCharge)
	assert.Equal(t, 3, *cb.state.DoorState)
	assert.True(t, cb.state.Online)

	// An opener with its ring fields and unknown extras.
	cb, err = parseCallback([]byte(`{"deviceType":2,"nukiId":7,"mode":3,"state":1,"stateName":"online","batteryCritical":true,
		"ringactionTimestamp":"2026-03-02T09:00:00+00:00","ringactionState":false,"future":{"x":1}}`))
	require.NoError(t, err)
	assert.Equal(t, 3, cb.state.Mode)
	assert.True(t, cb.state.BatteryCritical)
	assert.Nil(t, cb.state.BatteryCharge, "absent stays absent")

	// No state: the device is named, the connection reads /list.
	cb, err = parseCallback([]byte(`{"deviceType":0,"nukiId":7}`))
	require.NoError(t, err)
	assert.Nil(t, cb.state)

	for _, bad := range []string{"", "null", "[]", "{}", `{"nukiId":7}`, `{"deviceType":4}`, `{"nukiId":4294967296,"deviceType":4}`,
		`{"nukiId":7,"deviceType":5}`, `{"nukiId":7,"deviceType":1}`, `{"nukiId":7,"deviceType":4,"mode":2,"state":1,"batteryChargeState":"full"}`} {
		_, err := parseCallback([]byte(bad))
		assert.ErrorIs(t, err, ErrBadCallback, bad)
	}
}

// Whatever a bridge (or anyone on the network with the secret) posts, parsing neither panics
// nor accepts a device kind a bridge cannot have.
func FuzzParseCallback(f *testing.F) {
	f.Add([]byte(`{"deviceType":4,"nukiId":1046726733,"mode":2,"state":3,"batteryCritical":false,"doorsensorState":3}`))
	f.Add([]byte(`{"deviceType":2,"nukiId":7,"mode":3,"state":1,"ringactionState":true}`))
	f.Add([]byte(`{"deviceType":0,"nukiId":7}`))
	f.Add([]byte(`{"nukiId":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := parseCallback(body)
		if err != nil {
			return
		}
		if !cb.typ.Valid() || !cb.typ.OnBridge() {
			t.Fatalf("accepted device type %d", cb.typ)
		}
		if cb.state != nil && !cb.state.Online {
			t.Fatal("a reported state is online")
		}
	})
}

// A callback proves that callbacks work; a poll that finds a change no callback brought
// proves one was lost (back to frequent polling until the next callback).
func TestMissedCallbackIsNoticed(t *testing.T) {
	t.Parallel()
	m := &Manager{opt: Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	c := &bridgeConn{m: m, id: 1, cbState: CallbacksPending, last: map[deviceKey]models.DeviceState{}}
	k := deviceKey{1, models.DeviceSmartLock3, 7}
	locked := models.DeviceState{Mode: 2, State: 1, Online: true}
	unlocked := models.DeviceState{Mode: 2, State: 3, Online: true}

	assert.False(t, c.heardState(k, locked, byScheduledPoll), "the first poll knows nothing yet")
	assert.False(t, c.heard)
	assert.False(t, c.heardState(k, unlocked, byScheduledPoll), "no callback has arrived: nothing to miss")

	assert.False(t, c.heardState(k, locked, byCallback))
	assert.True(t, c.heard, "a callback arrived")
	assert.False(t, c.heardState(k, locked, byScheduledPoll), "the poll agrees")
	assert.True(t, c.heard)
	assert.False(t, c.heardState(k, unlocked, byPoll), "the poll after an action may be ahead of its callbacks")
	assert.True(t, c.heard)
	assert.False(t, c.heardState(k, unlocked, byCallback), "here they come")
	assert.True(t, c.heardState(k, locked, byScheduledPoll), "a scheduled poll found a change no callback brought")
	assert.False(t, c.heard)
}

// Two connections to one bridge (its devices added at two times) starting together at boot
// register one callback between them: they take turns, so the second finds the first's entry.
func TestConnectionsToOneBridgeRegisterOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := sim.New(sim.Options{Speed: 0.01})
	t.Cleanup(b.Close)
	var specs []sim.Snapshot
	for _, spec := range sim.DemoDevices()[:2] {
		d, err := b.Pair(spec)
		require.NoError(t, err)
		specs = append(specs, d)
	}
	face := sim.NewHTTP(b, sim.HTTPOptions{Token: "tok"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, portText, _ := net.SplitHostPort(face.Addr())
	port, _ := strconv.Atoi(portText)
	for _, d := range specs {
		c := models.Connection{AccountID: f.account.ID, Kind: models.ConnectionNukiBridge, Name: "Hall", Host: host, Port: port,
			TokenSealed: f.secrets.Seal([]byte("tok"), TokenContext(f.account.ID, host, port)), HashedToken: true}
		_, _, err := f.store.CreateConnection(context.Background(), c, []models.Device{{Type: d.Type, NukiID: d.NukiID, Name: d.Name}},
			models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
		require.NoError(t, err)
	}
	m := New(f.store, f.secrets, Options{CallbackBase: "http://127.0.0.1:1", PollEvery: time.Hour, CallbackCheckEvery: time.Hour,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, m.Start(context.Background()))
	t.Cleanup(m.Close)
	lists := func() int {
		n := 0
		for _, e := range face.Log() {
			if e.Type == "HTTP-CallbackList" {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return lists() == 2 }, 10*time.Second, 5*time.Millisecond, "both checked")
	var ours []string
	for _, u := range face.Callbacks() {
		if strings.HasPrefix(u, "http://127.0.0.1:1"+CallbackPath) {
			ours = append(ours, u)
		}
	}
	assert.Len(t, ours, 1)
}
