package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/storetest"
)

// openTest opens a new store in a temporary directory.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "simguard.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) simguard.Store { return openTest(t, Options{}) })
}
