package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Tests of the Bridge HTTP face with plain HTTP requests on loopback. The Portier client
// against it: devices/nukibridge/sim_test.go.

const testToken = "123456"

// fakeClock is a bridge clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startHTTP starts a bridge with specs and its HTTP face on a loopback port.
func startHTTP(t *testing.T, bopt Options, hopt HTTPOptions, specs ...DeviceSpec) (*Bridge, *HTTPBridge, []Snapshot) {
	t.Helper()
	if bopt.Speed == 0 {
		bopt.Speed = 0.01
	}
	if hopt.Token == "" {
		hopt.Token = testToken
	}
	b := New(bopt)
	t.Cleanup(b.Close)
	var devs []Snapshot
	for _, s := range specs {
		d, err := b.Pair(s)
		require.NoError(t, err)
		devs = append(devs, d)
	}
	h := NewHTTP(b, hopt)
	t.Cleanup(h.Close)
	require.NoError(t, h.Start("127.0.0.1:0"))
	return b, h, devs
}

// web is a client without keep-alive or automatic retries of a request whose connection broke.
var web = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}, Timeout: 5 * time.Second}

// get sends GET base+path?query and returns the status and body; err when no answer came.
func get(h *HTTPBridge, path, query string) (int, string, error) {
	return getWith(web, h.URL(), path, query)
}

