//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/storetest"
)

// benchStore opens a store with one tenant (ID 1) and groups "meters" and
// "cameras".
func benchStore(b *testing.B, opts Options) *DB {
	b.Helper()
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ch := storetest.Change(1, "bench")
	if _, err := db.CreateTenant(context.Background(), "acme", ch); err != nil {
		b.Fatal(err)
	}
	for _, g := range []string{"meters", "cameras"} {
		if _, err := db.CreateGroup(context.Background(), simguard.Group{TenantID: 1, Name: g}, ch); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// benchSIMs makes n SIMs shaped like a real import: a third with labels,
// every fourth with an IMEI lock.
func benchSIMs(first, n int) []simguard.SIM {
	sims := storetest.SIMs(first, n, "meters")
	for i := range sims {
		if i%3 == 0 {
			sims[i].Labels = map[string]string{"site": fmt.Sprintf("site-%d", i%50), "batch": "2026-11"}
		}
		if i%4 == 0 {
			sims[i].IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: fmt.Sprintf("35%012d", first+i)}
		}
		if i%2 == 0 {
			sims[i].Group = "cameras"
		}
	}
	return sims
}

// cpuTime is the process's user and system CPU time. Benchmarks report it
// beside wall time because the machine they run on is shared: wall time
// there measures the neighbours as much as the store.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func syncModes() []struct {
	name string
	opts Options
} {
	return []struct {
		name string
		opts Options
	}{{"sync=FULL", Options{}}, {"sync=NORMAL", Options{relaxedSync: true}}}
}

// BenchmarkCreateSIMs imports 100,000 SIMs in one call into a store that
// already holds the previous iterations' imports.
func BenchmarkCreateSIMs(b *testing.B) {
	const n = 100000
	for _, m := range syncModes() {
		b.Run(m.name, func(b *testing.B) {
			db := benchStore(b, m.opts)
			ch := storetest.Change(1, "sim.import")
			i := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				sims := benchSIMs(i*n, n)
				b.StartTimer()
				c := cpuTime()
				if err := db.CreateSIMs(context.Background(), 1, sims, ch); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c
				i++
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "sims/s")
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkSIMs1M reads a store of 1,000,000 SIMs. ScanSIMs is the
// control plane's start-up cost of compiling its policy snapshot; the
// ListSIMs cases are pages an operator's UI asks for.
func BenchmarkSIMs1M(b *testing.B) {
	const total, batch = 1000000, 100000
	db := benchStore(b, Options{relaxedSync: true})
	ctx := context.Background()
	ch := storetest.Change(1, "sim.import")
	for i := 0; i < total/batch; i++ {
		if err := db.CreateSIMs(ctx, 1, benchSIMs(i*batch, batch), ch); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("ScanSIMs", func(b *testing.B) {
		c := cpuTime()
		for b.Loop() {
			n := 0
			err := db.ScanSIMs(ctx, func(s *simguard.SIM) error { n++; return nil })
			if err != nil || n != total {
				b.Fatalf("scanned %d: %v", n, err)
			}
		}
		reportCPU(b, cpuTime()-c)
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "sims/s")
	})
	pages := []struct {
		name string
		f    simguard.SIMFilter
	}{
		{"ListSIMs/first-page", simguard.SIMFilter{}},
		{"ListSIMs/deep-page", simguard.SIMFilter{AfterID: 900000}},
		{"ListSIMs/group", simguard.SIMFilter{Group: "cameras", AfterID: 500000}},
		{"ListSIMs/label=value", simguard.SIMFilter{Label: "site=site-7"}}, // 1 in 150
		{"ListSIMs/label-key", simguard.SIMFilter{Label: "batch"}},         // 1 in 3
		{"ListSIMs/query-iccid", simguard.SIMFilter{Query: storetest.ICCID(777777)}},
		{"ListSIMs/query-prefix", simguard.SIMFilter{Query: storetest.IMSI(777777)[:12]}}, // 1,000 match
		{"FindSIM", simguard.SIMFilter{}},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			p.f.TenantID = 1
			for b.Loop() {
				if p.name == "FindSIM" {
					if _, err := db.FindSIM(ctx, 1, storetest.MSISDN(654321)); err != nil {
						b.Fatal(err)
					}
					continue
				}
				got, err := db.ListSIMs(ctx, p.f)
				if err != nil || len(got) == 0 {
					b.Fatalf("%d SIMs: %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkAppendEvents appends batches of events from 500 SIMs into a
// log that grows with b.N. Each commit rewrites the leaves of the per-SIM
// index that its events touch, so the cost per event falls with the batch
// size.
func BenchmarkAppendEvents(b *testing.B) {
	cases := []struct {
		name  string
		opts  Options
		batch int
	}{
		{"sync=FULL/batch=1000", Options{}, 1000},
		{"sync=NORMAL/batch=1000", Options{relaxedSync: true}, 1000},
		{"sync=FULL/batch=10000", Options{}, 10000},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			db := benchStore(b, c.opts)
			t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
			evs := make([]simguard.Event, c.batch)
			cpu := cpuTime()
			for b.Loop() {
				for i := range evs {
					evs[i] = simguard.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), TenantID: 1, SIMID: int64(i%500 + 1),
						Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed,
						Attrs: map[string]string{"imsi": storetest.IMSI(i), "nas": "10.0.0.1", "apn": "iot"}}
				}
				if err := db.AppendEvents(context.Background(), evs); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpuTime()-cpu)
			b.ReportMetric(float64(c.batch*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkUpdateSIM changes one SIM per transaction (with its audit
// record) in a store of 100,000 SIMs.
func BenchmarkUpdateSIM(b *testing.B) {
	const n = 100000
	for _, m := range syncModes() {
		b.Run(m.name, func(b *testing.B) {
			db := benchStore(b, m.opts)
			if err := db.CreateSIMs(context.Background(), 1, benchSIMs(0, n), storetest.Change(1, "sim.import")); err != nil {
				b.Fatal(err)
			}
			ch := storetest.Change(1, "sim.suspend")
			i := 0
			c := cpuTime()
			for b.Loop() {
				id := int64(i%n + 1)
				_, err := db.UpdateSIM(context.Background(), 1, id, 0, ch, func(s *simguard.SIM) error {
					if s.State == simguard.SIMActive {
						s.State = simguard.SIMSuspended
					} else {
						s.State = simguard.SIMActive
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((cpuTime()-c).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
