package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryAll(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	_, err := d.Writer.ExecContext(ctx, `CREATE TABLE numbers (n INTEGER NOT NULL); INSERT INTO numbers VALUES (3), (1), (2)`)
	require.NoError(t, err)

	got, err := queryAll(ctx, d.Writer, scanInt64, `SELECT n FROM numbers ORDER BY n`)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3}, got)

	none, err := queryAll(ctx, d.Writer, scanInt64, `SELECT n FROM numbers WHERE n > ?`, 10)
	require.NoError(t, err)
	assert.Nil(t, none, "no rows is a nil list, as the loops it replaced returned")

	_, err = queryAll(ctx, d.Writer, scanInt64, `SELECT n FROM nowhere`)
	require.Error(t, err, "a query that fails")

	stop := errors.New("bad row")
	seen := 0
	got, err = queryAll(ctx, d.Writer, func(row rowScanner) (int64, error) {
		n, err := scanInt64(row)
		if seen++; n == 2 {
			return 0, stop
		}
		return n, err
	}, `SELECT n FROM numbers ORDER BY n`)
	require.ErrorIs(t, err, stop)
	assert.Nil(t, got, "a row that cannot be read fails the whole list")
	assert.Equal(t, 2, seen, "reading stops at the first bad row")

	// The rows are closed, on success and on error: the writer has a single connection, and
	// rows left open would hold it.
	assert.Zero(t, d.Writer.Stats().InUse)
	_, err = d.Writer.ExecContext(ctx, `INSERT INTO numbers VALUES (4)`)
	require.NoError(t, err)
}

func TestQueryAllInTransaction(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	_, err := d.Writer.ExecContext(ctx, `CREATE TABLE numbers (n INTEGER NOT NULL); INSERT INTO numbers VALUES (1), (2)`)
	require.NoError(t, err)
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		doubled, err := queryAll(ctx, tx, scanInt64, `UPDATE numbers SET n = n * 2 RETURNING n`)
		if err != nil {
			return err
		}
		assert.ElementsMatch(t, []int64{2, 4}, doubled)
		// The statement is finished: the transaction goes on and commits.
		_, err = tx.ExecContext(ctx, `INSERT INTO numbers VALUES (5)`)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, 3, count(t, d, `SELECT count(*) FROM numbers`))
}
