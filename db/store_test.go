package db

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func firstRun(s *Store, email string) error {
	_, _, err := s.CreateAccount(context.Background(), CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountBox, AccountName: "ACME", Name: "Anna", Email: email},
		PasswordHash: "hash",
		FirstRun:     true,
		Audit:        models.AuditEntry{Kind: models.AuditSetup, Actor: email, IP: "192.0.2.1"},
	})
	return err
}

func TestCreateAccountFirstRun(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	n, err := s.CountAccounts(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	acc, login, err := s.CreateAccount(ctx, CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountBox, AccountName: "ACME", Name: "Anna", Email: "anna@example.com"},
		PasswordHash: "the-hash",
		FirstRun:     true,
		Audit:        models.AuditEntry{Kind: models.AuditSetup, Actor: "anna@example.com", IP: "192.0.2.1"},
	})
	require.NoError(t, err)
	assert.Positive(t, acc.ID)
	assert.Equal(t, models.AccountBox, acc.Kind)
	assert.Equal(t, "ACME", acc.Name)
	assert.Equal(t, clock.Now(), acc.CreatedAt)
	assert.Equal(t, acc.ID, login.AccountID)
	assert.Equal(t, "anna@example.com", login.Email)
	assert.Equal(t, "Anna", login.Name)
	assert.True(t, login.IsMain)
	assert.Equal(t, models.RightsAll, login.Rights)
	assert.Nil(t, login.LastLoginAt)

	entries, err := s.FindAuditEntries(ctx, AuditFilter{AccountID: acc.ID})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, models.AuditSetup, entries[0].Kind)
	require.NotNil(t, entries[0].LoginID)
	assert.Equal(t, login.ID, *entries[0].LoginID)
	assert.Equal(t, "192.0.2.1", entries[0].IP)
	assert.Contains(t, entries[0].Detail, "anna@example.com")

	// Setup is closed once an account exists.
	err = firstRun(s, "mallory@example.com")
	require.ErrorIs(t, err, models.ErrSetupDone)
	n, err = s.CountAccounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _, err = s.FindLoginByEmail(ctx, "mallory@example.com")
	require.ErrorIs(t, err, models.ErrNotFound)

	// Without FirstRun (sign-up, CLI) further accounts can be created.
	createAccount(t, s, "bert@example.com")
	n, err = s.CountAccounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestConcurrentFirstRunExactlyOneWins(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = firstRun(s, fmt.Sprintf("owner%d@example.com", i))
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, models.ErrSetupDone)
		}
	}
	assert.Equal(t, 1, ok)
	got, err := s.CountAccounts(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, got)
	assert.Equal(t, 1, count(t, s.DB(), `SELECT count(*) FROM logins`))
	assert.Equal(t, 1, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
}

func TestFindLoginByEmail(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, login := createAccount(t, s, models.NormalizeEmail("  Anna.Berg@Example.COM "))
	require.Equal(t, "anna.berg@example.com", login.Email)

	for _, typed := range []string{"anna.berg@example.com", "ANNA.BERG@EXAMPLE.COM", "  Anna.Berg@example.com\t"} {
		got, hash, err := s.FindLoginByEmail(ctx, typed)
		require.NoError(t, err, typed)
		assert.Equal(t, login.ID, got.ID)
		assert.Equal(t, "hash-of-anna.berg@example.com", hash)
	}
	_, hash, err := s.FindLoginByEmail(ctx, "berg@example.com")
	require.ErrorIs(t, err, models.ErrNotFound)
	assert.Empty(t, hash)
}