func getWith(c *http.Client, base, path, query string) (int, string, error) {
	res, err := c.Get(base + path + "?" + query)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// must sends the request with the plain token and fails the test on a transport error.
func must(t *testing.T, h *HTTPBridge, path, query string) (int, string) {
	t.Helper()
	if query != "" {
		query = "&" + query
	}
	status, body, err := get(h, path, "token="+testToken+query)
	require.NoError(t, err, "%s?%s", path, query)
	return status, body
}

func dev(d Snapshot) string {
	return "nukiId=" + strconv.FormatUint(uint64(d.NukiID), 10) + "&deviceType=" + strconv.Itoa(int(d.Type))
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v
}

var (
	lock3  = DeviceSpec{Type: models.DeviceSmartLock3, NukiID: 0x2CB1DD82, Name: "Front door", Firmware: "4.2.6", Keypad: true, DoorSensor: true, Charge: 84}
	opener = DeviceSpec{Type: models.DeviceOpener, NukiID: 0x1A2B3C4D, Name: "Entrance", Firmware: "1.10.2"}
)

func TestHTTPParametersAreTolerant(t *testing.T) {
	t.Parallel()
	b, h, devs := startHTTP(t, Options{Speed: 0.1}, HTTPOptions{}, lock3) // the motor turns 150 ms
	d := devs[0]
	id := strconv.FormatUint(uint64(d.NukiID), 10)

	// Names in any case, value-less and unknown parameters, empty values.
	for _, q := range []string{"nukiId=" + id + "&deviceType=4", "NukiID=" + id + "&DEVICETYPE=4&1&foo=bar&empty=", "1&nukiid=" + id + "&deviceType=4&action=",
		"nukiId=&NukiId=" + id + "&deviceType=4&nowait="} {
		status, body := must(t, h, "/lockState", q)
		require.Equal(t, http.StatusOK, status, q)
		st := decode[map[string]any](t, body)
		assert.Equal(t, true, st["success"])
		assert.Equal(t, "locked", st["stateName"])
	}

	// nowait in its spellings: nowait answers while the motor still turns.
	status, body := must(t, h, "/lockAction", dev(d)+"&action=1&noWait=true")
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"success":true,"batteryCritical":false}`, body)
	s, _ := b.Device(d.Type, d.NukiID)
	assert.Equal(t, StateUnlocking, s.State.State, "nowait answers at acceptance")
	require.Eventually(t, func() bool { s, _ := b.Device(d.Type, d.NukiID); return s.State.State == StateUnlocked }, 2*time.Second, time.Millisecond)
	status, _ = must(t, h, "/lockAction", dev(d)+"&action=2&nowait=false")
	require.Equal(t, http.StatusOK, status)
	s, _ = b.Device(d.Type, d.NukiID)
	assert.Equal(t, StateLocked, s.State.State, "without nowait the answer comes when done")
	status, _ = must(t, h, "/lockAction", dev(d)+"&action=1&NOWAIT=")
	require.Equal(t, http.StatusOK, status)
	s, _ = b.Device(d.Type, d.NukiID)
	assert.Equal(t, StateUnlocked, s.State.State)

	// Bad or missing parameters.
	for _, q := range []string{"deviceType=4", "nukiId=abc&deviceType=4", "nukiId=" + id + "&deviceType=1", "nukiId=" + id + "&deviceType=5",
		"nukiId=" + id + "&deviceType=x", "nukiId=99999999999&deviceType=4"} {
		status, _ := must(t, h, "/lockState", q)
		assert.Equal(t, http.StatusBadRequest, status, q)
	}
	for _, q := range []string{dev(d), dev(d) + "&action=x", dev(d) + "&action=1&nowait=maybe", dev(d) + "&action=6", dev(d) + "&action=0"} {
		status, _ := must(t, h, "/lockAction", q)
		assert.Equal(t, http.StatusBadRequest, status, q)
	}
	// deviceType defaults to 0, and a Nuki id is unique only per type.
	status, _ = must(t, h, "/lockState", "nukiId="+id)
	assert.Equal(t, http.StatusNotFound, status)
}

func TestHTTPTokenForms(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2019, 3, 5, 1, 6, 53, 0, time.UTC)}
	_, h, _ := startHTTP(t, Options{Now: clock.Now}, HTTPOptions{}, lock3)
	ok := func(q string) int {
		t.Helper()
		status, _, err := get(h, "/list", q)
		require.NoError(t, err)
		return status
	}
	const vector = "ts=2019-03-05T01:06:53Z&rnr=4711&hash=f52eb5ce382e356c4239f8fb4d0a87402bb95b7b3124f0762b806ad7d0d01cb6"
	assert.Equal(t, 200, ok("token=123456"))
	assert.Equal(t, 401, ok("token=654321"))
	assert.Equal(t, 401, ok(""))
	assert.Equal(t, 401, ok("token="))
	assert.Equal(t, 200, ok(vector), "the official hashed example")
	assert.Equal(t, 401, ok(vector), "the same ts and rnr again: replay")
	assert.Equal(t, 401, ok("ts=2019-03-05T01:06:53Z&rnr=4711"), "hash missing")
	hashed := func(ts time.Time, rnr string) string {
		s := ts.UTC().Format("2006-01-02T15:04:05Z")
		return "ts=" + url.QueryEscape(s) + "&rnr=" + rnr + "&hash=" + hashOf(s, rnr, testToken)
	}
	now := clock.Now()
	assert.Equal(t, 200, ok(hashed(now, "4712")))
	assert.Equal(t, 401, ok(hashed(now, "4713")+"0"), "wrong hash")
	assert.Equal(t, 200, ok(hashed(now.Add(-50*time.Second), "1")), "within the window")
	assert.Equal(t, 200, ok(hashed(now.Add(50*time.Second), "1")), "within the window, ahead")
	assert.Equal(t, 401, ok(hashed(now.Add(-2*time.Minute), "2")), "too old")
	assert.Equal(t, 401, ok(hashed(now.Add(2*time.Minute), "2")), "too far ahead")
	assert.Equal(t, 401, ok(strings.Replace(hashed(now, "3"), "Z", "", 1)), "bad ts")
	// Encrypted: the vector of the reference (nonce bytes 00..17).
	const encrypted = "nonce=000102030405060708090a0b0c0d0e0f1011121314151617&ctoken=a7068ee172cdd61d10030e9bf80fb43f0d186a1977fb7164ff6328f12e5d7d79de91d037e8a5ff3df6"
	assert.Equal(t, 200, ok(encrypted))
	assert.Equal(t, 401, ok(encrypted), "replay")
	clock.Add(2 * time.Minute)
	assert.Equal(t, 401, ok(encrypted), "outside the window")
	assert.Equal(t, 200, ok(hashed(clock.Now(), "9")))
	h.mu.Lock()
	assert.Len(t, h.seen, 1, "the replay cache forgets what the window refuses anyway")
	h.mu.Unlock()
	assert.Contains(t, types(h.Log()), "HTTP-Unauthorized")

	// /auth needs no token.
	h.PressButton()
	status, body, err := get(h, "/auth", "")
	require.NoError(t, err)
	assert.Equal(t, 200, status, body)

	for _, c := range []struct {
		opt                     HTTPOptions
		plain, hashed, encrypts bool
	}{
		{HTTPOptions{Tokens: PlainOnly}, true, false, false},
		{HTTPOptions{Tokens: HashedOnly}, false, true, true},
		{HTTPOptions{BridgeType: 2}, true, false, false},
		{HTTPOptions{BridgeType: 2, Tokens: HashedOnly}, false, false, false},
	} {
		clock := &fakeClock{t: time.Date(2019, 3, 5, 1, 6, 53, 0, time.UTC)}
		_, h, _ := startHTTP(t, Options{Now: clock.Now}, c.opt)
		want := func(ok bool) int {
			if ok {
				return 200
			}
			return 401
		}
		for q, allowed := range map[string]bool{"token=123456": c.plain, vector: c.hashed, encrypted: c.encrypts} {
			status, _, err := get(h, "/list", q)
			require.NoError(t, err)
			assert.Equal(t, want(allowed), status, "%+v %s", c.opt, q)
		}
	}
}

func hashOf(ts, rnr, token string) string {
	sum := sha256.Sum256([]byte(ts + "," + rnr + "," + token))
	return hex.EncodeToString(sum[:])
}

func types(entries []LogEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Type)
	}
	return out
}

func TestHTTPButtonAndConfigAuth(t *testing.T) {
	t.Parallel()
	_, h, _ := startHTTP(t, Options{}, HTTPOptions{ButtonWait: 150 * time.Millisecond})
	start := time.Now()
	status, body, err := get(h, "/auth", "")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":false}`, body, "nobody pressed")
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	go func() {
		time.Sleep(30 * time.Millisecond)
		h.PressButton()
	}()
	_, body, err = get(h, "/auth", "")
	require.NoError(t, err)
	assert.JSONEq(t, `{"token":"123456","success":true}`, body, "pressed while waiting")

	h.PressButton()
	_, body, err = get(h, "/auth", "")
	require.NoError(t, err)
	assert.JSONEq(t, `{"token":"123456","success":true}`, body, "pressed just before")
	_, body, err = get(h, "/auth", "")
	require.NoError(t, err)
	assert.JSONEq(t, `{"success":false}`, body, "a press counts once")

	status, _, err = get(h, "/configAuth", "enable=0")
	require.NoError(t, err)
	assert.Equal(t, 401, status, "/configAuth needs the token")
	status, _ = must(t, h, "/configAuth", "enable=0")
	assert.Equal(t, 200, status)
	h.PressButton()
	status, _, err = get(h, "/auth", "")
	require.NoError(t, err)
	assert.Equal(t, 403, status, "turned off")
	status, _ = must(t, h, "/configAuth", "enable=true")
	assert.Equal(t, 200, status)
	_, body, err = get(h, "/auth", "")
	require.NoError(t, err)
	assert.JSONEq(t, `{"token":"123456","success":true}`, body)
	status, _ = must(t, h, "/configAuth", "")
	assert.Equal(t, 400, status)
}

