package devices

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

type fixture struct {
	store   *db.Store
	secrets *auth.SecretBox
	account models.Account
	login   models.Login
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d, err := db.OpenMigratedForTest(filepath.Join(t.TempDir(), db.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	store := db.NewStore(d, time.Now)
	acc, login, err := store.CreateAccount(context.Background(), db.CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Home", Name: "Anna", Email: "anna@example.com"},
		PasswordHash: "x", Audit: models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
	})
	require.NoError(t, err)
	secrets, err := auth.NewSecretBox(make([]byte, 32))
	require.NoError(t, err)
	return fixture{store: store, secrets: secrets, account: acc, login: login}
}

func (f fixture) manager(t *testing.T) *Manager {
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01, ActionDeadline: 5 * time.Second})
	require.NoError(t, m.Start(context.Background()))
	t.Cleanup(m.Close)
	return m
}

func (f fixture) who() models.Actor {
	return models.LoginActor(f.login, models.ActorWeb, "")
}

func byName(t *testing.T, devs []models.Device, name string) models.Device {
	t.Helper()
	for _, d := range devs {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no device %q", name)
	return models.Device{}
}

// waitDone waits until the device's last action is no longer pending and returns it.
func waitDone(t *testing.T, m *Manager, deviceID int64) ActionStatus {
	t.Helper()
	var st ActionStatus
	require.Eventually(t, func() bool {
		var ok bool
		st, ok = m.Action(deviceID)
		return ok && !st.Pending
	}, 5*time.Second, 5*time.Millisecond)
	return st
}

func TestSimulatedBridgeLockAction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo bridge", sim.DemoDevices(), models.AuditEntry{Kind: models.AuditDevicesAdded, Actor: f.login.Email})
	require.NoError(t, err)
	require.Len(t, devs, len(sim.DemoDevices()))
	caps, ok := m.Capabilities(c.ID)
	require.True(t, ok)
	assert.True(t, caps.Actions && caps.KeypadCodes && caps.Config)

	front := byName(t, devs, "Front door")
	assert.Equal(t, sim.StateLocked, front.Reported.State)
	require.NotNil(t, front.Reported.DoorState, "the door sensor's state is stored from the start")
	v := m.Version(f.account.ID)

	require.NoError(t, m.Act(ctx, front, models.ActionUnlock, f.who(), m.requested(front, models.ActionUnlock, f.who())))
	st, ok := m.Action(front.ID)
	require.True(t, ok)
	assert.True(t, st.Pending)
	assert.ErrorIs(t, m.Act(ctx, front, models.ActionLock, f.who(), m.requested(front, models.ActionLock, f.who())), ErrActionPending)

	st = waitDone(t, m, front.ID)
	assert.Equal(t, OutcomeOK, st.Outcome)
	assert.Greater(t, m.Version(f.account.ID), v, "pages polling with the version see the change")
	stored, err := f.store.FindDevice(ctx, f.account.ID, front.ID)
	require.NoError(t, err)
	assert.Equal(t, sim.StateUnlocked, stored.Reported.State)

	// The action is in the activity log once (Portier's entry with the login, not a second one
	// from the device) and in the audit trail.
	require.Eventually(t, func() bool {
		acts, _ := f.store.FindDeviceActivity(ctx, f.account.ID, front.ID, 10)
		return len(acts) == 1
	}, time.Second, 5*time.Millisecond)
	acts, err := f.store.FindDeviceActivity(ctx, f.account.ID, front.ID, 10)
	require.NoError(t, err)
	assert.Equal(t, int(models.ActionUnlock), acts[0].Action)
	assert.Equal(t, f.login.ID, *acts[0].LoginID)
	assert.Equal(t, "Anna", acts[0].Name)
	assert.Equal(t, models.OriginWeb, acts[0].Origin)
	audit, err := f.store.FindAuditEntries(ctx, db.AuditFilter{AccountID: f.account.ID})
	require.NoError(t, err)
	// The request before the device was asked, the result with the activity entry.
	assert.Equal(t, models.AuditDeviceActionResult, audit[0].Kind)
	assert.Equal(t, "Front door: Unlock. Done.", audit[0].Detail)
	assert.Equal(t, models.AuditDeviceAction, audit[1].Kind)
	assert.Equal(t, "Front door: Unlock requested", audit[1].Detail)
	for _, a := range audit[:2] {
		assert.Equal(t, f.login.ID, *a.LoginID)
	}

	// The opener has no lock 'n' go.
	opener := byName(t, devs, "Building entrance")
	assert.ErrorIs(t, m.Act(ctx, opener, models.ActionLockNGo, f.who(), m.requested(opener, models.ActionLockNGo, f.who())), ErrNoSuchAction)
}