func TestFindLoginIsScopedToAccount(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, la := createAccount(t, s, "a@example.com")
	b, lb := createAccount(t, s, "b@example.com")

	got, err := s.FindLogin(ctx, a.ID, la.ID)
	require.NoError(t, err)
	assert.Equal(t, la, got)

	_, err = s.FindLogin(ctx, a.ID, lb.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = s.FindLogin(ctx, b.ID, la.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = s.FindLogin(ctx, a.ID, 9999)
	require.ErrorIs(t, err, models.ErrNotFound)

	main, err := s.FindMainLogin(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, lb.ID, main.ID)
	_, err = s.FindMainLogin(ctx, 9999)
	require.ErrorIs(t, err, models.ErrNotFound)

	l, acc, err := s.FindSessionLogin(ctx, lb.ID)
	require.NoError(t, err)
	assert.Equal(t, lb.ID, l.ID)
	assert.Equal(t, b, acc)
	_, _, err = s.FindSessionLogin(ctx, 9999)
	require.ErrorIs(t, err, models.ErrNotFound)

	// UpdatePasswordHash with another account's id changes nothing.
	require.NoError(t, s.UpdatePasswordHash(ctx, a.ID, lb.ID, "stolen"))
	_, hash, err := s.FindLoginByEmail(ctx, "b@example.com")
	require.NoError(t, err)
	assert.Equal(t, "hash-of-b@example.com", hash)
	require.NoError(t, s.UpdatePasswordHash(ctx, b.ID, lb.ID, "upgraded"))
	_, hash, err = s.FindLoginByEmail(ctx, "b@example.com")
	require.NoError(t, err)
	assert.Equal(t, "upgraded", hash)
}

func TestStampSignIn(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	a, l := createAccount(t, s, "a@example.com")
	clock.Advance(time.Hour)
	require.NoError(t, s.InTx(ctx, func(tx *Tx) error { return tx.StampSignIn(ctx, l) }))
	got, err := s.FindLogin(ctx, a.ID, l.ID)
	require.NoError(t, err)
	require.NotNil(t, got.LastLoginAt)
	assert.Equal(t, clock.Now(), *got.LastLoginAt)
}

func TestSessionsCRUD(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, l := createAccount(t, s, "a@example.com")
	now := clock.Now()

	row := SessionRow{TokenHash: "h1", LoginID: &l.ID, Data: []byte("gob"), Remember: true, IP: "192.0.2.1", UserAgent: "UA", CreatedAt: now, LastSeenAt: now}
	require.NoError(t, s.CreateSession(ctx, row))
	require.Error(t, s.CreateSession(ctx, row), "duplicate token hash")
	got, err := s.FindSession(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, row, got)

	// A session before sign-in has no login.
	require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: "anon", Data: []byte{}, CreatedAt: now, LastSeenAt: now}))
	anon, err := s.FindSession(ctx, "anon")
	require.NoError(t, err)
	assert.Nil(t, anon.LoginID)

	later := now.Add(5 * time.Minute)
	ok, err := s.UpdateSession(ctx, SessionRow{TokenHash: "h1", Data: []byte("new"), LastSeenAt: later})
	require.NoError(t, err)
	assert.True(t, ok)
	got, err = s.FindSession(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), got.Data)
	assert.Equal(t, later, got.LastSeenAt)
	assert.Equal(t, now, got.CreatedAt)

	require.NoError(t, s.TouchSession(ctx, "h1", later.Add(time.Minute)))
	got, err = s.FindSession(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, later.Add(time.Minute), got.LastSeenAt)

	require.NoError(t, s.DeleteSession(ctx, "h1"))
	_, err = s.FindSession(ctx, "h1")
	require.ErrorIs(t, err, models.ErrNotFound)
	// An ended session is not brought back by a late update.
	ok, err = s.UpdateSession(ctx, SessionRow{TokenHash: "h1", Data: []byte("again"), LastSeenAt: later})
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = s.FindSession(ctx, "h1")
	require.ErrorIs(t, err, models.ErrNotFound)

	// DeleteSessionsOfLogin keeps only the named one, and only touches that login.
	_, other := createAccount(t, s, "b@example.com")
	for _, h := range []string{"x1", "x2", "x3"} {
		require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: h, LoginID: &l.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}))
	}
	require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: "other", LoginID: &other.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}))
	n, err := s.DeleteSessionsOfLogin(ctx, l.ID, "x2")
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = s.FindSession(ctx, "x2")
	require.NoError(t, err)
	_, err = s.FindSession(ctx, "other")
	require.NoError(t, err)
	n, err = s.DeleteSessionsOfLogin(ctx, l.ID, "")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	_, err = s.FindSession(ctx, "x2")
	require.ErrorIs(t, err, models.ErrNotFound)
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	idle, absolute := 30*time.Minute, 12*time.Hour
	rIdle, rAbsolute := 30*24*time.Hour, 30*24*time.Hour

	sessions := map[string]struct {
		remember      bool
		created, seen time.Duration // ago
		shouldSurvive bool
	}{
		"fresh":             {false, time.Hour, time.Minute, true},
		"idle":              {false, time.Hour, 31 * time.Minute, false},
		"too old":           {false, 13 * time.Hour, time.Minute, false},
		"remembered idle":   {true, 2 * 24 * time.Hour, 24 * time.Hour, true},
		"remembered stale":  {true, 40 * 24 * time.Hour, time.Minute, false},
		"remembered unused": {true, 31 * 24 * time.Hour, 31 * 24 * time.Hour, false},
	}
	for h, v := range sessions {
		require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: h, Data: []byte{}, Remember: v.remember,
			CreatedAt: now.Add(-v.created), LastSeenAt: now.Add(-v.seen)}))
	}
	n, err := s.DeleteExpiredSessions(ctx, now.Add(-idle), now.Add(-absolute), now.Add(-rIdle), now.Add(-rAbsolute))
	require.NoError(t, err)
	assert.Equal(t, int64(4), n)
	for h, v := range sessions {
		_, err := s.FindSession(ctx, h)
		if v.shouldSurvive {
			assert.NoError(t, err, h)
		} else {
			assert.ErrorIs(t, err, models.ErrNotFound, h)
		}
	}
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	a, la := createAccount(t, s, "a@example.com")
	b, lb := createAccount(t, s, "b@example.com")
	expires := clock.Now().Add(90 * 24 * time.Hour)

	tok, err := createAPIToken(ctx, s, models.APIToken{AccountID: a.ID, LoginID: la.ID, Description: "HA",
		Scopes: models.Scopes{models.ScopeAccount, models.ScopeSmartlock}, ExpiresAt: &expires},
		"hash-a")
	require.NoError(t, err)
	assert.Positive(t, tok.ID)
	_, err = createAPIToken(ctx, s, models.APIToken{AccountID: b.ID, LoginID: lb.ID, Scopes: models.Scopes{models.ScopeAccount}},
		"hash-b")
	require.NoError(t, err)
	// The same secret hash cannot be stored twice.
	_, err = createAPIToken(ctx, s, models.APIToken{AccountID: b.ID, LoginID: lb.ID, Scopes: models.Scopes{models.ScopeAccount}},
		"hash-a")
	require.Error(t, err)

	got, err := s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	assert.Equal(t, tok.ID, got.ID)
	assert.Equal(t, a.ID, got.AccountID)
	assert.Equal(t, la.ID, got.LoginID)
	assert.Equal(t, "HA", got.Description)
	assert.Equal(t, models.Scopes{models.ScopeAccount, models.ScopeSmartlock}, got.Scopes)
	assert.Equal(t, clock.Now(), got.CreatedAt)
	require.NotNil(t, got.ExpiresAt)
	assert.Equal(t, expires, *got.ExpiresAt)
	assert.Nil(t, got.RevokedAt)
	assert.True(t, got.Usable(clock.Now()))
	_, err = s.FindAPITokenByHash(ctx, "no-such-hash")
	require.ErrorIs(t, err, models.ErrNotFound)

	list, err := s.FindAPITokens(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, tok.ID, list[0].ID)

	// Touch: recorded, then at most once a minute.
	t0 := clock.Now().Add(time.Minute)
	require.NoError(t, s.TouchAPIToken(ctx, a.ID, tok.ID, t0))
	require.NoError(t, s.TouchAPIToken(ctx, a.ID, tok.ID, t0.Add(30*time.Second)))
	got, err = s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	require.NotNil(t, got.LastUsedAt)
	assert.Equal(t, t0, *got.LastUsedAt)
	require.NoError(t, s.TouchAPIToken(ctx, b.ID, tok.ID, t0.Add(time.Hour)), "other account: no error, no change")
	got, err = s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	assert.Equal(t, t0, *got.LastUsedAt)

	// Another account cannot revoke it.
	err = revokeAPIToken(ctx, s, b.ID, tok.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	got, err = s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	assert.Nil(t, got.RevokedAt)

	clock.Advance(time.Hour)
	require.NoError(t, revokeAPIToken(ctx, s, a.ID, tok.ID))
	got, err = s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	assert.Equal(t, clock.Now(), *got.RevokedAt)
	assert.False(t, got.Usable(clock.Now()))

	// Revoking twice is a not-found, and keeps the first revocation time.
	clock.Advance(time.Hour)
	err = revokeAPIToken(ctx, s, a.ID, tok.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	got2, err := s.FindAPITokenByHash(ctx, "hash-a")
	require.NoError(t, err)
	assert.Equal(t, *got.RevokedAt, *got2.RevokedAt)
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, l := createAccount(t, s, "a@example.com")
	_, other := createAccount(t, s, "b@example.com")
	now := clock.Now()
	for _, h := range []string{"s1", "s2"} {
		require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: h, LoginID: &l.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}))
	}
	require.NoError(t, s.CreateSession(ctx, SessionRow{TokenHash: "other", LoginID: &other.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}))

	mail := models.OutboxMessage{AccountID: &l.AccountID, To: l.Email, Subject: "Reset your password", Text: "https://example.com/reset/tok"}
	require.NoError(t, createPasswordReset(s, l, "reset-1", now.Add(time.Hour), mail))
	require.NoError(t, createPasswordReset(s, l, "reset-2", now.Add(time.Hour), mail))
	queued, err := s.FindMailTo(ctx, l.Email)
	require.NoError(t, err)
	require.Len(t, queued, 2)
	assert.Equal(t, models.OutboxPending, queued[0].Status)
	assert.Equal(t, "Reset your password", queued[0].Subject)
	require.NotNil(t, queued[0].AccountID)
	assert.Equal(t, l.AccountID, *queued[0].AccountID)

	found, err := s.FindPasswordResetLogin(ctx, "reset-1")
	require.NoError(t, err)
	assert.Equal(t, l.ID, found.ID)

	clock.Advance(10 * time.Minute)
	got, err := resetPassword(s, "reset-1", "new-hash")
	require.NoError(t, err)
	assert.Equal(t, l.ID, got.ID)
	_, hash, err := s.FindLoginByEmail(ctx, l.Email)
	require.NoError(t, err)
	assert.Equal(t, "new-hash", hash)
	for _, h := range []string{"s1", "s2"} {
		_, err := s.FindSession(ctx, h)
		require.ErrorIs(t, err, models.ErrNotFound, "session %s survived the reset", h)
	}
	_, err = s.FindSession(ctx, "other")
	require.NoError(t, err, "another login's session must survive")

	// The link works once, and the login's other link is void too.
	_, err = resetPassword(s, "reset-1", "second-hash")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = s.FindPasswordResetLogin(ctx, "reset-1")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = resetPassword(s, "reset-2", "third-hash")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, hash, err = s.FindLoginByEmail(ctx, l.Email)
	require.NoError(t, err)
	assert.Equal(t, "new-hash", hash)
}

