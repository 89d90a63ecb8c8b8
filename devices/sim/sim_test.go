package sim

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// recorder keeps every update a bridge delivers.
type recorder struct {
	mu      sync.Mutex
	states  []int
	events  []Event
	updates int
}

func (r *recorder) add(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates++
	if n := len(r.states); n == 0 || r.states[n-1] != u.Device.State.State {
		r.states = append(r.states, u.Device.State.State)
	}
	if u.Event != nil {
		r.events = append(r.events, *u.Event)
	}
}

func (r *recorder) seen() ([]int, []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.states...), append([]Event(nil), r.events...)
}

// newBridge is a fast bridge (1/100 of real time) with one device of kind t.
func newBridge(t *testing.T, spec DeviceSpec) (*Bridge, Snapshot, *recorder) {
	t.Helper()
	b := New(Options{Speed: 0.01})
	t.Cleanup(b.Close)
	dev, err := b.Pair(spec)
	require.NoError(t, err)
	rec := &recorder{}
	b.Subscribe(rec.add)
	return b, dev, rec
}

// waitState waits until the device is in state want and the listeners heard of it.
func waitState(t *testing.T, b *Bridge, dev Snapshot, want int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := b.Device(dev.Type, dev.NukiID)
		return err == nil && s.State.State == want
	}, 3*time.Second, 2*time.Millisecond, "state %d never reached", want)
	b.Flush()
}

func TestLockStateMachine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front", DoorSensor: true})
	assert.Equal(t, StateLocked, dev.State.State)

	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionUnlock, Actor{AuthID: 7, Name: "Anna"}, true))
	s, _ := b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, StateUnlocked, s.State.State)
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionLock, Actor{}, true))

	// Unlatch: unlatching → unlatched → unlocked after the unlatch duration; the door opens
	// and closes as someone walks through.
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionUnlatch, Actor{}, true))
	waitState(t, b, dev, StateUnlocked)
	require.Eventually(t, func() bool {
		_, evs := rec.seen()
		return len(evs) >= 5
	}, 3*time.Second, 2*time.Millisecond)
	states, events := rec.seen()
	assert.Equal(t, []int{StateUnlocking, StateUnlocked, StateLocking, StateLocked, StateUnlatching, StateUnlatched, StateUnlocked}, states)
	var actions []int
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	assert.Equal(t, []int{1, 2, 3, LogDoorOpened, LogDoorClosed}, actions)
	assert.Equal(t, uint32(7), events[0].AuthID)
	assert.Equal(t, "Anna", events[0].Name)
	assert.Equal(t, TriggerWeb, events[0].Trigger)
	assert.NotEqual(t, events[0].ID, events[1].ID)
}

func TestLockNGoRelocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock, Name: "Back"})
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionLockNGo, Actor{}, true))
	s, _ := b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, StateUnlockedLnGo, s.State.State)
	waitState(t, b, dev, StateLocked)
	states, _ := rec.seen()
	assert.Equal(t, []int{StateUnlocking, StateUnlockedLnGo, StateLocking, StateLocked}, states)

	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionLockNGoUnlatch, Actor{}, true))
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, StateUnlatched, s.State.State)
	waitState(t, b, dev, StateLocked)
}

func TestAutoLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front"})
	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"autoLock": true, "autoLockTimeout": 5}))
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionUnlock, Actor{}, true))
	waitState(t, b, dev, StateLocked)
	_, events := rec.seen()
	require.Len(t, events, 2)
	assert.Equal(t, TriggerAutoLock, events[1].Trigger)
}

