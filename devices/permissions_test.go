package devices

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// permissionStatus waits until an authorization has the push status want and returns it.
func permissionStatus(t *testing.T, f fixture, id int64, want models.PushStatus) models.Authorization {
	t.Helper()
	var a models.Authorization
	require.Eventually(t, func() bool {
		var err error
		a, err = f.store.FindAuthorizationEvenDeleted(context.Background(), f.account.ID, id)
		require.NoError(t, err)
		return a.PushStatus == want
	}, 5*time.Second, 5*time.Millisecond, "authorization %d: want %s, have %s (%s)", id, want, a.PushStatus, a.PushReason)
	return a
}

func onDevice(t *testing.T, b *sim.Bridge, d models.Device, id uint32) (sim.Authorization, bool) {
	t.Helper()
	auths, err := b.Authorizations(d.Type, d.NukiID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.ID == id {
			return a, true
		}
	}
	return sim.Authorization{}, false
}

// A permission is desired state: pushed where the device is reachable, pending with the reason
// where it is not and sent once it is back; a change waits for a busy device without a sync
// undoing it; a revocation is retried until the device confirms it.
func TestPermissionsPushedAndRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m.Start(ctx))
	t.Cleanup(m.Close)
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	front, back := byName(t, devs, "Front door"), byName(t, devs, "Back door")
	b := m.Simulator(c.ID)
	require.NoError(t, b.SetOnline(back.Type, back.NukiID, false))

	user, err := createTestUser(f.store, models.AccountUser{AccountID: f.account.ID, Name: "Dora Eck", Email: "dora@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	perms, err := createPermissions(ctx, f.store, f.account.ID, db.NewPermission{AccountUserID: user.ID, Type: models.AuthTypeApp, Name: "Dora Eck",
		RemoteAllowed: true, Restrictions: models.Restrictions{AllowedWeekdays: 64 | 32},
		Devices: map[int64]models.PushStatus{front.ID: m.PushStatusFor(front), back.ID: m.PushStatusFor(back)}})
	require.NoError(t, err)
	require.Len(t, perms, 2)
	assert.Equal(t, models.PushPending, perms[0].PushStatus)
	m.PushPermissions(front.ID, back.ID)

	onFront := permissionStatus(t, f, perms[0].ID, models.PushApplied)
	require.NotNil(t, onFront.DeviceAuthID)
	got, ok := onDevice(t, b, front, *onFront.DeviceAuthID)
	require.True(t, ok, "the front door holds Dora's authorization")
	assert.Equal(t, "Dora Eck", got.Name)
	assert.Equal(t, 64|32, got.AllowedWeekdays)
	assert.True(t, got.RemoteAllowed)

	require.Eventually(t, func() bool {
		a, _ := f.store.FindAuthorization(ctx, f.account.ID, perms[1].ID)
		return a.PushReason == string(OutcomeOffline)
	}, 5*time.Second, 5*time.Millisecond)
	onBack, _ := f.store.FindAuthorization(ctx, f.account.ID, perms[1].ID)
	assert.Equal(t, models.PushPending, onBack.PushStatus, "offline: still pending, with why")
	assert.Nil(t, onBack.DeviceAuthID)
	m.Sync(front)
	require.NoError(t, b.SetOnline(back.Type, back.NukiID, true))
	m.RetryPermissions()
	onBack = permissionStatus(t, f, perms[1].ID, models.PushApplied)
	require.NotNil(t, onBack.DeviceAuthID)
	_, ok = onDevice(t, b, back, *onBack.DeviceAuthID)
	assert.True(t, ok, "sent once the device is back")

	// A change while the device is busy stays pending; a sync meanwhile does not take the
	// device's old value over it.
	require.NoError(t, b.SetFault(front.Type, front.NukiID, sim.FaultBusy))
	off := false
	_, err = updatePermission(ctx, f.store, f.account.ID, perms[0].ID, db.PermissionChange{Enabled: &off})
	require.NoError(t, err)
	m.PushPermissions(front.ID)
	require.Eventually(t, func() bool {
		a, _ := f.store.FindAuthorization(ctx, f.account.ID, perms[0].ID)
		return a.PushReason == string(OutcomeBusy)
	}, 5*time.Second, 5*time.Millisecond)
	m.Sync(front)
	a, err := f.store.FindAuthorization(ctx, f.account.ID, perms[0].ID)
	require.NoError(t, err)
	assert.False(t, a.Enabled, "the sync did not undo the wish")
	assert.Equal(t, models.PushPending, a.PushStatus)
	require.NoError(t, b.SetFault(front.Type, front.NukiID, sim.NoFault))
	m.RetryPermissions()
	permissionStatus(t, f, perms[0].ID, models.PushApplied)
	got, _ = onDevice(t, b, front, *onFront.DeviceAuthID)
	assert.False(t, got.Enabled, "deactivated on the device")

	// Revoked while offline: kept (revoked) until the device confirms, then gone.
	require.NoError(t, b.SetOnline(back.Type, back.NukiID, false))
	_, err = revokePermission(ctx, f.store, f.account.ID, perms[1].ID)
	require.NoError(t, err)
	m.PushPermissions(back.ID)
	require.Eventually(t, func() bool {
		a, _ := f.store.FindAuthorizationEvenDeleted(ctx, f.account.ID, perms[1].ID)
		return a.PushReason == string(OutcomeOffline)
	}, 5*time.Second, 5*time.Millisecond)
	list, err := f.store.FindDeviceAuthorizations(ctx, f.account.ID, back.ID)
	require.NoError(t, err)
	var stillThere bool
	for _, x := range list {
		if x.ID == perms[1].ID {
			stillThere = x.RevokedAt != nil
		}
	}
	assert.True(t, stillThere, "listed as being removed until the device confirms")
	require.NoError(t, b.SetOnline(back.Type, back.NukiID, true))
	m.RetryPermissions()
	_, ok = onDevice(t, b, back, *onBack.DeviceAuthID)
	assert.False(t, ok, "removed from the device")
	_, err = f.store.FindAuthorization(ctx, f.account.ID, perms[1].ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "gone once the device confirmed")

	// A refused permission is failed with the reason, and not retried into the device.
	require.NoError(t, b.SetFault(front.Type, front.NukiID, sim.FaultRejectSettings))
	code := 468359
	kp, err := createPermissions(ctx, f.store, f.account.ID, db.NewPermission{AccountUserID: user.ID, Type: models.AuthTypeKeypadCode, Name: "Dora",
		Code: &code, Devices: map[int64]models.PushStatus{front.ID: models.PushPending}})
	var conflict *db.PermissionConflict
	require.ErrorAs(t, err, &conflict, "Dora already has a permission on the front door")
	assert.Equal(t, db.ConflictPermissionExists, conflict.Reason)
	assert.Nil(t, kp)
	other, err := createTestUser(f.store, models.AccountUser{AccountID: f.account.ID, Name: "Emil", Email: "emil@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	postman := 468357
	_, err = createPermissions(ctx, f.store, f.account.ID, db.NewPermission{AccountUserID: other.ID, Type: models.AuthTypeKeypadCode, Name: "Emil",
		Code: &postman, Devices: map[int64]models.PushStatus{front.ID: models.PushPending}})
	require.ErrorAs(t, err, &conflict, "the postman's code")
	assert.Equal(t, db.ConflictCodeInUse, conflict.Reason)
	kp, err = createPermissions(ctx, f.store, f.account.ID, db.NewPermission{AccountUserID: other.ID, Type: models.AuthTypeKeypadCode, Name: "Emil",
		Code: &code, Devices: map[int64]models.PushStatus{front.ID: models.PushPending}})
	require.NoError(t, err)
	m.PushPermissions(front.ID)
	failed := permissionStatus(t, f, kp[0].ID, models.PushFailed)
	assert.Equal(t, string(OutcomeSettingRefused), failed.PushReason)
}

// A suspended permission is off on the device until the suspension ends, then on again by itself.
func TestSuspendedPermissionResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01, Now: clock})
	require.NoError(t, m.Start(ctx))
	t.Cleanup(m.Close)
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	front := byName(t, devs, "Front door")
	user, err := createTestUser(f.store, models.AccountUser{AccountID: f.account.ID, Name: "Dora", Email: "dora@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	perms, err := createPermissions(ctx, f.store, f.account.ID, db.NewPermission{AccountUserID: user.ID, Type: models.AuthTypeApp, Name: "Dora",
		Devices: map[int64]models.PushStatus{front.ID: models.PushPending}})
	require.NoError(t, err)
	m.PushPermissions(front.ID)
	a := permissionStatus(t, f, perms[0].ID, models.PushApplied)

	_, err = suspendPermission(ctx, f.store, f.account.ID, a.ID, clock().Add(48*time.Hour))
	require.NoError(t, err)
	m.PushPermissions(front.ID)
	a = permissionStatus(t, f, a.ID, models.PushApplied)
	assert.False(t, a.Enabled)
	require.NotNil(t, a.SuspendedUntil)
	got, _ := onDevice(t, m.Simulator(c.ID), front, *a.DeviceAuthID)
	assert.False(t, got.Enabled)

	m.RetryPermissions()
	a, _ = f.store.FindAuthorization(ctx, f.account.ID, a.ID)
	assert.False(t, a.Enabled, "still suspended the next day")

	mu.Lock()
	now = now.Add(48 * time.Hour)
	mu.Unlock()
	m.RetryPermissions()
	a = permissionStatus(t, f, a.ID, models.PushApplied)
	assert.True(t, a.Enabled, "on again once the suspension ended")
	assert.Nil(t, a.SuspendedUntil)
	got, _ = onDevice(t, m.Simulator(c.ID), front, *a.DeviceAuthID)
	assert.True(t, got.Enabled)
	// Portier turned it on: the audit trail says so.
	audit, err := f.store.FindAuditEntries(ctx, db.AuditFilter{AccountID: f.account.ID, Kinds: []string{models.AuditPermissionChanged}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, models.AuditActorSystem, audit[0].Actor)
	assert.Equal(t, "Dora on Front door: suspension ended, active again", audit[0].Detail)
	// And a domain event, for whatever follows the events (webhooks, MQTT), as a person's change.
	events, err := f.store.FindEvents(ctx, 0, 100)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.Equal(t, models.EventPermissionEnabled, last.Kind)
	assert.Equal(t, models.ActorSystem, last.Origin)
	assert.Equal(t, map[string]int64{"permission": a.ID, "device": front.ID, "user": user.ID}, last.Subjects)
}

