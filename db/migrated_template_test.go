package db

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The copy OpenMigratedForTest opens is what Migrate makes of a new database: the same schema
// and version, nothing pending, and each copy is a database of its own.
func TestOpenMigratedForTestIsAFreshMigratedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	migrated := openTestDB(t)
	_, err := migrated.Migrate(ctx)
	require.NoError(t, err)

	open := func() *DB {
		d, err := OpenMigratedForTest(filepath.Join(t.TempDir(), FileName))
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
	first, second := open(), open()
	pending, err := first.CheckSchema(ctx)
	require.NoError(t, err)
	assert.Zero(t, pending)
	assert.Equal(t, schemaOf(t, migrated), schemaOf(t, first))

	_, err = first.Writer.ExecContext(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('web', 'only in the first', '2026-03-01T09:00:00Z', '2026-03-01T09:00:00Z')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, second.Reader.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
	assert.Zero(t, n, "copies share nothing")
}

// schemaOf lists the database's tables, indexes, triggers and views with their SQL.
func schemaOf(t *testing.T, d *DB) []string {
	t.Helper()
	rows, err := d.Reader.QueryContext(context.Background(), `SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, out)
	return out
}
