//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/storetest"
)

// crashChildEnv makes the test binary, re-executed, the child that dies.
const crashChildEnv = "SIMGUARD_SQLITE_CRASH_DB"

const (
	crashBatch = 60000
	crashAt    = 50000
)

// TestCrashDuringImport kills a process with SIGKILL in the middle of a
// large CreateSIMs, after uncommitted pages of the import reached the WAL
// file, and checks that the reopened store holds exactly the state before
// the import and that the audit chain verifies.
func TestCrashDuringImport(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("imports 60,000 SIMs in a child process")
	}
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.db")
	signer, err := audit.LoadOrCreateKey(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := storetest.Change(1, "test")
	tn, err := db.CreateTenant(ctx, "acme", ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateGroup(ctx, simguard.Group{TenantID: tn.ID, Name: "meters"}, ch); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSIMs(ctx, tn.ID, storetest.SIMs(1, 10, "meters"), ch); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Checkpoint(ctx, db, signer, db.now()); err != nil {
		t.Fatal(err)
	}
	headSeq, headHash, err := db.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashDuringImport$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: err %v, want death by SIGKILL; output:\n%s", err, out)
	}
	var row, wal int64
	marker := strings.Index(string(out), "crashing at row")
	if marker < 0 {
		t.Fatalf("child died before the crash point:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[marker:]), "crashing at row %d wal=%d", &row, &wal); err != nil {
		t.Fatalf("child output %q: %v", out[marker:], err)
	}
	if row != crashAt || wal == 0 {
		t.Fatalf("child crashed at row %d with a %d-byte WAL: want row %d with uncommitted pages in the WAL", row, wal, crashAt)
	}
	t.Logf("child killed at row %d of %d with %d bytes in the WAL", row, crashBatch, wal)

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	counts, err := db.CountSIMs(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[simguard.SIMActive] != 10 || counts[simguard.SIMInventory] != 0 {
		t.Errorf("after the crash the store has %v SIMs, want the 10 from before", counts)
	}
	if seq, hash, _ := db.AuditHead(ctx); seq != headSeq || hash != headHash {
		t.Errorf("audit head after crash %d %s, want %d %s", seq, hash, headSeq, headHash)
	}
	rep, err := audit.Verify(ctx, db, signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Checkpoints != 1 {
		t.Errorf("audit after crash: %+v", rep)
	}
	if res := pragma(t, db.w, "integrity_check"); res != "ok" {
		t.Errorf("integrity_check after crash: %s", res)
	}
	// Nothing of the lost import lingers, not even in an index.
	if err := db.CreateSIMs(ctx, tn.ID, crashSIMs(), ch); err != nil {
		t.Errorf("re-running the lost import: %v", err)
	}
}

func crashSIMs() []simguard.SIM { return storetest.SIMs(100000, crashBatch, "meters") }

func crashChild(t *testing.T, path string) {
	ctx := t.Context()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// An empty WAL to start from and a small page cache, so that the
	// import's uncommitted pages spill into the WAL before the crash.
	for _, q := range []string{`PRAGMA wal_checkpoint(TRUNCATE)`, `PRAGMA cache_size = -1000`} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.hookImportRow = func(row int) {
		if row != crashAt {
			return
		}
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("crashing at row %d wal=%d\n", row, fi.Size())
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it to land
	}
	tn, err := db.ListTenants(ctx)
	if err != nil || len(tn) != 1 {
		t.Fatalf("tenants %v: %v", tn, err)
	}
	err = db.CreateSIMs(ctx, tn[0].ID, crashSIMs(), storetest.Change(tn[0].ID, "sim.import"))
	t.Fatalf("the import returned (%v) instead of crashing", err)
}