func TestHTTPList(t *testing.T) {
	t.Parallel()
	b, h, _ := startHTTP(t, Options{}, HTTPOptions{}, append(DemoDevices(), DeviceSpec{Type: models.DeviceBox, Name: "Box"})...)
	status, body := must(t, h, "/list", "")
	require.Equal(t, 200, status)
	list := decode[[]map[string]any](t, body)
	var names []string
	for _, d := range list {
		names = append(names, d["name"].(string))
	}
	assert.Equal(t, []string{"Front door", "Back door", "Building entrance", "Garden gate"}, names, "only kinds that pair with a bridge")

	front := list[0]
	assert.Equal(t, float64(models.DeviceSmartLock3), front["deviceType"])
	assert.Equal(t, "4.2.6", front["firmwareVersion"])
	devs := b.Devices()
	assert.Contains(t, body, `"nukiId":`+strconv.FormatUint(uint64(devs[0].NukiID), 10)+`,`, "decimal Nuki id")
	st := front["lastKnownState"].(map[string]any)
	assert.Equal(t, map[string]any{"mode": 2.0, "state": 1.0, "stateName": "locked", "batteryCritical": false, "batteryCharging": false,
		"batteryChargeState": 84.0, "keypadBatteryCritical": false, "doorsensorState": 2.0, "doorsensorStateName": "door closed",
		"timestamp": st["timestamp"]}, st)
	_, err := time.Parse("2006-01-02T15:04:05+00:00", st["timestamp"].(string))
	assert.NoError(t, err)

	back := list[1]["lastKnownState"].(map[string]any)
	for _, k := range []string{"batteryChargeState", "batteryCharging", "keypadBatteryCritical", "doorsensorState", "doorsensorStateName", "ringactionState"} {
		assert.NotContains(t, back, k, "a Smart Lock 2.0 without keypad or sensor")
	}

	op := list[2]
	ost := op["lastKnownState"].(map[string]any)
	assert.Equal(t, "online", ost["stateName"])
	assert.Equal(t, false, ost["ringactionState"])
	assert.NotContains(t, ost, "ringactionTimestamp")
	require.NoError(t, b.Ring(models.DeviceOpener, devs[3].NukiID))
	_, body = must(t, h, "/lockState", dev(devs[3]))
	ost = decode[map[string]any](t, body)
	assert.Equal(t, true, ost["ringactionState"])
	assert.NotEmpty(t, ost["ringactionTimestamp"])
	assert.NotContains(t, ost, "timestamp", "/lockState has no timestamp")
}

