package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in order. Files are named NNNN_name.sql and
// numbered 1, 2, 3, … without gaps.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %d (%s): versions must be 1, 2, 3, … without gaps", m.Version, m.Name)
		}
	}
	return out, nil
}

// ErrNewerSchema means the database was written by a newer Portier than this binary.
type ErrNewerSchema struct{ Have, Known int }

func (e ErrNewerSchema) Error() string {
	return fmt.Sprintf("the database has schema version %d but this Portier knows only up to %d: "+
		"it was used by a newer Portier; run that version (or restore a backup)", e.Have, e.Known)
}

// SchemaVersion reads PRAGMA user_version.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := d.Writer.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// CheckSchema refuses a database newer than the embedded migrations and reports whether
// migrations are pending.
func (d *DB) CheckSchema(ctx context.Context) (pending int, err error) {
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	if v > len(ms) {
		return 0, ErrNewerSchema{Have: v, Known: len(ms)}
	}
	return len(ms) - v, nil
}

// Migrate applies the embedded migrations that the database lacks and returns how many ran.
func (d *DB) Migrate(ctx context.Context) (int, error) {
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	return d.migrate(ctx, ms)
}

// migrate applies ms, each in its own transaction together with its user_version bump, so a
// failing migration leaves the version (and the schema) where it was.
func (d *DB) migrate(ctx context.Context, ms []Migration) (int, error) {
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	if v > len(ms) {
		return 0, ErrNewerSchema{Have: v, Known: len(ms)}
	}
	ran := 0
	for _, m := range ms[v:] {
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version))
			return err
		})
		if err != nil {
			return ran, fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		ran++
	}
	return ran, nil
}
