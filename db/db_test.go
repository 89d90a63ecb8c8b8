package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type connPragmas struct {
	foreignKeys, synchronous, busyTimeout, queryOnly int
	journalMode                                      string
}

func readPragmas(ctx context.Context, c *sql.Conn) (connPragmas, error) {
	var p connPragmas
	for _, q := range []struct {
		pragma string
		dest   any
	}{
		{"foreign_keys", &p.foreignKeys},
		{"journal_mode", &p.journalMode},
		{"synchronous", &p.synchronous},
		{"busy_timeout", &p.busyTimeout},
		{"query_only", &p.queryOnly},
	} {
		if err := c.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dest); err != nil {
			return p, fmt.Errorf("PRAGMA %s: %w", q.pragma, err)
		}
	}
	return p, nil
}

// The pragmas come from the DSN, so every pooled connection has them, not only the first.
// Production's Open waits for the disk on every commit (FULL); only the throwaway databases
// of OpenForTest do not (OFF), and they differ in nothing else.
func TestPragmasHoldOnEveryPooledConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		open        func(*testing.T) *DB
		synchronous int
	}{
		{"Open", openDurableDB, 2},     // 2 = FULL
		{"OpenForTest", openTestDB, 0}, // 0 = OFF
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.open(t)
			_, err := d.Writer.Exec(`CREATE TABLE t (x INTEGER)`)
			require.NoError(t, err)

			const readers = 8
			// The reader pool is sized from GOMAXPROCS; on a small machine it may hold fewer than 8
			// connections, and holding 8 at once would then block. The pragmas apply per connection
			// whatever the pool size, so widen the pool for this test only.
			d.Reader.SetMaxOpenConns(readers)
			d.Reader.SetMaxIdleConns(0) // closed connections are not reused: every Conn below is new

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			conns := make([]*sql.Conn, readers)
			var wg sync.WaitGroup
			errs := make([]error, readers)
			for i := range conns {
				wg.Go(func() {
					conns[i], errs[i] = d.Reader.Conn(ctx)
				})
			}
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "reader conn %d", i)
			}
			defer func() {
				for _, c := range conns {
					_ = c.Close() // a second Close only returns sql.ErrConnDone
				}
			}()
			// All 8 are held at once, so they are 8 distinct connections.
			require.Equal(t, readers, d.Reader.Stats().InUse)

			for i, c := range conns {
				p, err := readPragmas(ctx, c)
				require.NoError(t, err)
				assert.Equal(t, 1, p.foreignKeys, "reader %d foreign_keys", i)
				assert.Equal(t, "wal", p.journalMode, "reader %d journal_mode", i)
				assert.Equal(t, tc.synchronous, p.synchronous, "reader %d synchronous", i)
				assert.Positive(t, p.busyTimeout, "reader %d busy_timeout", i)
				assert.Equal(t, 1, p.queryOnly, "reader %d query_only", i)

				_, err = c.ExecContext(ctx, `INSERT INTO t (x) VALUES (?)`, i)
				require.Error(t, err, "reader %d accepted a write", i)
				assert.Contains(t, strings.ToLower(err.Error()), "readonly")
			}
			for _, c := range conns {
				require.NoError(t, c.Close())
			}
			_, err = d.Reader.ExecContext(ctx, `CREATE TABLE u (x INTEGER)`)
			require.Error(t, err, "reader pool accepted a schema change")
			assert.Contains(t, strings.ToLower(err.Error()), "readonly")
			assert.Equal(t, 0, count(t, d, `SELECT count(*) FROM t`))
			assert.False(t, tableExists(t, d, "u"))

			w, err := d.Writer.Conn(ctx)
			require.NoError(t, err)
			defer w.Close()
			p, err := readPragmas(ctx, w)
			require.NoError(t, err)
			assert.Equal(t, connPragmas{foreignKeys: 1, journalMode: "wal", synchronous: tc.synchronous, busyTimeout: p.busyTimeout, queryOnly: 0}, p)
			assert.Positive(t, p.busyTimeout)
			_, err = w.ExecContext(ctx, `INSERT INTO t (x) VALUES (1)`)
			require.NoError(t, err, "the writer must accept writes")
		})
	}
}

func TestDSNCarriesPragmasAndImmediateTxLock(t *testing.T) {
	t.Parallel()
	rw := DSN("/data/portier.db", false)
	ro := DSN("/data/portier.db", true)
	for _, want := range []string{"journal_mode%28WAL%29", "foreign_keys%281%29", "synchronous%28FULL%29", "busy_timeout%28", "_txlock=immediate"} {
		assert.Contains(t, rw, want)
		assert.Contains(t, ro, want)
	}
	assert.NotContains(t, rw, "query_only")
	assert.Contains(t, ro, "query_only%281%29")
	assert.True(t, strings.HasPrefix(rw, "file:/data/portier.db?"), rw)
}

// Read-modify-write from many goroutines: no busy errors, no lost updates.
func TestConcurrentReadModifyWrite(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	_, err := d.Writer.ExecContext(ctx, `CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter (id, n) VALUES (1, 0)`)
	require.NoError(t, err)

	const workers = 50
	const maxPerWorker = 40
	deadline := time.Now().Add(3 * time.Second)
	var done, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := 0; i < maxPerWorker && time.Now().Before(deadline); i++ {
				err := d.InTx(ctx, func(tx *sql.Tx) error {
					var n int64
					if err := tx.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE counter SET n = ? WHERE id = 1`, n+1)
					return err
				})
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				done.Add(1)
				// Readers run alongside the writers and never see an error either.
				var n int64
				if err := d.Reader.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, failures.Load(), "first error: %v", firstErr.Load())
	require.Positive(t, done.Load())
	assert.Equal(t, int(done.Load()), count(t, d, `SELECT n FROM counter WHERE id = 1`))
	t.Logf("%d increments by %d goroutines", done.Load(), workers)
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	_, err := d.Writer.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`)
	require.NoError(t, err)
	boom := fmt.Errorf("boom")
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (x) VALUES (1)`); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 0, count(t, d, `SELECT count(*) FROM t`))
	require.NoError(t, d.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (x) VALUES (2)`)
		return err
	}))
	assert.Equal(t, 1, count(t, d, `SELECT count(*) FROM t`))
	require.NoError(t, d.Ping(ctx))
}
