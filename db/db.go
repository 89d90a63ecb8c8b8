// Package db opens Portier's SQLite database, migrates it and implements the Store.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file inside the data directory.
const FileName = "portier.db"

// pragmas are set through the DSN so that every pooled connection gets them; an
// Exec("PRAGMA …") would affect only the one connection it ran on. synchronous is added by
// dsn: FULL, except for the throwaway databases of OpenForTest.
var pragmas = []string{
	"journal_mode(WAL)",
	"busy_timeout(10000)",
	"foreign_keys(1)",
}

// synchronousFull makes every commit reach the disk before it returns: a revoked permission
// must not come back after a power cut.
const synchronousFull = "synchronous(FULL)"

// synchronousOff leaves writing to the disk to the operating system: a power cut can lose
// commits or damage the file. Only for databases that a test deletes afterwards.
const synchronousOff = "synchronous(OFF)"

// DSN builds the connection string for path. readOnly adds query_only so a reader can never write.
func DSN(path string, readOnly bool) string {
	return dsn(path, readOnly, synchronousFull)
}

func dsn(path string, readOnly bool, synchronous string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Add("_pragma", synchronous)
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// DB holds one writer connection and a pool of readers on the same file. SQLite allows one
// writer at a time: a single writer connection queues writes in Go instead of in busy retries.
type DB struct {
	Path   string
	Writer *sql.DB
	Reader *sql.DB

	// subscribers are signalled after every committed transaction (Subscribe).
	mu          sync.Mutex
	subscribers []chan struct{}
}

// Subscribe returns a channel that is signalled after each transaction of InTx commits: the
// workers that deliver what a change queued (the outbox today) wait on it, so no caller has
// to wake them. Signals coalesce: one waiting signal stands for any number of commits, and a
// worker looks at everything due when it wakes.
func (d *DB) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subscribers = append(d.subscribers, ch)
	return ch
}

// committed signals every subscriber without waiting.
func (d *DB) committed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ch := range d.subscribers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Open opens (creating if needed) the database at path. It does not migrate.
func Open(path string) (*DB, error) {
	return open(path, synchronousFull)
}

// OpenForTest is Open without waiting for the disk (synchronous=OFF), for the throwaway
// databases tests create in a temporary directory: a power cut can lose or damage them.
// Nothing in Portier's commands calls it; tests of durability (the crash test, backups)
// use Open.
func OpenForTest(path string) (*DB, error) {
	return open(path, synchronousOff)
}

// OpenMigratedForTest is OpenForTest on a database that has every migration already: a copy
// of one migrated once per test binary, since running the migrations costs more than most
// tests. Tests of the migrations themselves use OpenForTest and Migrate.
func OpenMigratedForTest(path string) (*DB, error) {
	migratedTemplate.once.Do(func() {
		migratedTemplate.file, migratedTemplate.err = makeMigratedTemplate()
	})
	if migratedTemplate.err != nil {
		return nil, fmt.Errorf("migrated template database: %w", migratedTemplate.err)
	}
	if err := os.WriteFile(path, migratedTemplate.file, 0o600); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return OpenForTest(path)
}

// migratedTemplate is the file of an empty database with every migration, made once.
var migratedTemplate struct {
	once sync.Once
	file []byte
	err  error
}

// makeMigratedTemplate migrates a new database in a temporary directory and returns its file.
func makeMigratedTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "portier-migrated-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, FileName)
	d, err := OpenForTest(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	_, err = d.Migrate(ctx)
	if err == nil {
		// Moves everything from the WAL into the database file, so the file alone is complete.
		_, err = d.Writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if err := errors.Join(err, d.Close()); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func open(path, synchronous string) (*DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(path, false, synchronous))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// The first statement creates the file and switches it to WAL before readers attach.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true, synchronous))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{Path: path, Writer: w, Reader: r}, nil
}

// ownerOnly creates the database file with mode 0600 if it is missing, and takes group and
// other access away from an existing one and its -wal and -shm files: they hold password and
// PIN hashes. SQLite creates -wal and -shm with the mode of the database file, so they follow.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, info.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close closes both pools; the last close checkpoints the WAL.
func (d *DB) Close() error {
	return errors.Join(d.Reader.Close(), d.Writer.Close())
}

// Ping checks that both pools answer a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.Reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	if err := d.Writer.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	return nil
}

// InTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits when fn returns nil; then
// the subscribers hear of it (Subscribe).
func (d *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	d.committed()
	return nil
}
