package scan

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// waitRun polls the store until run id has a final status.
func waitRun(t *testing.T, store *memStore, id int64) simguard.ScanRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := store.run(id)
		if r.Status != simguard.ScanQueued && r.Status != simguard.ScanRunning {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan %d still %s", id, r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestQueue(t *testing.T) {
	_, open := listenTCP(t)
	store := newMemStore()
	s, err := New(Config{AuditRanges: loopback, Rate: 100000, Parallel: 1, ConnectTimeout: time.Second,
		BannerWait: 100 * time.Millisecond, ProbeTimeout: time.Second}, Deps{Store: store, Inventory: loopbackDevice})
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewQueue(s, 2)
	if err != nil {
		t.Fatal(err)
	}
	actor := simguard.Actor{TenantID: 3, Role: simguard.RoleOperator, Name: "token:9 (ops)"}
	req := Request{TenantID: 3, Actor: actor, Targets: []string{"127.0.0.1"}, Ports: fmt.Sprint(open), PortsOnly: true}
	ctx := context.Background()
	if _, err := q.SubmitRequest(ctx, req); simguard.ErrorCode(err) != simguard.EUNAVAILABLE {
		t.Fatalf("Submit before Run: %v, want EUNAVAILABLE", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	var run simguard.ScanRun
	for {
		// What the API hands over: an operator's request and who asks.
		in := simguard.ScanRequest{Targets: req.Targets, Ports: req.Ports}
		if run, err = q.Submit(ctx, actor, in); simguard.ErrorCode(err) != simguard.EUNAVAILABLE || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || run.Status != simguard.ScanQueued || run.TenantID != 3 || run.Actor != actor.Name || len(store.changes) != 1 || store.changes[0].Action != "scan.start" || store.changes[0].Actor.Name != actor.Name {
		t.Fatalf("queued run %+v, changes %+v", run, store.changes)
	}
	if got := waitRun(t, store, run.ID); got.Status != simguard.ScanDone || got.Stats.OpenPorts != 1 {
		t.Fatalf("finished run %+v", got)
	}

	// Refused before anything is recorded.
	bad := req
	bad.Targets = []string{"192.0.2.1"}
	if _, err := q.SubmitRequest(ctx, bad); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Fatalf("target outside the audit ranges: %v, want EINVALID", err)
	}
	if len(store.runs) != 1 {
		t.Fatalf("a refused scan was recorded: %+v", store.runs)
	}

	// One slow scan runs, one waits, a third is refused; shutdown cancels
	// both and records them.
	slow := req
	slow.Ports, slow.PortsOnly = "1-65535", true
	s.limit = newBucket(50, time.Now)
	r1, err := q.SubmitRequest(ctx, slow)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := q.SubmitRequest(ctx, slow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SubmitRequest(ctx, slow); simguard.ErrorCode(err) != simguard.EUNAVAILABLE {
		t.Fatalf("third scan in a queue of 2: %v, want EUNAVAILABLE", err)
	}
	for store.run(r1.ID).Status != simguard.ScanRunning && store.run(r2.ID).Status != simguard.ScanRunning {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}
	for _, id := range []int64{r1.ID, r2.ID} {
		if got := store.run(id); got.Status != simguard.ScanCanceled || got.FinishedAt.IsZero() {
			t.Errorf("scan %d after shutdown: %+v", id, got)
		}
	}
	if _, err := q.SubmitRequest(ctx, req); simguard.ErrorCode(err) != simguard.EUNAVAILABLE {
		t.Fatalf("Submit after shutdown: %v, want EUNAVAILABLE", err)
	}
	if _, err := NewQueue(newTestScanner(t, Deps{}), 1); err == nil {
		t.Error("a queue without a store was accepted")
	}
}
