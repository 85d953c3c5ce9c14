package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationName is the form every migration file must have, so that sorting
// names sorts them by number.
var migrationName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

type migration struct {
	name string
	sql  string
	sum  string
}

// loadMigrations returns the migrations in fsys in name order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []migration
	for _, p := range names {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", p, err)
		}
		name := p[len("migrations/"):]
		if !migrationName.MatchString(name) {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", name)
		}
		sum := sha256.Sum256(b)
		out = append(out, migration{name: name, sql: string(b), sum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(out, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// migrate applies every migration of all the database has not recorded,
// in name order, in one transaction, and refuses a database that recorded a
// migration all does not have. See doc.go for why applied migrations are
// tracked by name.
func (db *DB) migrate(ctx context.Context, all []migration) error {
	known := make(map[string]migration, len(all))
	for _, m := range all {
		known[m.name] = m
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name       TEXT PRIMARY KEY,
			sha256     TEXT NOT NULL,
			applied_at INTEGER NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT name, sha256 FROM schema_migrations ORDER BY name`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for rows.Next() {
			var name, sum string
			if err := rows.Scan(&name, &sum); err != nil {
				rows.Close()
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			applied[name] = sum
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for name, sum := range applied {
			m, ok := known[name]
			if !ok {
				return fmt.Errorf("database %s has migration %q, which this simguard does not know: it was written by a newer version; upgrade simguard or restore a backup", db.path, name)
			}
			if m.sum != sum {
				// Editing an applied migration has no effect on existing
				// databases; say so rather than fail the start.
				db.log.Warn("applied migration differs from the embedded one", "migration", name)
			}
		}
		for _, m := range all {
			if _, ok := applied[m.name]; ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, sha256, applied_at) VALUES (?, ?, ?)`,
				m.name, m.sum, ts(now)); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			db.log.Info("applied migration", "migration", m.name, "path", db.path)
		}
		return nil
	})
}
