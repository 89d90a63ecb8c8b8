package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A sub-account keeps its grant: a limited one sees only its devices (of its account, not
// removed), and its sessions and tokens go when it is deleted.
func TestSubAccountGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, main := createAccount(t, s, "owner@example.com")
	other, _ := createAccount(t, s, "other@example.com")
	added := models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded}
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "Back door"}}, added)
	require.NoError(t, err)
	_, otherDevs, err := s.CreateConnection(ctx, models.Connection{AccountID: other.ID, Kind: models.ConnectionSimulated, Name: "O"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 3, Name: "Not yours"}}, added)
	require.NoError(t, err)
	d1, d2, foreign := devs[0], devs[1], otherDevs[0]

	_, err = createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "x@example.com", Name: "X",
		Grant: models.Grant{Rights: models.RightOperateDevices, Limited: true, DeviceIDs: []int64{d1.ID, foreign.ID}}})
	require.ErrorIs(t, err, models.ErrNotFound, "another account's device cannot be granted")
	_, _, err = s.FindLoginByEmail(ctx, "x@example.com")
	require.ErrorIs(t, err, models.ErrNotFound, "nothing half-written")

	sub, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "Sam@Example.com", Name: "Sam",
		Grant: models.Grant{Rights: models.RightOperateDevices | models.RightActivityLog, Limited: true, DeviceIDs: []int64{d2.ID, d1.ID}}})
	require.NoError(t, err)
	assert.Equal(t, "sam@example.com", sub.Email)
	assert.True(t, sub.Limited)
	assert.ElementsMatch(t, []int64{d1.ID, d2.ID}, sub.DeviceIDs)
	assert.True(t, sub.SeesDevice(d1.ID))
	assert.False(t, sub.SeesDevice(foreign.ID))
	assert.Equal(t, &main.ID, sub.CreatedBy)

	_, hash, err := s.FindLoginByEmail(ctx, "sam@example.com")
	require.NoError(t, err)
	assert.Equal(t, NoPassword, hash, "no password until it sets one")

	_, err = createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "sam@example.com", Name: "Sam 2"})
	require.ErrorIs(t, err, models.ErrConflict)

	require.NoError(t, s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDevice(ctx, acc.ID, d2.ID) }))
	err = updateSubAccountGrant(ctx, s, acc.ID, sub.ID, models.Grant{Limited: true, DeviceIDs: []int64{d2.ID}})
	require.ErrorIs(t, err, models.ErrNotFound, "a removed device cannot be granted")

	require.NoError(t, updateSubAccountGrant(ctx, s, acc.ID, sub.ID, models.Grant{Rights: models.RightsAll}))
	sub, err = s.FindLogin(ctx, acc.ID, sub.ID)
	require.NoError(t, err)
	assert.False(t, sub.Limited)
	assert.Empty(t, sub.DeviceIDs)
	assert.True(t, sub.SeesDevice(d2.ID+1000))
	require.ErrorIs(t, updateSubAccountGrant(ctx, s, acc.ID, main.ID, models.Grant{}), models.ErrNotFound, "never the main login")
	require.ErrorIs(t, updateSubAccountGrant(ctx, s, other.ID, sub.ID, models.Grant{}), models.ErrNotFound, "never another account's")

	subs, err := s.FindSubAccounts(ctx, acc.ID)
	require.NoError(t, err)
	require.Len(t, subs, 1)

	_, err = createAPIToken(ctx, s, models.APIToken{AccountID: acc.ID, LoginID: sub.ID, Scopes: models.Scopes{models.ScopeAccount}}, "hash-of-sub")
	require.NoError(t, err)
	require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: "sess-of-sub", LoginID: &sub.ID, Data: []byte("x"), CreatedAt: s.Now(), LastSeenAt: s.Now()}))
	require.ErrorIs(t, deleteSubAccount(ctx, s, acc.ID, main.ID), models.ErrNotFound, "never the main login")
	require.NoError(t, deleteSubAccount(ctx, s, acc.ID, sub.ID))
	_, err = s.FindAPITokenByHash(ctx, "hash-of-sub")
	assert.ErrorIs(t, err, models.ErrNotFound, "its tokens die with it")
	_, err = s.FindSession(ctx, "sess-of-sub")
	assert.ErrorIs(t, err, models.ErrNotFound, "its sessions end")
}

// Devices added later are not seen by a limited login, except those it adds itself; an
// unlimited sub-account sees them all.
func TestDevicesAddedLaterAndLimitedLogins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, main := createAccount(t, s, "owner@example.com")
	add := func(by int64, nuki uint32) models.Device {
		t.Helper()
		_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
			[]models.Device{{Type: models.DeviceSmartLock3, NukiID: nuki, Name: "D"}}, models.AuditEntry{Actor: "test", LoginID: &by, Kind: models.AuditDevicesAdded})
		require.NoError(t, err)
		return devs[0]
	}
	first := add(main.ID, 1)
	limited, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "l@example.com", Name: "L",
		Grant: models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{first.ID}}})
	require.NoError(t, err)
	other, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "o@example.com", Name: "O",
		Grant: models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{first.ID}}})
	require.NoError(t, err)
	all, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "a@example.com", Name: "A",
		Grant: models.Grant{Rights: models.RightOperateDevices}})
	require.NoError(t, err)

	byMain, byLimited, byAll := add(main.ID, 2), add(limited.ID, 3), add(all.ID, 4)
	reload := func(l models.Login) models.Login {
		l, err := s.FindLogin(ctx, acc.ID, l.ID)
		require.NoError(t, err)
		return l
	}
	limited, other, all = reload(limited), reload(other), reload(all)
	assert.ElementsMatch(t, []int64{first.ID, byLimited.ID}, limited.DeviceIDs, "what it added itself, not the others'")
	assert.Equal(t, []int64{first.ID}, other.DeviceIDs)
	for _, d := range []models.Device{first, byMain, byLimited, byAll} {
		assert.True(t, all.SeesDevice(d.ID))
	}
	assert.False(t, all.Limited, "an unlimited login stays unlimited")
}
