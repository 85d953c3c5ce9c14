package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// The benchmarks run against a synthetic, deterministic fleet of a million
// SIMs in 100 groups of 10 tenants; every group uses most checks.
//
//	go test ./policy/ -run '^$' -bench . -benchtime 2s

const benchN = 1_000_000

func benchGroups() []simguard.Group {
	var gs []simguard.Group
	for t := int64(1); t <= 10; t++ {
		for g := range 10 {
			p := basePolicy()
			p.APNs = []string{"backup.example", "iot.example"}
			p.Location.PLMNs = []string{"262-02", "310-260", "262-01"}
			p.RATs = []simguard.RAT{simguard.RAT4G, simguard.RATLTEM, simguard.RATNBIoT}
			p.DeviceTACs = []string{"86", "35332509"}
			p.Windows = []simguard.Window{{Daily: "00:00-23:59"}}
			p.Quotas = simguard.Quotas{DataBytes: 1 << 30, SMSCount: 1000}
			p.SMS.MT.Deny = []string{"4915"}
			gs = append(gs, simguard.Group{TenantID: t, Name: fmt.Sprintf("grp%d", g), Policy: p})
		}
	}
	return gs
}

func benchIMEI(i int) string { return fmt.Sprintf("35332509%06d", i%1_000_000) }

// benchSIM is SIM i (1-based) of the synthetic fleet.
func benchSIM(i int) simguard.SIM {
	s := simguard.SIM{
		ID: int64(i), TenantID: int64(i%10 + 1), ICCID: iccidFor(uint64(i)),
		IMSI: fmt.Sprintf("00101%010d", i), MSISDN: fmt.Sprintf("49170%08d", i),
		State: simguard.SIMActive, Group: fmt.Sprintf("grp%d", (i/10)%10),
		StaticIP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
		Usage:    simguard.Usage{PeriodStart: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), DataBytes: int64(i%1000) * 1e6},
	}
	switch i % 3 {
	case 0:
		s.IMEILock.Mode = simguard.IMEILockOff
	case 1:
		s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: benchIMEI(i)}
	case 2:
		s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn, IMEI: benchIMEI(i), BoundAt: tp(t0.Add(-time.Hour))}
	}
	if i%50 == 0 {
		s.State = simguard.SIMSuspended
	}
	return s
}

// fleet1M builds the million-SIM snapshot once per test binary run: it
// takes seconds, and every benchmark reads it without changing it. The
// SIMs are streamed through a Builder, as a store scan would, so that no
// million simguard.SIM values stay on the heap to slow the collector.
var fleet1M = sync.OnceValue(func() *Snapshot {
	b, err := NewBuilder(benchGroups())
	if err != nil {
		panic(err)
	}
	var sim simguard.SIM
	for i := 1; i <= benchN; i++ {
		sim = benchSIM(i)
		if err := b.AddSIM(&sim); err != nil {
			panic(err)
		}
	}
	return b.Build()
})

// cpuPerOp reports the process CPU time per operation of the benchmark
// run by fn (see processCPU); 0 where it cannot be measured.
func cpuPerOp(b *testing.B, fn func()) {
	start := processCPU()
	fn()
	if used := processCPU() - start; used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkCompile1M(b *testing.B) {
	sims := make([]simguard.SIM, benchN)
	for i := range sims {
		sims[i] = benchSIM(i + 1)
	}
	groups := benchGroups()
	var perSIM float64
	var compileCPU time.Duration
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := processCPU()
		s, err := Compile(groups, sims)
		if err != nil {
			b.Fatal(err)
		}
		compileCPU += processCPU() - start
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSIM = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(s.Len())
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perSIM, "bytes/SIM")
	if compileCPU > 0 {
		b.ReportMetric(float64(compileCPU.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// benchWith chains WithSIM calls with the SIMs sim(0), sim(1), …
func benchWith(b *testing.B, s *Snapshot, sim func(i int) simguard.SIM) {
	for i := 0; b.Loop(); i++ {
		c := sim(i)
		var err error
		if s, err = s.WithSIM(&c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWithSIM1M(b *testing.B) {
	s := fleet1M()
	pick := func(i int) int { return 1 + (i*7919)%benchN }
	b.Run("state", func(b *testing.B) {
		benchWith(b, s, func(i int) simguard.SIM {
			c := benchSIM(pick(i))
			c.State = simguard.SIMSuspended
			return c
		})
	})
	b.Run("msisdn", func(b *testing.B) {
		benchWith(b, s, func(i int) simguard.SIM {
			c := benchSIM(pick(i))
			c.MSISDN = fmt.Sprintf("4930%08d", i)
			return c
		})
	})
	b.Run("imsi", func(b *testing.B) {
		benchWith(b, s, func(i int) simguard.SIM {
			c := benchSIM(pick(i))
			c.IMSI = fmt.Sprintf("00103%010d", i)
			return c
		})
	})
	b.Run("insert", func(b *testing.B) {
		benchWith(b, s, func(i int) simguard.SIM { return benchSIM(benchN + 1 + i) })
	})
	b.Run("remove", func(b *testing.B) {
		s := s
		for i := 0; b.Loop(); i++ {
			s = s.WithoutSIM(int64(pick(i)))
		}
	})
}

// BenchmarkWithSIMs1M changes 1000 SIMs per batch (a bulk import or a
// fleet-wide suspension); ns/op is per batch.
func BenchmarkWithSIMs1M(b *testing.B) {
	s := fleet1M()
	batch := make([]simguard.SIM, 1000)
	for i := 0; b.Loop(); i++ {
		for k := range batch {
			batch[k] = benchSIM(1 + (i*len(batch)+k)*7919%benchN)
			batch[k].State = simguard.SIMSuspended
		}
		var err error
		if s, err = s.WithSIMs(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWithGroup(b *testing.B) {
	s := fleet1M()
	gs := benchGroups()
	for i := 0; b.Loop(); i++ {
		g := gs[i%len(gs)]
		g.Policy.APNs = []string{fmt.Sprintf("apn%d.example", i)}
		var err error
		if s, err = s.WithGroup(&g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryLatency calibrates the machine: the cost of one random
// read from a table as large as the million-SIM snapshot (160 MB), as a
// dependent chain (latency) and as independent reads (what a stream of
// unrelated requests sees). Evaluate cannot beat one such read per
// request when the SIMs are out of cache.
func BenchmarkMemoryLatency(b *testing.B) {
	const n = 160 << 20 / 8
	next := make([]uint64, n)
	rng := rand.New(rand.NewPCG(3, 4))
	perm := rng.Perm(n)
	for i := range perm {
		next[perm[i]] = uint64(perm[(i+1)%n])
	}
	b.Run("dependent", func(b *testing.B) {
		p := uint64(0)
		cpuPerOp(b, func() {
			for b.Loop() {
				p = next[p]
			}
		})
		runtime.KeepAlive(p)
	})
	b.Run("independent", func(b *testing.B) {
		var sum uint64
		cpuPerOp(b, func() {
			for i := uint64(0); b.Loop(); i++ {
				sum += next[mix(i)%n]
			}
		})
		runtime.KeepAlive(sum)
	})
}
