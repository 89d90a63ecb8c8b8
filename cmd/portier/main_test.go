package main

// In-process tests of the command line: run(args, stdin, stdout, stderr) against a real
// SQLite database in t.TempDir(). The tests that start the real binary are in serve_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/handlers"
	"portier/handlers/api"
	"portier/models"
	"portier/notify"
	"portier/sessionstore"
)

const testPassword = "correct horse battery staple"

// tokenLine is how a freshly created API token is printed: 64 hex characters alone on a line.
var tokenLine = regexp.MustCompile(`^[0-9a-f]{64}$`)

type runResult struct {
	code           int
	stdout, stderr string
}

// runCmd calls run in-process with stdin as standard input.
func runCmd(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return runResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun fails the test unless the command exits 0.
func mustRun(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	r := runCmd(t, stdin, args...)
	require.Equalf(t, 0, r.code, "portier %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// oneLine asserts that s is exactly one newline-terminated line starting with "portier: ".
func oneLine(t *testing.T, s string) {
	t.Helper()
	assert.Truef(t, strings.HasSuffix(s, "\n"), "stderr should end in a newline: %q", s)
	assert.Equalf(t, 1, strings.Count(s, "\n"), "want exactly one line on stderr, got %q", s)
	assert.Truef(t, strings.HasPrefix(s, "portier: "), "stderr should start with 'portier: ': %q", s)
}

// openTestStore opens the database in dataDir with the db package, outside the binary's code.
func openTestStore(t *testing.T, dataDir string) *db.Store {
	t.Helper()
	return openStoreFile(t, filepath.Join(dataDir, db.FileName))
}

// openStoreFile opens the database file at path; it is closed when the test ends.
func openStoreFile(t *testing.T, path string) *db.Store {
	t.Helper()
	database, err := db.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { database.Close() })
	return db.NewStore(database, time.Now)
}

// createAccount runs `portier accounts create` and returns the stored login.
func createAccount(t *testing.T, dataDir, email, name string, extra ...string) models.Login {
	t.Helper()
	args := append([]string{"accounts", "create", "--data-dir", dataDir, "--email", email, "--name", name}, extra...)
	mustRun(t, testPassword+"\n", args...)
	return findLogin(t, dataDir, email)
}

// lastLineToken checks that stdout ends with the token alone on its last line and returns it.
func lastLineToken(t *testing.T, stdout string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	require.Regexpf(t, tokenLine, last, "last line of stdout should be the token alone: %q", stdout)
	for _, l := range lines[:len(lines)-1] {
		assert.NotContains(t, l, last, "the token is printed once, on the last line only")
	}
	return last
}

// fileSum returns the SHA-256 of the file at path.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func TestRunBadArgumentsExitTwoWithOneLine(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	// D stands for a data directory that does not exist yet: a refused command line must not
	// create it.
	const D = "<data-dir>"
	pw := testPassword + "\n"
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string // part of the message
	}{
		{"unknown command", "", []string{"frobnicate", "--data-dir", D}, `unknown command "frobnicate"`},
		{"unknown serve flag", "", []string{"--data-dir", D, "--bogus"}, "bogus"},
		{"unknown serve flag after serve", "", []string{"serve", "--data-dir", D, "--bogus"}, "bogus"},
		{"serve argument", "", []string{"serve", "--data-dir", D, "extra"}, "extra"},
		{"serve bad addr", "", []string{"serve", "--data-dir", D, "--addr", "nohostport"}, "--addr"},
		{"serve bad base url", "", []string{"serve", "--data-dir", D, "--addr", "127.0.0.1:0", "--base-url", "ftp://example.com"}, "--base-url"},
		{"serve https bridge callback url", "", []string{"serve", "--data-dir", D, "--addr", "127.0.0.1:0", "--bridge-callback-url", "https://portier.example.com"}, "--bridge-callback-url"},
		{"serve bad bool", "", []string{"serve", "--data-dir", D, "--allow-signup=maybe"}, "allow-signup"},
		{"serve smtp url without from", "", []string{"serve", "--data-dir", D, "--smtp-url", "smtp://u:hunter22@mail.example.com"}, "--smtp-url"},
		{"serve smtp url bad scheme", "", []string{"serve", "--data-dir", D, "--smtp-url", "imap://mail.example.com?from=a@example.com"}, "--smtp-url"},
		{"serve bad trusted proxies", "", []string{"serve", "--data-dir", D, "--trusted-proxies", "10.0.0.0/8,proxy.example.com"}, "--trusted-proxies"},
		{"unknown migrate flag", "", []string{"migrate", "--data-dir", D, "--bogus"}, "bogus"},
		{"migrate argument", "", []string{"migrate", "--data-dir", D, "extra"}, "extra"},
		{"backup without file", "", []string{"backup", "--data-dir", D}, "FILE"},
		{"backup two files", "", []string{"backup", "a.db", "--data-dir", D, "b.db"}, "b.db"},
		{"unknown backup flag", "", []string{"backup", "x.db", "--data-dir", D, "--bogus"}, "bogus"},
		{"accounts without subcommand", "", []string{"accounts"}, "accounts create"},
		{"accounts unknown subcommand", "", []string{"accounts", "delete", "--data-dir", D}, "accounts create"},
		{"accounts create unknown flag", pw, []string{"accounts", "create", "--data-dir", D, "--bogus"}, "bogus"},
		{"accounts create missing email", pw, []string{"accounts", "create", "--data-dir", D, "--name", "Anna"}, "email"},
		{"accounts create bad email", pw, []string{"accounts", "create", "--data-dir", D, "--email", "not-an-email", "--name", "Anna"}, "email"},
		{"accounts create missing name", pw, []string{"accounts", "create", "--data-dir", D, "--email", "anna@example.com"}, "name"},
		{"accounts create bad kind", pw, []string{"accounts", "create", "--data-dir", D, "--email", "anna@example.com", "--name", "Anna", "--kind", "shop"}, "--kind"},
		{"accounts create no password", "", []string{"accounts", "create", "--data-dir", D, "--email", "anna@example.com", "--name", "Anna"}, "password"},
		{"accounts create argument", pw, []string{"accounts", "create", "--data-dir", D, "--email", "anna@example.com", "--name", "Anna", "extra"}, "extra"},
		{"tokens without subcommand", "", []string{"tokens"}, "tokens create"},
		{"tokens unknown subcommand", "", []string{"tokens", "list", "--data-dir", D}, "tokens create"},
		{"tokens create unknown flag", "", []string{"tokens", "create", "--data-dir", D, "--bogus"}, "bogus"},
		{"tokens create missing email", "", []string{"tokens", "create", "--data-dir", D, "--scopes", "account"}, "--email"},
		{"tokens create unknown scope", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account,bogus"}, "bogus"},
		{"tokens create no scopes", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com"}, "scope"},
		{"tokens create expires abc", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "--expires", "abc"}, "--expires"},
		{"tokens create expires 0d", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "--expires", "0d"}, "--expires"},
		{"tokens create expires negative", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "--expires", "-1h"}, "--expires"},
		{"tokens create expires too far", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "--expires", "4000d"}, "--expires"},
		{"tokens create long description", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "--description", strings.Repeat("x", 101)}, "--description"},
		{"tokens create argument", "", []string{"tokens", "create", "--data-dir", D, "--email", "anna@example.com", "--scopes", "account", "extra"}, "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"), "data")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, D, dataDir)
			}
			r := runCmd(t, tc.stdin, args...)
			assert.Equal(t, 2, r.code, "exit status; stderr: %s", r.stderr)
			oneLine(t, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
			assert.NoDirExists(t, dataDir, "a refused command line must not touch the data directory")
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"serve", "--help"}, {"migrate", "-h"}, {"accounts", "create", "-h"}, {"tokens", "create", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCmd(t, "", args...)
			assert.Equal(t, 0, r.code)
			assert.Empty(t, r.stderr)
			for _, want := range []string{"Usage:", "portier migrate", "portier backup FILE", "portier accounts create",
				"portier tokens create", "--data-dir", "PORTIER_DATA_DIR", "--api-addr", "PORTIER_API_ADDR", "--trusted-proxies", "PORTIER_TRUSTED_PROXIES"} {
				assert.Contains(t, r.stdout, want)
			}
		})
	}
}

func TestAccountsCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data") // created by the command

	r := mustRun(t, testPassword+"\n", "accounts", "create", "--data-dir", dataDir,
		"--email", " Anna@Example.COM ", "--name", "Anna Berger", "--account-name", "Berger Family")
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "anna@example.com")
	assert.Contains(t, r.stdout, `"Berger Family"`)

	// Password on a line without a newline (a file or `printf`), and the box kind.
	r = mustRun(t, "another good passphrase", "accounts", "create", "--data-dir", dataDir,
		"--email", "ben@example.com", "--name", "Ben", "--kind", "box")
	assert.Contains(t, strings.ToLower(r.stdout), "box account")

	store := openTestStore(t, dataDir)
	n, err := store.CountAccounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	hasher := auth.NewHasher(auth.DefaultArgon2, 1)
	for _, tc := range []struct {
		email, name, accountName, password string
		kind                               models.AccountKind
	}{
		{"anna@example.com", "Anna Berger", "Berger Family", testPassword, models.AccountWeb},
		{"ben@example.com", "Ben", "Ben", "another good passphrase", models.AccountBox},
	} {
		login, hash, err := store.FindLoginByEmail(ctx, tc.email)
		require.NoError(t, err, tc.email)
		assert.True(t, login.IsMain, "the created login is the account's main login")
		assert.Equal(t, tc.name, login.Name)
		acc, err := store.FindAccount(ctx, login.AccountID)
		require.NoError(t, err)
		assert.Equal(t, tc.kind, acc.Kind)
		assert.Equal(t, tc.accountName, acc.Name)
		ok, _, err := hasher.Verify(ctx, tc.password, hash)
		require.NoError(t, err)
		assert.True(t, ok, "the password read from stdin is the login's password")
		ok, _, err = hasher.Verify(ctx, tc.password+"\n", hash)
		require.NoError(t, err)
		assert.False(t, ok, "the newline is not part of the password")
		entries, err := store.FindAuditEntries(ctx, db.AuditFilter{AccountID: acc.ID})
		require.NoError(t, err)
		require.NotEmpty(t, entries)
		assert.Equal(t, models.AuditAccountCreated, entries[len(entries)-1].Kind)
		assert.Equal(t, "cli", entries[len(entries)-1].Actor)
	}
}

func TestAccountsCreateRefusesWeakPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	createAccount(t, dataDir, "anna@example.com", "Anna")

	for _, pw := range []string{"short", "password", "12345678", "carl@example.com"} {
		t.Run(pw, func(t *testing.T) {
			r := runCmd(t, pw+"\n", "accounts", "create", "--data-dir", dataDir, "--email", "carl@example.com", "--name", "Carl")
			assert.NotEqual(t, 0, r.code)
			oneLine(t, r.stderr)
			assert.Contains(t, r.stderr, "password")
			assert.Empty(t, r.stdout)
		})
	}
	store := openTestStore(t, dataDir)
	_, _, err := store.FindLoginByEmail(ctx, "carl@example.com")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing is written for a refused password")
	n, err := store.CountAccounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// On a fresh data directory, a refused password does not even create the database.
	fresh := filepath.Join(t.TempDir(), "fresh")
	r := runCmd(t, "short\n", "accounts", "create", "--data-dir", fresh, "--email", "carl@example.com", "--name", "Carl")
	assert.NotEqual(t, 0, r.code)
	assert.NoFileExists(t, filepath.Join(fresh, db.FileName))
}

func TestAccountsCreateRefusesDuplicateEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	first := createAccount(t, dataDir, "anna@example.com", "Anna")

	r := runCmd(t, "a different passphrase\n", "accounts", "create", "--data-dir", dataDir,
		"--email", "ANNA@example.com", "--name", "Impostor", "--kind", "box")
	assert.Equal(t, 1, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "already exists")
	assert.Empty(t, r.stdout)

	store := openTestStore(t, dataDir)
	n, err := store.CountAccounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "no second account, not even one without a login")
	login, hash, err := store.FindLoginByEmail(ctx, "anna@example.com")
	require.NoError(t, err)
	assert.Equal(t, first.ID, login.ID)
	assert.Equal(t, "Anna", login.Name)
	ok, _, err := auth.NewHasher(auth.DefaultArgon2, 1).Verify(ctx, testPassword, hash)
	require.NoError(t, err)
	assert.True(t, ok, "the first login's password is unchanged")
}