func TestOpener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceOpener, Name: "Entrance"})
	assert.Equal(t, OpenerOnline, dev.State.State)

	// Ringing without ring to open only rings.
	require.NoError(t, b.Ring(dev.Type, dev.NukiID))
	s, _ := b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, OpenerOnline, s.State.State)
	assert.NotNil(t, s.RingAt)
	assert.Equal(t, 0, b.Executed(dev.Type, dev.NukiID, models.ActionOpenerOpen))

	// Ring to open: the next ring opens, then ring to open ends (disableRtoAfterRing).
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionOpenerRTOOn, Actor{}, true))
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, OpenerRTOActive, s.State.State)
	require.NoError(t, b.Ring(dev.Type, dev.NukiID))
	waitState(t, b, dev, OpenerOnline)
	assert.Equal(t, 1, b.Executed(dev.Type, dev.NukiID, models.ActionOpenerOpen))
	states, _ := rec.seen()
	assert.Equal(t, []int{OpenerOnline, OpenerRTOActive, OpenerOpening, OpenerOpen, OpenerOnline}, states)

	// Continuous mode: every ring opens and the mode stays.
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionOpenerCMOn, Actor{}, true))
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, ModeContinuous, s.State.Mode)
	require.NoError(t, b.Ring(dev.Type, dev.NukiID))
	waitState(t, b, dev, OpenerRTOActive)
	require.Eventually(t, func() bool { return b.Executed(dev.Type, dev.NukiID, models.ActionOpenerOpen) == 2 }, time.Second, time.Millisecond)
	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionOpenerCMOff, Actor{}, true))
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, ModeDoor, s.State.Mode)
	assert.Equal(t, OpenerOnline, s.State.State)

	// A lock action number the opener does not have.
	assert.ErrorIs(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionLockNGo, Actor{}, true), ErrInvalidAction)
}

func TestBoxOpens(t *testing.T) {
	t.Parallel()
	b, dev, _ := newBridge(t, DeviceSpec{Type: models.DeviceBox, Name: "Box"})
	require.NoError(t, b.Action(context.Background(), dev.Type, dev.NukiID, models.ActionBoxOpen, Actor{}, true))
	waitState(t, b, dev, StateUnlocked)
	assert.ErrorIs(t, b.Action(context.Background(), dev.Type, dev.NukiID, models.ActionLock, Actor{}, true), ErrInvalidAction)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front"})
	act := func(a models.LockAction) error { return b.Action(ctx, dev.Type, dev.NukiID, a, Actor{}, true) }

	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, FaultBusy))
	assert.ErrorIs(t, act(models.ActionUnlock), ErrBusy)
	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, FaultFailed))
	assert.ErrorIs(t, act(models.ActionUnlock), ErrFailed)
	assert.Equal(t, 0, b.Executed(dev.Type, dev.NukiID, models.ActionUnlock), "refused commands are not carried out")

	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, FaultMotorBlocked))
	assert.ErrorIs(t, act(models.ActionUnlock), ErrMotorBlocked)
	s, _ := b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, StateMotorBlocked, s.State.State)
	require.Eventually(t, func() bool { _, evs := rec.seen(); return len(evs) > 0 }, time.Second, time.Millisecond)
	_, events := rec.seen()
	assert.Equal(t, CompletionMotorBlocked, events[len(events)-1].Completion)

	// The answer is lost but the door opens.
	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, FaultNoAnswer))
	assert.ErrorIs(t, act(models.ActionUnlatch), ErrNoAnswer)
	waitState(t, b, dev, StateUnlocked)
	assert.Equal(t, 1, b.Executed(dev.Type, dev.NukiID, models.ActionUnlatch))

	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, NoFault))
	require.NoError(t, b.SetOnline(dev.Type, dev.NukiID, false))
	assert.ErrorIs(t, act(models.ActionLock), ErrOffline)
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.False(t, s.State.Online)
	require.NoError(t, b.SetOnline(dev.Type, dev.NukiID, true))
	require.NoError(t, act(models.ActionLock))

	b.SetDown(true)
	assert.ErrorIs(t, act(models.ActionUnlock), ErrBridgeDown)
	b.SetDown(false)
	assert.ErrorIs(t, b.Action(ctx, dev.Type, dev.NukiID+1, models.ActionUnlock, Actor{}, true), ErrUnknownDevice)
}

func TestSecondCommandWhileMovingIsBusy(t *testing.T) {
	t.Parallel()
	b, dev, _ := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front"})
	require.NoError(t, b.Action(context.Background(), dev.Type, dev.NukiID, models.ActionUnlock, Actor{}, false))
	assert.ErrorIs(t, b.Action(context.Background(), dev.Type, dev.NukiID, models.ActionLock, Actor{}, false), ErrBusy)
	waitState(t, b, dev, StateUnlocked)
}

