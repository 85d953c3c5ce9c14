package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/simguard/simguard"
)

// Backup writes a consistent copy of the database to path with VACUUM
// INTO, online: it reads one snapshot, so writes go on meanwhile. path must not exist; the copy is created with mode 0600. The
// copy is an ordinary database: restore it by opening it (or copying it in
// place of the original while simguard is stopped).
func (db *DB) Backup(ctx context.Context, path string) error {
	// Creating the file first sets its mode (VACUUM INTO accepts an empty
	// file) and refuses to overwrite an existing backup.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return simguard.FieldError("path", "%s already exists; choose a new file name for the backup", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO writes (the new file), which the query_only read pool
	// refuses, and the write connection must stay free for writes: the
	// backup gets a connection of its own.
	conn, err := sql.Open("sqlite", db.path+"?"+db.dsn)
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
