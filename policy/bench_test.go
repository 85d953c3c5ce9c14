package policy

import (
	"fmt"
	"math/bits"
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

// benchRequests is a deterministic mix of every kind over random SIMs,
// about a third of them denied.
func benchRequests(n int) []simguard.Request {
	rng := rand.New(rand.NewPCG(1, 2))
	reqs := make([]simguard.Request, n)
	plmn := simguard.PLMN{MCC: 262, MNC: 1}
	for j := range reqs {
		i := 1 + rng.IntN(benchN)
		sim := benchSIM(i)
		r := simguard.Request{Time: t0, IMSI: sim.IMSI, IMEI: benchIMEI(i) + "07", RAT: simguard.RAT4G, APN: "IoT.example",
			Location: simguard.Location{PLMN: plmn}}
		switch j % 10 {
		case 0:
			r.Kind = simguard.KindDataSession
		case 1: // denied: APN
			r.Kind, r.APN = simguard.KindDataSession, "internet"
		case 2: // denied when locked: another device
			r.Kind, r.IMEI = simguard.KindDataSession, benchIMEI(i+1)
		case 3:
			r.Kind, r.IMSI, r.MSISDN, r.IMEI, r.Peer = simguard.KindSMSMT, "", sim.MSISDN, "", "+4930123456"
		case 4: // denied: source
			r.Kind, r.IMSI, r.MSISDN, r.IMEI, r.Peer = simguard.KindSMSMT, "", "+"+sim.MSISDN, "", "+4915112345"
		case 5:
			r.Kind, r.IMEI, r.Peer = simguard.KindSMSMO, "", "4930999"
		case 6:
			r.Kind = simguard.KindAttach
		case 7:
			r.Kind = simguard.KindIMEICheck
		case 8:
			r.Kind, r.IMSI, r.IP, r.IMEI = simguard.KindFlow, "", sim.StaticIP, ""
			r.Flow = simguard.Flow{Remote: netip.AddrFrom4([4]byte{203, 0, 113, byte(j)}), Proto: 6, Port: []uint16{443, 22}[j/10%2]}
		case 9: // unknown
			r.Kind, r.IMSI = simguard.KindDataSession, fmt.Sprintf("00102%010d", i)
		}
		reqs[j] = r
	}
	return reqs
}

func BenchmarkEvaluate(b *testing.B) {
	s := fleet1M()
	reqs := benchRequests(1 << 16)
	allowed := 0
	for i := range reqs {
		if s.Evaluate(&reqs[i]).Allow {
			allowed++
		}
	}
	b.Logf("%d of %d requests allowed", allowed, len(reqs))
	// mixed: random SIMs across the million, so most lookups miss the CPU
	// caches, as they would in production.
	b.Run("mixed-1M", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.Evaluate(&reqs[i&(len(reqs)-1)])
			i++
		}
	})
	// hot: the same 16 requests, the cost of the rules alone.
	b.Run("hot", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.Evaluate(&reqs[i&15])
			i++
		}
	})
	// per kind, random SIMs: the IMSI path (data, attach, imei_check,
	// sms_mo) costs one random memory access, MSISDN (sms_mt) and IP
	// (flow) two.
	for _, k := range allKinds {
		var only []simguard.Request
		for i := range reqs {
			if reqs[i].Kind == k {
				only = append(only, reqs[i])
			}
		}
		only = only[:1<<(bits.Len(uint(len(only)))-1)]
		b.Run("kind="+k.String(), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Evaluate(&only[i&(len(only)-1)])
				i++
			}
		})
	}
	b.Run("parallel-mixed-1M", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(reqs))
			for pb.Next() {
				s.Evaluate(&reqs[i&(len(reqs)-1)])
				i++
			}
		})
	})
}

func BenchmarkExplain(b *testing.B) {
	s := fleet1M()
	reqs := benchRequests(1 << 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Explain(&reqs[i&(len(reqs)-1)])
		i++
	}
}

func BenchmarkCompile1M(b *testing.B) {
	sims := make([]simguard.SIM, benchN)
	for i := range sims {
		sims[i] = benchSIM(i + 1)
	}
	groups := benchGroups()
	var perSIM float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := Compile(groups, sims)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSIM = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(s.Len())
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perSIM, "bytes/SIM")
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
		for i := 0; b.Loop(); i++ {
			s = s.WithoutSIM(int64(pick(i)))
		}
	})
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
