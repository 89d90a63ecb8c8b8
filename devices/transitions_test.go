package devices

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/sim"
	"portier/models"
)

func door(n int) *int { return &n }

// What a sequence of reports gives, report by report: one entry per change of where the lock
// stands, none for movements, repeats or the latch letting go after an unlatch.
func TestDerive(t *testing.T) {
	t.Parallel()
	lock := models.DeviceSmartLock3
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	never := func(int) bool { return false }
	for _, tc := range []struct {
		name   string
		typ    models.DeviceType
		states []int
		want   []int
	}{
		{"unlock by callbacks", lock, []int{1, 2, 3}, []int{models.LogUnlock}},
		{"the same state again", lock, []int{1, 3, 3, 3}, []int{models.LogUnlock}},
		{"a late movement after the poll saw the end", lock, []int{1, 3, 2, 3}, []int{models.LogUnlock}},
		{"unlatch, then the latch lets go", lock, []int{1, 7, 5, 3}, []int{models.LogUnlatch}},
		{"auto lock after unlock", lock, []int{1, 3, 4, 1}, []int{models.LogUnlock, models.LogLock}},
		{"lock 'n' go relocks", lock, []int{1, 2, 6, 4, 1}, []int{models.LogLockNGo, models.LogLock}},
		{"unknown states say nothing", lock, []int{1, 255, 1, 254, 3}, []int{models.LogUnlock}},
		{"an opener opens", models.DeviceOpener, []int{1, 7, 5, 1, 3, 7, 5}, []int{3, 3}},
	} {
		b := baselineOf(tc.typ, models.DeviceState{State: tc.states[0], ReportedAt: &at})
		var got []int
		for _, s := range tc.states[1:] {
			for _, e := range b.derive(tc.typ, models.DeviceState{State: s}, nil, at, never) {
				got = append(got, e.Action)
				assert.Equal(t, models.TriggerSystem, e.Trigger)
				assert.Equal(t, models.OriginDevice, e.Origin)
				assert.Empty(t, e.Name)
			}
		}
		assert.Equal(t, tc.want, got, tc.name)
	}

	// Starting from a movement: the state it started from.
	b := baselineOf(lock, models.DeviceState{State: 2, ReportedAt: &at})
	assert.Equal(t, 1, b.lock)
	// Never reported: the first report is where it stands, not a change.
	b = baselineOf(lock, models.DeviceState{State: 255})
	assert.Empty(t, b.derive(lock, models.DeviceState{State: 3}, nil, at, never))
	assert.Len(t, b.derive(lock, models.DeviceState{State: 1}, nil, at, never), 1)

	// The door sensor.
	b = baselineOf(lock, models.DeviceState{State: 1, DoorState: door(2), ReportedAt: &at})
	var doors []int
	for _, d := range []int{2, 3, 3, 2, 4, 2, 3} {
		for _, e := range b.derive(lock, models.DeviceState{State: 1, DoorState: door(d)}, nil, at, never) {
			doors = append(doors, e.Action)
		}
	}
	assert.Equal(t, []int{models.LogDoorOpened, models.LogDoorClosed, models.LogDoorOpened}, doors)

	// A ring: its time is its identity, reported as often as the bridge repeats it.
	ring := time.Date(2026, 3, 2, 8, 59, 30, 0, time.FixedZone("", 3600))
	b = baselineOf(models.DeviceOpener, models.DeviceState{State: 1, ReportedAt: &at})
	first := b.derive(models.DeviceOpener, models.DeviceState{State: 1}, &ring, at, never)
	again := b.derive(models.DeviceOpener, models.DeviceState{State: 1}, &ring, at.Add(time.Minute), never)
	require.Len(t, first, 1)
	assert.Equal(t, first, again)
	assert.Equal(t, models.LogRing, first[0].Action)
	assert.Equal(t, "ring-2026-03-02T07:59:30Z", first[0].EventID)
	assert.True(t, first[0].At.Equal(ring))

	// Portier's own action is left out.
	b = baselineOf(lock, models.DeviceState{State: 1, ReportedAt: &at})
	assert.Empty(t, b.derive(lock, models.DeviceState{State: 3}, nil, at, func(a int) bool { return a == models.LogUnlock }))
}

