package db

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A new sub-account's link to set its password and its email are written with it, or not at
// all; an update changes only what it names, a new password ends the sessions and a new email
// voids the reset links that went to the old one.
func TestSubAccountLinkAndUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, main := createAccount(t, s, "owner@example.com")
	other, _ := createAccount(t, s, "other@example.com")
	link := &PasswordLink{TokenHash: "link-hash", Expires: s.Now().Add(time.Hour)}

	_, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "owner@example.com", Name: "Dup", PasswordLink: link})
	require.ErrorIs(t, err, models.ErrConflict)
	assert.Zero(t, count(t, s.db, `SELECT count(*) FROM password_resets`), "no link without its login")

	sam, err := createSubAccount(ctx, s, NewSubAccount{AccountID: acc.ID, CreatedBy: main.ID, Email: "sam@example.com", Name: "Sam",
		Grant: models.Grant{Rights: models.RightOperateDevices}, PasswordLink: link})
	require.NoError(t, err)
	found, err := s.FindPasswordResetLogin(ctx, "link-hash")
	require.NoError(t, err)
	assert.Equal(t, sam.ID, found.ID)

	name := "Samuel"
	require.NoError(t, updateSubAccount(ctx, s, acc.ID, sam.ID, SubAccountUpdate{Name: &name}))
	now, err := s.FindLogin(ctx, acc.ID, sam.ID)
	require.NoError(t, err)
	assert.Equal(t, "Samuel", now.Name)
	assert.Equal(t, sam.Email, now.Email)
	assert.Equal(t, sam.Grant(), now.Grant(), "the grant stays when none is given")
	_, err = s.FindPasswordResetLogin(ctx, "link-hash")
	require.NoError(t, err, "the link still works")

	taken := "owner@example.com"
	require.ErrorIs(t, updateSubAccount(ctx, s, acc.ID, sam.ID, SubAccountUpdate{Email: &taken, Name: &name}), models.ErrConflict)
	newEmail := "Samuel@Example.com"
	require.NoError(t, updateSubAccount(ctx, s, acc.ID, sam.ID, SubAccountUpdate{Email: &newEmail}))
	now, err = s.FindLogin(ctx, acc.ID, sam.ID)
	require.NoError(t, err)
	assert.Equal(t, "samuel@example.com", now.Email)
	_, err = s.FindPasswordResetLogin(ctx, "link-hash")
	assert.ErrorIs(t, err, models.ErrNotFound, "the link went to the old address")

	require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: "sess-of-sam", LoginID: &sam.ID, Data: []byte("x"), CreatedAt: s.Now(), LastSeenAt: s.Now()}))
	hash := "new-hash"
	g := models.Grant{Rights: models.RightsAll}
	require.NoError(t, updateSubAccount(ctx, s, acc.ID, sam.ID, SubAccountUpdate{PasswordHash: &hash, Grant: &g}))
	_, stored, err := s.FindLoginByEmail(ctx, "samuel@example.com")
	require.NoError(t, err)
	assert.Equal(t, "new-hash", stored)
	_, err = s.FindSession(ctx, "sess-of-sam")
	assert.ErrorIs(t, err, models.ErrNotFound, "a new password ends its sessions")
	now, err = s.FindLogin(ctx, acc.ID, sam.ID)
	require.NoError(t, err)
	assert.Equal(t, models.RightsAll, now.Rights)

	require.ErrorIs(t, updateSubAccount(ctx, s, acc.ID, main.ID, SubAccountUpdate{Name: &name}), models.ErrNotFound, "never the main login")
	require.ErrorIs(t, updateSubAccount(ctx, s, other.ID, sam.ID, SubAccountUpdate{Name: &name}), models.ErrNotFound, "never another account's")
}
