package nukibridge_test

// The real client against the simulator's Bridge HTTP face (devices/sim) on loopback: the
// fuller counterpart of the small handlers in client_test.go.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/nukibridge"
	"portier/devices/sim"
	"portier/models"
)

const token = "123456"

// rig is a simulated bridge served on a loopback port.
type rig struct {
	b    *sim.Bridge
	h    *sim.HTTPBridge
	host string
	port int
	devs []sim.Snapshot
}

func newRig(t *testing.T, bopt sim.Options, hopt sim.HTTPOptions, specs ...sim.DeviceSpec) *rig {
	t.Helper()
	if bopt.Speed == 0 {
		bopt.Speed = 0.01
	}
	if hopt.Token == "" {
		hopt.Token = token
	}
	r := &rig{b: sim.New(bopt)}
	t.Cleanup(r.b.Close)
	for _, s := range specs {
		d, err := r.b.Pair(s)
		require.NoError(t, err)
		r.devs = append(r.devs, d)
	}
	r.h = sim.NewHTTP(r.b, hopt)
	t.Cleanup(r.h.Close)
	require.NoError(t, r.h.Start("127.0.0.1:0"))
	host, port, err := net.SplitHostPort(r.h.Addr())
	require.NoError(t, err)
	r.host = host
	r.port, _ = strconv.Atoi(port)
	return r
}

// client is a Portier client of the rig: 1 ms gap and backoff waits of at most 2 ms.
func (r *rig) client(mode nukibridge.TokenMode, tok string, edit ...func(*nukibridge.Config)) *nukibridge.Client {
	cfg := nukibridge.Config{Host: r.host, Port: r.port, Token: tok, Mode: mode, Gap: time.Millisecond,
		Timeout: 2 * time.Second, ActionTimeout: 2 * time.Second, Sleep: shortSleep}
	for _, e := range edit {
		e(&cfg)
	}
	return nukibridge.New(cfg)
}

func shortSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, 2*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addCallback registers a callback as another app would, with a plain GET.
func (r *rig) addCallback(t *testing.T, u string) {
	t.Helper()
	res, err := http.Get("http://" + r.h.Addr() + "/callback/add?token=" + token + "&url=" + url.QueryEscape(u))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.JSONEq(t, `{"success":true}`, string(body))
}

func (r *rig) state(t *testing.T, d sim.Snapshot) int {
	t.Helper()
	s, err := r.b.Device(d.Type, d.NukiID)
	require.NoError(t, err)
	return s.State.State
}

var (
	lock3  = sim.DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front door", Firmware: "4.2.6", Keypad: true, DoorSensor: true, Charge: 84}
	opener = sim.DeviceSpec{Type: models.DeviceOpener, Name: "Entrance", Firmware: "1.10.2"}
)

func TestSimList(t *testing.T) {
	t.Parallel()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, sim.DemoDevices()...)
	devs, err := r.client(nukibridge.TokenHashed, token).List(context.Background())
	require.NoError(t, err)
	var want []sim.Snapshot
	for _, d := range r.devs {
		if d.Type.OnBridge() {
			want = append(want, d)
		}
	}
	require.Len(t, devs, len(want))
	require.Len(t, devs, 4, "the 5th generation lock cannot pair with a bridge")
	for i, d := range devs {
		assert.Equal(t, want[i].NukiID, d.NukiID)
		assert.Equal(t, int(want[i].Type), d.DeviceType)
		assert.Equal(t, want[i].Name, d.Name)
		assert.Equal(t, want[i].Firmware, d.FirmwareVersion)
		require.NotNil(t, d.LastKnownState)
		assert.NotEmpty(t, d.LastKnownState.Timestamp)
	}
	front, back, entrance := devs[0].LastKnownState, devs[1].LastKnownState, devs[2].LastKnownState
	assert.Equal(t, sim.StateLocked, front.State)
	assert.Equal(t, "locked", front.StateName)
	require.NotNil(t, front.BatteryChargeState)
	assert.Equal(t, 84, *front.BatteryChargeState)
	require.NotNil(t, front.DoorsensorState)
	assert.Equal(t, sim.DoorClosed, *front.DoorsensorState)
	assert.Equal(t, "door closed", front.DoorsensorStateName)
	assert.NotNil(t, front.KeypadBatteryCritical)
	assert.Nil(t, back.BatteryChargeState, "an old lock reports no charge level")
	assert.Nil(t, back.KeypadBatteryCritical)
	assert.Nil(t, back.DoorsensorState)
	assert.Equal(t, "online", entrance.StateName)
	assert.NotNil(t, entrance.RingactionState)
}