func TestBatteryDrainAndCritical(t *testing.T) {
	t.Parallel()
	b := New(Options{Speed: 0.001, DrainEvery: 2})
	t.Cleanup(b.Close)
	dev, err := b.Pair(DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front", Charge: 22, Keypad: true, DoorSensor: true})
	require.NoError(t, err)
	assert.False(t, dev.State.BatteryCritical)
	for _, a := range []models.LockAction{models.ActionUnlock, models.ActionLock, models.ActionUnlock, models.ActionLock} {
		require.NoError(t, b.Action(context.Background(), dev.Type, dev.NukiID, a, Actor{}, true))
	}
	s, _ := b.Device(dev.Type, dev.NukiID)
	assert.Equal(t, 20, *s.State.BatteryCharge)
	assert.True(t, s.State.BatteryCritical)

	require.NoError(t, b.SetAccessoryBattery(dev.Type, dev.NukiID, true, false))
	s, _ = b.Device(dev.Type, dev.NukiID)
	assert.True(t, *s.State.KeypadBatteryCritical)
	assert.False(t, *s.State.DoorsensorBatteryCritical)

	old, err := b.Pair(DeviceSpec{Type: models.DeviceSmartLock, Name: "Old", NoChargeLevel: true})
	require.NoError(t, err)
	assert.Nil(t, old.State.BatteryCharge, "older locks report no charge level")
	assert.Nil(t, old.State.DoorState)
	assert.Nil(t, old.State.KeypadBatteryCritical)
}

func TestKeypadCodes(t *testing.T) {
	t.Parallel()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front", Keypad: true})
	put := func(a Authorization) (Authorization, error) { return b.PutAuthorization(dev.Type, dev.NukiID, a) }

	for _, bad := range []int{12345, 123456, 120000, 111110, 1111111} {
		_, err := put(Authorization{Type: AuthKeypadCode, Name: "Bad", Code: bad, Enabled: true})
		assert.ErrorIs(t, err, ErrInvalidSetting, "code %d", bad)
	}
	code, err := put(Authorization{Type: AuthKeypadCode, Name: "Cleaner", Code: 345678, Enabled: true})
	require.NoError(t, err)
	assert.NotZero(t, code.ID)
	_, err = put(Authorization{Type: AuthKeypadCode, Name: "Twin", Code: 345678, Enabled: true})
	assert.ErrorIs(t, err, ErrInvalidSetting, "codes are unique per device")

	require.NoError(t, b.EnterKeypadCode(dev.Type, dev.NukiID, 999999))
	require.NoError(t, b.EnterKeypadCode(dev.Type, dev.NukiID, 345678))
	waitState(t, b, dev, StateUnlocked)
	require.Eventually(t, func() bool { _, evs := rec.seen(); return len(evs) == 2 }, time.Second, time.Millisecond)
	_, events := rec.seen()
	assert.Equal(t, CompletionWrongCode, events[0].Completion)
	assert.Equal(t, code.ID, events[1].AuthID)
	assert.Equal(t, TriggerKeypad, events[1].Trigger)
	assert.Equal(t, 1, events[1].Source)

	// Restricted to a weekday that is not today: refused.
	now := b.localNow(&device{config: map[string]any{"timezoneId": models.DefaultTimezoneID}})
	code.AllowedWeekdays = 127 &^ models.WeekdayBit(now.Weekday())
	_, err = put(code)
	require.NoError(t, err)
	require.NoError(t, b.EnterKeypadCode(dev.Type, dev.NukiID, 345678))
	require.Eventually(t, func() bool { _, evs := rec.seen(); return len(evs) == 3 }, time.Second, time.Millisecond)
	_, events = rec.seen()
	assert.Equal(t, CompletionWrongCode, events[2].Completion)

	require.NoError(t, b.DeleteAuthorization(dev.Type, dev.NukiID, code.ID))
	require.NoError(t, b.DeleteAuthorization(dev.Type, dev.NukiID, code.ID), "deleting twice is fine")
	auths, err := b.Authorizations(dev.Type, dev.NukiID)
	require.NoError(t, err)
	require.Len(t, auths, 1, "only the bridge's own authorization is left")
	assert.Equal(t, AuthBridge, auths[0].Type)

	require.NoError(t, b.SetFault(dev.Type, dev.NukiID, FaultRejectSettings))
	_, err = put(Authorization{Type: AuthApp, Name: "Anna", Enabled: true})
	assert.ErrorIs(t, err, ErrInvalidSetting)
}

func TestConfig(t *testing.T) {
	t.Parallel()
	b, dev, _ := newBridge(t, DeviceSpec{Type: models.DeviceOpener, Name: "Entrance"})
	c, err := b.Config(dev.Type, dev.NukiID)
	require.NoError(t, err)
	assert.Equal(t, 20, c["rtoTimeout"])
	assert.NotContains(t, c, "lngTimeout", "an opener has no lock 'n' go")

	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"rtoTimeout": 30, "soundLevel": 100}))
	err = b.SetConfig(dev.Type, dev.NukiID, map[string]any{"rtoTimeout": 45, "lngTimeout": 10})
	assert.ErrorIs(t, err, ErrInvalidSetting)
	err = b.SetConfig(dev.Type, dev.NukiID, map[string]any{"rtoTimeout": "45"})
	assert.ErrorIs(t, err, ErrInvalidSetting)
	c, _ = b.Config(dev.Type, dev.NukiID)
	assert.Equal(t, 30, c["rtoTimeout"], "a refused change changes nothing")
	c["rtoTimeout"] = 99
	c2, _ := b.Config(dev.Type, dev.NukiID)
	assert.Equal(t, 30, c2["rtoTimeout"], "Config returns a copy")
	assert.ErrorIs(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"soundRing": 4}), ErrInvalidSetting, "outside the allowed values")
	assert.ErrorIs(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"intercomId": 3}), ErrInvalidSetting, "read-only")
	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"fobAction1": 8.0}), "JSON numbers are taken")
	c, _ = b.Config(dev.Type, dev.NukiID)
	assert.Equal(t, 8, c["fobAction1"])
}