func TestHTTPActionsAndErrors(t *testing.T) {
	t.Parallel()
	b, h, devs := startHTTP(t, Options{}, HTTPOptions{}, lock3, opener)
	l, o := devs[0], devs[1]
	state := func(d Snapshot) Snapshot {
		s, err := b.Device(d.Type, d.NukiID)
		require.NoError(t, err)
		return s
	}

	status, body := must(t, h, "/unlock", dev(l))
	require.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":true,"batteryCritical":false}`, body)
	assert.Equal(t, StateUnlocked, state(l).State.State)
	status, _ = must(t, h, "/lock", dev(l))
	require.Equal(t, 200, status)
	assert.Equal(t, StateLocked, state(l).State.State)
	assert.Equal(t, 1, b.Executed(l.Type, l.NukiID, models.ActionLock))

	// Opener: continuous mode is 4/5 on the bridge (6/7 in the Web API).
	status, _ = must(t, h, "/lockAction", dev(o)+"&action=4")
	require.Equal(t, 200, status)
	assert.Equal(t, ModeContinuous, state(o).State.Mode)
	_, body = must(t, h, "/lockState", dev(o))
	assert.Contains(t, body, `"stateName":"rto active"`)
	status, _ = must(t, h, "/lockAction", dev(o)+"&action=5")
	require.Equal(t, 200, status)
	assert.Equal(t, ModeDoor, state(o).State.Mode)
	for _, a := range []string{"6", "7", "8"} {
		status, _ = must(t, h, "/lockAction", dev(o)+"&action="+a)
		assert.Equal(t, 400, status, "opener action %s", a)
	}
	status, _ = must(t, h, "/lockAction", dev(l)+"&action=6")
	assert.Equal(t, 400, status, "full lock is not a bridge action")

	// Faults.
	unknown := "nukiId=12345&deviceType=4"
	status, _ = must(t, h, "/lockAction", unknown+"&action=1")
	assert.Equal(t, 404, status)
	status, _ = must(t, h, "/lockState", unknown)
	assert.Equal(t, 404, status)

	require.NoError(t, b.SetFault(l.Type, l.NukiID, FaultBusy))
	status, body = must(t, h, "/lockAction", dev(l)+"&action=1")
	assert.Equal(t, 503, status)
	assert.Equal(t, "HTTP 503 Unavailable", body)

	require.NoError(t, b.SetFault(l.Type, l.NukiID, FaultFailed))
	status, body = must(t, h, "/lockAction", dev(l)+"&action=1")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":false,"batteryCritical":false}`, body)

	require.NoError(t, b.SetFault(l.Type, l.NukiID, FaultMotorBlocked))
	status, body = must(t, h, "/lockAction", dev(l)+"&action=1")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":false,"batteryCritical":false}`, body)
	_, body = must(t, h, "/lockState", dev(l))
	assert.Contains(t, body, `"state":254,"stateName":"motor blocked"`)
	require.NoError(t, b.SetFault(l.Type, l.NukiID, NoFault))

	require.NoError(t, b.SetBattery(l.Type, l.NukiID, 15))
	_, body = must(t, h, "/lockAction", dev(l)+"&action=2")
	assert.JSONEq(t, `{"success":true,"batteryCritical":true}`, body)

	require.NoError(t, b.SetOnline(l.Type, l.NukiID, false))
	status, _ = must(t, h, "/lockAction", dev(l)+"&action=1")
	assert.Equal(t, 410, status)
	status, _ = must(t, h, "/lockState", dev(l))
	assert.Equal(t, 410, status)
	status, _ = must(t, h, "/list", "")
	assert.Equal(t, 200, status, "the list is served from the cache")

	status, _ = must(t, h, "/", "")
	assert.Equal(t, 400, status, "bare /")
	status, _ = must(t, h, "/nothing", "")
	assert.Equal(t, 404, status)
	for _, p := range []string{"/unpair", "/fwupdate", "/factoryReset"} {
		q := ""
		if p == "/unpair" {
			q = dev(o)
		}
		status, body = must(t, h, p, q)
		assert.Equal(t, 200, status, p)
		assert.JSONEq(t, `{"success":true}`, body, p)
	}
}