func TestSimLockActionWaitAndNowait(t *testing.T) {
	t.Parallel()
	r := newRig(t, sim.Options{Speed: 0.1}, sim.HTTPOptions{}, lock3, opener) // the motor turns 150 ms
	c := r.client(nukibridge.TokenPlain, token)
	ctx := context.Background()
	l, o := r.devs[0], r.devs[1]

	require.NoError(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true))
	assert.Equal(t, sim.StateUnlocked, r.state(t, l), "with wait the answer comes when the lock is open")

	require.NoError(t, c.LockAction(ctx, l.NukiID, int(l.Type), 2, false))
	assert.Equal(t, sim.StateLocking, r.state(t, l), "without wait the answer comes while the motor turns")
	require.Eventually(t, func() bool { return r.state(t, l) == sim.StateLocked }, 2*time.Second, time.Millisecond)

	// The opener's continuous mode is action 4 on the bridge.
	require.NoError(t, c.LockAction(ctx, o.NukiID, int(o.Type), 4, true))
	s, err := r.b.Device(o.Type, o.NukiID)
	require.NoError(t, err)
	assert.Equal(t, sim.ModeContinuous, s.State.Mode)
	assert.ErrorIs(t, c.LockAction(ctx, o.NukiID, int(o.Type), 6, true), nukibridge.ErrBadRequest, "6 is the Web API number")
}

func TestSimTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	for _, mode := range []nukibridge.TokenMode{nukibridge.TokenHashed, nukibridge.TokenPlain} {
		_, err := r.client(mode, token).List(ctx)
		assert.NoError(t, err, "mode %d", mode)
		_, err = r.client(mode, "654321").List(ctx)
		assert.ErrorIs(t, err, nukibridge.ErrUnauthorized, "wrong token, mode %d", mode)
	}
	// Several hashed requests in a row: each has its own ts+rnr, none is taken for a replay.
	c := r.client(nukibridge.TokenHashed, token)
	for range 5 {
		_, err := c.List(ctx)
		require.NoError(t, err)
	}

	sw := newRig(t, sim.Options{}, sim.HTTPOptions{BridgeType: 2}, lock3)
	_, err := sw.client(nukibridge.TokenHashed, token).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized, "the software bridge takes only the plain token")
	_, err = sw.client(nukibridge.TokenPlain, token).List(ctx)
	assert.NoError(t, err)

	hashedOnly := newRig(t, sim.Options{}, sim.HTTPOptions{Tokens: sim.HashedOnly}, lock3)
	_, err = hashedOnly.client(nukibridge.TokenPlain, token).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized)
}

