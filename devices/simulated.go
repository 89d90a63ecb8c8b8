package devices

import (
	"context"
	"fmt"
	"sync"

	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// portierAuthID is the authorization a simulated device holds for its bridge, which is Portier
// here. Events it reports for Portier's own actions are not stored a second time: Portier
// records those itself, with the login that did them.
const portierAuthID = sim.BridgeAuthID

// AuthID is the id of the device authorization Portier acts through on the devices of a
// connection kind: the bridge's, as Portier reaches devices through bridges. It is 0 where it
// is not known: the Bridge HTTP API does not tell which of a lock's authorizations is the
// bridge's own.
func AuthID(kind models.ConnectionKind) uint32 {
	if kind == models.ConnectionSimulated {
		return portierAuthID
	}
	return 0
}

// simConn is a simulated bridge running inside Portier.
type simConn struct {
	m      *Manager
	id     int64
	bridge *sim.Bridge
	stop   func()

	mu   sync.Mutex
	last map[deviceKey]string // the newest event heard per device
}

func (c *simConn) capabilities() Capabilities {
	return Capabilities{State: true, Actions: true, Authorizations: true, KeypadCodes: true, Config: true, ActivityLog: true}
}

func (c *simConn) act(ctx context.Context, d models.Device, a models.LockAction, who models.Actor) error {
	err := c.bridge.Action(ctx, d.Type, d.NukiID, a, sim.Actor{AuthID: portierAuthID, Name: "Portier", Trigger: sim.TriggerWeb}, true)
	// The action counts as done once its state is stored.
	c.bridge.Flush()
	return err
}

// start reports the state and settings the simulated devices start in.
func (c *simConn) start() {
	for _, s := range c.bridge.Devices() {
		c.m.report(c.id, s.Type, s.NukiID, s.State, nil)
		if d, ok := c.m.device(c.id, s.Type, s.NukiID); ok {
			c.m.readConfig(c, d)
			c.m.syncAuthorizations(c, d)
		}
	}
}

// sync reads the devices' state, settings and authorizations again, and the events Portier
// may have missed.
func (c *simConn) sync() {
	c.start()
	c.catchUp()
}

func (c *simConn) close() {
	c.stop()
	c.bridge.Close()
}

// simAuthorizations gives a rebuilt simulated device the authorizations it had (those the
// device has: with their id on it).
func simAuthorizations(auths []models.Authorization) []sim.Authorization {
	var out []sim.Authorization
	for _, a := range auths {
		if a.DeviceAuthID != nil {
			out = append(out, simAuthorization(a))
		}
	}
	return out
}

// simAuthorization is an authorization as the simulator holds it.
func simAuthorization(a models.Authorization) sim.Authorization {
	sa := sim.Authorization{Type: a.Type, Name: a.Name, Enabled: a.Enabled, RemoteAllowed: a.RemoteAllowed,
		Restrictions: a.Restrictions, LockCount: a.LockCount}
	if a.DeviceAuthID != nil {
		sa.ID = *a.DeviceAuthID
	}
	if a.Code != nil {
		sa.Code = *a.Code
	}
	return sa
}

// specOf rebuilds a simulated device from what the store knows of it: the parts it reported
// (keypad, door sensor, charge level) tell what it has. Locks restart locked.
func specOf(d models.Device) sim.DeviceSpec {
	spec := sim.DeviceSpec{Type: d.Type, NukiID: d.NukiID, Name: d.Name, Firmware: d.Firmware, Hardware: d.Hardware,
		Keypad: d.Reported.KeypadBatteryCritical != nil, DoorSensor: d.Reported.DoorState != nil, NoChargeLevel: d.Reported.BatteryCharge == nil}
	if d.Reported.BatteryCharge != nil {
		spec.Charge = *d.Reported.BatteryCharge
	}
	return spec
}

func (m *Manager) startSimulated(c models.Connection, devs []models.Device) (conn, error) {
	b := sim.New(sim.Options{Speed: m.opt.SimSpeed, Now: m.opt.Now})
	for _, d := range devs {
		spec := specOf(d)
		auths, err := m.store.FindDeviceAuthorizations(context.Background(), d.AccountID, d.ID)
		if err != nil {
			b.Close()
			return nil, err
		}
		spec.Authorizations = simAuthorizations(auths)
		if _, err := b.Pair(spec); err != nil {
			b.Close()
			return nil, err
		}
		stored, err := m.store.FindDeviceConfig(context.Background(), d.ID)
		if err == nil {
			err = restoreConfig(b, d, stored)
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("configuration of device %d: %w", d.ID, err)
		}
	}
	sc := &simConn{m: m, id: c.ID, bridge: b, last: map[deviceKey]string{}}
	sc.stop = b.Subscribe(func(u sim.Update) {
		var evs []sim.Event
		if u.Event != nil {
			evs = append(evs, *u.Event)
		}
		sc.m.report(sc.id, u.Device.Type, u.Device.NukiID, u.Device.State, activityOf(evs))
		sc.heard(u.Device, evs)
	})
	return sc, nil
}

// heard remembers the newest event of a device, from which catchUp asks for more.
func (c *simConn) heard(s sim.Snapshot, evs []sim.Event) {
	if len(evs) == 0 {
		return
	}
	c.mu.Lock()
	c.last[deviceKey{c.id, s.Type, s.NukiID}] = evs[len(evs)-1].ID
	c.mu.Unlock()
}

// activityOf turns a device's events into activity entries, leaving out those of Portier's own
// actions (Portier logs them itself, with who did them).
func activityOf(evs []sim.Event) []models.Activity {
	var out []models.Activity
	for _, ev := range evs {
		if ev.AuthID == portierAuthID {
			continue
		}
		out = append(out, models.Activity{At: ev.At, Action: ev.Action, Trigger: ev.Trigger, Completion: ev.Completion,
			Source: ev.Source, AuthID: ev.AuthID, Name: ev.Name, Origin: models.OriginDevice, EventID: ev.ID})
	}
	return out
}

// catchUp reads the events each device kept after the newest one Portier heard, as a
// connection does after a reconnect: events that were missed are stored, and those that were
// not are skipped by their ids, so asking again (or from further back) is harmless. Only the
// events: the state of the moment is the listener's to store (this one may be older already).
func (c *simConn) catchUp() {
	for _, s := range c.bridge.Devices() {
		c.mu.Lock()
		after := c.last[deviceKey{c.id, s.Type, s.NukiID}]
		c.mu.Unlock()
		evs, err := c.bridge.Events(s.Type, s.NukiID, after)
		if err != nil {
			continue // unreachable now: the next sync asks again
		}
		c.m.reportEvents(c.id, s.Type, s.NukiID, activityOf(evs))
		c.heard(s, evs)
	}
}

// RecordAdded writes the records of adding connection c with its devices (their ids, in
// order) in the transaction that stores them: the audit row and, for package app, the event.
type RecordAdded func(ctx context.Context, tx *db.Tx, c models.Connection, deviceIDs []int64) error

// auditAdded records an addition with the audit row alone, in the fixtures' and the box
// wizard's way (their audit row's login is the one that adds).
func auditAdded(audit models.AuditEntry, facts models.AuditFacts) (int64, RecordAdded) {
	var addedBy int64
	if audit.LoginID != nil {
		addedBy = *audit.LoginID
	}
	if audit.Facts == nil && audit.Detail == "" {
		audit.Facts = &facts
	}
	return addedBy, func(ctx context.Context, tx *db.Tx, c models.Connection, _ []int64) error {
		audit.AccountID = &c.AccountID
		return tx.Audit(ctx, audit)
	}
}

// AddSimulatedBridge creates a simulated bridge with the given devices (random Nuki ids) for an
// account, stores it with the audit row and starts it: for fixtures, tests and benchmarks (what
// a person adds goes through package app, AddSimulated).
func (m *Manager) AddSimulatedBridge(ctx context.Context, accountID int64, name string, specs []sim.DeviceSpec, audit models.AuditEntry) (models.Connection, []models.Device, error) {
	addedBy, record := auditAdded(audit, models.Facts("auditfacts.added_simulated_bridge", "Name", name, "Count", len(specs)))
	return m.AddSimulated(ctx, accountID, name, specs, nil, addedBy, record)
}

// AddSimulatedBox adds a Nuki Box on a simulated bridge of its own, with its location and PIN
// (the Set up Nuki Box wizard), and returns it.
func (m *Manager) AddSimulatedBox(ctx context.Context, accountID int64, name string, keypad bool, box models.BoxSetup, audit models.AuditEntry) (models.Device, error) {
	spec := sim.DeviceSpec{Type: models.DeviceBox, Name: name, Firmware: "1.4.2", Hardware: "1.0", Keypad: keypad, Charge: 100}
	addedBy, record := auditAdded(audit, models.Facts("auditfacts.added_box", "Name", name))
	_, devs, err := m.AddSimulated(ctx, accountID, name+" (simulated bridge)", []sim.DeviceSpec{spec}, []*models.BoxSetup{&box}, addedBy, record)
	if err != nil {
		return models.Device{}, err
	}
	return devs[0], nil
}

// AddSimulated pairs specs on a new simulated bridge of the account, stores it (added by login
// addedBy, 0 for none; db.Tx.CreateConnection) with what record writes in one transaction, and
// starts it. boxes[i], when given, is the setup of specs[i].
func (m *Manager) AddSimulated(ctx context.Context, accountID int64, name string, specs []sim.DeviceSpec, boxes []*models.BoxSetup,
	addedBy int64, record RecordAdded) (models.Connection, []models.Device, error) {
	b := sim.New(sim.Options{})
	defer b.Close()
	var devs []models.Device
	var states []models.DeviceState
	for _, spec := range specs {
		s, err := b.Pair(spec)
		if err != nil {
			return models.Connection{}, nil, err
		}
		d := models.Device{Type: s.Type, NukiID: s.NukiID, Name: s.Name, Firmware: s.Firmware, Hardware: s.Hardware}
		if len(devs) < len(boxes) {
			d.Box = boxes[len(devs)]
		}
		devs = append(devs, d)
		states = append(states, s.State)
	}
	c, stored, err := m.storeConnection(ctx, models.Connection{AccountID: accountID, Kind: models.ConnectionSimulated, Name: name}, devs, addedBy, record)
	if err != nil {
		return c, nil, err
	}
	for i, d := range stored {
		if _, err := m.store.SaveReportedState(ctx, d.ID, states[i]); err != nil {
			return c, nil, err
		}
		// The authorizations the devices come with: stored (and linked to new account users)
		// before the connection starts, which rebuilds the devices from the store.
		reported, err := (&simConn{bridge: b}).authorizations(ctx, d)
		if err != nil {
			return c, nil, err
		}
		if _, err := m.store.SyncDeviceAuthorizations(ctx, accountID, d.ID, reported); err != nil {
			return c, nil, err
		}
	}
	stored, err = m.store.FindConnectionDevices(ctx, c.ID)
	if err != nil {
		return c, nil, err
	}
	return c, stored, m.startConn(c, stored)
}

// storeConnection stores connection c with devs, added by login addedBy, and what record writes,
// in one transaction, and returns them as stored.
func (m *Manager) storeConnection(ctx context.Context, c models.Connection, devs []models.Device, addedBy int64, record RecordAdded) (models.Connection, []models.Device, error) {
	err := m.store.InTx(ctx, func(tx *db.Tx) error {
		var ids []int64
		var err error
		if c, ids, err = tx.CreateConnection(ctx, c, devs, addedBy); err != nil {
			return err
		}
		return record(ctx, tx, c, ids)
	})
	if err != nil {
		return models.Connection{}, nil, err
	}
	return m.store.FindConnectionWithDevices(ctx, c.AccountID, c.ID)
}

// Simulator returns the simulated bridge of a connection (nil for other kinds): the demo and
// tests use it to ring, type keypad codes, drain batteries and inject faults.
func (m *Manager) Simulator(connectionID int64) *sim.Bridge {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.conns[connectionID].(*simConn); ok {
		return c.bridge
	}
	return nil
}
