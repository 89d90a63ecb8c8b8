package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"portier/models"
)

// Store is every query Portier makes, one file per entity. Every method that reads or changes
// an account's records takes the account id and puts it in the WHERE clause.
type Store struct {
	db  *DB
	Now func() time.Time
	// stmts are fixed queries prepared once on the reader pool (see readStmt).
	stmts sync.Map
}

// NewStore returns a Store on d using now as its clock.
func NewStore(d *DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, Now: now}
}

// Subscribe returns a channel signalled after each committed change (DB.Subscribe): the outbox
// worker waits on it.
func (s *Store) Subscribe() <-chan struct{} { return s.db.Subscribe() }

// readStmt returns query prepared on the reader pool, preparing it the first time: the queries
// every page makes (session, login, account) then skip SQLite's parsing, which is a good part of
// a short query's cost. database/sql prepares it again on each pooled connection as needed.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.Reader.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// shortRead is the context for a read that every page makes and that takes microseconds (the
// session, the device names): without the request's cancellation, database/sql does not start
// a goroutine to watch it for each query, which costs more than the read could save by
// stopping early.
func shortRead(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// DB returns the underlying database (for health checks and backups).
func (s *Store) DB() *DB { return s.db }

// timeLayout is fixed-width so that text comparison in SQL orders times correctly.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func parseTimePtr(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Store) now() string { return formatTime(s.Now()) }

// notFound wraps models.ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, models.ErrNotFound) }

// mapNoRows turns sql.ErrNoRows into a wrapped models.ErrNotFound.
func mapNoRows(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return err
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate in a UNIQUE index or a
// PRIMARY KEY. It reads the driver's error code, not the message, which is meant for people.
// The driver turns on extended result codes for every connection, so the code says which
// constraint failed (a NOT NULL or FOREIGN KEY violation is another SQLITE_CONSTRAINT_*).
func isUniqueViolation(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	switch sqliteErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// prefixed puts a table alias before each column of a comma-separated list.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