// Each kind leaves the factory with exactly the settings the catalogue lists for it, with allowed values.
func TestDefaultConfigMatchesCatalogue(t *testing.T) {
	t.Parallel()
	for _, typ := range []models.DeviceType{models.DeviceSmartLock, models.DeviceOpener, models.DeviceSmartDoor, models.DeviceSmartLock3, models.DeviceSmartLock5} {
		c := defaultConfig(typ)
		settings := models.ConfigSettings(typ)
		assert.Len(t, c, len(settings), "type %d", typ)
		for _, s := range settings {
			v, ok := c[s.Key]
			if !assert.True(t, ok, "type %d lacks %s", typ, s.Key) {
				continue
			}
			if s.Bool {
				assert.IsType(t, true, v, "type %d %s", typ, s.Key)
			} else if assert.IsType(t, 0, v, "type %d %s", typ, s.Key) {
				assert.True(t, s.Allowed(v.(int)), "type %d %s = %v", typ, s.Key, v)
			}
		}
	}
}

func TestEventsAfter(t *testing.T) {
	t.Parallel()
	b, dev, _ := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front"})
	for _, a := range []models.LockAction{models.ActionUnlock, models.ActionLock, models.ActionUnlock} {
		require.NoError(t, b.Action(context.Background(), dev.Type, dev.NukiID, a, Actor{}, true))
	}
	all, err := b.Events(dev.Type, dev.NukiID, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	rest, err := b.Events(dev.Type, dev.NukiID, all[0].ID)
	require.NoError(t, err)
	assert.Equal(t, all[1:], rest)
}

func TestDemoDevices(t *testing.T) {
	t.Parallel()
	b := New(Options{})
	t.Cleanup(b.Close)
	kinds := map[models.DeviceType]bool{}
	for _, spec := range DemoDevices() {
		_, err := b.Pair(spec)
		require.NoError(t, err)
		kinds[spec.Type] = true
	}
	for _, k := range []models.DeviceType{models.DeviceSmartLock, models.DeviceSmartLock3, models.DeviceSmartLock5, models.DeviceOpener, models.DeviceSmartDoor} {
		assert.True(t, kinds[k], "demo has kind %d", k)
	}
	_, err := b.Pair(DeviceSpec{Type: 9})
	assert.True(t, errors.Is(err, ErrInvalidAction))
}

// eventsOf waits until the recorder heard n events and returns them.
func eventsOf(t *testing.T, rec *recorder, n int) []Event {
	t.Helper()
	require.Eventually(t, func() bool { _, evs := rec.seen(); return len(evs) >= n }, 3*time.Second, time.Millisecond, "%d events", n)
	_, evs := rec.seen()
	require.Len(t, evs, n)
	return evs
}

// The button does what the configuration gives a single and a double press, logged as the
// button's (no authorization); switched off it does nothing.
func TestButton(t *testing.T) {
	t.Parallel()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front"})
	require.NoError(t, b.PressButton(dev.Type, dev.NukiID, 1)) // intelligent: locked → unlock
	waitState(t, b, dev, StateUnlocked)
	require.NoError(t, b.PressButton(dev.Type, dev.NukiID, 1)) // intelligent: unlocked → lock
	waitState(t, b, dev, StateLocked)
	require.NoError(t, b.PressButton(dev.Type, dev.NukiID, 2)) // lock 'n' go
	waitState(t, b, dev, StateUnlockedLnGo)
	evs := eventsOf(t, rec, 3)
	for i, want := range []models.LockAction{models.ActionUnlock, models.ActionLock, models.ActionLockNGo} {
		assert.Equal(t, int(want), evs[i].Action)
		assert.Equal(t, TriggerButton, evs[i].Trigger)
		assert.Zero(t, evs[i].AuthID)
		assert.Empty(t, evs[i].Name)
	}
	waitState(t, b, dev, StateLocked)

	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"buttonEnabled": false}))
	require.NoError(t, b.PressButton(dev.Type, dev.NukiID, 1))
	assert.ErrorIs(t, b.PressButton(dev.Type, dev.NukiID, 3), ErrInvalidAction)
	b.Flush()
	_, all := rec.seen()
	assert.Len(t, all, 3, "a switched-off button does nothing")
	assert.Equal(t, 1, b.Executed(dev.Type, dev.NukiID, models.ActionUnlock))

	// An opener's button: ring to open on, then open (double press set to open).
	ob, op, orec := newBridge(t, DeviceSpec{Type: models.DeviceOpener, Name: "Entrance"})
	require.NoError(t, ob.SetConfig(op.Type, op.NukiID, map[string]any{"doubleButtonPressAction": 7}))
	require.NoError(t, ob.PressButton(op.Type, op.NukiID, 1))
	waitState(t, ob, op, OpenerRTOActive)
	require.NoError(t, ob.PressButton(op.Type, op.NukiID, 2))
	evs = eventsOf(t, orec, 2)
	assert.Equal(t, int(models.ActionOpenerRTOOn), evs[0].Action)
	assert.Equal(t, int(models.ActionOpenerOpen), evs[1].Action)
	assert.Equal(t, TriggerButton, evs[1].Trigger)
}