// startInProcess serves the database in dataDir with the same stack cmdServe builds, on a
// loopback httptest server, and returns its URL.
func startInProcess(t *testing.T, dataDir string) string {
	t.Helper()
	database, store, err := openStore(dataDir, false, quietLog())
	require.NoError(t, err)
	t.Cleanup(func() { database.Close() })
	srv := httptest.NewUnstartedServer(nil)
	base, err := baseURL("", srv.Listener.Addr().String())
	require.NoError(t, err)
	h := &handlers.Handler{
		App:      &app.App{Store: store, Emails: notify.Emails{Site: base}, Now: time.Now},
		Store:    store,
		Sessions: sessionstore.New(store, time.Now, sessionstore.DefaultTimeouts, false),
		Hasher:   auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 0),
		Now:      time.Now,
		Log:      quietLog(),
		Config:   handlers.Config{BaseURL: base},
	}
	a := &api.API{Store: store, Now: time.Now, Log: quietLog()}
	srv.Config.Handler, err = h.HTTPHandler(h.Routes(a))
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// getAccount calls GET url with a bearer token and returns the status and decoded MyAccount.
func getAccount(t *testing.T, url, token string) (int, api.MyAccount, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out api.MyAccount
	if res.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	}
	return res.StatusCode, out, res
}

func TestTokensCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	login := createAccount(t, dataDir, "anna@example.com", "Anna Berger")

	before := time.Now()
	r := mustRun(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "Anna@Example.com",
		"--scopes", "account,smartlock.readOnly", "--description", "Home Assistant", "--expires", "90d")
	after := time.Now()
	assert.Empty(t, r.stderr)
	secret := lastLineToken(t, r.stdout)

	store := openTestStore(t, dataDir)
	tok, err := store.FindAPITokenByHash(ctx, auth.HashToken(secret))
	require.NoError(t, err, "the printed token is the stored one")
	assert.Equal(t, login.ID, tok.LoginID)
	assert.Equal(t, login.AccountID, tok.AccountID)
	assert.Equal(t, "Home Assistant", tok.Description)
	assert.Equal(t, models.Scopes{models.ScopeAccount, models.ScopeSmartlockReadOnly}, tok.Scopes)
	require.NotNil(t, tok.ExpiresAt)
	const days90 = 90 * 24 * time.Hour
	assert.WithinRange(t, *tok.ExpiresAt, before.Add(days90).Add(-time.Second), after.Add(days90).Add(time.Second))
	assert.Nil(t, tok.RevokedAt)

	// Without --expires the token never expires.
	r = mustRun(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--scopes", "account")
	forever := lastLineToken(t, r.stdout)
	assert.NotEqual(t, secret, forever)
	tok2, err := store.FindAPITokenByHash(ctx, auth.HashToken(forever))
	require.NoError(t, err)
	assert.Nil(t, tok2.ExpiresAt)
	assert.Contains(t, r.stdout, "never expires")

	// --expires also takes a Go duration.
	before = time.Now()
	r = mustRun(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--scopes", "account", "--expires", "12h")
	after = time.Now()
	tok3, err := store.FindAPITokenByHash(ctx, auth.HashToken(lastLineToken(t, r.stdout)))
	require.NoError(t, err)
	require.NotNil(t, tok3.ExpiresAt)
	assert.WithinRange(t, *tok3.ExpiresAt, before.Add(12*time.Hour).Add(-time.Second), after.Add(12*time.Hour).Add(time.Second))

	// The token authenticates against the real HTTP stack.
	url := startInProcess(t, dataDir)
	for _, s := range []string{secret, forever} {
		code, acc, _ := getAccount(t, url+"/api/account", s)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, login.ID, acc.AccountID)
		assert.Equal(t, "anna@example.com", acc.Email)
		assert.Equal(t, "Anna Berger", acc.Name)
		assert.Equal(t, 0, acc.Type)
	}
	code, _, _ := getAccount(t, url+"/api/account", strings.Repeat("0", 64))
	assert.Equal(t, http.StatusUnauthorized, code, "a token that was never printed is refused")
	code, _, _ = getAccount(t, url+"/api/account", "")
	assert.Equal(t, http.StatusUnauthorized, code)
}

