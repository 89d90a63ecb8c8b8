// Package sim is a simulated Nuki Bridge with its devices: smart locks of several generations,
// an opener, a smart door and a box, with the state machines of the real devices
// (../shared/reference/nuki-bridge-api.md §1.6, §5), a door sensor, a keypad, battery drain,
// latencies and injected faults. It holds authorizations, keypad codes and configuration like a
// device does, and emits activity events. Portier uses it in-process as a "simulated bridge";
// NewHTTP serves the same bridge over the Bridge HTTP API (cmd/bridgesim).
package sim

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"portier/models"
)

// Errors of the simulated devices. Each stands for what a real bridge or device reports.
var (
	ErrUnknownDevice  = errors.New("the bridge does not know this device")
	ErrInvalidAction  = errors.New("the device does not have this action")
	ErrBusy           = errors.New("the device is busy with another command")
	ErrOffline        = errors.New("the device does not answer (offline)")
	ErrMotorBlocked   = errors.New("the motor is blocked")
	ErrFailed         = errors.New("the device did not carry out the command")
	ErrNoAnswer       = errors.New("no answer after the command (it was carried out)")
	ErrBridgeDown     = errors.New("the bridge cannot be reached")
	ErrInvalidSetting = errors.New("the device refused the setting")
	ErrNotAuthorized  = errors.New("the device does not accept this authorization (now)")
)

// Fault is a failure injected into a device; it stays until cleared.
type Fault int

// Faults.
const (
	NoFault Fault = iota
	// FaultBusy refuses every command as busy (another app holds the device).
	FaultBusy
	// FaultMotorBlocked lets the motor start and stop blocked: state 254.
	FaultMotorBlocked
	// FaultFailed makes the device refuse the command (success false).
	FaultFailed
	// FaultNoAnswer carries the command out but the answer is lost: the caller sees a timeout
	// although the door opened. This is the fault that makes resending an unlatch dangerous.
	FaultNoAnswer
	// FaultRejectSettings makes the device refuse configuration and authorization changes.
	FaultRejectSettings
)

// Lock states (Bridge API numbering, shared by the Web API).
const (
	StateUncalibrated = 0
	StateLocked       = 1
	StateUnlocking    = 2
	StateUnlocked     = 3
	StateLocking      = 4
	StateUnlatched    = 5
	StateUnlockedLnGo = 6
	StateUnlatching   = 7
	StateMotorBlocked = 254
	StateUndefined    = 255
)

// Opener states.
const (
	OpenerOnline    = 1
	OpenerRTOActive = 3
	OpenerOpen      = 5
	OpenerOpening   = 7
)

// Modes.
const (
	ModeDoor       = 2
	ModeContinuous = 3
)

// Door sensor states.
const (
	DoorClosed = 2
	DoorOpened = 3
)

// Activity log actions and triggers (Web API SmartlockLog numbering).
const (
	LogDoorOpened = 240
	LogDoorClosed = 241
	LogRing       = 224
	// Triggers.
	TriggerSystem   = 0
	TriggerManual   = 1
	TriggerButton   = 2
	TriggerAuto     = 3
	TriggerWeb      = 4
	TriggerApp      = 5
	TriggerAutoLock = 6
	TriggerKeypad   = 255
)

// Completion states of a log entry.
const (
	CompletionSuccess      = 0
	CompletionMotorBlocked = 1
	CompletionCanceled     = 2
	CompletionBusy         = 5
	CompletionWrongCode    = 224
)

// Options tune a bridge. Zero values give realistic behaviour.
type Options struct {
	// Speed scales every duration: 1 is real time, 0.01 makes a 3 s unlatch last 30 ms.
	Speed float64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DrainEvery: the charge drops by one percent every DrainEvery motor actions (default 25).
	DrainEvery int
}

