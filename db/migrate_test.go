package db

import (
	"context"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbeddedMigrationsAreNumberedFromOne(t *testing.T) {
	t.Parallel()
	ms, err := Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Version)
		assert.NotEmpty(t, m.Name)
		assert.NotEmpty(t, m.SQL)
	}
}

func TestMigrateFreshDatabaseThenNothingToDo(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	ms, err := Migrations()
	require.NoError(t, err)

	pending, err := d.CheckSchema(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ms), pending)

	n, err := d.Migrate(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ms), n)
	v, err := d.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ms), v)
	for _, table := range []string{"accounts", "logins", "sessions", "api_tokens", "audit_log", "outbox", "password_resets", "throttles"} {
		assert.True(t, tableExists(t, d, table), "table %s", table)
	}
	// No foreign key violations after migrating.
	rows, err := d.Writer.QueryContext(ctx, `PRAGMA foreign_key_check`)
	require.NoError(t, err)
	assert.False(t, rows.Next(), "foreign_key_check reported a violation")
	require.NoError(t, rows.Close())

	n, err = d.Migrate(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	pending, err = d.CheckSchema(ctx)
	require.NoError(t, err)
	assert.Zero(t, pending)
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	ms, err := Migrations()
	require.NoError(t, err)
	_, err = d.Migrate(ctx)
	require.NoError(t, err)
	newer := len(ms) + 1
	_, err = d.Writer.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(newer))
	require.NoError(t, err)

	_, err = d.CheckSchema(ctx)
	var ens ErrNewerSchema
	require.ErrorAs(t, err, &ens)
	assert.Equal(t, ErrNewerSchema{Have: newer, Known: len(ms)}, ens)
	assert.Contains(t, err.Error(), "newer Portier")

	n, err := d.Migrate(ctx)
	require.ErrorAs(t, err, &ens)
	assert.Zero(t, n)
	v, err := d.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, newer, v, "Migrate must not touch a newer database")
}

func TestFailingMigrationLeavesVersionAndSchemaUnchanged(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	ms := []Migration{
		{Version: 1, Name: "one", SQL: `CREATE TABLE one (x INTEGER);`},
		{Version: 2, Name: "two", SQL: `CREATE TABLE two (x INTEGER); INSERT INTO two (x) VALUES (1); INSERT INTO no_such_table VALUES (1);`},
		{Version: 3, Name: "three", SQL: `CREATE TABLE three (x INTEGER);`},
	}
	n, err := d.migrate(ctx, ms)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migration 2 (two)")
	assert.Equal(t, 1, n)
	v, err := d.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.True(t, tableExists(t, d, "one"))
	assert.False(t, tableExists(t, d, "two"), "the failed migration left a partial table")
	assert.False(t, tableExists(t, d, "three"), "a migration after the failed one ran")

	// Once fixed, the remaining migrations apply from where it stopped.
	ms[1].SQL = `CREATE TABLE two (x INTEGER);`
	n, err = d.migrate(ctx, ms)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	v, err = d.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.True(t, tableExists(t, d, "two"))
	assert.True(t, tableExists(t, d, "three"))
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	t.Run("ordered, other files ignored", func(t *testing.T) {
		fsys := fstest.MapFS{
			"m/0002_second.sql": file("CREATE TABLE b (x);"),
			"m/0001_first.sql":  file("CREATE TABLE a (x);"),
			"m/README.md":       file("not a migration"),
			"m/sub/0003_x.sql":  file("ignored: in a subdirectory"),
		}
		ms, err := loadMigrations(fsys, "m")
		require.NoError(t, err)
		assert.Equal(t, []Migration{
			{Version: 1, Name: "first", SQL: "CREATE TABLE a (x);"},
			{Version: 2, Name: "second", SQL: "CREATE TABLE b (x);"},
		}, ms)
	})
	bad := map[string][]string{
		"gap":              {"0001_a.sql", "0003_c.sql"},
		"starts at two":    {"0002_b.sql"},
		"starts at zero":   {"0000_z.sql", "0001_a.sql"},
		"duplicate":        {"0001_a.sql", "0001_b.sql"},
		"no underscore":    {"0001_a.sql", "0002.sql"},
		"not a number":     {"0001_a.sql", "two_b.sql"},
		"name only":        {"foundation.sql"},
		"negative version": {"-001_a.sql"},
	}
	for name, files := range bad {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range files {
				fsys["m/"+f] = file("SELECT 1;")
			}
			_, err := loadMigrations(fsys, "m")
			require.Error(t, err, "files %v", files)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, err := loadMigrations(fstest.MapFS{}, "m")
		require.Error(t, err)
	})
}
