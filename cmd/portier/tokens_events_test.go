package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// A token made on the command line is one change with one domain event of origin cli, and its
// audit row names the command line and the login the token acts for (issue 19).
func TestTokensCreateEmitsOneEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	login := createAccount(t, dataDir, "anna@example.com", "Anna Berger")
	store := openTestStore(t, dataDir)
	before, err := store.FindEvents(ctx, 0, 1000)
	require.NoError(t, err)
	var last int64
	if len(before) > 0 {
		last = before[len(before)-1].ID
	}

	r := mustRun(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--scopes", "account", "--description", "Backup")
	tok, err := store.FindAPITokenByHash(ctx, auth.HashToken(lastLineToken(t, r.stdout)))
	require.NoError(t, err)

	events, err := store.FindEvents(ctx, last, 100)
	require.NoError(t, err)
	require.Len(t, events, 1)
	e := events[0]
	assert.Equal(t, models.EventTokenCreated, e.Kind)
	assert.Equal(t, models.ActorCLI, e.Origin)
	assert.Equal(t, models.AuditActorCLI, e.Actor)
	assert.Equal(t, login.AccountID, e.AccountID)
	assert.Equal(t, map[string]int64{"token": tok.ID, "login": login.ID, "api_key": tok.APIKeyID}, e.Subjects)

	entries, err := store.FindAuditEntries(ctx, db.AuditFilter{AccountID: login.AccountID})
	require.NoError(t, err)
	var created []models.AuditEntry
	for _, a := range entries {
		if a.Kind == models.AuditTokenCreated {
			created = append(created, a)
		}
	}
	require.Len(t, created, 1)
	assert.Equal(t, models.AuditActorCLI, created[0].Actor)
	assert.Equal(t, &login.ID, created[0].LoginID)

	// A refused token (no such login) writes none.
	refused := runBinary(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "nobody@example.com", "--scopes", "account")
	assert.NotZero(t, refused.code)
	events, err = store.FindEvents(ctx, e.ID, 100)
	require.NoError(t, err)
	assert.Empty(t, events)
}