func TestPasswordResetExpires(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, l := createAccount(t, s, "a@example.com")
	require.NoError(t, createPasswordReset(s, l, "reset", clock.Now().Add(time.Hour), models.OutboxMessage{To: l.Email, Subject: "Reset", Text: "link"}))
	clock.Advance(time.Hour) // expires_at > now fails at exactly the expiry time
	_, err := s.FindPasswordResetLogin(ctx, "reset")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = resetPassword(s, "reset", "new-hash")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, hash, err := s.FindLoginByEmail(ctx, l.Email)
	require.NoError(t, err)
	assert.Equal(t, "hash-of-a@example.com", hash)
	_, err = resetPassword(s, "never-issued", "new-hash")
	require.ErrorIs(t, err, models.ErrNotFound)
}

func TestPasswordResetConcurrentUseWorksOnce(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	_, l := createAccount(t, s, "a@example.com")
	require.NoError(t, createPasswordReset(s, l, "reset", clock.Now().Add(time.Hour), models.OutboxMessage{To: l.Email, Subject: "Reset", Text: "link"}))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = resetPassword(s, "reset", fmt.Sprintf("hash-%d", i))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, models.ErrNotFound)
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 1, count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE kind = ?`, models.AuditPasswordReset))
}

// createPasswordReset stores a reset token and queues its email, as a use case does.
func createPasswordReset(s *Store, l models.Login, tokenHash string, expires time.Time, mail models.OutboxMessage) error {
	ctx := context.Background()
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.CreatePasswordReset(ctx, l, tokenHash, expires); err != nil {
			return err
		}
		return tx.QueueMail(ctx, mail)
	})
}

// resetPassword uses a reset token with its audit row, as a use case does.
func resetPassword(s *Store, tokenHash, newHash string) (models.Login, error) {
	ctx := context.Background()
	var l models.Login
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if l, err = tx.ResetPassword(ctx, tokenHash, newHash); err != nil {
			return err
		}
		return tx.Audit(ctx, models.AuditEntry{AccountID: &l.AccountID, LoginID: &l.ID, Kind: models.AuditPasswordReset, Actor: l.Email})
	})
	return l, err
}

func TestThrottleSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	clock := newTestClock()
	ctx := context.Background()
	check := ThrottleCheck{Key: "k", Rule: models.ThrottleRule{MaxFailures: 3, Window: time.Hour, LockFor: time.Hour}}
	open := func() (*DB, *Store) {
		d, err := Open(path)
		require.NoError(t, err)
		_, err = d.Migrate(ctx)
		require.NoError(t, err)
		return d, NewStore(d, clock.Now)
	}

	d, s := open()
	for range 2 {
		allowed, err := s.ThrottleAttempt(ctx, check)
		require.NoError(t, err)
		require.True(t, allowed)
	}
	require.NoError(t, d.Close())

	d, s = open()
	allowed, err := s.ThrottleAttempt(ctx, check)
	require.NoError(t, err)
	require.True(t, allowed, "the third attempt goes ahead and locks")
	require.NoError(t, d.Close())

	d, s = open()
	defer d.Close()
	allowed, err = s.ThrottleAttempt(ctx, check)
	require.NoError(t, err)
	assert.False(t, allowed, "the lock must survive a restart")
}

func TestDeleteStaleThrottles(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	locking := ThrottleCheck{Key: "locked", Rule: models.ThrottleRule{MaxFailures: 1, Window: time.Minute, LockFor: time.Hour}}
	counting := ThrottleCheck{Key: "counting", Rule: models.ThrottleRule{MaxFailures: 5, Window: time.Minute, LockFor: time.Hour}}
	_, err := s.ThrottleAttempt(ctx, locking)
	require.NoError(t, err)
	_, err = s.ThrottleAttempt(ctx, counting)
	require.NoError(t, err)
	clock.Advance(10 * time.Minute)
	require.NoError(t, s.DeleteStaleThrottles(ctx, clock.Now()))
	allowed, err := s.ThrottleAttempt(ctx, locking)
	require.NoError(t, err)
	assert.False(t, allowed, "a lock in force must not be deleted")
	assert.Equal(t, 1, count(t, s.DB(), `SELECT count(*) FROM throttles`))
}