// Bridge is a simulated bridge with its paired devices.
type Bridge struct {
	opt      Options
	ServerID uint32
	bootID   uint32 // in event ids: a new bridge instance never repeats an old id

	mu        sync.Mutex
	down      bool
	bootedAt  time.Time
	devices   []*device
	listeners map[int]func(Update)
	nextLstnr int
	timers    map[*time.Timer]struct{}
	closed    bool
	// outbox holds updates in the order they happened; one goroutine delivers them, so a
	// listener never sees an older state after a newer one.
	outbox    []Update
	queued    uint64 // updates queued so far
	delivered uint64 // updates delivered so far
	flushed   *sync.Cond
	wake      chan struct{}
	quit      chan struct{}
	stopped   chan struct{}
}

// Update is what a listener hears: the device's state after a change and, when the change is
// an activity, the event.
type Update struct {
	Device Snapshot
	Event  *Event
}

// Event is an activity entry of a device. ID is stable: the same event delivered twice has the
// same ID.
type Event struct {
	ID         string
	DeviceType models.DeviceType
	NukiID     uint32
	At         time.Time
	Action     int // Web API log action: 1 unlock … 5, 224 ring, 240/241 door
	Trigger    int
	AuthID     uint32 // who did it on the device (0: nobody known)
	Name       string // the authorization's name as the device knows it
	Completion int
	Source     int // 0 default, 1 keypad code
}

// Snapshot is a device's identity and state at one moment.
type Snapshot struct {
	Type       models.DeviceType
	NukiID     uint32
	Name       string
	Firmware   string
	Hardware   string
	Keypad     bool
	DoorSensor bool
	State      models.DeviceState
	RingAt     *time.Time // opener: last ring
}

// DeviceSpec describes a device to pair with the bridge.
type DeviceSpec struct {
	Type       models.DeviceType
	NukiID     uint32 // 0: a random one
	Name       string
	Firmware   string
	Hardware   string
	Keypad     bool
	DoorSensor bool
	Charge     int // battery percent (0: 100)
	// NoChargeLevel: older locks report only "critical", not a percentage.
	NoChargeLevel bool
	// Authorizations the device holds besides the bridge's (made in the Nuki app, fobs,
	// keypad codes). An ID of 0 gets the next free one; given IDs are kept (a restart
	// rebuilds a device with what it had).
	Authorizations []Authorization
}

type device struct {
	spec      DeviceSpec
	mode      int
	state     int
	door      int
	charge    int
	critical  bool
	keypadLow bool
	sensorLow bool
	online    bool
	ringAt    *time.Time
	fault     Fault
	working   bool // a command is being carried out
	actions   int  // motor actions since the last drain step
	executed  map[models.LockAction]int
	seq       int
	events    []Event
	config    map[string]any
	adminPIN  *int // the PIN of the Nuki app's admin functions; nil: not set
	auths     []Authorization
	nextAuth  uint32
	gen       int // bumped by every new command, so old timers know they are stale
}

// New returns a bridge without devices.
func New(opt Options) *Bridge {
	if opt.Speed <= 0 {
		opt.Speed = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.DrainEvery <= 0 {
		opt.DrainEvery = 25
	}
	b := &Bridge{opt: opt, ServerID: randomID(), bootID: randomID(), bootedAt: opt.Now(), listeners: map[int]func(Update){},
		timers: map[*time.Timer]struct{}{}, wake: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	b.flushed = sync.NewCond(&b.mu)
	go b.deliver()
	return b
}

// deliver hands the updates to the listeners, in order, outside the lock.
func (b *Bridge) deliver() {
	defer close(b.stopped)
	for {
		select {
		case <-b.quit:
			b.mu.Lock()
			b.delivered = b.queued
			b.flushed.Broadcast()
			b.mu.Unlock()
			return
		case <-b.wake:
		}
		b.mu.Lock()
		batch := b.outbox
		b.outbox = nil
		ids := make([]int, 0, len(b.listeners))
		for id := range b.listeners {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		fns := make([]func(Update), 0, len(ids))
		for _, id := range ids {
			fns = append(fns, b.listeners[id])
		}
		b.mu.Unlock()
		for _, u := range batch {
			for _, fn := range fns {
				fn(u)
			}
		}
		b.mu.Lock()
		b.delivered += uint64(len(batch))
		b.flushed.Broadcast()
		b.mu.Unlock()
	}
}

// Flush waits until every update that happened before the call reached the listeners.
func (b *Bridge) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	target := b.queued
	for b.delivered < target && !b.closed {
		b.flushed.Wait()
	}
}

func randomID() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])&0x7FFFFFFF | 0x10000000
}