// One request at a time: while a waiting lock action runs, every other request gets 503.
func TestHTTPOneRequestAtATime(t *testing.T) {
	t.Parallel()
	b, h, devs := startHTTP(t, Options{Speed: 0.1}, HTTPOptions{}, lock3) // the motor turns 150 ms
	d := devs[0]
	done := make(chan string, 1)
	go func() {
		_, body, err := get(h, "/lockAction", "token=123456&"+dev(d)+"&action=1")
		if err != nil {
			body = err.Error()
		}
		done <- body
	}()
	require.Eventually(t, func() bool { s, _ := b.Device(d.Type, d.NukiID); return s.State.State == StateUnlocking }, 2*time.Second, time.Millisecond)
	status, body := must(t, h, "/list", "")
	assert.Equal(t, 503, status)
	assert.Equal(t, "HTTP 503 Unavailable", body)
	assert.JSONEq(t, `{"success":true,"batteryCritical":false}`, <-done)
	status, _ = must(t, h, "/list", "")
	assert.Equal(t, 200, status, "free again")

	// The Bluetooth set-up of a waiting action keeps the bridge busy too.
	b, h, devs = startHTTP(t, Options{}, HTTPOptions{ActionDelay: 150 * time.Millisecond}, lock3)
	d = devs[0]
	start := time.Now()
	go func() {
		_, body, err := get(h, "/lockAction", "token=123456&"+dev(d)+"&action=1")
		if err != nil {
			body = err.Error()
		}
		done <- body
	}()
	require.Eventually(t, func() bool { return h.busy.Load() }, time.Second, time.Millisecond)
	status, _ = must(t, h, "/list", "")
	assert.Equal(t, 503, status)
	assert.Equal(t, 0, b.Executed(d.Type, d.NukiID, models.ActionUnlock), "not yet at the device")
	assert.JSONEq(t, `{"success":true,"batteryCritical":false}`, <-done)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	assert.Equal(t, 1, b.Executed(d.Type, d.NukiID, models.ActionUnlock))
}

func TestHTTPInjectedBusy(t *testing.T) {
	t.Parallel()
	_, h, _ := startHTTP(t, Options{}, HTTPOptions{}, lock3)
	h.InjectBusy(2)
	for _, want := range []int{503, 503, 200, 200} {
		status, _ := must(t, h, "/list", "")
		assert.Equal(t, want, status)
	}
}

// The device unlatches but the answer is lost: the bridge holds the request and closes it
// without an answer — and it unlatched exactly once.
func TestHTTPNoAnswer(t *testing.T) {
	t.Parallel()
	b, h, devs := startHTTP(t, Options{}, HTTPOptions{NoAnswerHold: 100 * time.Millisecond}, lock3)
	d := devs[0]
	require.NoError(t, b.SetFault(d.Type, d.NukiID, FaultNoAnswer))
	start := time.Now()
	_, _, err := get(h, "/lockAction", "token=123456&"+dev(d)+"&action=3")
	require.Error(t, err, "no answer")
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	assert.Equal(t, 1, b.Executed(d.Type, d.NukiID, models.ActionUnlatch))
	require.Eventually(t, func() bool {
		evs, _ := b.Events(d.Type, d.NukiID, "")
		return len(evs) > 0 && evs[0].Action == int(models.ActionUnlatch)
	}, 2*time.Second, time.Millisecond, "the door was unlatched")
	assert.Contains(t, types(h.Log()), "BLE-ConnectionTimeout")

	// The client gives up first: the bridge is free again at once.
	_, h2, _ := startHTTP(t, Options{}, HTTPOptions{NoAnswerHold: time.Minute})
	b2 := h2.b
	d2, err := b2.Pair(lock3)
	require.NoError(t, err)
	require.NoError(t, b2.SetFault(d2.Type, d2.NukiID, FaultNoAnswer))
	impatient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}, Timeout: 50 * time.Millisecond}
	_, _, err = getWith(impatient, h2.URL(), "/lockAction", "token=123456&"+dev(d2)+"&action=2")
	require.Error(t, err)
	require.Eventually(t, func() bool { status, _ := must(t, h2, "/list", ""); return status == 200 }, time.Second, 5*time.Millisecond)

	// Close ends a held request.
	done := make(chan error, 1)
	go func() { _, _, err := get(h2, "/lockAction", "token=123456&"+dev(d2)+"&action=2"); done <- err }()
	require.Eventually(t, func() bool { return h2.busy.Load() }, time.Second, time.Millisecond)
	h2.Close()
	select {
	case err := <-done:
		assert.Error(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end the held request")
	}
}