func TestTokensCreateForBoxAccount(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	login := createAccount(t, dataDir, "box@example.com", "Box Owner", "--kind", "box")
	r := mustRun(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "box@example.com", "--scopes", "account")
	code, acc, _ := getAccount(t, startInProcess(t, dataDir)+"/api/account", lastLineToken(t, r.stdout))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, login.ID, acc.AccountID)
	assert.Equal(t, 2, acc.Type, "a box account is a caretaker in the Nuki Web API")
}

func TestTokensCreateUnknownEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	login := createAccount(t, dataDir, "anna@example.com", "Anna")

	r := runCmd(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "nobody@example.com", "--scopes", "account")
	assert.Equal(t, 1, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "nobody@example.com")
	assert.Empty(t, r.stdout, "no token is printed")

	toks, err := openTestStore(t, dataDir).FindAPITokens(ctx, login.AccountID)
	require.NoError(t, err)
	assert.Empty(t, toks)
}

func TestDataDirFromEnvironment(t *testing.T) {
	ctx := context.Background()
	// Run in an empty working directory, so that falling back to the default ./data shows.
	t.Chdir(t.TempDir())
	dataDir := filepath.Join(t.TempDir(), "env-data")
	t.Setenv("PORTIER_DATA_DIR", dataDir)

	r := mustRun(t, "", "migrate")
	assert.Contains(t, r.stdout, filepath.Join(dataDir, db.FileName))
	assert.FileExists(t, filepath.Join(dataDir, db.FileName))
	mustRun(t, testPassword+"\n", "accounts", "create", "--email", "anna@example.com", "--name", "Anna")
	r = mustRun(t, "", "tokens", "create", "--email", "anna@example.com", "--scopes", "account")
	secret := lastLineToken(t, r.stdout)
	backup := filepath.Join(t.TempDir(), "backup.db")
	mustRun(t, "", "backup", backup)
	assert.NoDirExists(t, "data", "the default ./data is not used when PORTIER_DATA_DIR is set")

	store := openTestStore(t, dataDir)
	login, _, err := store.FindLoginByEmail(ctx, "anna@example.com")
	require.NoError(t, err, "accounts create found the database through PORTIER_DATA_DIR")
	tok, err := store.FindAPITokenByHash(ctx, auth.HashToken(secret))
	require.NoError(t, err, "tokens create found the database through PORTIER_DATA_DIR")
	assert.Equal(t, login.ID, tok.LoginID)
	require.NoError(t, db.CheckIntegrity(ctx, backup))
	_, _, err = openStoreFile(t, backup).FindLoginByEmail(ctx, "anna@example.com")
	require.NoError(t, err, "backup found the database through PORTIER_DATA_DIR")

	// --data-dir wins over the environment.
	other := filepath.Join(t.TempDir(), "flag-data")
	mustRun(t, testPassword+"\n", "accounts", "create", "--data-dir", other, "--email", "ben@example.com", "--name", "Ben")
	_, _, err = openTestStore(t, other).FindLoginByEmail(ctx, "ben@example.com")
	require.NoError(t, err)
	_, _, err = store.FindLoginByEmail(ctx, "ben@example.com")
	assert.ErrorIs(t, err, models.ErrNotFound, "the flag, not PORTIER_DATA_DIR, chose the database")

	// Without flag and variable, the default is ./data in the working directory.
	os.Unsetenv("PORTIER_DATA_DIR")
	mustRun(t, "", "migrate")
	assert.FileExists(t, filepath.Join("data", db.FileName))
}

func TestMigrateFreshDataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms, err := db.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	dataDir := filepath.Join(t.TempDir(), "nested", "data")

	r := mustRun(t, "", "migrate", "--data-dir", dataDir)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "schema version "+itoa(len(ms)))
	st, err := os.Stat(dataDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "the data directory is private")

	database, err := db.Open(filepath.Join(dataDir, db.FileName))
	require.NoError(t, err)
	v, err := database.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ms), v)
	pending, err := database.CheckSchema(ctx)
	require.NoError(t, err)
	assert.Zero(t, pending)
	require.NoError(t, database.Close())

	// Again: nothing to do, still fine, and no pre-migration backup for an up-to-date database.
	r = mustRun(t, "", "migrate", "--data-dir", dataDir)
	assert.Contains(t, r.stdout, "schema version "+itoa(len(ms)))
	matches, err := filepath.Glob(filepath.Join(dataDir, "portier-before-migration-*"))
	require.NoError(t, err)
	assert.Empty(t, matches)
	require.NoError(t, db.CheckIntegrity(ctx, filepath.Join(dataDir, db.FileName)))
}

func TestMigrateBacksUpBeforeChangingSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms, err := db.Migrations()
	require.NoError(t, err)
	if len(ms) < 2 {
		t.Skip("needs at least two migrations")
	}
	// A database written by a Portier that knew only the first migration.
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, db.FileName)
	database, err := db.Open(path)
	require.NoError(t, err)
	_, err = database.Writer.ExecContext(ctx, ms[0].SQL)
	require.NoError(t, err)
	_, err = database.Writer.ExecContext(ctx, "PRAGMA user_version = 1")
	require.NoError(t, err)
	require.NoError(t, database.Close())

	r := mustRun(t, "", "migrate", "--data-dir", dataDir)
	assert.Contains(t, r.stdout, "schema version "+itoa(len(ms)))
	backups, err := filepath.Glob(filepath.Join(dataDir, "portier-before-migration-v1-*.db"))
	require.NoError(t, err)
	require.Len(t, backups, 1, "one backup of the old database")
	require.NoError(t, db.CheckIntegrity(ctx, backups[0]))
	old, err := db.Open(backups[0])
	require.NoError(t, err)
	defer old.Close()
	v, err := old.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v, "the backup holds the schema as it was")

	database, err = db.Open(path)
	require.NoError(t, err)
	defer database.Close()
	v, err = database.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ms), v)
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms, err := db.Migrations()
	require.NoError(t, err)
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, db.FileName)
	createAccount(t, dataDir, "anna@example.com", "Anna")

	// Pretend a newer Portier migrated this database.
	newer := len(ms) + 1
	database, err := db.Open(path)
	require.NoError(t, err)
	_, err = database.Writer.ExecContext(ctx, "PRAGMA user_version = "+itoa(newer))
	require.NoError(t, err)
	require.NoError(t, database.Close())
	sum := fileSum(t, path)
	entriesBefore := dirNames(t, dataDir)

	backup := filepath.Join(t.TempDir(), "backup.db")
	for _, args := range [][]string{
		{"migrate", "--data-dir", dataDir},
		{"accounts", "create", "--data-dir", dataDir, "--email", "ben@example.com", "--name", "Ben"},
		{"tokens", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--scopes", "account"},
		{"backup", backup, "--data-dir", dataDir},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := runCmd(t, testPassword+"\n", args...)
			assert.Equal(t, 1, r.code, "stderr: %s", r.stderr)
			oneLine(t, r.stderr)
			assert.Contains(t, r.stderr, "schema version "+itoa(newer))
			assert.Contains(t, r.stderr, "newer Portier")
			assert.NotContains(t, r.stdout, "Created")
			assert.Equal(t, sum, fileSum(t, path), "the database file is not modified")
		})
	}
	// serve too, run as the real binary: were the check missing, an in-process serve would
	// never return.
	t.Run("serve", func(t *testing.T) {
		r := runBinary(t, "", "serve", "--data-dir", dataDir, "--addr", freeAddr(t))
		assert.Equal(t, 1, r.code, "stderr: %s", r.stderr)
		oneLine(t, r.stderr)
		assert.Contains(t, r.stderr, "schema version "+itoa(newer))
		assert.Contains(t, r.stderr, "newer Portier")
		assert.NotContains(t, r.stdout, "is running")
		assert.Equal(t, sum, fileSum(t, path), "the database file is not modified")
	})
	assert.NoFileExists(t, backup)
	after := dirNames(t, dataDir)
	// serve writes its secrets file before it opens the database; nothing else may appear.
	after = slices.DeleteFunc(after, func(name string) bool { return name == auth.SecretsFileName })
	assert.Equal(t, entriesBefore, after, "no backup, journal or other file is left behind")

	database, err = db.Open(path)
	require.NoError(t, err)
	defer database.Close()
	v, err := database.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, newer, v)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func itoa(n int) string { return strconv.Itoa(n) }

