package db

import (
	"context"
	"database/sql"
)

// rowScanner is one row to read: a *sql.Row or the current row of *sql.Rows. The scanX
// functions of each entity take it, so they read a single row and every row of a list alike.
type rowScanner = interface{ Scan(dest ...any) error }

// querier runs a query that returns rows: a pool (DB.Reader, DB.Writer) or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs query on q and returns scan's value for each row, in order; nil when there
// are none.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scan)
}

// collectRows returns scan's value for each row of rows, in order (nil when there are none),
// and closes rows. It returns rows.Err too: rows.Next stops early on an error, and a list cut
// short must not pass for a whole one.
func collectRows[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanInt64 reads a row of one integer column (an id).
func scanInt64(row rowScanner) (int64, error) {
	var v int64
	err := row.Scan(&v)
	return v, err
}

// scanString reads a row of one text column.
func scanString(row rowScanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}
