// Package devices owns the connections to devices (Nuki Bridges, simulated bridges): it starts
// them at boot, keeps each device's reported state, carries out lock actions, ingests what the
// devices report, and tells pages when something changed.
package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"portier/auth"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
	"portier/notify"
)

// Capabilities are what a connection can do with its devices. The UI offers only these and
// says why the others are missing.
type Capabilities struct {
	State          bool
	Actions        bool
	Authorizations bool
	KeypadCodes    bool
	Config         bool
	ActivityLog    bool
}

// Errors of Manager.Act a caller tells apart.
var (
	ErrNoSuchAction  = errors.New("the device does not have this action")
	ErrActionPending = errors.New("another action on this device is still pending")
	ErrNotConnected  = errors.New("the device's connection is not running")
	ErrNotCapable    = errors.New("the device's connection cannot do this")
)

// Outcome names why an action failed, as message keys ("device.outcome.<name>").
type Outcome string

// Outcomes.
const (
	OutcomeOK           Outcome = "ok"
	OutcomeBusy         Outcome = "busy"
	OutcomeOffline      Outcome = "offline"
	OutcomeMotorBlocked Outcome = "motor_blocked"
	OutcomeTimedOut     Outcome = "timed_out" // no answer: the device may have done it
	OutcomeExpired      Outcome = "expired"   // its deadline passed before it could be sent: not sent
	OutcomeFailed       Outcome = "failed"
	OutcomeUnreachable  Outcome = "unreachable"
	OutcomeRefused      Outcome = "refused"    // the bridge refused the token
	OutcomeClockSkew    Outcome = "clock_skew" // it refused the hashed token and its clock is off
)

// ActionStatus is the last lock action on a device: pending until the device confirms or the
// deadline passes.
type ActionStatus struct {
	Action    models.LockAction
	StartedAt time.Time
	Deadline  time.Time
	Pending   bool
	Outcome   Outcome
	EndedAt   time.Time
	// claimed: the change of state this action caused was heard (see ownAction).
	claimed bool
}

// Options tune the manager.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// ActionDeadline is how long an action may stay pending (default 30 s).
	ActionDeadline time.Duration
	// SimSpeed scales the simulated devices' timings (1 = real time; tests use less).
	SimSpeed float64
	// PollEvery is how often a Nuki Bridge's /list is read while its callbacks do not work
	// (default 30 s).
	PollEvery time.Duration
	// ConfigRetryEvery is how often settings that could not be sent are tried again (default 1 min).
	ConfigRetryEvery time.Duration
	// Emails composes the log notification and warning emails (their links are absolute).
	Emails notify.Emails
	// CallbackBase is Portier's base URL as a Nuki Bridge on the network reaches it: bridges
	// post state changes to CallbackBase + CallbackPath + a secret. Empty, https (bridges post
	// plain http only), or loopback while the bridge is elsewhere: that bridge is only polled.
	CallbackBase string
	// SafetyPollEvery is how often /list is still read while a bridge's callbacks work, for
	// the changes a callback loses (default 2 min).
	SafetyPollEvery time.Duration
	// CallbackCheckEvery is how often Portier checks that its callback is still registered,
	// e.g. after a bridge reboot that forgot it (default 10 min).
	CallbackCheckEvery time.Duration
	// BridgeSleep replaces the waits of a Nuki Bridge's client between retries and requests
	// (tests shorten them; nil: real waits).
	BridgeSleep func(ctx context.Context, d time.Duration) error
}

// Manager runs the connections of all accounts.
type Manager struct {
	store   *db.Store
	secrets *auth.SecretBox
	opt     Options

	mu       sync.Mutex
	conns    map[int64]conn          // by connection id
	devices  map[deviceKey]deviceRef // what a connection's device is in the store
	actions  map[int64]*ActionStatus // by device id
	versions map[int64]uint64        // by account: bumped on every change
	regMu    map[string]*sync.Mutex  // by bridge address: one callback registration at a time (callbacks.go)
	wg       sync.WaitGroup
	closed   bool
	// pushMu lets one configuration push run at a time (a retry and a new change must not
	// send the same settings twice at once).
	pushMu sync.Mutex
	// authPushMu does the same for authorizations (devices/permissions.go).
	authPushMu sync.Mutex
	// life ends when the manager closes: actions in flight give up then.
	life context.Context
	end  context.CancelFunc
}

