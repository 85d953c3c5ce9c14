package control_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/sqlite"
	"github.com/simguard/simguard/storetest"
)

// BenchmarkChangeVisible1M: with 1,000,000 SIMs in the store and the
// snapshot, the time from an operator's suspend (store transaction with
// its audit record, then the copy-on-write snapshot update) until Evaluate
// answers sim_suspended. Goal: under 10 ms. It also reports how long the
// control plane takes to start (load and compile 1M SIMs).
//
//	go test ./control/ -run x -bench ChangeVisible1M -benchtime 200x
func BenchmarkChangeVisible1M(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc0, _ := control.New(ctx, db, control.Config{})
	secret, _ := svc0.Bootstrap(ctx, "provider")
	a, _, _ := svc0.Authenticate(ctx, secret)
	admin := simguard.WithActor(ctx, a)
	g := demo.Groups()[0]
	g.Policy.DeviceTACs = nil
	if _, err := svc0.CreateGroup(admin, g); err != nil {
		b.Fatal(err)
	}
	for first := 0; first < n; first += 100_000 {
		sims := storetest.SIMs(first, 100_000, g.Name)
		for i := range sims {
			sims[i].State = simguard.SIMActive
		}
		if err := db.CreateSIMs(ctx, simguard.ProviderTenantID, sims, simguard.Change{Actor: a, Action: "sim.import"}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	svc, err := control.New(ctx, db, control.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "startup-s")
	if svc.Policy().Snapshot().Len() != n {
		b.Fatalf("snapshot holds %d SIMs", svc.Policy().Snapshot().Len())
	}
	req := simguard.Request{Kind: simguard.KindDataSession, APN: "meters.iot", RAT: simguard.RATNBIoT,
		Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}}}
	i := 0
	for b.Loop() {
		imsi := storetest.IMSI(i % n)
		i += 7919
		if _, err := svc.SuspendSIM(admin, imsi, 0); err != nil {
			b.Fatal(err)
		}
		req.IMSI, req.Time = imsi, time.Now()
		if d := svc.Policy().Evaluate(&req); d.Reason != simguard.ReasonSIMSuspended {
			b.Fatalf("after suspend: %+v", d)
		}
	}
}
