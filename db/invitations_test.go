package db

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// invitationFixture is an account with a device and a web user holding an app permission with
// remote access: someone who can be invited.
type invitationFixture struct {
	s     *Store
	clock *testClock
	acc   models.Account
	owner models.Login
	user  models.AccountUser
	dev   models.Device
}

func newInvitationFixture(t *testing.T) invitationFixture {
	t.Helper()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, owner := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"}}, models.AuditEntry{Actor: "t", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	u, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: "Dora", Email: "dora@example.com", Language: "de",
		AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	_, err = s.createPermissions(ctx, acc.ID, NewPermission{AccountUserID: u.ID, Type: models.AuthTypeApp, Name: "Dora", RemoteAllowed: true,
		Devices: map[int64]models.PushStatus{devs[0].ID: models.PushPortierOnly}}, models.AuditEntry{Actor: "t", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	return invitationFixture{s: s, clock: clock, acc: acc, owner: owner, user: u, dev: devs[0]}
}

// invite creates an invitation with the given token and code hashes and an email.
func (f invitationFixture) invite(t *testing.T, token, code string) (models.Invitation, error) {
	t.Helper()
	return f.s.createInvitation(context.Background(), f.acc.ID, NewInvitation{AccountUserID: f.user.ID, TokenHash: token, CodeHash: code,
		Language: f.user.Language}, func(inv models.Invitation) (models.OutboxMessage, error) {
		return models.OutboxMessage{To: f.user.Email, Subject: "Invitation", Text: "expires " + inv.ExpiresAt.Format(time.RFC3339)}, nil
	}, models.AuditEntry{Actor: f.owner.Email, Kind: models.AuditInvitationSent})
}

func (f invitationFixture) state(t *testing.T, token string) models.InvitationState {
	t.Helper()
	inv, err := f.s.FindInvitationByToken(context.Background(), token)
	require.NoError(t, err)
	return inv.State(f.clock.Now())
}

// An invitation is pending for 48 hours to the nanosecond after its creation by the store's
// clock, and expired from then on; its email is queued with it.
func TestInvitationExpiresAfter48Hours(t *testing.T) {
	t.Parallel()
	f := newInvitationFixture(t)
	inv, err := f.invite(t, "tok1", "code1")
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now().Add(48*time.Hour), inv.ExpiresAt)
	assert.Equal(t, models.InvitationPending, f.state(t, "tok1"))
	mails, err := f.s.FindMailTo(context.Background(), "dora@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, inv.ExpiresAt.Format(time.RFC3339), "the email knows the stored expiry")
	assert.Equal(t, 1, count(t, f.s.db, `SELECT count(*) FROM audit_log WHERE kind = ?`, models.AuditInvitationSent))

	f.clock.Advance(47*time.Hour + 59*time.Minute)
	assert.Equal(t, models.InvitationPending, f.state(t, "tok1"))
	f.clock.Advance(59*time.Second + 999*time.Millisecond)
	assert.Equal(t, models.InvitationPending, f.state(t, "tok1"), "a millisecond before 48 h")
	f.clock.Advance(time.Millisecond)
	assert.Equal(t, models.InvitationExpired, f.state(t, "tok1"), "exactly 48 h")
	_, err = f.s.acceptInvitation(context.Background(), inv.ID, "hash", models.AuditEntry{Kind: models.AuditInvitationAccepted})
	assert.ErrorIs(t, err, ErrInvitationClosed, "an expired invitation cannot be accepted")
	assert.Equal(t, 0, count(t, f.s.db, `SELECT count(*) FROM logins WHERE account_user_id IS NOT NULL`))
}

// A new invitation revokes the open one: the old link and code are dead, the new ones work.
func TestInvitationRegenerateKillsTheOld(t *testing.T) {
	t.Parallel()
	f := newInvitationFixture(t)
	ctx := context.Background()
	old, err := f.invite(t, "tok1", "code1")
	require.NoError(t, err)
	f.clock.Advance(time.Hour)
	fresh, err := f.invite(t, "tok2", "code2")
	require.NoError(t, err)
	assert.Equal(t, models.InvitationRevoked, f.state(t, "tok1"))
	byCode, err := f.s.FindInvitationByCode(ctx, "code1")
	require.NoError(t, err)
	assert.Equal(t, models.InvitationRevoked, byCode.State(f.clock.Now()))
	byCode, err = f.s.FindInvitationByCode(ctx, "code2")
	require.NoError(t, err)
	assert.Equal(t, fresh.ID, byCode.ID)
	assert.Equal(t, models.InvitationPending, byCode.State(f.clock.Now()))
	_, err = f.s.acceptInvitation(ctx, old.ID, "hash", models.AuditEntry{Kind: models.AuditInvitationAccepted})
	assert.ErrorIs(t, err, ErrInvitationClosed)

	list, err := f.s.FindUserInvitations(ctx, f.acc.ID, f.user.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, fresh.ID, list[0].ID, "latest first")
	mails, err := f.s.FindMailTo(ctx, "dora@example.com")
	require.NoError(t, err)
	assert.Len(t, mails, 2)

	// Another account sees none of them.
	other, _ := createAccount(t, f.s, "other@example.com")
	list, err = f.s.FindUserInvitations(ctx, other.ID, f.user.ID)
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = f.s.createInvitation(ctx, other.ID, NewInvitation{AccountUserID: f.user.ID, TokenHash: "t3", CodeHash: "c3"}, nil,
		models.AuditEntry{Kind: models.AuditInvitationSent})
	assert.ErrorIs(t, err, models.ErrNotFound)

	// A colliding code is told apart, so the caller can draw another.
	_, err = f.invite(t, "tok4", "code2")
	assert.ErrorIs(t, err, ErrInvitationCodeTaken)
}

// Accepting creates the web-key login once; a second accept is refused.
func TestAcceptInvitationOnce(t *testing.T) {
	t.Parallel()
	f := newInvitationFixture(t)
	ctx := context.Background()
	inv, err := f.invite(t, "tok1", "code1")
	require.NoError(t, err)
	login, err := f.s.acceptInvitation(ctx, inv.ID, "hash-1", models.AuditEntry{Kind: models.AuditInvitationAccepted, IP: "192.0.2.1"})
	require.NoError(t, err)
	require.NotNil(t, login.AccountUserID)
	assert.Equal(t, f.user.ID, *login.AccountUserID)
	assert.True(t, login.WebKey())
	assert.False(t, login.IsMain)
	assert.Equal(t, models.Rights(0), login.Rights)
	assert.Equal(t, models.Rights(0), login.EffectiveRights())
	assert.Equal(t, "dora@example.com", login.Email)
	assert.Equal(t, "Dora", login.Name)
	assert.Equal(t, "de", login.Language)
	_, hash, err := f.s.FindLoginByEmail(ctx, "dora@example.com")
	require.NoError(t, err)
	assert.Equal(t, "hash-1", hash)
	assert.Equal(t, models.InvitationAccepted, f.state(t, "tok1"))
	assert.Equal(t, 1, count(t, f.s.db, `SELECT count(*) FROM audit_log WHERE kind = ? AND login_id = ?`, models.AuditInvitationAccepted, login.ID))

	_, err = f.s.acceptInvitation(ctx, inv.ID, "hash-2", models.AuditEntry{Kind: models.AuditInvitationAccepted})
	assert.ErrorIs(t, err, ErrInvitationClosed)
	_, hash, err = f.s.FindLoginByEmail(ctx, "dora@example.com")
	require.NoError(t, err)
	assert.Equal(t, "hash-1", hash, "the refused second accept changed nothing")

	// A later invitation never changes the login (its email and password are its holder's; a
	// forgotten password is reset on the sign-in page): it is refused, and nothing is written.
	_, err = f.s.db.Writer.ExecContext(ctx, `INSERT INTO sessions (token_hash, login_id, data, created_at, last_seen_at) VALUES ('s1', ?, x'', ?, ?)`,
		login.ID, f.s.now(), f.s.now())
	require.NoError(t, err)
	again, err := f.invite(t, "tok2", "code2")
	require.NoError(t, err)
	_, err = f.s.acceptInvitation(ctx, again.ID, "hash-3", models.AuditEntry{Kind: models.AuditInvitationAccepted})
	var refused *models.InvitationRefused
	require.True(t, errors.As(err, &refused), "%v", err)
	assert.Equal(t, models.RefusedHasWebKey, refused.Reason)
	assert.Equal(t, models.InvitationPending, f.state(t, "tok2"))
	_, hash, err = f.s.FindLoginByEmail(ctx, "dora@example.com")
	require.NoError(t, err)
	assert.Equal(t, "hash-1", hash)
	assert.Equal(t, 1, count(t, f.s.db, `SELECT count(*) FROM logins WHERE account_user_id = ?`, f.user.ID))
	assert.Equal(t, 1, count(t, f.s.db, `SELECT count(*) FROM sessions WHERE login_id = ?`, login.ID))
}

// An email another login signs in with is refused, and nothing is written: the invitation
// stays pending, no login appears, no audit row.
func TestAcceptInvitationEmailTaken(t *testing.T) {
	t.Parallel()
	f := newInvitationFixture(t)
	ctx := context.Background()
	inv, err := f.invite(t, "tok1", "code1")
	require.NoError(t, err)
	createAccount(t, f.s, "dora@example.com") // Dora owns another account with this email
	logins := count(t, f.s.db, `SELECT count(*) FROM logins`)
	audits := count(t, f.s.db, `SELECT count(*) FROM audit_log`)

	_, err = f.s.acceptInvitation(ctx, inv.ID, "hash", models.AuditEntry{Kind: models.AuditInvitationAccepted})
	var refused *models.InvitationRefused
	require.True(t, errors.As(err, &refused), "%v", err)
	assert.Equal(t, models.RefusedEmailTaken, refused.Reason)
	assert.ErrorIs(t, err, models.ErrConflict)
	assert.Equal(t, models.InvitationPending, f.state(t, "tok1"))
	assert.Equal(t, logins, count(t, f.s.db, `SELECT count(*) FROM logins`))
	assert.Equal(t, audits, count(t, f.s.db, `SELECT count(*) FROM audit_log`))
	assert.Equal(t, 0, count(t, f.s.db, `SELECT count(*) FROM logins WHERE account_user_id IS NOT NULL`))
}

// Only users with an email and a permission a web key can use are invited; a refusal writes
// nothing (no invitation, no email).
func TestCreateInvitationRefusals(t *testing.T) {
	t.Parallel()
	f := newInvitationFixture(t)
	ctx := context.Background()
	noMail, err := createTestUser(f.s, models.AccountUser{AccountID: f.acc.ID, Name: "Ben", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	_, err = f.s.createInvitation(ctx, f.acc.ID, NewInvitation{AccountUserID: noMail.ID, TokenHash: "t", CodeHash: "c"}, nil, models.AuditEntry{Kind: models.AuditInvitationSent})
	var refused *models.InvitationRefused
	require.True(t, errors.As(err, &refused))
	assert.Equal(t, models.RefusedNoEmail, refused.Reason)

	// A keypad code or an app permission without remote access is no use to a web key.
	carl, err := createTestUser(f.s, models.AccountUser{AccountID: f.acc.ID, Name: "Carl", Email: "carl@example.com", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	_, err = f.s.createPermissions(ctx, f.acc.ID, NewPermission{AccountUserID: carl.ID, Type: models.AuthTypeApp, Name: "Carl",
		Devices: map[int64]models.PushStatus{f.dev.ID: models.PushPortierOnly}}, models.AuditEntry{Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	_, err = f.s.createInvitation(ctx, f.acc.ID, NewInvitation{AccountUserID: carl.ID, TokenHash: "t", CodeHash: "c"}, nil, models.AuditEntry{Kind: models.AuditInvitationSent})
	require.True(t, errors.As(err, &refused))
	assert.Equal(t, models.RefusedNoWebKey, refused.Reason)
	assert.Equal(t, 0, count(t, f.s.db, `SELECT count(*) FROM invitations`))
	assert.Equal(t, 0, count(t, f.s.db, `SELECT count(*) FROM outbox`))

	// A failing email writes nothing either.
	_, err = f.s.createInvitation(ctx, f.acc.ID, NewInvitation{AccountUserID: f.user.ID, TokenHash: "t", CodeHash: "c"},
		func(models.Invitation) (models.OutboxMessage, error) {
			return models.OutboxMessage{}, errors.New("broken template")
		},
		models.AuditEntry{Kind: models.AuditInvitationSent})
	require.Error(t, err)
	assert.Equal(t, 0, count(t, f.s.db, `SELECT count(*) FROM invitations`))

	// Deleting the user revokes the open invitation.
	_, err = f.invite(t, "tok", "code")
	require.NoError(t, err)
	require.NoError(t, deleteTestUser(f.s, f.acc.ID, f.user.ID))
	assert.Equal(t, models.InvitationRevoked, f.state(t, "tok"))
}