type deviceKey struct {
	conn   int64
	typ    models.DeviceType
	nukiID uint32
}

type deviceRef struct {
	id, account int64
}

// conn is a running connection of one kind.
type conn interface {
	capabilities() Capabilities
	act(ctx context.Context, d models.Device, a models.LockAction, who models.Actor) error
	// config reads a device's settings; setConfig changes some (ErrNotCapable when the
	// connection cannot).
	config(ctx context.Context, d models.Device) (map[string]any, error)
	setConfig(ctx context.Context, d models.Device, patch map[string]any) error
	setAdminPIN(ctx context.Context, d models.Device, pin int) error
	// authorizations reads the authorizations a device holds (ErrNotCapable when the
	// connection cannot).
	authorizations(ctx context.Context, d models.Device) ([]models.ReportedAuthorization, error)
	// putAuthorization adds (no DeviceAuthID yet) or changes an authorization on a device and
	// returns its id there; deleteAuthorization removes one (gone already is not an error).
	putAuthorization(ctx context.Context, d models.Device, a models.Authorization) (uint32, error)
	deleteAuthorization(ctx context.Context, d models.Device, deviceAuthID uint32) error
	// start begins the connection's own work (first report, polling) once the manager knows
	// its devices.
	start()
	sync()
	close()
}

// New returns a manager; Start starts the stored connections.
func New(store *db.Store, secrets *auth.SecretBox, opt Options) *Manager {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.ActionDeadline == 0 {
		opt.ActionDeadline = 30 * time.Second
	}
	if opt.SimSpeed == 0 {
		opt.SimSpeed = 1
	}
	if opt.PollEvery == 0 {
		opt.PollEvery = 30 * time.Second
	}
	if opt.ConfigRetryEvery == 0 {
		opt.ConfigRetryEvery = time.Minute
	}
	if opt.SafetyPollEvery == 0 {
		opt.SafetyPollEvery = 2 * time.Minute
	}
	if opt.CallbackCheckEvery == 0 {
		opt.CallbackCheckEvery = 10 * time.Minute
	}
	life, end := context.WithCancel(context.Background())
	return &Manager{store: store, secrets: secrets, opt: opt, conns: map[int64]conn{}, devices: map[deviceKey]deviceRef{},
		actions: map[int64]*ActionStatus{}, versions: map[int64]uint64{}, life: life, end: end}
}

// Start starts every stored connection. A connection that fails to start is logged and the
// others still start: one unreachable bridge must not keep Portier down.
func (m *Manager) Start(ctx context.Context) error {
	conns, err := m.store.FindAllConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		devs, err := m.store.FindConnectionDevices(ctx, c.ID)
		if err != nil {
			return err
		}
		if err := m.startConn(c, devs); err != nil {
			m.opt.Log.Error("connection not started", "connection", c.ID, "err", err)
		}
	}
	m.startConfigRetries()
	m.retryConfig()
	m.retryPermissions()
	return nil
}

// Close stops every connection and waits for their work to end.
func (m *Manager) Close() {
	m.end()
	m.mu.Lock()
	m.closed = true
	conns := m.conns
	m.conns = map[int64]conn{}
	m.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	m.wg.Wait()
}

func (m *Manager) startConn(c models.Connection, devs []models.Device) error {
	var cn conn
	var err error
	switch c.Kind {
	case models.ConnectionSimulated:
		cn, err = m.startSimulated(c, devs)
	case models.ConnectionNukiBridge:
		cn, err = m.startBridge(c, devs)
	default:
		err = fmt.Errorf("connection kind %q", c.Kind)
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cn.close()
		return errors.New("the device manager is stopped")
	}
	m.conns[c.ID] = cn
	for _, d := range devs {
		m.devices[deviceKey{c.ID, d.Type, d.NukiID}] = deviceRef{d.ID, d.AccountID}
	}
	m.versions[c.AccountID]++
	m.mu.Unlock()
	cn.start()
	return nil
}

