package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/models"
)

// Validation messages on the command line are sentences, not catalogue keys.
func TestAccountsCreateSaysWhatIsWrongInEnglish(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "short\n", "accounts", "create", "--data-dir", t.TempDir(), "--email", "anna@example", "--name", "Anna")
	assert.Equal(t, 2, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "--email: Enter an email address like anna@example.com.")
	assert.Contains(t, r.stderr, "password (stdin): Use at least 8 characters.")
	assert.NotContains(t, r.stderr, "invalid.")
}

// An owner who lost phone and recovery codes gets back in through the operator.
func TestLoginsDisableTwoFactor(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	login := createAccount(t, dataDir, "anna@example.com", "Anna Berger")
	store := openTestStore(t, dataDir)
	ctx := context.Background()
	require.NoError(t, store.InTx(ctx, func(tx *db.Tx) error {
		return tx.EnableTwoFactor(ctx, login, []byte("sealed"), 1, []string{"h1", "h2"})
	}))
	require.NoError(t, store.CreateSession(ctx, db.SessionRow{TokenHash: "t1", LoginID: &login.ID, Data: []byte{}, CreatedAt: time.Now(), LastSeenAt: time.Now()}))

	r := mustRun(t, "", "logins", "disable-2fa", "--data-dir", dataDir, "--email", "Anna@Example.com")
	assert.Contains(t, r.stdout, "Two-factor authentication is off for anna@example.com")

	after := findLogin(t, dataDir, "anna@example.com")
	assert.False(t, after.TwoFactor())
	n, err := store.CountRecoveryCodes(ctx, login.ID)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = store.FindSession(ctx, "t1")
	assert.ErrorIs(t, err, models.ErrNotFound, "every session of the login ended")
	entries, err := store.FindAuditEntries(ctx, db.AuditFilter{AccountID: login.AccountID, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	assert.Equal(t, models.AuditTwoFactorDisabled, entries[0].Kind)
	assert.Equal(t, "cli", entries[0].Actor)
	events, err := store.FindEvents(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 2, "the account's creation, then one event for turning two-factor off")
	assert.Equal(t, models.EventTwoFactorDisabled, events[1].Kind)
	assert.Equal(t, models.ActorCLI, events[1].Origin)
	assert.Equal(t, map[string]int64{"login": login.ID}, events[1].Subjects)

	// Again: nothing to do, said plainly.
	r = mustRun(t, "", "logins", "disable-2fa", "--data-dir", dataDir, "--email", "anna@example.com")
	assert.Contains(t, r.stdout, "already off")

	r = runCmd(t, "", "logins", "disable-2fa", "--data-dir", dataDir, "--email", "nobody@example.com")
	assert.Equal(t, 1, r.code)
	oneLine(t, r.stderr)
	for _, args := range [][]string{{"logins"}, {"logins", "delete"}, {"logins", "disable-2fa", "--data-dir", dataDir}, {"logins", "disable-2fa", "--data-dir", dataDir, "--email", "a@example.com", "extra"}} {
		r = runCmd(t, "", args...)
		assert.Equal(t, 2, r.code, "%v", args)
		oneLine(t, r.stderr)
	}
}