// A fob press is a lock action of the fob's authorization (trigger system, the fob's id and
// name), as configured per press; a fob the device does not hold, or holds disabled, does
// nothing.
func TestFob(t *testing.T) {
	t.Parallel()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front",
		Authorizations: []Authorization{fob("Cleaning fob"), app("Anna")}})
	auths, err := b.Authorizations(dev.Type, dev.NukiID)
	require.NoError(t, err)
	var fobID, appID uint32
	for _, a := range auths {
		switch a.Type {
		case AuthFob:
			fobID = a.ID
		case AuthApp:
			appID = a.ID
		}
	}
	require.NoError(t, b.UseFob(dev.Type, dev.NukiID, fobID, 1)) // fobAction1: unlock
	waitState(t, b, dev, StateUnlocked)
	require.NoError(t, b.UseFob(dev.Type, dev.NukiID, fobID, 2)) // fobAction2: lock
	waitState(t, b, dev, StateLocked)
	require.NoError(t, b.UseFob(dev.Type, dev.NukiID, fobID, 3)) // fobAction3: none
	evs := eventsOf(t, rec, 2)
	for i, want := range []models.LockAction{models.ActionUnlock, models.ActionLock} {
		assert.Equal(t, int(want), evs[i].Action)
		assert.Equal(t, TriggerSystem, evs[i].Trigger)
		assert.Equal(t, fobID, evs[i].AuthID)
		assert.Equal(t, "Cleaning fob", evs[i].Name)
		assert.Zero(t, evs[i].Source)
	}

	assert.ErrorIs(t, b.UseFob(dev.Type, dev.NukiID, appID, 1), ErrNotAuthorized, "not a fob")
	assert.ErrorIs(t, b.UseFob(dev.Type, dev.NukiID, 999, 1), ErrNotAuthorized, "unknown")
	_, err = b.PutAuthorization(dev.Type, dev.NukiID, Authorization{ID: fobID, Type: AuthFob, Name: "Cleaning fob", Enabled: false})
	require.NoError(t, err)
	assert.ErrorIs(t, b.UseFob(dev.Type, dev.NukiID, fobID, 1), ErrNotAuthorized, "disabled")
	assert.ErrorIs(t, b.UseFob(dev.Type, dev.NukiID, fobID, 4), ErrInvalidAction)
	b.Flush()
	_, all := rec.seen()
	assert.Len(t, all, 2)
}

