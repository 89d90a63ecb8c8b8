package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"portier/models"
)

// testClock is a settable clock for Store.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTestDB opens a fresh throwaway database file in a temp directory, without migrating it.
// It does not wait for the disk (OpenForTest); tests of durability or of production's
// pragmas use openDurableDB.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	d, err := OpenForTest(filepath.Join(t.TempDir(), FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// openDurableDB opens a fresh database file as production does (Open: synchronous=FULL).
func openDurableDB(t *testing.T) *DB {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// newTestStore opens a fresh throwaway database with every migration (OpenMigratedForTest)
// and returns a Store on a fake clock.
func newTestStore(t *testing.T) (*Store, *testClock) {
	t.Helper()
	d, err := OpenMigratedForTest(filepath.Join(t.TempDir(), FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	clock := newTestClock()
	return NewStore(d, clock.Now), clock
}

// newDurableTestStore is newTestStore on a database opened as production opens it, for tests
// of what must survive on disk (backups).
func newDurableTestStore(t *testing.T) (*Store, *testClock) {
	t.Helper()
	return migratedStore(t, openDurableDB(t))
}

func migratedStore(t *testing.T, d *DB) (*Store, *testClock) {
	t.Helper()
	_, err := d.Migrate(context.Background())
	require.NoError(t, err)
	clock := newTestClock()
	return NewStore(d, clock.Now), clock
}

// createAccount creates a web account whose main login has email.
func createAccount(t *testing.T, s *Store, email string) (models.Account, models.Login) {
	t.Helper()
	acc, login, err := s.CreateAccount(context.Background(), CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Acct " + email, Name: "Owner " + email, Email: email},
		PasswordHash: "hash-of-" + email,
		Audit:        models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
	})
	require.NoError(t, err)
	return acc, login
}

// count returns the result of a count(*) query on the writer (which sees every commit).
func count(t *testing.T, d *DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, d.Writer.QueryRowContext(context.Background(), query, args...).Scan(&n))
	return n
}

// tableExists reports whether a table of that name exists.
func tableExists(t *testing.T, d *DB, name string) bool {
	t.Helper()
	var n string
	err := d.Writer.QueryRowContext(context.Background(), `SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
	if err == sql.ErrNoRows {
		return false
	}
	require.NoError(t, err)
	return true
}