// The bridge's clock is 10 minutes ahead: the hashed token is refused, the refusal says it is
// the clock and by how much, and /info shows the bridge's time.
func TestSimClockSkew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{Now: func() time.Time { return time.Now().Add(10 * time.Minute) }}, sim.HTTPOptions{}, lock3)
	_, err := r.client(nukibridge.TokenHashed, token).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized)
	var skew *nukibridge.ClockSkewError
	require.ErrorAs(t, err, &skew)
	assert.InDelta(t, (10 * time.Minute).Seconds(), skew.Offset.Seconds(), 5)
	assert.WithinDuration(t, time.Now().Add(10*time.Minute), skew.BridgeTime, 5*time.Second)

	// Behind by 3 min 12 s, seen from a lock action too.
	behind := newRig(t, sim.Options{Now: func() time.Time { return time.Now().Add(-(3*time.Minute + 12*time.Second)) }}, sim.HTTPOptions{}, lock3)
	err = behind.client(nukibridge.TokenHashed, token).LockAction(ctx, behind.devs[0].NukiID, int(behind.devs[0].Type), 1, true)
	require.ErrorAs(t, err, &skew)
	assert.InDelta(t, -(3*time.Minute + 12*time.Second).Seconds(), skew.Offset.Seconds(), 5)
	assert.Equal(t, 0, behind.b.Executed(behind.devs[0].Type, behind.devs[0].NukiID, models.ActionUnlock))

	// A wrong token on a bridge whose clock is right is not a clock problem.
	_, err = newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3).client(nukibridge.TokenHashed, "wrong").List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized)
	assert.NotErrorIs(t, err, nukibridge.ErrClockSkew)
	plain := r.client(nukibridge.TokenPlain, token)
	_, err = plain.List(ctx)
	assert.NoError(t, err, "the plain token does not depend on the clock")
	info, err := plain.Info(ctx)
	require.NoError(t, err)
	bridgeNow, err := time.Parse("2006-01-02T15:04:05+00:00", info.CurrentTime)
	require.NoError(t, err)
	assert.InDelta(t, (10 * time.Minute).Seconds(), time.Until(bridgeNow).Seconds(), 5)

	// 30 seconds of difference are within the window.
	near := newRig(t, sim.Options{Now: func() time.Time { return time.Now().Add(-30 * time.Second) }}, sim.HTTPOptions{}, lock3)
	_, err = near.client(nukibridge.TokenHashed, token).List(ctx)
	assert.NoError(t, err)
}

// A 503 storm shorter than the retries ends in success; a longer one in ErrBusy, and the
// refused action never reached the device.
func TestSimBusyStorm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	l := r.devs[0]
	c := r.client(nukibridge.TokenPlain, token) // 4 retries

	r.h.InjectBusy(4)
	require.NoError(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true))
	assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionUnlock))

	r.h.InjectBusy(5)
	err := c.LockAction(ctx, l.NukiID, int(l.Type), 2, true)
	assert.ErrorIs(t, err, nukibridge.ErrBusy)
	assert.Equal(t, 0, r.b.Executed(l.Type, l.NukiID, models.ActionLock), "refused, not carried out")

	// A refused unlatch is sent again: it never ran.
	r.h.InjectBusy(2)
	require.NoError(t, c.LockAction(ctx, l.NukiID, int(l.Type), 3, true))
	assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionUnlatch))

	// A device busy with another command answers 503 too.
	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.FaultBusy))
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 2, true), nukibridge.ErrBusy)
}

// The device carries the command out but the answer is lost. Neither an unlatch (the door
// may be open already) nor a lock is sent again.
func TestSimTimeoutAfterExecuting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	l := r.devs[0]
	c := r.client(nukibridge.TokenPlain, token, func(cfg *nukibridge.Config) { cfg.ActionTimeout = 60 * time.Millisecond })
	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.FaultNoAnswer))

	err := c.LockAction(ctx, l.NukiID, int(l.Type), 3, true)
	assert.ErrorIs(t, err, nukibridge.ErrUnknownOutcome)
	assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionUnlatch), "the door opened exactly once")
	require.Eventually(t, func() bool {
		evs, _ := r.b.Events(l.Type, l.NukiID, "")
		return len(evs) > 0 && evs[0].Action == int(models.ActionUnlatch)
	}, 2*time.Second, time.Millisecond, "although the client saw a timeout, the door was unlatched")

	err = c.LockAction(ctx, l.NukiID, int(l.Type), 2, true)
	assert.ErrorIs(t, err, nukibridge.ErrUnknownOutcome)
	assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionLock), "a lock is not sent again either")

	// Afterwards the bridge answers again: the client reads the state.
	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.NoFault))
	devs, err := c.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, sim.StateLocked, devs[0].LastKnownState.State)
}