// DemoDevices is the demo preset: three smart locks of different generations, an opener and a
// smart door, with a keypad and a door sensor on the front door, and authorizations that exist
// only on the devices: Anna on three devices (written two ways), Ben on three, a cleaning fob on
// two, a keypad code.
func DemoDevices() []DeviceSpec {
	return []DeviceSpec{
		{Type: models.DeviceSmartLock3, Name: "Front door", Firmware: "4.2.6", Hardware: "8.2", Keypad: true, DoorSensor: true, Charge: 84,
			Authorizations: []Authorization{app("Anna Müller"), app("Ben Schulz"), fob("Cleaning fob"), keypad("Postman", 468357)}},
		{Type: models.DeviceSmartLock, Name: "Back door", Firmware: "1.14.3", Hardware: "2.0", NoChargeLevel: true,
			Authorizations: []Authorization{app("anna muller"), app("Ben Schulz")}},
		{Type: models.DeviceSmartLock5, Name: "Office", Firmware: "5.1.2", Hardware: "10.1", DoorSensor: true, Charge: 61,
			Authorizations: []Authorization{app("Ben Schulz"), app("Carla Rossi")}},
		{Type: models.DeviceOpener, Name: "Building entrance", Firmware: "1.10.2", Hardware: "5.1", Charge: 92,
			Authorizations: []Authorization{app("Anna Müller"), fob("Cleaning fob")}},
		{Type: models.DeviceSmartDoor, Name: "Garden gate", Firmware: "3.6.4", Hardware: "7.0", Charge: 47},
	}
}

// Pair adds a device and returns its snapshot.
func (b *Bridge) Pair(spec DeviceSpec) (Snapshot, error) {
	if !spec.Type.Valid() {
		return Snapshot{}, fmt.Errorf("device type %d: %w", spec.Type, ErrInvalidAction)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if spec.NukiID == 0 {
		spec.NukiID = randomID()
	}
	for _, d := range b.devices {
		if d.spec.Type == spec.Type && d.spec.NukiID == spec.NukiID {
			return Snapshot{}, fmt.Errorf("device %08X of type %d is already paired", spec.NukiID, spec.Type)
		}
	}
	if spec.Charge <= 0 || spec.Charge > 100 {
		spec.Charge = 100
	}
	d := &device{spec: spec, mode: ModeDoor, state: StateLocked, door: DoorClosed, charge: spec.Charge, online: true,
		executed: map[models.LockAction]int{}, config: defaultConfig(spec.Type), nextAuth: BridgeAuthID + 1,
		auths: []Authorization{{ID: BridgeAuthID, Type: AuthBridge, Name: "Nuki Bridge", Enabled: true, RemoteAllowed: true}}}
	if spec.Type == models.DeviceOpener {
		d.state = OpenerOnline
	}
	for _, a := range spec.Authorizations {
		if a.ID == 0 {
			a.ID = d.nextAuth
		}
		if a.ID == BridgeAuthID {
			continue
		}
		d.auths = append(d.auths, a)
		d.nextAuth = max(d.nextAuth, a.ID+1)
	}
	d.critical = d.charge <= criticalCharge
	b.devices = append(b.devices, d)
	return b.snapshot(d), nil
}

// BridgeAuthID is the authorization every device holds for the bridge it is paired with;
// actions sent through the bridge are logged under it.
const BridgeAuthID = 1

// criticalCharge is where devices report batteryCritical.
const criticalCharge = 20

// Devices returns every paired device's snapshot, in pairing order.
func (b *Bridge) Devices() []Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Snapshot, 0, len(b.devices))
	for _, d := range b.devices {
		out = append(out, b.snapshot(d))
	}
	return out
}

