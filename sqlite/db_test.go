package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/simguard/simguard"
)

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// TestDurabilitySettings: what the durability promise rests on, on both
// pools.
func TestDurabilitySettings(t *testing.T) {
	db := openTest(t, Options{})
	for name, pool := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
		want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"}
		for p, v := range want {
			if got := pragma(t, pool, p); got != v {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, p, got, v)
			}
		}
	}
	if got := pragma(t, db.r, "query_only"); got != "1" {
		t.Errorf("reader pool is not query_only")
	}
	if _, err := db.r.ExecContext(t.Context(), `DELETE FROM tenants`); err == nil {
		t.Error("a read connection could write")
	}
	relaxed := openTest(t, Options{relaxedSync: true})
	if got := pragma(t, relaxed.w, "synchronous"); got != "1" {
		t.Errorf("relaxed: synchronous = %s, want 1 (NORMAL)", got)
	}
}

func TestOpenFileMode(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateTenant(t.Context(), "acme", simguard.Change{Actor: simguard.Actor{Name: "t"}, Action: "tenant.create"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db.path, db.path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600: it holds token hashes", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestOpenRejectsPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "/tmp/x?mode=ro", "/tmp/a#b"} {
		if _, err := Open(t.Context(), p, Options{}); simguard.ErrorCode(err) != simguard.EINVALID {
			t.Errorf("Open(%q): err = %v, want EINVALID", p, err)
		}
	}
}
