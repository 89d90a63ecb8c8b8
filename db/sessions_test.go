package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// FindSessionWithLogin reads the session with its login and account as they are now (rights,
// a limited login's devices), and the session alone when it has no login (any more).
func TestFindSessionWithLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := newTestStore(t)
	acc, main := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "Back door"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	sub, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "sam@example.com", Name: "Sam",
		Grant: models.Grant{Rights: models.RightOperateDevices, Limited: true, DeviceIDs: []int64{devs[1].ID}}})
	require.NoError(t, err)
	now := clock.Now()
	for hash, login := range map[string]*int64{"main": &main.ID, "sub": &sub.ID, "anon": nil} {
		require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: hash, LoginID: login, Data: []byte("d"), CreatedAt: now, LastSeenAt: now}))
	}

	row, err := s.FindSessionWithLogin(ctx, "main")
	require.NoError(t, err)
	plain, err := s.FindSession(ctx, "main")
	require.NoError(t, err)
	require.NotNil(t, row.Login)
	require.NotNil(t, row.Account)
	login, account, err := s.FindSessionLogin(ctx, main.ID)
	require.NoError(t, err)
	assert.Equal(t, login, *row.Login, "the same login as FindSessionLogin reads")
	assert.Equal(t, account, *row.Account)
	row.Login, row.Account = nil, nil
	assert.Equal(t, plain, row, "the same session as FindSession reads")

	row, err = s.FindSessionWithLogin(ctx, "sub")
	require.NoError(t, err)
	require.NotNil(t, row.Login)
	assert.True(t, row.Login.Limited)
	assert.Equal(t, []int64{devs[1].ID}, row.Login.DeviceIDs, "a limited login's devices")

	// Rights changed meanwhile are read with the next lookup.
	require.NoError(t, updateSubAccountGrant(ctx, s, acc.ID, sub.ID, models.Grant{Rights: models.RightsAll}))
	row, err = s.FindSessionWithLogin(ctx, "sub")
	require.NoError(t, err)
	assert.Equal(t, models.RightsAll, row.Login.Rights)
	assert.False(t, row.Login.Limited)
	assert.Empty(t, row.Login.DeviceIDs)

	row, err = s.FindSessionWithLogin(ctx, "anon")
	require.NoError(t, err)
	assert.Nil(t, row.LoginID)
	assert.Nil(t, row.Login)

	_, err = s.FindSessionWithLogin(ctx, "nope")
	require.ErrorIs(t, err, models.ErrNotFound)

	// A session whose login is gone (the foreign key's cascade ends it; were it left behind, it
	// would come without a login, and the middleware ends it).
	require.NoError(t, deleteSubAccount(ctx, s, acc.ID, sub.ID))
	row, err = s.FindSessionWithLogin(ctx, "sub")
	if err == nil {
		assert.Nil(t, row.Login)
	} else {
		require.ErrorIs(t, err, models.ErrNotFound)
	}
}
