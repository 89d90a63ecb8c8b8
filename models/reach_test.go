package models

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOperatorCanOpen(t *testing.T) {
	t.Parallel()
	owner := Login{ID: 1, IsMain: true}
	gus := Login{ID: 2, Rights: RightAuthorizations, Limited: true, DeviceIDs: []int64{3}}
	viewer := Login{ID: 3, Rights: RightActivityLog | RightRightsManagement}
	userID := int64(9)
	key := Login{ID: 4, AccountUserID: &userID}
	for _, c := range []struct {
		name string
		op   Operator
		want map[int64]bool
	}{
		{"owner", SessionOperator(owner), map[int64]bool{1: true, 3: true}},
		{"limited, authorizations", SessionOperator(gus), map[int64]bool{1: false, 3: true}},
		{"no operate or authorizations right", SessionOperator(viewer), map[int64]bool{1: false, 3: false}},
		{"owner's token, account scope only", TokenOperator(owner, Scopes{ScopeAccount}), map[int64]bool{1: false, 3: false}},
		{"owner's token, action scope", TokenOperator(owner, Scopes{ScopeSmartlockAction}), map[int64]bool{1: true, 3: true}},
		{"limited login's token, auth scope", TokenOperator(gus, Scopes{ScopeSmartlockAuth}), map[int64]bool{1: false, 3: true}},
		{"limited login's token, action scope without the right", TokenOperator(gus, Scopes{ScopeSmartlockAction}), map[int64]bool{3: false}},
		{"web key", WebKeyOperator(key, []int64{3}), map[int64]bool{1: false, 3: true}},
	} {
		for id, want := range c.want {
			assert.Equal(t, want, c.op.CanOpen(id), "%s, device %d", c.name, id)
		}
	}
}

func TestCheckReach(t *testing.T) {
	t.Parallel()
	gus := SessionOperator(Login{ID: 2, Rights: RightAuthorizations, Limited: true, DeviceIDs: []int64{3}})
	require.NoError(t, gus.CheckReach(Reach{Touches: []int64{3}, Opens: []int64{3}}))
	require.NoError(t, gus.CheckReach(Reach{}))

	err := gus.CheckReach(Reach{Touches: []int64{1, 3}, Opens: []int64{1, 3}})
	var refused *ReachRefused
	require.True(t, errors.As(err, &refused))
	assert.ErrorIs(t, err, ErrReach)
	assert.Equal(t, ReachRefused{Hidden: 1}, *refused, "a device both touched and opened counts once")
	assert.Equal(t, "reach.hidden", refused.MessageKey())

	narrow := TokenOperator(Login{ID: 1, IsMain: true}, Scopes{ScopeAccount})
	require.True(t, errors.As(narrow.CheckReach(Reach{Touches: []int64{1}, Opens: []int64{1, 2}}), &refused))
	assert.Equal(t, ReachRefused{NotOpening: 2}, *refused)
	assert.Equal(t, "reach.not_opening", refused.MessageKey())
	assert.NoError(t, narrow.CheckReach(Reach{Touches: []int64{1, 2}}), "it sees every device: it may change a person")
}

func TestPersonDevicesAndGrantOpens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	auths := []Authorization{
		{DeviceID: 1, Type: AuthTypeApp, RemoteAllowed: true},
		{DeviceID: 2, Type: AuthTypeApp},
		{DeviceID: 3, Type: AuthTypeKeypadCode},
		{DeviceID: 4, Type: AuthTypeApp, RemoteAllowed: true, RevokedAt: &now},
		{DeviceID: 1, Type: AuthTypeKeypadCode},
	}
	assert.Equal(t, []int64{1, 2, 3}, PersonDevices(auths))
	assert.Equal(t, []int64{1}, WebKeyDevices(auths))

	all := []int64{1, 2, 3}
	assert.Equal(t, all, GrantOpens(Grant{Rights: RightOperateDevices}, all))
	assert.Equal(t, []int64{2}, GrantOpens(Grant{Rights: RightAuthorizations, Limited: true, DeviceIDs: []int64{2}}, all))
	assert.Empty(t, GrantOpens(Grant{Rights: RightsAll &^ (RightOperateDevices | RightAuthorizations)}, all))
}

func TestScopesBeyond(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Scopes{ScopeSmartlockAction}, Scopes{ScopeAccount, ScopeSmartlockAction}.Beyond(Scopes{ScopeAccount}))
	assert.Empty(t, Scopes{ScopeSmartlockReadOnly}.Beyond(Scopes{ScopeSmartlock}), "the broad scope includes its read-only form")
}