func TestActionFailuresAreNamed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices()[:1], models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	d := devs[0]
	b := m.Simulator(c.ID)
	require.NotNil(t, b)
	for _, tc := range []struct {
		fault   sim.Fault
		outcome Outcome
	}{{sim.FaultBusy, OutcomeBusy}, {sim.FaultMotorBlocked, OutcomeMotorBlocked}, {sim.FaultNoAnswer, OutcomeTimedOut}, {sim.FaultFailed, OutcomeFailed}} {
		require.NoError(t, b.SetFault(d.Type, d.NukiID, tc.fault))
		require.NoError(t, m.Act(ctx, d, models.ActionUnlatch, f.who(), m.requested(d, models.ActionUnlatch, f.who())))
		assert.Equal(t, tc.outcome, waitDone(t, m, d.ID).Outcome, "fault %d", tc.fault)
		require.NoError(t, b.SetFault(d.Type, d.NukiID, sim.NoFault))
		// Let the device settle (an unlatch that went through ends unlocked).
		require.Eventually(t, func() bool {
			s, _ := b.Device(d.Type, d.NukiID)
			return s.State.State != sim.StateUnlatching && s.State.State != sim.StateUnlatched
		}, 2*time.Second, 5*time.Millisecond)
	}
	require.NoError(t, b.SetOnline(d.Type, d.NukiID, false))
	require.NoError(t, m.Act(ctx, d, models.ActionLock, f.who(), m.requested(d, models.ActionLock, f.who())))
	assert.Equal(t, OutcomeOffline, waitDone(t, m, d.ID).Outcome)
	require.Eventually(t, func() bool {
		got, _ := f.store.FindDevice(ctx, f.account.ID, d.ID)
		return !got.Reported.Online
	}, time.Second, 5*time.Millisecond, "the offline state is stored")
}

// A lock action whose request cannot be written to the audit trail is not sent: nothing is
// pending, the device does not move, and the next action goes through.
func TestLockActionNeedsItsAuditRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices()[:1], models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	d := devs[0]
	before, err := m.Simulator(c.ID).Device(d.Type, d.NukiID)
	require.NoError(t, err)
	_, err = f.store.DB().Writer.ExecContext(ctx, `CREATE TRIGGER test_no_action_audit BEFORE INSERT ON audit_log
		WHEN NEW.kind = 'device.action' BEGIN SELECT RAISE(ABORT, 'audit refused'); END`)
	require.NoError(t, err)
	err = m.Act(ctx, d, models.ActionUnlock, f.who(), m.requested(d, models.ActionUnlock, f.who()))
	require.ErrorContains(t, err, "audit refused")
	_, pending := m.Action(d.ID)
	assert.False(t, pending, "no action is pending")
	time.Sleep(50 * time.Millisecond)
	after, err := m.Simulator(c.ID).Device(d.Type, d.NukiID)
	require.NoError(t, err)
	assert.Equal(t, before.State.State, after.State.State, "the device was not asked")

	_, err = f.store.DB().Writer.ExecContext(ctx, `DROP TRIGGER test_no_action_audit`)
	require.NoError(t, err)
	require.NoError(t, m.Act(ctx, d, models.ActionUnlock, f.who(), m.requested(d, models.ActionUnlock, f.who())))
	assert.Equal(t, OutcomeOK, waitDone(t, m, d.ID).Outcome)
}

func TestDeviceEventsIngestedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices()[:1], models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	d := devs[0]
	b := m.Simulator(c.ID)
	_, err = b.PutAuthorization(d.Type, d.NukiID, sim.Authorization{Type: sim.AuthKeypadCode, Name: "Cleaner", Code: 345678, Enabled: true})
	require.NoError(t, err)
	require.NoError(t, b.EnterKeypadCode(d.Type, d.NukiID, 345678))
	require.Eventually(t, func() bool {
		acts, _ := f.store.FindDeviceActivity(ctx, f.account.ID, d.ID, 10)
		return len(acts) == 1
	}, 2*time.Second, 5*time.Millisecond)
	acts, _ := f.store.FindDeviceActivity(ctx, f.account.ID, d.ID, 10)
	assert.Equal(t, "Cleaner", acts[0].Name)
	assert.Equal(t, models.OriginDevice, acts[0].Origin)
	assert.Nil(t, acts[0].LoginID)

	// The same event again (a repeated delivery) is not stored twice.
	evs, err := b.Events(d.Type, d.NukiID, "")
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	m.report(c.ID, d.Type, d.NukiID, d.Reported, []models.Activity{{At: ev.At, Action: ev.Action, Trigger: ev.Trigger, Name: ev.Name, Origin: models.OriginDevice, EventID: ev.ID}})
	acts, _ = f.store.FindDeviceActivity(ctx, f.account.ID, d.ID, 10)
	assert.Len(t, acts, 1)
}

func TestRestartKeepsSimulatedDevices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m.Start(ctx))
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices(), models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	m.Close()

	m2 := f.manager(t)
	b := m2.Simulator(c.ID)
	require.NotNil(t, b, "the simulated bridge runs again after a restart")
	for _, d := range devs {
		s, err := b.Device(d.Type, d.NukiID)
		require.NoError(t, err, d.Name)
		assert.Equal(t, d.Reported.DoorState != nil, s.DoorSensor, d.Name)
		assert.Equal(t, d.Reported.KeypadBatteryCritical != nil, s.Keypad, d.Name)
	}
	require.NoError(t, m2.Act(ctx, devs[0], models.ActionUnlock, f.who(), m2.requested(devs[0], models.ActionUnlock, f.who())))
	assert.Equal(t, OutcomeOK, waitDone(t, m2, devs[0].ID).Outcome)
}

// requested records a lock action's request as package app does, with its audit row (before
// the device is asked).
func (m *Manager) requested(d models.Device, a models.LockAction, who models.Actor) func(context.Context) error {
	return func(ctx context.Context) error {
		facts := models.Facts("auditfacts.device_action", "Device", d.Name, "Action", models.Facts(models.ActionLabelKey(d.Type, a)))
		_, err := m.store.AddAudit(ctx, who.AuditEntry(d.AccountID, models.AuditDeviceAction, facts))
		return err
	}
}
