package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/storetest"
)

// TestReadsDuringImport: while an import holds the write transaction open,
// reads complete and see the last committed state.
func TestReadsDuringImport(t *testing.T) {
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
	if err := db.CreateSIMs(ctx, tn.ID, storetest.SIMs(1, 10, "meters"), ch); err != nil {
		t.Fatal(err)
	}
	head, _, _ := db.AuditHead(ctx)

	paused, resume := make(chan struct{}), make(chan struct{})
	db.hookImportRow = func(row int) {
		if row == 500 {
			close(paused)
			<-resume
		}
	}
	done := make(chan error, 1)
	go func() { done <- db.CreateSIMs(ctx, tn.ID, storetest.SIMs(1000, 1000, "meters"), ch) }()
	<-paused

	// Generous: a read that waited for the import would wait forever.
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	sims, err := db.ListSIMs(rctx, simguard.SIMFilter{TenantID: tn.ID, Limit: 10000})
	if err != nil || len(sims) != 10 {
		t.Errorf("ListSIMs during the import: %d SIMs, %v; want the 10 committed", len(sims), err)
	}
	if _, err := db.FindSIM(rctx, tn.ID, storetest.ICCID(1000)); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("an uncommitted SIM is visible: %v", err)
	}
	if seq, _, err := db.AuditHead(rctx); err != nil || seq != head {
		t.Errorf("AuditHead during import = %d, %v; want %d", seq, err, head)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n, err := db.CountSIMs(ctx, tn.ID)
	if err != nil || n[simguard.SIMActive] != 1010 {
		t.Errorf("after the import: %v, %v", n, err)
	}
}
