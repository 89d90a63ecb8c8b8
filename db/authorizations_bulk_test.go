package db

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// permissionFixture is an account with two devices, a web user and a keypad code found on the
// first device.
type permissionFixture struct {
	s      *Store
	acc    models.Account
	devs   []models.Device
	user   models.AccountUser
	keypad models.Authorization
}

func newPermissionFixture(t *testing.T) permissionFixture {
	t.Helper()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	code := 468357
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{
		{DeviceAuthID: 7, Type: models.AuthTypeKeypadCode, Name: "Postman", Enabled: true, Code: &code}})
	require.NoError(t, err)
	found, err := s.FindDeviceAuthorizations(ctx, acc.ID, devs[0].ID)
	require.NoError(t, err)
	require.Len(t, found, 1)
	user, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: "Dora", Email: "dora@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	return permissionFixture{s: s, acc: acc, devs: devs, user: user, keypad: found[0]}
}

func auditCount(t *testing.T, s *Store, kind string) int {
	t.Helper()
	return count(t, s.db, `SELECT count(*) FROM audit_log WHERE kind = ?`, kind)
}

// A keypad code made without an account user brings its own person, in the same transaction:
// a conflict leaves no person behind.
func TestCreatePermissionsWithNewUser(t *testing.T) {
	t.Parallel()
	f := newPermissionFixture(t)
	ctx := context.Background()
	users := func() int {
		return count(t, f.s.db, `SELECT count(*) FROM account_users WHERE account_id = ?`, f.acc.ID)
	}
	before := users()
	clash := 468357
	_, err := f.s.createPermissions(ctx, f.acc.ID, NewPermission{Type: models.AuthTypeKeypadCode, Name: "Courier", Code: &clash,
		Devices: map[int64]models.PushStatus{f.devs[0].ID: models.PushPending, f.devs[1].ID: models.PushPending},
		NewUser: &models.AccountUser{Name: "Courier", AddedVia: models.AddedViaKeypad}}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	var conflict *PermissionConflict
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, ConflictCodeInUse, conflict.Reason)
	assert.Equal(t, before, users(), "no person is left behind")

	code := 514236
	perms, err := f.s.createPermissions(ctx, f.acc.ID, NewPermission{Type: models.AuthTypeKeypadCode, Name: "Courier", Code: &code,
		Devices: map[int64]models.PushStatus{f.devs[0].ID: models.PushPending, f.devs[1].ID: models.PushPending},
		NewUser: &models.AccountUser{Name: "Courier", AddedVia: models.AddedViaKeypad}}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	require.Len(t, perms, 2)
	require.NotNil(t, perms[0].AccountUserID)
	assert.Equal(t, perms[0].AccountUserID, perms[1].AccountUserID, "one person holds the code on both devices")
	u, err := f.s.FindAccountUser(ctx, f.acc.ID, *perms[0].AccountUserID)
	require.NoError(t, err)
	assert.Equal(t, "Courier", u.Name)
	assert.Equal(t, models.AddedViaKeypad, u.AddedVia)
	assert.Empty(t, u.Email)
	assert.Equal(t, before+1, users())
}

// A bulk update is one transaction: a conflict in the second change undoes the first.
func TestUpdatePermissionsAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newPermissionFixture(t)
	ctx := context.Background()
	code := 514236
	perms, err := f.s.createPermissions(ctx, f.acc.ID, NewPermission{AccountUserID: f.user.ID, Type: models.AuthTypeKeypadCode, Name: "Dora", Code: &code,
		Devices: map[int64]models.PushStatus{f.devs[0].ID: models.PushPending}}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	mine := perms[0]
	renamed, clash := "Dora E.", 468357
	audits := auditCount(t, f.s, models.AuditPermissionChanged)

	_, err = f.s.updatePermissions(ctx, f.acc.ID, []PermissionUpdate{
		{ID: mine.ID, Change: PermissionChange{Name: &renamed}},
		{ID: mine.ID, Change: PermissionChange{Code: &clash}},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionChanged})
	var conflict *PermissionConflict
	require.ErrorAs(t, err, &conflict)
	got, err := f.s.FindAuthorization(ctx, f.acc.ID, mine.ID)
	require.NoError(t, err)
	assert.Equal(t, "Dora", got.Name, "the first change was rolled back")
	assert.Equal(t, audits, auditCount(t, f.s, models.AuditPermissionChanged))

	_, err = f.s.updatePermissions(ctx, f.acc.ID, []PermissionUpdate{
		{ID: mine.ID, Change: PermissionChange{Name: &renamed}}, {ID: 999999, Change: PermissionChange{Name: &renamed}},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionChanged})
	require.ErrorIs(t, err, models.ErrNotFound)

	on := false
	out, err := f.s.updatePermissions(ctx, f.acc.ID, []PermissionUpdate{
		{ID: mine.ID, Change: PermissionChange{Name: &renamed}},
		{ID: f.keypad.ID, Change: PermissionChange{Enabled: &on}},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionChanged})
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.Equal(t, "Dora E.", out[0].Name)
	assert.False(t, out[1].Enabled)
	assert.Equal(t, models.PushPending, out[1].PushStatus, "a change the device must take is pending")
	assert.Equal(t, audits+1, auditCount(t, f.s, models.AuditPermissionChanged), "one audit row")
}

// A bulk revocation is one transaction: an unknown id, or one of another account, revokes
// nothing.
func TestRevokePermissionsAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newPermissionFixture(t)
	ctx := context.Background()
	perms, err := f.s.createPermissions(ctx, f.acc.ID, NewPermission{AccountUserID: f.user.ID, Type: models.AuthTypeApp, Name: "Dora",
		Devices: map[int64]models.PushStatus{f.devs[0].ID: models.PushPending, f.devs[1].ID: models.PushPending}},
		models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	other, _ := createAccount(t, f.s, "other@example.com")

	_, err = f.s.revokePermissions(ctx, f.acc.ID, []int64{perms[0].ID, 999999}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked})
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = f.s.revokePermissions(ctx, other.ID, []int64{perms[0].ID}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked})
	require.ErrorIs(t, err, models.ErrNotFound)
	still, err := f.s.FindUserAuthorizations(ctx, f.acc.ID, f.user.ID)
	require.NoError(t, err)
	for _, a := range still {
		assert.Nil(t, a.RevokedAt)
	}

	revoked, err := f.s.revokePermissions(ctx, f.acc.ID, []int64{perms[0].ID, f.keypad.ID, perms[0].ID},
		models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked})
	require.NoError(t, err)
	require.Len(t, revoked, 2, "an id given twice counts once")
	for _, a := range revoked {
		require.NotNil(t, a.RevokedAt)
	}
	// Never on the device: gone at once; on the device: kept until the device confirms.
	_, err = f.s.FindAuthorization(ctx, f.acc.ID, perms[0].ID)
	assert.True(t, errors.Is(err, models.ErrNotFound))
	kept, err := f.s.FindAuthorization(ctx, f.acc.ID, f.keypad.ID)
	require.NoError(t, err)
	assert.NotNil(t, kept.RevokedAt)
	_, err = f.s.revokePermissions(ctx, f.acc.ID, []int64{f.keypad.ID}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked})
	require.ErrorIs(t, err, models.ErrNotFound, "already revoked")
}
