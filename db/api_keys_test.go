package db

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Tokens made before migration 0015 go to their account's default key, one per account.
func TestMigrationPutsOldTokensIntoTheDefaultKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTestDB(t)
	ms, err := Migrations()
	require.NoError(t, err)
	i := slices.IndexFunc(ms, func(m Migration) bool { return m.Name == "api_keys" })
	require.Positive(t, i)
	_, err = d.migrate(ctx, ms[:i])
	require.NoError(t, err)
	s := NewStore(d, newTestClock().Now)
	// Accounts as the old schema holds them, written directly: the store of now reads columns
	// that later migrations add.
	oldAccount := func(email string) (account, login int64) {
		const at = "2026-01-01T10:00:00.000000000Z"
		require.NoError(t, d.Writer.QueryRowContext(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('web', ?, ?, ?)
			RETURNING id`, "Acct "+email, at, at).Scan(&account))
		require.NoError(t, d.Writer.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, created_at, updated_at)
			VALUES (?, ?, ?, 'hash', 1, ?, ?) RETURNING id`, account, email, "Owner "+email, at, at).Scan(&login))
		return account, login
	}
	a, la := oldAccount("a@example.com")
	b, lb := oldAccount("b@example.com")
	oldAccount("c@example.com") // no tokens: no key
	for i, x := range []struct {
		account, login int64
		created        string
	}{{a, la, "2026-01-05T10:00:00.000000000Z"}, {a, la, "2026-01-02T10:00:00.000000000Z"}, {b, lb, "2026-02-01T10:00:00.000000000Z"}} {
		_, err := d.Writer.ExecContext(ctx, `INSERT INTO api_tokens (account_id, login_id, scopes, token_hash, created_at) VALUES (?, ?, 'account', ?, ?)`,
			x.account, x.login, string(rune('a'+i)), x.created)
		require.NoError(t, err)
	}
	_, err = d.migrate(ctx, ms)
	require.NoError(t, err)

	assert.Equal(t, 2, count(t, d, `SELECT count(*) FROM api_keys`))
	keys, err := s.FindAPIKeys(ctx, a)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.True(t, keys[0].Default)
	assert.Nil(t, keys[0].LoginID)
	assert.Equal(t, models.DefaultAPIKeyDescription, keys[0].Description)
	assert.Equal(t, []string{}, keys[0].RedirectURIs)
	assert.Equal(t, "2026-01-02", keys[0].CreatedAt.Format("2006-01-02"), "as old as the oldest token")
	toks, err := s.FindAPITokens(ctx, a)
	require.NoError(t, err)
	for _, tok := range toks {
		assert.Equal(t, keys[0].ID, tok.APIKeyID)
	}
	assert.Zero(t, count(t, d, `SELECT count(*) FROM api_tokens WHERE api_key_id IS NULL`))
}

func TestAPIKeysAndTheirTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	a, la := createAccount(t, s, "a@example.com")
	b, lb := createAccount(t, s, "b@example.com")
	// The first token without a key makes the default key; the next one joins it.
	t1, err := createAPIToken(ctx, s, models.APIToken{AccountID: a.ID, LoginID: la.ID, Scopes: models.Scopes{models.ScopeAccount}}, "h1")
	require.NoError(t, err)
	t2, err := createAPIToken(ctx, s, models.APIToken{AccountID: a.ID, LoginID: la.ID, Scopes: models.Scopes{models.ScopeAccount}}, "h2")
	require.NoError(t, err)
	require.NotZero(t, t1.APIKeyID)
	assert.Equal(t, t1.APIKeyID, t2.APIKeyID)

	k, err := createAPIKey(ctx, s, models.APIKey{AccountID: a.ID, LoginID: &la.ID, Description: "Home Assistant",
		RedirectURIs: []string{"https://ha.example.com/cb"}})
	require.NoError(t, err)
	keys, err := s.FindAPIKeys(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, k, keys[1])
	_, err = s.FindAPIKey(ctx, b.ID, k.ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "another account's key is not found")
	_, err = createAPIToken(ctx, s, models.APIToken{AccountID: b.ID, LoginID: lb.ID, Scopes: models.Scopes{models.ScopeAccount}, APIKeyID: k.ID}, "hb")
	assert.ErrorIs(t, err, models.ErrNotFound, "a token cannot join another account's key")

	t3, err := createAPIToken(ctx, s, models.APIToken{AccountID: a.ID, LoginID: la.ID, Scopes: models.Scopes{models.ScopeSmartlock}, APIKeyID: k.ID}, "h3")
	require.NoError(t, err)
	assert.Equal(t, k.ID, t3.APIKeyID)

	require.NoError(t, updateAPIKey(ctx, s, a.ID, k.ID, "HA", nil))
	k2, err := s.FindAPIKey(ctx, a.ID, k.ID)
	require.NoError(t, err)
	assert.Equal(t, "HA", k2.Description)
	assert.Equal(t, []string{}, k2.RedirectURIs)
	assert.ErrorIs(t, updateAPIKey(ctx, s, b.ID, k.ID, "x", nil), models.ErrNotFound)

	require.NoError(t, updateAPIToken(ctx, s, a.ID, t3.ID, "renamed", models.Scopes{models.ScopeSmartlockReadOnly}))
	got, err := s.FindAPIToken(ctx, a.ID, t3.ID)
	require.NoError(t, err)
	assert.Equal(t, "renamed", got.Description)
	assert.Equal(t, models.Scopes{models.ScopeSmartlockReadOnly}, got.Scopes)
	assert.ErrorIs(t, updateAPIToken(ctx, s, b.ID, t3.ID, "x", got.Scopes), models.ErrNotFound)

	// Deleting asks about each live token's creator, and refuses wholly on one refusal.
	_, err = deleteAPIKey(ctx, s, a.ID, k.ID, func(int64) bool { return false })
	assert.ErrorIs(t, err, ErrKeyHoldsOthersTokens)
	_, err = s.FindAPIKey(ctx, a.ID, k.ID)
	require.NoError(t, err, "nothing deleted")
	var asked []int64
	n, err := deleteAPIKey(ctx, s, a.ID, k.ID, func(id int64) bool { asked = append(asked, id); return true })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []int64{la.ID}, asked)
	_, err = s.FindAPIKey(ctx, a.ID, k.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	all, err := s.FindAllAPIKeys(ctx, a.ID)
	require.NoError(t, err)
	assert.Len(t, all, 2, "a deleted key is still there to name its revoked tokens")
	got, err = s.FindAPIToken(ctx, a.ID, t3.ID)
	require.NoError(t, err)
	assert.NotNil(t, got.RevokedAt, "its tokens are revoked")
	assert.ErrorIs(t, updateAPIToken(ctx, s, a.ID, t3.ID, "x", got.Scopes), models.ErrNotFound, "a revoked token does not change")
	_, err = createAPIToken(ctx, s, models.APIToken{AccountID: a.ID, LoginID: la.ID, Scopes: models.Scopes{models.ScopeAccount}, APIKeyID: k.ID}, "h4")
	assert.ErrorIs(t, err, models.ErrNotFound, "no token joins a deleted key")

	// The default key is never deleted.
	_, err = deleteAPIKey(ctx, s, a.ID, t1.APIKeyID, func(int64) bool { return true })
	assert.True(t, errors.Is(err, models.ErrNotFound))
	got, err = s.FindAPIToken(ctx, a.ID, t1.ID)
	require.NoError(t, err)
	assert.Nil(t, got.RevokedAt)
}