// An action of Portier's accounts for one entry of its kind, while it runs and until
// ActionDeadline after it ended.
func TestOwnAction(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := &Manager{opt: Options{Now: func() time.Time { return now }, ActionDeadline: 30 * time.Second}, actions: map[int64]*ActionStatus{}}
	assert.False(t, m.ownAction(1, models.LogUnlock), "no action")
	m.actions[1] = &ActionStatus{Action: models.ActionUnlock, Pending: true}
	assert.False(t, m.ownAction(1, models.LogLock), "another action")
	assert.True(t, m.ownAction(1, models.LogUnlock))
	assert.False(t, m.ownAction(1, models.LogUnlock), "once")

	m.actions[1] = &ActionStatus{Action: models.ActionLockNGoUnlatch, EndedAt: now.Add(-29 * time.Second)}
	assert.True(t, m.ownAction(1, models.LogUnlatch), "lock 'n' go with unlatch unlatches")
	m.actions[1] = &ActionStatus{Action: models.ActionUnlatch, EndedAt: now.Add(-31 * time.Second)}
	assert.False(t, m.ownAction(1, models.LogUnlatch), "too long after it ended")
}

// bridgeRig is a simulated Nuki Bridge over HTTP with the front door (keypad, door sensor) and
// the opener, added to a manager that receives the bridge's callbacks on a loopback server.
// Polls happen only when asked for (the intervals are an hour); edit changes the manager's
// options.
type bridgeRig struct {
	f      fixture
	b      *sim.Bridge
	face   *sim.HTTPBridge
	m      *Manager
	front  models.Device
	opener models.Device

	mu     sync.Mutex
	bodies []string // callback bodies received, in order
	secret string
}

func newBridgeRig(t *testing.T, edit ...func(*Options)) *bridgeRig {
	t.Helper()
	r := &bridgeRig{f: newFixture(t), b: sim.New(sim.Options{Speed: 0.01})}
	t.Cleanup(r.b.Close)
	demo := sim.DemoDevices()
	for _, spec := range []sim.DeviceSpec{demo[0], demo[3]} {
		_, err := r.b.Pair(spec)
		require.NoError(t, err)
	}
	r.face = sim.NewHTTP(r.b, sim.HTTPOptions{Token: "tok"})
	require.NoError(t, r.face.Start("127.0.0.1:0"))
	t.Cleanup(r.face.Close)

	var mgr struct {
		sync.Mutex
		m *Manager
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		secret := strings.TrimPrefix(req.URL.Path, CallbackPath)
		r.mu.Lock()
		r.bodies, r.secret = append(r.bodies, string(body)), secret
		r.mu.Unlock()
		mgr.Lock()
		m := mgr.m
		mgr.Unlock()
		if m == nil || m.BridgeCallback(secret, body) != nil {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(receiver.Close)

	opt := Options{CallbackBase: receiver.URL, PollEvery: time.Hour, SafetyPollEvery: time.Hour, CallbackCheckEvery: time.Hour,
		ActionDeadline: 5 * time.Second, BridgeSleep: func(context.Context, time.Duration) error { return nil }}
	for _, e := range edit {
		e(&opt)
	}
	r.m = r.f.startManager(t, opt)
	mgr.Lock()
	mgr.m = r.m
	mgr.Unlock()
	r.add(t)
	return r
}

// startManager starts a manager on the fixture's store; it is closed when the test ends
// (closing it earlier is fine).
func (f fixture) startManager(t *testing.T, opt Options) *Manager {
	t.Helper()
	opt.SimSpeed = 0.01
	opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	m := New(f.store, f.secrets, opt)
	require.NoError(t, m.Start(context.Background()))
	t.Cleanup(m.Close)
	return m
}

// add connects the bridge with both devices and waits until the callback is registered and
// the first /list was read after that.
func (r *bridgeRig) add(t *testing.T) {
	t.Helper()
	host, portText, _ := net.SplitHostPort(r.face.Addr())
	port, _ := strconv.Atoi(portText)
	addr := BridgeAddress{Host: host, Port: port, Token: "tok", Hashed: true}
	ctx := context.Background()
	list, err := r.m.ProbeBridge(ctx, addr)
	require.NoError(t, err)
	_, devs, err := r.m.AddBridge(ctx, r.f.account.ID, "Hall", addr, list, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	r.front, r.opener = byName(t, devs, "Front door"), byName(t, devs, "Building entrance")
	r.settled(t)
}

// settled waits until the bridge's last request was a /list after the callback registration.
func (r *bridgeRig) settled(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		log := r.face.Log() // newest first
		return len(log) > 0 && log[0].Type == "HTTP-List" && r.count("HTTP-CallbackAdd") >= 1
	}, 10*time.Second, 5*time.Millisecond)
}

func (r *bridgeRig) count(typ string) int {
	n := 0
	for _, e := range r.face.Log() {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// poll has the manager read /list now and waits until it did.
func (r *bridgeRig) poll(t *testing.T) {
	t.Helper()
	before := r.count("HTTP-List")
	r.m.Sync(r.front)
	require.Eventually(t, func() bool { return r.count("HTTP-List") > before }, 10*time.Second, 5*time.Millisecond)
	// The answer is stored right after the request: wait until a report that follows it is.
	time.Sleep(50 * time.Millisecond)
}

// entries returns the device's activity, newest first.
func (r *bridgeRig) entries(t *testing.T, d models.Device) []models.Activity {
	t.Helper()
	page, err := r.f.store.FindLogEntries(context.Background(), models.LogFilter{AccountID: r.f.account.ID, DeviceID: d.ID, Limit: 100})
	require.NoError(t, err)
	return page.Entries
}

// waitEntries waits until the device has n entries and checks that no more come.
func (r *bridgeRig) waitEntries(t *testing.T, d models.Device, n int) []models.Activity {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.entries(t, d)) >= n }, 10*time.Second, 5*time.Millisecond, "%d entries", n)
	assert.Never(t, func() bool { return len(r.entries(t, d)) > n }, 300*time.Millisecond, 10*time.Millisecond, "no more than %d entries", n)
	return r.entries(t, d)
}

