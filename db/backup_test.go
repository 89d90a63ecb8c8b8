package db

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func TestBackupWhileWritingIsConsistent(t *testing.T) {
	t.Parallel()
	s, _ := newDurableTestStore(t)
	ctx := context.Background()
	const before = 200
	committed := make([]int64, 0, before)
	for i := range before {
		id, err := s.AddAudit(ctx, models.AuditEntry{Actor: "cli", Kind: "test.before", Detail: "row " + strconv.Itoa(i)})
		require.NoError(t, err)
		committed = append(committed, id)
	}

	// Keep writing while the backup runs.
	stop := make(chan struct{})
	var written atomic.Int64
	var writeErr atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.AddAudit(ctx, models.AuditEntry{Actor: "cli", Kind: "test.during"}); err != nil {
					writeErr.CompareAndSwap(nil, err)
					return
				}
				written.Add(1)
			}
		})
	}
	for written.Load() < 20 { // the writers are running
		runtime.Gosched()
	}

	outDir := t.TempDir()
	target := filepath.Join(outDir, "backup.db")
	err := s.DB().Backup(ctx, target)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	require.Nil(t, writeErr.Load())
	require.Positive(t, written.Load())

	require.NoError(t, CheckIntegrity(ctx, target))

	b, err := sql.Open("sqlite", "file:"+filepath.ToSlash(target)+"?mode=ro")
	require.NoError(t, err)
	defer b.Close()
	var present int
	require.NoError(t, b.QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'test.before'`).Scan(&present))
	assert.Equal(t, before, present)
	for _, id := range committed {
		var kind string
		require.NoError(t, b.QueryRow(`SELECT kind FROM audit_log WHERE id = ?`, id).Scan(&kind), "row %d missing from backup", id)
		assert.Equal(t, "test.before", kind)
	}
	var version int
	require.NoError(t, b.QueryRow(`PRAGMA user_version`).Scan(&version))
	ms, err := Migrations()
	require.NoError(t, err)
	assert.Equal(t, len(ms), version, "the backup keeps the schema version")

	// Only the backup is left in the directory: no temporary file.
	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"backup.db"}, names)
}

func TestBackupNeverOverwrites(t *testing.T) {
	t.Parallel()
	s, _ := newDurableTestStore(t)
	ctx := context.Background()
	_, err := s.AddAudit(ctx, models.AuditEntry{Actor: "cli", Kind: "test"})
	require.NoError(t, err)

	outDir := t.TempDir()
	target := filepath.Join(outDir, "precious.db")
	require.NoError(t, os.WriteFile(target, []byte("keep me"), 0o600))

	err = s.DB().Backup(ctx, target)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already exists")
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(got))

	// A dangling symlink counts as existing too: Backup must not write through it.
	link := filepath.Join(outDir, "link.db")
	require.NoError(t, os.Symlink(filepath.Join(outDir, "elsewhere.db"), link))
	require.Error(t, s.DB().Backup(ctx, link))
	_, err = os.Stat(filepath.Join(outDir, "elsewhere.db"))
	assert.True(t, os.IsNotExist(err))

	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "only precious.db and link.db: no temporary file")

	// A second backup to a fresh name works, and a repeat to the same name is refused.
	fresh := filepath.Join(outDir, "fresh.db")
	require.NoError(t, s.DB().Backup(ctx, fresh))
	require.NoError(t, CheckIntegrity(ctx, fresh))
	require.Error(t, s.DB().Backup(ctx, fresh))
}

func TestCheckIntegrityRefusesGarbage(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "garbage.db")
	require.NoError(t, os.WriteFile(p, []byte("this is not a database, just some bytes that go on for a while........"), 0o600))
	require.Error(t, CheckIntegrity(context.Background(), p))
}

// The database, its -wal and -shm files and a backup hold password and PIN hashes: only the
// owner may read them (0600), also when an older version left the database 0644.
func TestDatabaseAndBackupFilesAreOwnerOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	assertOwnerOnly := func(p string) {
		t.Helper()
		info, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}

	d, err := Open(path)
	require.NoError(t, err)
	_, err = d.Migrate(ctx)
	require.NoError(t, err)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		assertOwnerOnly(p)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, d.Backup(ctx, backup))
	assertOwnerOnly(backup)
	require.NoError(t, d.Close())

	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
	d, err = Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	var n int
	require.NoError(t, d.Reader.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		assertOwnerOnly(p)
	}
}