// The device unlocks and answers the bridge, but the bridge's answer never reaches the client:
// held until the client gives up, or the connection dropped. The device unlocked once, and the
// bridge takes the next request.
func TestHTTPAnswerLost(t *testing.T) {
	t.Parallel()
	for _, fault := range []AnswerFault{AnswerHeld, AnswerDropped} {
		b, h, devs := startHTTP(t, Options{}, HTTPOptions{NoAnswerHold: time.Minute}, lock3)
		d := devs[0]
		h.SetAnswerFault(fault)
		impatient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}, Timeout: 300 * time.Millisecond}
		_, _, err := getWith(impatient, h.URL(), "/lockAction", "token=123456&"+dev(d)+"&action=1")
		require.Error(t, err, "fault %d: no answer", fault)
		assert.Equal(t, 1, b.Executed(d.Type, d.NukiID, models.ActionUnlock), "fault %d", fault)
		s, err := b.Device(d.Type, d.NukiID)
		require.NoError(t, err)
		assert.Equal(t, StateUnlocked, s.State.State, "fault %d: the device did it", fault)
		assert.Contains(t, types(h.Log()), "HTTP-LockActionSuccess")
		require.Eventually(t, func() bool { status, _ := must(t, h, "/list", ""); return status == 200 }, time.Second, 5*time.Millisecond)

		h.SetAnswerFault(AnswerSent)
		status, body := must(t, h, "/lockAction", dev(d)+"&action=2")
		assert.Equal(t, 200, status)
		assert.JSONEq(t, `{"success":true,"batteryCritical":false}`, body)
	}
}

func TestHTTPInfoRebootAndLog(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	b, h, _ := startHTTP(t, Options{Now: clock.Now}, HTTPOptions{HardwareID: 0x1234, Firmware: "2.14.0"}, DemoDevices()...)
	clock.Add(time.Hour)
	_, body := must(t, h, "/info", "")
	info := decode[map[string]any](t, body)
	assert.Equal(t, 1.0, info["bridgeType"])
	assert.Equal(t, map[string]any{"hardwareId": float64(0x1234), "serverId": float64(b.ServerID)}, info["ids"])
	assert.Equal(t, map[string]any{"firmwareVersion": "2.14.0", "wifiFirmwareVersion": "2.2.0"}, info["versions"])
	assert.Equal(t, 3600.0, info["uptime"])
	assert.Equal(t, "2026-05-01T13:00:00+00:00", info["currentTime"])
	assert.Equal(t, true, info["wlanConnected"])
	assert.Len(t, info["scanResults"], 4, "the devices that pair with a bridge")

	status, body := must(t, h, "/reboot", "")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":true}`, body)
	_, body = must(t, h, "/info", "")
	assert.Equal(t, 0.0, decode[map[string]any](t, body)["uptime"], "the uptime starts again")

	_, body = must(t, h, "/log", "offset=1&count=2")
	entries := decode[[]LogEntry](t, body)
	assert.Equal(t, []string{"HTTP-Info", "HTTP-Reboot"}, types(entries), "newest first, from offset")
	assert.Equal(t, "2026-05-01T13:00:00+00:00", entries[0].Timestamp)
	_, body = must(t, h, "/lockAction", dev(b.Devices()[0])+"&action=1")
	assert.Contains(t, body, `"success":true`)
	entries = h.Log()
	assert.Equal(t, []string{"HTTP-LockActionSuccess", "HTTP-LockActionStart"}, types(entries[:2]))
	assert.Equal(t, LogEntry{Timestamp: "2026-05-01T13:00:00+00:00", Type: "HTTP-LockActionStart", NukiID: fmt.Sprintf("%08X", b.Devices()[0].NukiID), Action: 1}, entries[1])
	status, _ = must(t, h, "/clearlog", "")
	assert.Equal(t, 200, status)
	_, body = must(t, h, "/log", "")
	assert.Equal(t, []string{"HTTP-Log"}, types(decode[[]LogEntry](t, body)))
	status, _ = must(t, h, "/log", "count=-1")
	assert.Equal(t, 400, status)

	// The software bridge.
	_, sw, _ := startHTTP(t, Options{}, HTTPOptions{BridgeType: 2})
	_, body = must(t, sw, "/info", "")
	info = decode[map[string]any](t, body)
	assert.Equal(t, 2.0, info["bridgeType"])
	assert.NotContains(t, info["ids"], "hardwareId")
	assert.Contains(t, info["versions"], "appVersion")
}