func (r *bridgeRig) waitState(t *testing.T, d models.Device, state int) {
	t.Helper()
	require.Eventually(t, func() bool {
		got, err := r.f.store.FindDevice(context.Background(), d.AccountID, d.ID)
		return err == nil && got.Reported.State == state
	}, 10*time.Second, 5*time.Millisecond, "state %d stored", state)
}

func actions(entries []models.Activity) []int {
	var out []int
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// A change on the device (someone at the keypad) arrives through the bridge's callbacks and is
// one entry of unknown who; the same callback again, a poll that finds the same state and a
// restart add nothing.
func TestBridgeStateChangesAreLoggedOnce(t *testing.T) {
	t.Parallel()
	r := newBridgeRig(t)
	assert.Empty(t, r.entries(t, r.front), "where the devices stand when added is no event")

	require.NoError(t, r.b.EnterKeypadCode(r.front.Type, r.front.NukiID, 468357))
	r.waitState(t, r.front, sim.StateUnlocked)
	got := r.waitEntries(t, r.front, 1)
	assert.Equal(t, models.LogUnlock, got[0].Action)
	assert.Equal(t, models.TriggerSystem, got[0].Trigger)
	assert.Equal(t, models.OriginDevice, got[0].Origin)
	assert.Empty(t, got[0].Name, "the Bridge API does not say who")
	assert.Zero(t, got[0].AuthID)
	assert.Nil(t, got[0].LoginID)

	// The bridge posts the last callback again.
	r.mu.Lock()
	last, secret := r.bodies[len(r.bodies)-1], r.secret
	r.mu.Unlock()
	require.NoError(t, r.m.BridgeCallback(secret, []byte(last)))
	require.NoError(t, r.m.BridgeCallback(secret, []byte(last)))
	// A poll reports the same state.
	r.poll(t)
	r.waitEntries(t, r.front, 1)

	// The door opens and closes; someone locks with the fob.
	require.NoError(t, r.b.SetDoor(r.front.Type, r.front.NukiID, true))
	require.NoError(t, r.b.SetDoor(r.front.Type, r.front.NukiID, false))
	auths, err := r.b.Authorizations(r.front.Type, r.front.NukiID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.Type == sim.AuthFob {
			require.NoError(t, r.b.UseFob(r.front.Type, r.front.NukiID, a.ID, 2))
		}
	}
	r.waitState(t, r.front, sim.StateLocked)
	got = r.waitEntries(t, r.front, 4)
	assert.Equal(t, []int{models.LogLock, models.LogDoorClosed, models.LogDoorOpened, models.LogUnlock}, actions(got))
	r.poll(t)
	r.waitEntries(t, r.front, 4)

	// The opener rings: the ring is in every report from now on, and logged once.
	require.NoError(t, r.b.Ring(r.opener.Type, r.opener.NukiID))
	rings := r.waitEntries(t, r.opener, 1)
	assert.Equal(t, models.LogRing, rings[0].Action)
	r.poll(t)
	r.waitEntries(t, r.opener, 1)

	// A restart: the first poll finds everything as stored.
	r.m.Close()
	before := r.count("HTTP-List")
	r.f.startManager(t, Options{PollEvery: time.Hour, SafetyPollEvery: time.Hour, CallbackCheckEvery: time.Hour})
	require.Eventually(t, func() bool { return r.count("HTTP-List") > before }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, r.entries(t, r.front), 4)
	assert.Len(t, r.entries(t, r.opener), 1)
}

// Portier's own unlock through the bridge is one entry: Portier's, with who did it. The
// change of state the bridge reports for it (callbacks, the poll after the action) is not
// logged again; a later change by someone else is.
func TestBridgeOwnActionLoggedOnce(t *testing.T) {
	t.Parallel()
	r := newBridgeRig(t)
	ctx := context.Background()
	require.NoError(t, r.m.Act(ctx, r.front, models.ActionUnlock, r.f.who(), r.m.requested(r.front, models.ActionUnlock, r.f.who())))
	assert.Equal(t, OutcomeOK, waitDone(t, r.m, r.front.ID).Outcome)
	r.waitState(t, r.front, sim.StateUnlocked)
	got := r.waitEntries(t, r.front, 1)
	assert.Equal(t, models.OriginWeb, got[0].Origin)
	require.NotNil(t, got[0].LoginID)
	assert.Equal(t, r.f.login.ID, *got[0].LoginID)
	assert.Equal(t, "Anna", got[0].Name)

	// Someone locks and unlocks at the device: both are logged.
	require.NoError(t, r.b.PressButton(r.front.Type, r.front.NukiID, 1))
	r.waitState(t, r.front, sim.StateLocked)
	require.NoError(t, r.b.PressButton(r.front.Type, r.front.NukiID, 1))
	r.waitState(t, r.front, sim.StateUnlocked)
	got = r.waitEntries(t, r.front, 3)
	assert.Equal(t, []int{models.LogUnlock, models.LogLock, models.LogUnlock}, actions(got))
	assert.Equal(t, models.OriginDevice, got[0].Origin)
}

// A poll's answer that comes after a callback received since the poll was sent is older than
// that callback: it is dropped rather than taking the lock back (and logging the swing).
func TestBridgeStalePollIsDropped(t *testing.T) {
	t.Parallel()
	r := newBridgeRig(t)
	r.m.mu.Lock()
	c := r.m.conns[r.front.ConnectionID].(*bridgeConn)
	r.m.mu.Unlock()
	k := deviceKey{c.id, r.front.Type, r.front.NukiID}
	locked, unlocked := r.front.Reported, r.front.Reported
	require.Equal(t, sim.StateLocked, locked.State)
	unlocked.State = sim.StateUnlocked

	pollSent := c.seq.Add(1)                            // a poll is sent while the lock is locked,
	c.store(k, unlocked, nil, c.seq.Add(1), byCallback) // a callback says it unlocked,
	c.store(k, locked, nil, pollSent, byPoll)           // then the poll's answer arrives.
	assert.Equal(t, []int{models.LogUnlock}, actions(r.entries(t, r.front)))
	r.waitState(t, r.front, sim.StateUnlocked)
}
