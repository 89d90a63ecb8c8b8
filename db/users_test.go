package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Same name on different devices is suggested; two authorizations on one device never are (a
// device holds one per person).
func TestFindDuplicates(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	app := func(id uint32, name string) models.ReportedAuthorization {
		return models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeApp, Name: name, Enabled: true}
	}
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{app(2, "Ben"), app(3, "ben "), app(4, "Zoe")})
	require.NoError(t, err)
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[1].ID, []models.ReportedAuthorization{app(2, "BEN"), app(3, "Yann")})
	require.NoError(t, err)

	groups, err := s.FindDuplicates(ctx, acc.ID, nil)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, SameName, groups[0].Reason)
	require.Len(t, groups[0].Users, 2)
	assert.Equal(t, "Ben", groups[0].Users[0].User.Name)
	assert.Equal(t, []string{"A"}, groups[0].Users[0].Devices)
	assert.Equal(t, "BEN", groups[0].Users[1].User.Name)

	// A login that sees only B is shown the same people, without the names of other devices; the
	// users list likewise.
	groups, err = s.FindDuplicates(ctx, acc.ID, []int64{devs[1].ID})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Empty(t, groups[0].Users[0].Devices)
	assert.Equal(t, []string{"B"}, groups[0].Users[1].Devices)
	for _, tc := range []struct {
		only []int64
		want []string
	}{{[]int64{devs[1].ID}, nil}, {[]int64{}, nil}, {[]int64{devs[0].ID, devs[1].ID}, []string{"A"}}, {nil, []string{"A"}}} {
		rows, _, err := s.FindUsersPage(ctx, UserQuery{AccountID: acc.ID, Search: "Zoe", DeviceIDs: tc.only})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, tc.want, rows[0].Devices, "restricted to %v", tc.only)
	}

	// Merged, they are no longer suggested; the rename on the device keeps the link.
	ben := groups[0].Users[0].User.ID
	_, err = mergeTestUsers(s, acc.ID, ben, groups[0].Users[1].User.ID)
	require.NoError(t, err)
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[1].ID, []models.ReportedAuthorization{app(2, "Benjamin"), app(3, "Yann")})
	require.NoError(t, err)
	groups, err = s.FindDuplicates(ctx, acc.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, groups)
	auths, err := s.FindUserAuthorizations(ctx, acc.ID, ben)
	require.NoError(t, err)
	assert.Len(t, auths, 2, "Ben keeps both authorizations, whatever the device calls him now")
}

// Devices' time zones come from what they report; those reporting none get the fallback.
func TestFindDeviceZones(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, err = s.SaveReportedConfig(ctx, devs[0].ID, map[string]any{"timezoneId": 12})
	require.NoError(t, err)
	fallback, _ := time.LoadLocation("Asia/Kolkata")
	zones, err := s.FindDeviceZones(ctx, acc.ID, fallback)
	require.NoError(t, err)
	assert.Equal(t, "America/New_York", zones[devs[0].ID].String())
	assert.Equal(t, fallback, zones[devs[1].ID])
}

// A user's activity is what the devices reported for the user's authorizations, matched by
// device and the authorization's id there (never by name), and stays after a revocation; the
// Users list leaves revoked permissions out of a user's devices.
func TestUserActivityAndRevokedPermissions(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	other, _ := createAccount(t, s, "other@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	app := func(id uint32, name string) models.ReportedAuthorization {
		return models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeApp, Name: name, Enabled: true}
	}
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{app(2, "Ben"), app(3, "Zoe")})
	require.NoError(t, err)
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[1].ID, []models.ReportedAuthorization{app(3, "Ben")})
	require.NoError(t, err)
	users, err := s.FindActiveUsers(ctx, acc.ID)
	require.NoError(t, err)
	require.Len(t, users, 3)
	ben, benOnB := users[0], users[1]
	_, err = mergeTestUsers(s, acc.ID, ben.ID, benOnB.ID)
	require.NoError(t, err)

	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, e := range []models.Activity{
		{DeviceID: devs[0].ID, AuthID: 2, Name: "Ben"},           // Ben on A
		{DeviceID: devs[0].ID, AuthID: 3, Name: "Zoe"},           // Zoe on A: auth 3 is hers there
		{DeviceID: devs[1].ID, AuthID: 3, Name: "Ben (renamed)"}, // Ben on B: auth 3 there
		{DeviceID: devs[1].ID, AuthID: 0, Name: "Ben"},           // done in Portier: not a device authorization
	} {
		e.AccountID, e.At, e.Action, e.Origin, e.EventID = acc.ID, at.Add(time.Duration(i)*time.Minute), 1, models.OriginDevice, fmt.Sprint(i)
		_, err := s.CreateActivity(ctx, e)
		require.NoError(t, err)
	}
	acts, err := s.FindUserActivity(ctx, acc.ID, ben.ID, 20)
	require.NoError(t, err)
	require.Len(t, acts, 2)
	assert.Equal(t, "Ben (renamed)", acts[0].Name, "newest first, matched by id whatever the name")
	assert.Equal(t, devs[0].ID, acts[1].DeviceID)
	acts, err = s.FindUserActivity(ctx, other.ID, ben.ID, 20)
	require.NoError(t, err)
	assert.Empty(t, acts, "another account sees nothing")
	acts, err = s.FindUserActivity(ctx, acc.ID, ben.ID, 1)
	require.NoError(t, err)
	assert.Len(t, acts, 1)

	// Revoked on A: the list names only B, the device filter no longer finds Ben on A, and the
	// history stays.
	auths, err := s.FindUserAuthorizations(ctx, acc.ID, ben.ID)
	require.NoError(t, err)
	require.Len(t, auths, 2)
	_, err = s.revokePermission(ctx, acc.ID, auths[0].ID, models.AuditEntry{Actor: "t", Kind: models.AuditPermissionRevoked})
	require.NoError(t, err)
	rows, _, err := s.FindUsersPage(ctx, UserQuery{AccountID: acc.ID, Search: "ben"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, []string{"B"}, rows[0].Devices)
	rows, _, err = s.FindUsersPage(ctx, UserQuery{AccountID: acc.ID, DeviceID: devs[0].ID})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Zoe", rows[0].User.Name)
	acts, err = s.FindUserActivity(ctx, acc.ID, ben.ID, 20)
	require.NoError(t, err)
	assert.Len(t, acts, 2)
}

