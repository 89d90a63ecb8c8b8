package db

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// addLogin adds a sub-account login with rights (and, for a web-key holder, an account user).
func addLogin(t *testing.T, s *Store, accountID int64, email string, rights models.Rights, accountUser *int64) models.Login {
	t.Helper()
	ctx := context.Background()
	res, err := s.db.Writer.ExecContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at, account_user_id)
		VALUES (?, ?, ?, 'x', 0, ?, ?, ?, ?)`, accountID, email, "Sub "+email, rights, s.now(), s.now(), accountUser)
	require.NoError(t, err)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	l, err := s.FindLogin(ctx, accountID, id)
	require.NoError(t, err)
	return l
}

type subsFixture struct {
	s                  *Store
	acc, other         models.Account
	owner              models.Login
	front, gate, entry models.Device // a lock, a smart door, an opener
	foreign            models.Device // of the other account
}

func newSubsFixture(t *testing.T) subsFixture {
	t.Helper()
	s, _ := newTestStore(t)
	acc, owner := createAccount(t, s, "anna@example.com")
	other, _ := createAccount(t, s, "bert@example.com")
	_, ds := addBridge(t, s, acc.ID,
		models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"},
		models.Device{Type: models.DeviceSmartDoor, NukiID: 2, Name: "Garden gate"},
		models.Device{Type: models.DeviceOpener, NukiID: 3, Name: "Building entrance"})
	_, os := addBridge(t, s, other.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Their door"})
	return subsFixture{s: s, acc: acc, other: other, owner: owner, front: ds[0], gate: ds[1], entry: ds[2], foreign: os[0]}
}

func (f subsFixture) replace(loginID int64, subs ...models.LogSubscription) error {
	ctx := context.Background()
	return f.s.InTx(ctx, func(tx *Tx) error {
		if err := tx.ReplaceLogSubscriptions(ctx, f.acc.ID, loginID, subs); err != nil {
			return err
		}
		return tx.Audit(ctx, models.AuditEntry{AccountID: &f.acc.ID, Actor: "test", Kind: models.AuditLogNotificationsChanged})
	})
}

func (f subsFixture) stored(t *testing.T, loginID int64) []models.LogSubscription {
	t.Helper()
	subs, err := f.s.FindLogSubscriptions(context.Background(), f.acc.ID, loginID)
	require.NoError(t, err)
	return subs
}

// Saving replaces the whole set; a device of another account, a kind the device does not
// have, or a login of another account refuses the save and leaves the set as it was.
func TestReplaceLogSubscriptions(t *testing.T) {
	t.Parallel()
	f := newSubsFixture(t)
	ctx := context.Background()
	audits := func() int {
		return count(t, f.s.db, `SELECT count(*) FROM audit_log WHERE account_id = ? AND kind = ?`, f.acc.ID, models.AuditLogNotificationsChanged)
	}
	unlock := models.LogSubscription{DeviceID: f.front.ID, Kind: models.LogKindUnlock}
	door := models.LogSubscription{DeviceID: f.front.ID, Kind: models.LogKindDoor}
	ring := models.LogSubscription{DeviceID: f.entry.ID, Kind: models.LogKindRing}
	require.NoError(t, f.replace(f.owner.ID, unlock, door, ring, unlock))
	assert.ElementsMatch(t, []models.LogSubscription{unlock, door, ring}, f.stored(t, f.owner.ID))
	require.NoError(t, f.replace(f.owner.ID, ring))
	assert.Equal(t, []models.LogSubscription{ring}, f.stored(t, f.owner.ID), "replaced, not added")
	assert.Equal(t, 2, audits())

	for name, bad := range map[string]models.LogSubscription{
		"another account's device": {DeviceID: f.foreign.ID, Kind: models.LogKindUnlock},
		"a device that is not":     {DeviceID: f.foreign.ID + 100, Kind: models.LogKindUnlock},
		"ring at a lock":           {DeviceID: f.front.ID, Kind: models.LogKindRing},
		"unlock at an opener":      {DeviceID: f.entry.ID, Kind: models.LogKindUnlock},
		"an unknown kind":          {DeviceID: f.front.ID, Kind: "everything"},
	} {
		err := f.replace(f.owner.ID, unlock, bad)
		assert.Error(t, err, name)
		assert.Equal(t, []models.LogSubscription{ring}, f.stored(t, f.owner.ID), "%s: nothing written", name)
	}
	assert.ErrorIs(t, f.replace(f.owner.ID, models.LogSubscription{DeviceID: f.foreign.ID, Kind: models.LogKindLock}), models.ErrNotFound)

	// A login of another account is not found, and its subscriptions are not this account's.
	theirs, _, err := f.s.FindLoginByEmail(ctx, "bert@example.com")
	require.NoError(t, err)
	assert.ErrorIs(t, f.replace(theirs.ID, unlock), models.ErrNotFound)
	assert.Empty(t, f.stored(t, theirs.ID))
	assert.Equal(t, 2, audits(), "refusals write no audit row")

	// A web-key holder has no log to follow.
	user, err := createTestUser(f.s, models.AccountUser{AccountID: f.acc.ID, Name: "Dora", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	key := addLogin(t, f.s, f.acc.ID, "dora@example.com", 0, &user.ID)
	assert.ErrorIs(t, f.replace(key.ID, unlock), models.ErrNotFound)

	// A removed device's subscriptions end with it.
	require.NoError(t, f.replace(f.owner.ID, unlock, ring))
	require.NoError(t, f.s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDevice(ctx, f.acc.ID, f.entry.ID) }))
	err = f.replace(f.owner.ID, unlock, ring)
	assert.ErrorIs(t, err, models.ErrNotFound, "no new subscription to a removed device")
}

// composed records what CreateActivityNotifying asked for.
type composed struct {
	notices []LogNotice
	fail    error
}

func (c *composed) compose(n LogNotice) ([]models.OutboxMessage, error) {
	c.notices = append(c.notices, n)
	if c.fail != nil {
		return nil, c.fail
	}
	var out []models.OutboxMessage
	for _, l := range n.Subscribers {
		out = append(out, models.OutboxMessage{To: l.Email, Subject: n.Device.Name + ": " + string(n.Kind), Text: "x"})
	}
	return out, nil
}

// A new entry of a subscribed kind queues the emails compose writes, in its transaction: a
// repeated event, another kind, a failed insert or a failed compose queue nothing. Logins
// that may no longer read the log get nothing.
func TestCreateActivityNotifyingQueuesWithTheNewEntryOnly(t *testing.T) {
	t.Parallel()
	f := newSubsFixture(t)
	ctx := context.Background()
	sam := addLogin(t, f.s, f.acc.ID, "sam@example.com", models.RightActivityLog, nil)
	nora := addLogin(t, f.s, f.acc.ID, "nora@example.com", models.RightsAll&^models.RightActivityLog, nil) // lost the right
	for _, l := range []models.Login{f.owner, sam, nora} {
		require.NoError(t, f.replace(l.ID, models.LogSubscription{DeviceID: f.front.ID, Kind: models.LogKindUnlock},
			models.LogSubscription{DeviceID: f.front.ID, Kind: models.LogKindDoor}))
	}
	mails := func() int { return count(t, f.s.db, `SELECT count(*) FROM outbox`) }
	entries := func() int { return entryCount(t, f.s, f.acc.ID) }
	event := models.Activity{AccountID: f.acc.ID, DeviceID: f.front.ID, At: f.s.Now(), Action: models.LogUnlock, Trigger: 255,
		Name: "Postman", Origin: models.OriginDevice, EventID: "ev-1"}

	var c composed
	isNew, err := f.s.CreateActivityNotifying(ctx, event, c.compose)
	require.NoError(t, err)
	assert.True(t, isNew)
	require.Len(t, c.notices, 1)
	n := c.notices[0]
	assert.Equal(t, models.LogKindUnlock, n.Kind)
	assert.Equal(t, "Front door", n.Device.Name)
	assert.Equal(t, "Postman", n.Entry.Name)
	assert.NotZero(t, n.Entry.ID)
	var to []string
	for _, l := range n.Subscribers {
		to = append(to, l.Email)
	}
	assert.Equal(t, []string{"anna@example.com", "sam@example.com"}, to, "not the login without the right")
	assert.Equal(t, 2, mails())
	queued, err := f.s.FindMailTo(ctx, "sam@example.com")
	require.NoError(t, err)
	require.Len(t, queued, 1)
	require.NotNil(t, queued[0].AccountID)
	assert.Equal(t, f.acc.ID, *queued[0].AccountID)

	// The same event again: not new, nothing composed or queued.
	isNew, err = f.s.CreateActivityNotifying(ctx, event, c.compose)
	require.NoError(t, err)
	assert.False(t, isNew)
	assert.Len(t, c.notices, 1)
	assert.Equal(t, 2, mails())

	// A kind nobody subscribed to (lock), and one nobody can (a configuration change).
	for i, action := range []int{models.LogLock, models.ActionConfigChanged} {
		e := event
		e.Action, e.EventID = action, "other-"+string(rune('a'+i))
		isNew, err = f.s.CreateActivityNotifying(ctx, e, c.compose)
		require.NoError(t, err)
		assert.True(t, isNew)
	}
	assert.Len(t, c.notices, 1)

	// One transaction: when compose fails, the entry is not stored either.
	before := entries()
	c.fail = errors.New("template broke")
	e := event
	e.Action, e.EventID = models.LogDoorOpened, "door-1"
	_, err = f.s.CreateActivityNotifying(ctx, e, c.compose)
	require.Error(t, err)
	assert.Equal(t, before, entries())
	assert.Equal(t, 2, mails())
	// And when the entry cannot be stored, nothing is composed.
	c.fail = nil
	e.Origin = "carrier pigeon" // refused by the table's CHECK
	_, err = f.s.CreateActivityNotifying(ctx, e, c.compose)
	require.Error(t, err)
	assert.Len(t, c.notices, 2, "only the failed compose above")
	assert.Equal(t, before, entries())
	assert.Equal(t, 2, mails())
	// Stored again properly, the door event is told.
	e.Origin = models.OriginDevice
	_, err = f.s.CreateActivityNotifying(ctx, e, c.compose)
	require.NoError(t, err)
	assert.Equal(t, models.LogKindDoor, c.notices[2].Kind)
	assert.Equal(t, 4, mails())
}

// What compose sees of a resident's entry is what is stored: that a resident did it, not who.
func TestCreateActivityNotifyingGivesTheResidentsEntryAnonymized(t *testing.T) {
	t.Parallel()
	f := newSubsFixture(t)
	ctx := context.Background()
	_, err := f.s.SyncDeviceAuthorizations(ctx, f.acc.ID, f.front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 7, Type: models.AuthTypeApp, Name: "Rita Resident", Enabled: true}})
	require.NoError(t, err)
	_, err = f.s.db.Writer.ExecContext(ctx, `UPDATE account_users SET kind = 'resident' WHERE account_id = ?`, f.acc.ID)
	require.NoError(t, err)
	require.NoError(t, f.replace(f.owner.ID, models.LogSubscription{DeviceID: f.front.ID, Kind: models.LogKindUnlatch}))
	var c composed
	_, err = f.s.CreateActivityNotifying(ctx, models.Activity{AccountID: f.acc.ID, DeviceID: f.front.ID, At: f.s.Now(), Action: models.LogUnlatch,
		Trigger: 5, AuthID: 7, Name: "Rita Resident", Origin: models.OriginDevice, EventID: "r-1"}, c.compose)
	require.NoError(t, err)
	require.Len(t, c.notices, 1)
	got := c.notices[0].Entry
	assert.True(t, got.Resident)
	assert.Empty(t, got.Name)
	assert.Zero(t, got.AuthID)
	assert.Nil(t, got.LoginID)
}