// Issue 17, finding 5: a bridge that carries out an unlock but never answers (it holds the
// request, or drops the connection) got the unlock again and again, so a door locked by hand
// in between was unlocked again. Now the unlock is carried out once and the door locked by
// hand stays locked.
func TestSimLostAnswerUnlocksOnce(t *testing.T) {
	t.Parallel()
	for _, fault := range []sim.AnswerFault{sim.AnswerHeld, sim.AnswerDropped} {
		r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
		l := r.devs[0]
		c := r.client(nukibridge.TokenPlain, token, func(cfg *nukibridge.Config) { cfg.ActionTimeout = time.Hour })
		r.h.SetAnswerFault(fault)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.LockAction(ctx, l.NukiID, int(l.Type), int(models.ActionUnlock), true)
		cancel()
		require.Error(t, err, "fault %d", fault)
		assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionUnlock), "fault %d: unlocked once", fault)
		require.Equal(t, sim.StateUnlocked, r.state(t, l), "fault %d", fault)

		// Locked by hand after the timeout: no late unlock arrives.
		require.NoError(t, r.b.PressButton(l.Type, l.NukiID, 1))
		require.Eventually(t, func() bool { return r.state(t, l) == sim.StateLocked }, 2*time.Second, time.Millisecond)
		assert.Never(t, func() bool { return r.state(t, l) != sim.StateLocked }, 300*time.Millisecond, 5*time.Millisecond, "fault %d", fault)
		assert.Equal(t, 1, r.b.Executed(l.Type, l.NukiID, models.ActionUnlock), "fault %d: still once", fault)
	}
}

func TestSimDeviceErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	l := r.devs[0]
	c := r.client(nukibridge.TokenHashed, token)

	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.FaultMotorBlocked))
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true), nukibridge.ErrFailed, "motor blocked")
	devs, err := c.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, sim.StateMotorBlocked, devs[0].LastKnownState.State)
	assert.Equal(t, "motor blocked", devs[0].LastKnownState.StateName)

	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.FaultFailed))
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true), nukibridge.ErrFailed, "success false")
	require.NoError(t, r.b.SetFault(l.Type, l.NukiID, sim.NoFault))

	require.NoError(t, r.b.SetOnline(l.Type, l.NukiID, false))
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true), nukibridge.ErrGone)
	require.NoError(t, r.b.SetOnline(l.Type, l.NukiID, true))

	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID+1, int(l.Type), 1, true), nukibridge.ErrNotFound)
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(models.DeviceSmartLock), 1, true), nukibridge.ErrNotFound, "the id is unique per type only")
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 9, true), nukibridge.ErrBadRequest)
	assert.Equal(t, 0, r.b.Executed(l.Type, l.NukiID, models.ActionLock))
}

const portierPrefix = "http://192.0.2.10:8080/bridge-callback/"

func TestSimCallbacksFull(t *testing.T) {
	t.Parallel()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{})
	others := []string{"http://192.0.2.20:8123/api/nuki", "http://192.0.2.21:8581/nb", "http://192.0.2.22/openhab/nuki"}
	for _, u := range others {
		r.addCallback(t, u)
	}
	c := r.client(nukibridge.TokenHashed, token)
	_, err := c.EnsureCallback(context.Background(), portierPrefix+"new", portierPrefix)
	assert.ErrorIs(t, err, nukibridge.ErrCallbacksFull)
	assert.Equal(t, others, r.h.Callbacks(), "other apps' callbacks stay")
}

func TestSimEnsureCallbackReplacesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{})
	const other = "http://192.0.2.20:8123/api/nuki"
	r.addCallback(t, portierPrefix+"old-secret")
	r.addCallback(t, other)
	c := r.client(nukibridge.TokenPlain, token)
	added, err := c.EnsureCallback(ctx, portierPrefix+"new-secret", portierPrefix)
	require.NoError(t, err)
	assert.True(t, added)
	assert.Equal(t, []string{portierPrefix + "new-secret", other, ""}, r.h.Callbacks(), "the stale entry is replaced, the other app's kept")
	added, err = c.EnsureCallback(ctx, portierPrefix+"new-secret", portierPrefix)
	require.NoError(t, err, "idempotent")
	assert.False(t, added)
	list, err := c.Callbacks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []nukibridge.Callback{{ID: 0, URL: portierPrefix + "new-secret"}, {ID: 1, URL: other}}, list)
}

// After a reboot the uptime drops; a bridge that forgot its callbacks gets Portier's again.
func TestSimReboot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newRig(t, sim.Options{Now: clock}, sim.HTTPOptions{RebootWipesCallbacks: true}, lock3)
	c := r.client(nukibridge.TokenPlain, token)
	_, err := c.EnsureCallback(ctx, portierPrefix+"x", portierPrefix)
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	before, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7200), before.Uptime)
	assert.Equal(t, r.b.ServerID, before.IDs.ServerID)

	res, err := http.Get("http://" + r.h.Addr() + "/reboot?token=" + token)
	require.NoError(t, err)
	res.Body.Close()
	after, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Less(t, after.Uptime, before.Uptime, "the uptime dropped")
	list, err := c.Callbacks(ctx)
	require.NoError(t, err)
	assert.Empty(t, list, "this bridge forgets its callbacks on reboot")
	added, err := c.EnsureCallback(ctx, portierPrefix+"x", portierPrefix)
	require.NoError(t, err)
	assert.True(t, added, "registered again")
	assert.Equal(t, portierPrefix+"x", r.h.Callbacks()[0])
}

func TestSimBridgeDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	l := r.devs[0]
	c := r.client(nukibridge.TokenPlain, token)
	_, err := c.List(ctx)
	require.NoError(t, err)

	r.h.SetDown(true)
	_, err = c.List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnreachable)
	assert.ErrorIs(t, c.LockAction(ctx, l.NukiID, int(l.Type), 3, true), nukibridge.ErrUnreachable)

	r.h.SetDown(false)
	_, err = c.List(ctx)
	require.NoError(t, err, "back up")
	assert.Equal(t, 0, r.b.Executed(l.Type, l.NukiID, models.ActionUnlatch), "nothing reached the device while down")
}

func TestSimCallbacksDelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, sim.Options{}, sim.HTTPOptions{}, lock3)
	l := r.devs[0]
	type callback struct {
		nukibridge.State
		NukiID     uint32 `json:"nukiId"`
		DeviceType int    `json:"deviceType"`
	}
	var mu sync.Mutex
	var got []callback
	var ctypes []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var cb callback
		if req.Method == http.MethodPost && req.URL.Path == "/bridge-callback/abc" && json.NewDecoder(req.Body).Decode(&cb) == nil {
			mu.Lock()
			got = append(got, cb)
			ctypes = append(ctypes, req.Header.Get("Content-Type"))
			mu.Unlock()
		}
	}))
	defer rcv.Close()
	c := r.client(nukibridge.TokenHashed, token)
	_, err := c.EnsureCallback(ctx, rcv.URL+"/bridge-callback/abc", rcv.URL+"/bridge-callback/")
	require.NoError(t, err)

	require.NoError(t, c.LockAction(ctx, l.NukiID, int(l.Type), 1, true))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	}, 2*time.Second, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, sim.StateUnlocking, got[0].State.State)
	assert.Equal(t, sim.StateUnlocked, got[1].State.State)
	assert.Equal(t, "unlocked", got[1].StateName)
	assert.Equal(t, l.NukiID, got[1].NukiID)
	assert.Equal(t, int(l.Type), got[1].DeviceType)
	assert.Empty(t, got[1].Timestamp, "callbacks carry no timestamp")
	assert.Equal(t, "application/json", ctypes[0])
}
