package sqlite

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func appliedMigrations(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), `SELECT name FROM schema_migrations ORDER BY applied_at, rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func tableExists(t *testing.T, db *DB, name string) bool {
	t.Helper()
	ok, err := exists(t.Context(), db.r, `SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`, name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// withCore returns the embedded migrations plus extra files.
// withCore returns the embedded migrations (the core's and the features')
// plus extra, because openTest has applied all of them.
func withCore(t *testing.T, extra map[string]string) []migration {
	t.Helper()
	fsys := fstest.MapFS{}
	embedded, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range embedded {
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	for name, sql := range extra {
		fsys["migrations/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	all, err := loadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestEmbeddedMigrations(t *testing.T) {
	all, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || all[0].name != "0001_core.sql" {
		t.Fatalf("embedded migrations %v: want 0001_core.sql first", all)
	}
	db := openTest(t, Options{})
	if got := appliedMigrations(t, db); len(got) != len(all) {
		t.Errorf("applied %v, want all %d", got, len(all))
	}
	// Reopening applies nothing again.
	path := db.path
	db.Close()
	db2, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := appliedMigrations(t, db2); len(got) != len(all) {
		t.Errorf("after reopen applied %v", got)
	}
}

// TestMigrationsByName: features add migrations in their own ranges in
// parallel, so a lower-numbered file that arrives later is still applied.
func TestMigrationsByName(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	// Names outside every feature's range, so that they never collide with
	// a real migration: 0998 plays a feature that arrives late.
	smpp := map[string]string{"0999_test_late.sql": `CREATE TABLE smpp_binds (id INTEGER PRIMARY KEY);`}
	if err := db.migrate(ctx, withCore(t, smpp)); err != nil {
		t.Fatal(err)
	}
	before := appliedMigrations(t, db)
	both := map[string]string{
		"0999_test_late.sql":  smpp["0999_test_late.sql"],
		"0998_test_early.sql": `CREATE TABLE radius_clients (id INTEGER PRIMARY KEY);`,
		"0998_test_more.sql":  `ALTER TABLE radius_clients ADD COLUMN secret TEXT;`,
	}
	if err := db.migrate(ctx, withCore(t, both)); err != nil {
		t.Fatal(err)
	}
	want := append(before, "0998_test_early.sql", "0998_test_more.sql")
	if got := appliedMigrations(t, db); !slices.Equal(got, want) {
		t.Errorf("applied in order %v, want %v", got, want)
	}
	for _, tbl := range []string{"smpp_binds", "radius_clients"} {
		if !tableExists(t, db, tbl) {
			t.Errorf("table %s missing", tbl)
		}
	}

	// A binary without 0999 must not run on this database.
	err := db.migrate(ctx, withCore(t, map[string]string{"0998_test_early.sql": both["0998_test_early.sql"], "0998_test_more.sql": both["0998_test_more.sql"]}))
	if err == nil || !strings.Contains(err.Error(), `"0999_test_late.sql"`) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("older binary: err = %v, want a refusal naming 0999_test_late.sql", err)
	}
}

func TestMigrationFailureAppliesNothing(t *testing.T) {
	db := openTest(t, Options{})
	extra := map[string]string{
		"0997_test_a.sql": `CREATE TABLE test_peers_0997 (id INTEGER PRIMARY KEY);`,
		"0997_test_b.sql": `CREATE TABLE broken (;`,
	}
	if err := db.migrate(context.Background(), withCore(t, extra)); err == nil || !strings.Contains(err.Error(), "0997_test_b.sql") {
		t.Fatalf("err = %v, want the failing migration named", err)
	}
	if tableExists(t, db, "test_peers_0997") || len(appliedMigrations(t, db)) != len(withCore(t, nil)) {
		t.Error("a failed migration run left part of its changes")
	}
}

func TestMigrationNames(t *testing.T) {
	for _, name := range []string{"1_core.sql", "0001-core.sql", "0001_Core.sql", "0001_core.SQL.sql"} {
		fsys := fstest.MapFS{"migrations/" + name: &fstest.MapFile{Data: []byte("SELECT 1;")}}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("migration file %q accepted", name)
		}
	}
}

func TestOpenRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`INSERT INTO schema_migrations (name, sha256, applied_at) VALUES ('0700_future.sql', 'x', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(t.Context(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "0700_future.sql") || !strings.Contains(err.Error(), "upgrade simguard") {
		t.Errorf("Open of a newer database: err = %v", err)
	}
}