// Capabilities of the connection a device is reached through; ok is false when it is not running.
func (m *Manager) Capabilities(connectionID int64) (Capabilities, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[connectionID]
	if !ok {
		return Capabilities{}, false
	}
	return c.capabilities(), true
}

// Version is a number that changes whenever a device of the account changes; pages poll with
// it and get "nothing new" cheaply.
func (m *Manager) Version(accountID int64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.versions[accountID]
}

// Changed tells live pages that something of the account's devices changed outside the
// manager (a rename, a new favorite).
func (m *Manager) Changed(accountID int64) { m.bump(accountID) }

func (m *Manager) bump(accountID int64) {
	m.mu.Lock()
	m.versions[accountID]++
	m.mu.Unlock()
}

// Action returns the last action on a device (ok false: none since Portier started).
func (m *Manager) Action(deviceID int64) (ActionStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.actions[deviceID]
	if !ok {
		return ActionStatus{}, false
	}
	return *st, true
}

// Act starts a lock action and returns at once; the device page follows it through Action.
// It refuses an action the device kind does not have, and a second one while one is pending.
// Once the action is the device's pending one, record writes the request (its audit row and
// event: package app's RequestLockAction) before the device is asked; when record fails the
// action is not sent at all.
func (m *Manager) Act(ctx context.Context, d models.Device, a models.LockAction, who models.Actor, record func(context.Context) error) error {
	if !models.HasAction(d.Type, a) {
		return ErrNoSuchAction
	}
	now := m.opt.Now()
	// The deadline is fixed now, on the real clock the connection's requests run on: waiting
	// for the audit row or for the bridge does not extend it.
	expires := time.Now().Add(m.opt.ActionDeadline)
	m.mu.Lock()
	c, ok := m.conns[d.ConnectionID]
	if !ok {
		m.mu.Unlock()
		return ErrNotConnected
	}
	if !c.capabilities().Actions {
		m.mu.Unlock()
		return ErrNotCapable
	}
	if st, ok := m.actions[d.ID]; ok && st.Pending {
		m.mu.Unlock()
		return ErrActionPending
	}
	st := &ActionStatus{Action: a, StartedAt: now, Deadline: now.Add(m.opt.ActionDeadline), Pending: true}
	m.actions[d.ID] = st
	m.versions[d.AccountID]++
	m.wg.Add(1)
	m.mu.Unlock()

	if err := record(ctx); err != nil {
		m.mu.Lock()
		if m.actions[d.ID] == st {
			delete(m.actions, d.ID)
		}
		m.versions[d.AccountID]++
		m.mu.Unlock()
		m.wg.Done()
		return fmt.Errorf("recording a lock action: %w", err)
	}
	go func() {
		defer m.wg.Done()
		actx, cancel := context.WithDeadline(m.life, expires)
		defer cancel()
		// A command is never sent after its deadline: the page may already say "timed out".
		outcome := OutcomeExpired
		if actx.Err() == nil {
			outcome = outcomeOf(c.act(actx, d, a, who))
		} else {
			m.opt.Log.Warn("lock action not sent: its deadline passed first", "device", d.ID, "action", int(a))
		}
		m.finishAction(d, a, st, outcome, who)
	}()
	return nil
}

func (m *Manager) finishAction(d models.Device, a models.LockAction, st *ActionStatus, outcome Outcome, who models.Actor) {
	// The activity entry, and with it the audit row of the result, is stored before the action
	// shows as ended, so whoever sees it ended finds it in the log and the audit trail.
	login := who.LoginID
	entry := models.Activity{AccountID: d.AccountID, DeviceID: d.ID, At: st.StartedAt, Action: int(a), Trigger: models.TriggerWeb,
		Completion: completionOf(outcome), LoginID: &login, Name: who.Name, Origin: who.ActivityOrigin()}
	audit := who.AuditEntry(d.AccountID, models.AuditDeviceActionResult, models.Facts("auditfacts.device_action_result", "Device", d.Name,
		"Action", models.Facts(models.ActionLabelKey(d.Type, a)), "Outcome", models.Facts("devices.outcome."+string(outcome))))
	if err := m.recordAudited(context.Background(), entry, audit); err != nil {
		m.opt.Log.Error("activity of a lock action", "device", d.ID, "err", err)
	}
	end := m.opt.Now()
	m.mu.Lock()
	st.Pending, st.Outcome, st.EndedAt = false, outcome, end
	m.versions[d.AccountID]++
	m.mu.Unlock()
}