// Every kind of activity a device has comes as an event with the Web API's codes and a stable
// id: the same events fetched again have the same ids.
func TestEveryKindOfEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dev, rec := newBridge(t, DeviceSpec{Type: models.DeviceSmartLock3, Name: "Front", Keypad: true, DoorSensor: true,
		Authorizations: []Authorization{keypad("Postman", 468357), fob("Cleaning fob")}})
	op, err := b.Pair(DeviceSpec{Type: models.DeviceOpener, Name: "Entrance"})
	require.NoError(t, err)
	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"autoLock": true, "autoLockTimeout": 5}))
	auths, _ := b.Authorizations(dev.Type, dev.NukiID)
	var postman, fobID uint32
	for _, a := range auths {
		switch a.Type {
		case AuthKeypadCode:
			postman = a.ID
		case AuthFob:
			fobID = a.ID
		}
	}

	require.NoError(t, b.Action(ctx, dev.Type, dev.NukiID, models.ActionUnlock, Actor{AuthID: 7, Name: "Anna", Trigger: TriggerApp}, true))
	waitState(t, b, dev, StateLocked) // auto lock
	require.NoError(t, b.SetConfig(dev.Type, dev.NukiID, map[string]any{"autoLock": false}))
	require.NoError(t, b.EnterKeypadCode(dev.Type, dev.NukiID, 999999))
	require.NoError(t, b.EnterKeypadCode(dev.Type, dev.NukiID, 468357))
	waitState(t, b, dev, StateUnlocked)
	require.NoError(t, b.UseFob(dev.Type, dev.NukiID, fobID, 2))
	waitState(t, b, dev, StateLocked)
	require.NoError(t, b.PressButton(dev.Type, dev.NukiID, 1))
	waitState(t, b, dev, StateUnlocked)
	require.NoError(t, b.SetDoor(dev.Type, dev.NukiID, true))
	require.NoError(t, b.SetDoor(dev.Type, dev.NukiID, false))
	require.NoError(t, b.Ring(op.Type, op.NukiID))

	type kind struct {
		action, trigger, completion, source int
		auth                                uint32
	}
	want := []kind{
		{1, TriggerApp, 0, 0, 7},                      // an app's unlock
		{2, TriggerAutoLock, 0, 0, 0},                 // auto lock
		{1, TriggerKeypad, CompletionWrongCode, 1, 0}, // a wrong code
		{1, TriggerKeypad, 0, 1, postman},             // a keypad code
		{2, TriggerSystem, 0, 0, fobID},               // the fob
		{1, TriggerButton, 0, 0, 0},                   // the button (intelligent)
		{LogDoorOpened, TriggerManual, 0, 0, 0},       // door opened
		{LogDoorClosed, TriggerManual, 0, 0, 0},       // door closed
		{LogRing, TriggerManual, 0, 0, 0},             // the opener rings
	}
	evs := eventsOf(t, rec, len(want))
	var got []kind
	ids := map[string]bool{}
	for _, ev := range evs {
		got = append(got, kind{ev.Action, ev.Trigger, ev.Completion, ev.Source, ev.AuthID})
		assert.False(t, ids[ev.ID], "ids are unique")
		ids[ev.ID] = true
	}
	assert.Equal(t, want, got)

	again, err := b.Events(dev.Type, dev.NukiID, "")
	require.NoError(t, err)
	assert.Equal(t, evs[:len(evs)-1], again, "the lock's events, fetched again, are the same with the same ids")
	rings, err := b.Events(op.Type, op.NukiID, "")
	require.NoError(t, err)
	assert.Equal(t, evs[len(evs)-1:], rings)
}