// Device returns one device's snapshot.
func (b *Bridge) Device(t models.DeviceType, nukiID uint32) (Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.find(t, nukiID)
	if err != nil {
		return Snapshot{}, err
	}
	return b.snapshot(d), nil
}

func (b *Bridge) find(t models.DeviceType, nukiID uint32) (*device, error) {
	if b.down {
		return nil, ErrBridgeDown
	}
	for _, d := range b.devices {
		if d.spec.Type == t && d.spec.NukiID == nukiID {
			return d, nil
		}
	}
	return nil, fmt.Errorf("device %08X of type %d: %w", nukiID, t, ErrUnknownDevice)
}

func (b *Bridge) snapshot(d *device) Snapshot {
	now := b.opt.Now()
	st := models.DeviceState{Mode: d.mode, State: d.state, BatteryCritical: d.critical, Online: d.online, ReportedAt: &now}
	if !d.spec.NoChargeLevel {
		charge := d.charge
		charging := false
		st.BatteryCharge, st.BatteryCharging = &charge, &charging
	}
	if d.spec.DoorSensor {
		door, low := d.door, d.sensorLow
		st.DoorState, st.DoorsensorBatteryCritical = &door, &low
	}
	if d.spec.Keypad {
		low := d.keypadLow
		st.KeypadBatteryCritical = &low
	}
	s := Snapshot{Type: d.spec.Type, NukiID: d.spec.NukiID, Name: d.spec.Name, Firmware: d.spec.Firmware, Hardware: d.spec.Hardware,
		Keypad: d.spec.Keypad, DoorSensor: d.spec.DoorSensor, State: st}
	if d.ringAt != nil {
		at := *d.ringAt
		s.RingAt = &at
	}
	return s
}

// Subscribe calls fn after every change of a device, outside the bridge's lock. The returned
// function stops it.
func (b *Bridge) Subscribe(fn func(Update)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextLstnr
	b.nextLstnr++
	b.listeners[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.listeners, id)
	}
}

// pending collects the updates of one locked section; they are delivered after unlocking.
type pending []Update

func (b *Bridge) changed(p *pending, d *device, ev *Event) {
	*p = append(*p, Update{Device: b.snapshot(d), Event: ev})
}

// unlock queues the collected updates for delivery and releases the lock.
func (b *Bridge) unlock(p pending) {
	if len(p) > 0 && !b.closed {
		b.outbox = append(b.outbox, p...)
		b.queued += uint64(len(p))
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
}

func (b *Bridge) event(d *device, action, trigger int, who Actor, completion int) *Event {
	d.seq++
	ev := Event{ID: fmt.Sprintf("%d-%08X-%08X-%d", d.spec.Type, d.spec.NukiID, b.bootID, d.seq), DeviceType: d.spec.Type, NukiID: d.spec.NukiID,
		At: b.opt.Now().UTC(), Action: action, Trigger: trigger, AuthID: who.AuthID, Name: who.Name, Completion: completion, Source: who.Source}
	d.events = append(d.events, ev)
	if len(d.events) > maxEvents {
		d.events = d.events[len(d.events)-maxEvents:]
	}
	return &ev
}

// maxEvents is how much activity a device keeps (a real lock keeps a few thousand entries).
const maxEvents = 2000

// Events returns the device's events after the one with id afterID ("" = from the oldest kept).
func (b *Bridge) Events(t models.DeviceType, nukiID uint32, afterID string) ([]Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.find(t, nukiID)
	if err != nil {
		return nil, err
	}
	start := 0
	if afterID != "" {
		for i, ev := range d.events {
			if ev.ID == afterID {
				start = i + 1
			}
		}
	}
	return append([]Event(nil), d.events[start:]...), nil
}

// after runs fn after d (scaled), unless the bridge is closed first. The caller holds b.mu;
// fn is called without it.
func (b *Bridge) after(d time.Duration, fn func()) {
	if b.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(time.Duration(float64(d)*b.opt.Speed), func() {
		b.mu.Lock()
		_, live := b.timers[t]
		delete(b.timers, t)
		b.mu.Unlock()
		if live {
			fn()
		}
	})
	b.timers[t] = struct{}{}
}

// Close stops every running timer and waits until no listener is being called; the bridge
// changes no more.
func (b *Bridge) Close() {
	b.mu.Lock()
	if !b.closed {
		close(b.quit)
	}
	b.closed = true
	for t := range b.timers {
		t.Stop()
	}
	b.timers = map[*time.Timer]struct{}{}
	b.flushed.Broadcast()
	b.mu.Unlock()
	<-b.stopped
}

// Uptime is how long the bridge has been running since its last (re)boot.
func (b *Bridge) Uptime() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opt.Now().Sub(b.bootedAt)
}