func completionOf(o Outcome) int {
	switch o {
	case OutcomeOK:
		return models.CompletionSuccess
	case OutcomeMotorBlocked:
		return models.CompletionMotorBlocked
	case OutcomeBusy:
		return models.CompletionBusy
	}
	return models.CompletionUnknown
}

// outcomeOf names an error of a connection.
func outcomeOf(err error) Outcome {
	// The bridge's errors first: its ErrTooLate (not sent) wraps the context's error.
	if o, ok := bridgeOutcome(err); ok {
		return o
	}
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, sim.ErrBusy):
		return OutcomeBusy
	case errors.Is(err, sim.ErrOffline):
		return OutcomeOffline
	case errors.Is(err, sim.ErrMotorBlocked):
		return OutcomeMotorBlocked
	case errors.Is(err, sim.ErrNoAnswer), errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimedOut
	case errors.Is(err, sim.ErrBridgeDown):
		return OutcomeUnreachable
	case errors.Is(err, sim.ErrInvalidSetting):
		return OutcomeSettingRefused
	}
	return OutcomeFailed
}

// report stores a device's state and the activity entries that came with it (events the
// device reported, or entries derived from its change of state), in one transaction. Entries
// need no account or device: they get the device's.
func (m *Manager) report(connID int64, typ models.DeviceType, nukiID uint32, st models.DeviceState, entries []models.Activity) {
	m.mu.Lock()
	ref, ok := m.devices[deviceKey{connID, typ, nukiID}]
	m.mu.Unlock()
	if !ok {
		return // paired with the bridge but not added to Portier
	}
	ctx := context.Background()
	for i := range entries {
		entries[i].AccountID, entries[i].DeviceID = ref.account, ref.id
	}
	changed, created, err := m.store.SaveReportedStateAndActivity(ctx, ref.id, st, entries, m.logMail(ctx))
	if err != nil {
		m.opt.Log.Error("saving a device's state and events", "device", ref.id, "err", err)
		return
	}
	m.checkWarnings(ctx, ref.account, ref.id)
	if changed || created > 0 {
		m.bump(ref.account)
	}
}

// reportEvents stores activity entries a connection fetched from a device's log, without a
// state; like report, an entry whose event id the device already has is skipped.
func (m *Manager) reportEvents(connID int64, typ models.DeviceType, nukiID uint32, entries []models.Activity) {
	d, ok := m.device(connID, typ, nukiID)
	if !ok || len(entries) == 0 {
		return
	}
	for i := range entries {
		entries[i].AccountID, entries[i].DeviceID = d.AccountID, d.ID
	}
	ctx := context.Background()
	created, err := m.store.CreateActivities(ctx, entries, m.logMail(ctx))
	if err != nil {
		m.opt.Log.Error("saving a device's events", "device", d.ID, "err", err)
		return
	}
	if created > 0 {
		m.bump(d.AccountID)
	}
}

// forget drops a device from the running state (it was deleted from the account).
func (m *Manager) Forget(d models.Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.devices, deviceKey{d.ConnectionID, d.Type, d.NukiID})
	delete(m.actions, d.ID)
	m.versions[d.AccountID]++
}

// Sync asks a device's connection to read its state again now (a Nuki Bridge's /list; a
// simulated device reports on its own).
func (m *Manager) Sync(d models.Device) {
	m.mu.Lock()
	c, ok := m.conns[d.ConnectionID]
	m.mu.Unlock()
	if ok {
		c.sync()
	}
}

// device returns what the manager knows of a connection's device (ok false: not added).
func (m *Manager) device(connID int64, typ models.DeviceType, nukiID uint32) (models.Device, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ref, ok := m.devices[deviceKey{connID, typ, nukiID}]
	if !ok {
		return models.Device{}, false
	}
	return models.Device{ID: ref.id, AccountID: ref.account, ConnectionID: connID, Type: typ, NukiID: nukiID}, true
}
