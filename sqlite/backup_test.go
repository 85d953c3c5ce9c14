package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/storetest"
)

func TestBackupRestore(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, Options{})
	ch := storetest.Change(1, "test")
	tn, err := db.CreateTenant(ctx, "acme", ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateGroup(ctx, simguard.Group{TenantID: tn.ID, Name: "meters"}, ch); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSIMs(ctx, tn.ID, storetest.SIMs(1, 500, "meters"), ch); err != nil {
		t.Fatal(err)
	}
	signer, err := audit.LoadOrCreateKey(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Checkpoint(ctx, db, signer, db.now()); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v; want 0600", err, fi.Mode())
	}
	// Changes after the backup are not in it.
	if err := db.CreateSIMs(ctx, tn.ID, storetest.SIMs(1000, 1, "meters"), ch); err != nil {
		t.Fatal(err)
	}
	err = db.Backup(ctx, dst)
	if simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("backup over an existing file: err = %v, want EINVALID", err)
	}

	restored, err := Open(ctx, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	counts, err := restored.CountSIMs(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[simguard.SIMActive] != 500 {
		t.Errorf("restored store has %v SIMs, want 500 active", counts)
	}
	rep, err := audit.Verify(ctx, restored, signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.LastSeq != 3 || rep.Checkpoints != 1 {
		t.Errorf("restored audit log: %+v, want OK at seq 3 with the checkpoint", rep)
	}
}
