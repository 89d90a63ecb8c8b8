package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Backup writes a consistent snapshot of the database to target with VACUUM INTO (safe while
// the server runs), fsyncs it, and moves it into place without ever overwriting an existing
// file. The result is checked with PRAGMA integrity_check before Backup returns.
func (d *DB) Backup(ctx context.Context, target string) error {
	if _, err := os.Lstat(target); err == nil {
		return fmt.Errorf("%s already exists; choose a new file name", target)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(target)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", filepath.Base(target), os.Getpid()))
	_ = os.Remove(tmp)
	defer os.Remove(tmp)
	// VACUUM INTO fills an empty file and keeps its mode: the backup holds password and PIN
	// hashes, so only the owner may read it from the start.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	// VACUUM INTO reads one consistent snapshot. It needs a connection that may write (the
	// query_only readers refuse it); other processes' writers are not blocked meanwhile.
	if _, err := d.Writer.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := CheckIntegrity(ctx, tmp); err != nil {
		return err
	}
	// A hard link fails if target appeared meanwhile, so nothing is ever overwritten.
	if err := os.Link(tmp, target); err != nil {
		return fmt.Errorf("move backup into place: %w", err)
	}
	return syncFile(dir)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// CheckIntegrity opens the database file at path read-only and runs PRAGMA integrity_check.
func CheckIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check of %s: %s", path, res)
	}
	return nil
}
