package db

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"portier/models"
)

// TestIsUniqueViolation checks the helper against errors the driver really returns: a duplicate
// in a UNIQUE index or a PRIMARY KEY is one, other constraints and other errors are not, and
// neither is an error that only reads like one.
func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	d := openTestDB(t)
	ctx := context.Background()
	_, err := d.Writer.ExecContext(ctx, `CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE things (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, parent_id INTEGER REFERENCES parent(id));
		INSERT INTO things (id, email) VALUES (1, 'a@example.com')`)
	require.NoError(t, err)

	duplicateEmail := func() error {
		var id int64
		return d.Writer.QueryRowContext(ctx, `INSERT INTO things (email) VALUES ('a@example.com') RETURNING id`).Scan(&id)
	}
	insert := func(query string) func() error {
		return func() error {
			_, err := d.Writer.ExecContext(ctx, query)
			return err
		}
	}
	tests := []struct {
		name   string
		err    func() error
		unique bool
	}{
		{"duplicate in a unique index", duplicateEmail, true},
		{"duplicate primary key", insert(`INSERT INTO things (id, email) VALUES (1, 'b@example.com')`), true},
		{"wrapped duplicate", func() error { return fmt.Errorf("create: %w", duplicateEmail()) }, true},
		{"not null", insert(`INSERT INTO things (email) VALUES (NULL)`), false},
		{"foreign key", insert(`INSERT INTO things (email, parent_id) VALUES ('c@example.com', 99)`), false},
		{"syntax error", insert(`INSERT INTO nowhere VALUES (1)`), false},
		{"only the message", func() error { return errors.New("UNIQUE constraint failed: things.email") }, false},
		{"no error", func() error { return nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if tc.name != "no error" {
				require.Error(t, err)
			}
			assert.Equal(t, tc.unique, isUniqueViolation(err), "%v", err)
		})
	}

	// The driver reports extended result codes: the duplicate says which constraint failed.
	var sqliteErr *sqlite.Error
	require.ErrorAs(t, duplicateEmail(), &sqliteErr)
	assert.Equal(t, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqliteErr.Code())
}

// TestDuplicateLoginEmailIsConflict goes through a store method: a second login with an email
// already taken is models.ErrConflict.
func TestDuplicateLoginEmailIsConflict(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	createAccount(t, s, "owner@example.com")
	_, _, err := s.CreateAccount(context.Background(), CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Other", Name: "Other", Email: "owner@example.com"},
		PasswordHash: "hash",
		Audit:        models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
	})
	require.ErrorIs(t, err, models.ErrConflict)
}