// Only a main login or a sub-account holds API tokens: for a web-key login, a partner company's
// staff member and a resident `tokens create` prints one line, exits 2 and writes nothing.
// A sub-account gets scopes within its rights only.
func TestTokensCreateRefusesWebKeyLogins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	mustRunBinary(t, testPassword+"\n", "accounts", "create", "--data-dir", dataDir, "--email", "box@example.com", "--name", "Box Owner", "--kind", "box")
	store := openTestStore(t, dataDir)
	main, _, err := store.FindLoginByEmail(ctx, "box@example.com")
	require.NoError(t, err)
	audit := models.AuditEntry{Actor: "test", Kind: "test"}

	dora, err := createTestUser(store, models.AccountUser{AccountID: main.AccountID, Name: "Dora", Email: "dora@example.com", Kind: models.KindUser, AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	_, devs, err := store.CreateConnection(ctx, models.Connection{AccountID: main.AccountID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "Front door"}}, audit)
	require.NoError(t, err)
	require.NoError(t, store.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.CreatePermissions(ctx, main.AccountID, db.NewPermission{AccountUserID: dora.ID, Type: models.AuthTypeApp, Name: "Dora",
			RemoteAllowed: true, Devices: map[int64]models.PushStatus{devs[0].ID: models.PushPortierOnly}}); err != nil {
			return err
		}
		inv, err := tx.CreateInvitation(ctx, main.AccountID, db.NewInvitation{AccountUserID: dora.ID, TokenHash: "t", CodeHash: "c"})
		if err != nil {
			return err
		}
		_, err = tx.AcceptInvitation(ctx, inv.ID, "hash")
		return err
	}))

	company, err := createTestUser(store, models.AccountUser{AccountID: main.AccountID, Name: "Putzteam", Email: "office@putzteam.example", Kind: models.KindCompany, AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	require.NoError(t, store.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.AddStaff(ctx, main.AccountID, db.NewStaff{CompanyID: company.ID, Name: "Kim", Email: "kim@putzteam.example",
			TokenHash: "staff", Expires: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		addr, err := tx.CreateAddress(ctx, main.AccountID, models.AddressInput{Name: "Hof", Street: "Gasse 1", Postcode: "1010", City: "Wien",
			Country: "AT", TimeZone: "Europe/Vienna"}, nil)
		if err != nil {
			return err
		}
		if _, err := tx.CreateUnit(ctx, main.AccountID, addr.ID, "Top 4", "unit-code", []byte("sealed")); err != nil {
			return err
		}
		_, err = tx.RedeemUnit(ctx, "unit-code", db.NewResident{Name: "Maria", Email: "maria@example.com", PasswordHash: "h",
			Devices: map[int64]models.PushStatus{}})
		return err
	}))

	var subID int64
	require.NoError(t, store.InTx(ctx, func(tx *db.Tx) error {
		subID, err = tx.CreateSubAccount(ctx, db.NewSubAccount{AccountID: main.AccountID, CreatedBy: main.ID, Email: "sub@example.com",
			Name: "Sub", PasswordHash: "h", Grant: models.Grant{Rights: models.RightActivityLog}})
		return err
	}))

	for _, email := range []string{"dora@example.com", "kim@putzteam.example", "maria@example.com"} {
		for _, scopes := range []string{"account", "smartlock.readOnly", "smartlock.action"} {
			r := runBinary(t, "", "tokens", "create", "--data-dir", dataDir, "--email", email, "--scopes", scopes)
			assert.Equal(t, 2, r.code, "%s %s", email, scopes)
			oneLine(t, r.stderr)
			assert.Contains(t, r.stderr, "web key", email)
			assert.Empty(t, r.stdout, "no token is printed")
		}
	}
	r := runBinary(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "sub@example.com", "--scopes", "smartlock.log,smartlock.action")
	assert.Equal(t, 2, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "smartlock.action")
	toks, err := store.FindAPITokens(ctx, main.AccountID)
	require.NoError(t, err)
	assert.Empty(t, toks, "nothing was written")

	r = mustRunBinary(t, "", "tokens", "create", "--data-dir", dataDir, "--email", "sub@example.com", "--scopes", "smartlock.log,account")
	tok, err := store.FindAPITokenByHash(ctx, auth.HashToken(lastLineToken(t, r.stdout)))
	require.NoError(t, err)
	assert.Equal(t, subID, tok.LoginID)
}