// The permission writes of package app, each in a transaction of its own, without its audit
// rows and events.

func createPermissions(ctx context.Context, s *db.Store, accountID int64, p db.NewPermission) (out []models.Authorization, err error) {
	err = s.InTx(ctx, func(tx *db.Tx) error {
		out, err = tx.CreatePermissions(ctx, accountID, p)
		return err
	})
	return out, err
}

func updatePermission(ctx context.Context, s *db.Store, accountID, id int64, c db.PermissionChange) (models.Authorization, error) {
	var out []models.Authorization
	err := s.InTx(ctx, func(tx *db.Tx) (err error) {
		out, err = tx.UpdatePermissions(ctx, accountID, []db.PermissionUpdate{{ID: id, Change: c}})
		return err
	})
	if err != nil {
		return models.Authorization{}, err
	}
	return out[0], nil
}

func revokePermission(ctx context.Context, s *db.Store, accountID, id int64) (models.Authorization, error) {
	var out []models.Authorization
	err := s.InTx(ctx, func(tx *db.Tx) (err error) {
		out, err = tx.RevokePermissions(ctx, accountID, []int64{id})
		return err
	})
	if err != nil {
		return models.Authorization{}, err
	}
	return out[0], nil
}

func suspendPermission(ctx context.Context, s *db.Store, accountID, id int64, until time.Time) (out models.Authorization, err error) {
	err = s.InTx(ctx, func(tx *db.Tx) error {
		out, err = tx.SuspendPermission(ctx, accountID, id, until)
		return err
	})
	return out, err
}