func TestHTTPCallbackRegistration(t *testing.T) {
	t.Parallel()
	_, h, _ := startHTTP(t, Options{}, HTTPOptions{})
	add := func(u string) (int, string) {
		t.Helper()
		return must(t, h, "/callback/add", "url="+url.QueryEscape(u))
	}
	list := func() string {
		t.Helper()
		_, body := must(t, h, "/callback/list", "")
		return body
	}
	assert.JSONEq(t, `{"callbacks":[]}`, list())
	status, body := add("http://127.0.0.1:9/a")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":true}`, body)
	// A raw, not encoded URL with its own query.
	status, _ = must(t, h, "/callback/add", "url=http://127.0.0.1:9/b?x=1&y=2")
	assert.Equal(t, 200, status)
	status, _ = add("http://[::1]:9/c")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"callbacks":[{"id":0,"url":"http://127.0.0.1:9/a"},{"id":1,"url":"http://127.0.0.1:9/b?x=1&y=2"},{"id":2,"url":"http://[::1]:9/c"}]}`, list())

	status, body = add("http://127.0.0.1:9/d")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":false,"message":"too many callbacks registered"}`, body)

	for _, bad := range []string{"https://127.0.0.1/x", "ftp://127.0.0.1/x", "http://", "not a url", "http://127.0.0.1/" + strings.Repeat("x", 250)} {
		status, _ = add(bad)
		assert.Equal(t, 400, status, bad)
	}
	status, _ = must(t, h, "/callback/add", "")
	assert.Equal(t, 400, status)

	status, body = must(t, h, "/callback/remove", "id=1")
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"success":true}`, body)
	assert.JSONEq(t, `{"callbacks":[{"id":0,"url":"http://127.0.0.1:9/a"},{"id":2,"url":"http://[::1]:9/c"}]}`, list(), "removal leaves a gap")
	_, body = must(t, h, "/callback/remove", "id=1")
	assert.JSONEq(t, `{"success":false,"message":"invalid id"}`, body)
	status, _ = must(t, h, "/callback/remove", "")
	assert.Equal(t, 400, status)
	_, _ = add("http://127.0.0.1:9/e")
	assert.Equal(t, []string{"http://127.0.0.1:9/a", "http://127.0.0.1:9/e", "http://[::1]:9/c"}, h.Callbacks(), "the free slot is reused")

	must(t, h, "/reboot", "")
	assert.Len(t, strings.Split(list(), "url"), 4, "a reboot keeps the callbacks by default")
	_, wipe, _ := startHTTP(t, Options{}, HTTPOptions{RebootWipesCallbacks: true})
	must(t, wipe, "/callback/add", "url=http://127.0.0.1:9/a")
	must(t, wipe, "/reboot", "")
	_, body = must(t, wipe, "/callback/list", "")
	assert.JSONEq(t, `{"callbacks":[]}`, body)
}

// receiver records the callbacks it gets.
type receiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	ctypes []string
	srv    *httptest.Server
}

func newReceiver(t *testing.T, fn func(w http.ResponseWriter)) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		_ = json.NewDecoder(r.Body).Decode(&v)
		rc.mu.Lock()
		if r.Method == http.MethodPost {
			rc.bodies = append(rc.bodies, v)
			rc.ctypes = append(rc.ctypes, r.Header.Get("Content-Type"))
		}
		rc.mu.Unlock()
		if fn != nil {
			fn(w)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) states() []float64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []float64
	for _, b := range rc.bodies {
		out = append(out, b["state"].(float64))
	}
	return out
}

func TestHTTPCallbacksDelivered(t *testing.T) {
	t.Parallel()
	b, h, devs := startHTTP(t, Options{}, HTTPOptions{}, lock3)
	d := devs[0]
	rc := newReceiver(t, nil)
	must(t, h, "/callback/add", "url="+url.QueryEscape(rc.srv.URL+"/cb?secret=x"))

	require.NoError(t, b.Action(context.Background(), d.Type, d.NukiID, models.ActionUnlock, Actor{}, true))
	require.Eventually(t, func() bool { return len(rc.states()) >= 2 }, 2*time.Second, time.Millisecond)
	b.Flush()
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, []float64{StateUnlocking, StateUnlocked}, rc.states(), "one callback per change of state")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.Equal(t, "application/json", rc.ctypes[0])
	assert.Equal(t, map[string]any{"deviceType": 4.0, "nukiId": float64(d.NukiID), "mode": 2.0, "state": 3.0, "stateName": "unlocked",
		"batteryCritical": false, "batteryCharging": false, "batteryChargeState": 84.0, "keypadBatteryCritical": false,
		"doorsensorState": 2.0, "doorsensorStateName": "door closed"}, rc.bodies[1], "no timestamp, no success")
}

func TestHTTPCallbackReceiverFailures(t *testing.T) {
	t.Parallel()
	act := func(b *Bridge, d Snapshot) {
		require.NoError(t, b.Action(context.Background(), d.Type, d.NukiID, models.ActionUnlock, Actor{}, true))
	}
	failing := func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }

	// The failing first receiver blocks the others.
	b, h, devs := startHTTP(t, Options{}, HTTPOptions{FailingFirstBlocks: true}, lock3)
	first, second := newReceiver(t, failing), newReceiver(t, nil)
	must(t, h, "/callback/add", "url="+url.QueryEscape(first.srv.URL))
	must(t, h, "/callback/add", "url="+url.QueryEscape(second.srv.URL))
	act(b, devs[0])
	require.Eventually(t, func() bool { return len(first.states()) >= 2 }, 2*time.Second, time.Millisecond)
	assert.Empty(t, second.states(), "blocked by the failing first receiver")
	assert.Contains(t, types(h.Log()), "HTTP-PostFailed")

	// Without the option the others get it.
	b, h, devs = startHTTP(t, Options{}, HTTPOptions{}, lock3)
	first, second = newReceiver(t, failing), newReceiver(t, nil)
	must(t, h, "/callback/add", "url="+url.QueryEscape(first.srv.URL))
	must(t, h, "/callback/add", "url="+url.QueryEscape(second.srv.URL))
	act(b, devs[0])
	require.Eventually(t, func() bool { return len(second.states()) >= 2 }, 2*time.Second, time.Millisecond)

	// A slow receiver is given up after the timeout; the next still gets every update.
	b, h, devs = startHTTP(t, Options{}, HTTPOptions{CallbackTimeout: 30 * time.Millisecond}, lock3)
	slow := newReceiver(t, func(http.ResponseWriter) { time.Sleep(200 * time.Millisecond) })
	second = newReceiver(t, nil)
	must(t, h, "/callback/add", "url="+url.QueryEscape(slow.srv.URL))
	must(t, h, "/callback/add", "url="+url.QueryEscape(second.srv.URL))
	act(b, devs[0])
	require.Eventually(t, func() bool { return len(second.states()) >= 2 }, 2*time.Second, time.Millisecond)
	assert.Contains(t, types(h.Log()), "HTTP-PostTimeout")
}

func TestHTTPDownRefusesConnections(t *testing.T) {
	t.Parallel()
	b, h, _ := startHTTP(t, Options{}, HTTPOptions{}, lock3)
	addr := h.Addr()
	status, _ := must(t, h, "/list", "")
	require.Equal(t, 200, status)

	refused := func() bool {
		_, _, err := getWith(web, "http://"+addr, "/list", "token=123456")
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	h.SetDown(true)
	assert.True(t, refused(), "switched off: connection refused")
	h.SetDown(false)
	status, _ = must(t, h, "/list", "")
	assert.Equal(t, 200, status, "back on the same address")
	assert.Equal(t, addr, h.Addr())

	// Changed on the bridge directly: the port follows within a few milliseconds.
	b.SetDown(true)
	require.Eventually(t, refused, time.Second, 5*time.Millisecond)
	b.SetDown(false)
	require.Eventually(t, func() bool { return !refused() }, time.Second, 5*time.Millisecond)

	// Served by another server, a down bridge closes the connection without an answer.
	srv := httptest.NewServer(h)
	defer srv.Close()
	b.SetDown(true)
	_, _, err := getWith(web, srv.URL, "/list", "token=123456")
	assert.Error(t, err)
	b.SetDown(false)
	status, _, err = getWith(web, srv.URL, "/list", "token=123456")
	require.NoError(t, err)
	assert.Equal(t, 200, status)

	h.Stop()
	assert.True(t, refused(), "stopped")
}

func TestStateNames(t *testing.T) {
	t.Parallel()
	for state, want := range map[int]string{0: "uncalibrated", 1: "locked", 2: "unlocking", 3: "unlocked", 4: "locking", 5: "unlatched",
		6: "unlocked (lock ‘n’ go)", 7: "unlatching", 254: "motor blocked", 255: "undefined", 100: "undefined"} {
		assert.Equal(t, want, StateName(models.DeviceSmartLock3, state))
		assert.Equal(t, want, StateName(models.DeviceSmartDoor, state))
	}
	for state, want := range map[int]string{0: "untrained", 1: "online", 3: "rto active", 5: "open", 7: "opening", 253: "boot run", 255: "undefined", 2: "undefined"} {
		assert.Equal(t, want, StateName(models.DeviceOpener, state))
	}
	for state, want := range map[int]string{1: "deactivated", 2: "door closed", 3: "door opened", 4: "door state unknown", 5: "calibrating",
		16: "uncalibrated", 240: "tampered", 255: "unknown", 9: "unknown"} {
		assert.Equal(t, want, DoorStateName(state))
	}
}
