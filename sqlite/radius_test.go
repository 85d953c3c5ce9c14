package sqlite

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// The semantics of sessions, leases and NAS clients are checked by the
// conformance suite (storetest, RADIUS); this checks what only a file can
// get wrong: they survive closing and reopening the store.
func TestRADIUSStateSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "simguard.db")
	ctx := t.Context()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0).UTC()
	s := simguard.RADIUSSession{TenantID: 1, SIMID: 7, NAS: "pgw", SessionID: "s1", IP: netip.MustParseAddr("10.0.0.7"),
		Start: t0, LastUpdate: t0, InputOctets: 1 << 33}
	if err := db.SaveSession(ctx, &s); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("10.64.0.2")
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "iot", IP: a, SIMID: 7, TenantID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.LiveSession(ctx, "pgw", "s1"); err != nil || got.ID != s.ID || got.InputOctets != 1<<33 || got.IP != s.IP {
		t.Errorf("session after reopen: %+v, %v", got, err)
	}
	if l, err := db.GetLease(ctx, "iot", 7); err != nil || l.IP != a {
		t.Errorf("lease after reopen: %+v, %v", l, err)
	}
}