// Reboot restarts the bridge: the uptime starts again and commands in progress finish on the
// devices (they do not depend on the bridge).
func (b *Bridge) Reboot() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bootedAt = b.opt.Now()
}

// SetDown makes the whole bridge unreachable (powered off, Wi-Fi down) or reachable again.
func (b *Bridge) SetDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = down
	if !down {
		b.bootedAt = b.opt.Now()
	}
}

// Down reports whether the bridge is unreachable.
func (b *Bridge) Down() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

// Now is the bridge's clock.
func (b *Bridge) Now() time.Time { return b.opt.Now() }

// withDevice runs fn on one device under the lock and delivers the updates fn collected.
func (b *Bridge) withDevice(t models.DeviceType, nukiID uint32, fn func(d *device, p *pending) error) error {
	b.mu.Lock()
	d, err := b.find(t, nukiID)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	var p pending
	err = fn(d, &p)
	b.unlock(p)
	return err
}

// SetFault injects a fault into a device (NoFault clears it).
func (b *Bridge) SetFault(t models.DeviceType, nukiID uint32, f Fault) error {
	return b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		d.fault = f
		return nil
	})
}

// SetOnline takes a device out of the bridge's reach or brings it back.
func (b *Bridge) SetOnline(t models.DeviceType, nukiID uint32, online bool) error {
	return b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if d.online != online {
			d.online = online
			b.changed(p, d, nil)
		}
		return nil
	})
}

// SetBattery sets the charge (percent); at 20 % and below the device reports critical.
func (b *Bridge) SetBattery(t models.DeviceType, nukiID uint32, charge int) error {
	if charge < 0 || charge > 100 {
		return fmt.Errorf("charge %d: not a percentage", charge)
	}
	return b.withDevice(t, nukiID, func(d *device, p *pending) error {
		d.charge = charge
		d.critical = charge <= criticalCharge
		b.changed(p, d, nil)
		return nil
	})
}

// SetAccessoryBattery marks the keypad's or the door sensor's battery critical or fine.
func (b *Bridge) SetAccessoryBattery(t models.DeviceType, nukiID uint32, keypad, sensor bool) error {
	return b.withDevice(t, nukiID, func(d *device, p *pending) error {
		d.keypadLow, d.sensorLow = keypad && d.spec.Keypad, sensor && d.spec.DoorSensor
		b.changed(p, d, nil)
		return nil
	})
}

// SetDoor opens or closes the door of a device with a door sensor.
func (b *Bridge) SetDoor(t models.DeviceType, nukiID uint32, open bool) error {
	return b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if !d.spec.DoorSensor {
			return fmt.Errorf("device %08X has no door sensor", nukiID)
		}
		b.setDoor(d, p, open)
		return nil
	})
}

func (b *Bridge) setDoor(d *device, p *pending, open bool) {
	want, action := DoorClosed, LogDoorClosed
	if open {
		want, action = DoorOpened, LogDoorOpened
	}
	if d.door == want {
		return
	}
	d.door = want
	b.changed(p, d, b.event(d, action, TriggerManual, Actor{}, CompletionSuccess))
}

// Executed counts how often the device carried out action — the number a "never open twice"
// test looks at.
func (b *Bridge) Executed(t models.DeviceType, nukiID uint32, action models.LockAction) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.find(t, nukiID)
	if err != nil {
		return 0
	}
	return d.executed[action]
}