// A permission revoked while its creation was on the way to the device: the device took it after
// all, so the row comes back as a revocation to send instead of an authorization Portier forgot
// (which a sync would show as a new person).
func TestRevokedWhilePushedComesBackAsRevocation(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	u, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: "Dora", Email: "dora@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	created, err := s.createPermissions(ctx, acc.ID, NewPermission{AccountUserID: u.ID, Type: models.AuthTypeApp, Name: "Dora",
		Devices: map[int64]models.PushStatus{devs[0].ID: models.PushPending}}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	sent := created[0] // the device manager is sending this now

	_, err = s.revokePermission(ctx, acc.ID, sent.ID, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked})
	require.NoError(t, err)
	_, err = s.FindAuthorization(ctx, acc.ID, sent.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "no device had it: gone at once")

	id := uint32(7)
	revived, err := s.MarkPushed(ctx, sent, &id, models.PushApplied, "")
	require.NoError(t, err)
	assert.True(t, revived)
	work, err := s.FindPushWork(ctx)
	require.NoError(t, err)
	require.Len(t, work[devs[0].ID], 1)
	back := work[devs[0].ID][0]
	assert.NotNil(t, back.RevokedAt, "a revocation to send")
	require.NotNil(t, back.DeviceAuthID)
	assert.Equal(t, id, *back.DeviceAuthID)

	// The device reports it: a sync keeps it as the revocation, no new person.
	res, err := s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{{DeviceAuthID: id, Type: models.AuthTypeApp, Name: "Dora", Enabled: true}})
	require.NoError(t, err)
	assert.Zero(t, res.Added)
	require.NoError(t, s.MarkRevocationConfirmed(ctx, back.ID))
	_, err = s.FindAuthorization(ctx, acc.ID, back.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
}

// The same email is suggested too: written differently, or as the name a device gives a person.
func TestFindDuplicatesBySameEmail(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	web := func(name, email string) models.AccountUser {
		u, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: name, Email: email, AddedVia: models.AddedViaWeb})
		require.NoError(t, err)
		return u
	}
	dora := web("Dora Eck", "dora@example.com")
	web("Ben", "ben@example.com")
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{
		{DeviceAuthID: 2, Type: models.AuthTypeApp, Name: " Dora@Example.com", Enabled: true},
		{DeviceAuthID: 3, Type: models.AuthTypeApp, Name: "Zoe", Enabled: true}})
	require.NoError(t, err)

	n, err := s.CountDuplicates(ctx, acc.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	groups, err := s.FindDuplicates(ctx, acc.ID, nil)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, SameEmail, groups[0].Reason)
	require.Len(t, groups[0].Users, 2)
	assert.Equal(t, dora.ID, groups[0].Users[0].User.ID)
	assert.Equal(t, " Dora@Example.com", groups[0].Users[1].User.Name)
	assert.Equal(t, []string{"A"}, groups[0].Users[1].Devices)

	// An email changed to another's, written differently: suggested as well; merged, gone.
	ben, err := s.FindActiveUsers(ctx, acc.ID)
	require.NoError(t, err)
	for _, u := range ben {
		if u.Name == "Ben" {
			_, err = updateTestUser(s, acc.ID, u.ID, UserChange{Name: "Ben", Email: "DORA@example.com", Language: "en"})
			require.NoError(t, err)
		}
	}
	groups, err = s.FindDuplicates(ctx, acc.ID, nil)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Len(t, groups[0].Users, 3)
	for _, u := range groups[0].Users[1:] {
		_, err = mergeTestUsers(s, acc.ID, dora.ID, u.User.ID)
		require.NoError(t, err)
	}
	groups, err = s.FindDuplicates(ctx, acc.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, groups)
}
