package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/simguard/simguard"
)

// The Evaluate benchmarks replay request templates (every kind, allowed
// and denied) against SIMs picked at random from the million. Identities
// are packed into flat buffers, the way an adapter's request points into
// the packet it decoded, so that the only cache misses are the snapshot's.
//
//   - cold: 2^20 picks, far more SIMs than the CPU caches hold: every
//     decision reads its SIM from memory, as with a large, busy fleet;
//   - warm: 4096 SIMs, whose records stay in cache;
//   - hot: 16 requests, the cost of the rules alone.

const nPicks = 1 << 20

// benchPicks holds, for pick j, the identities of a random SIM i.
type benchPicks struct {
	imsi, unknown, msisdn, imei string // 15, 15, 13 and 16 bytes per pick
	ip                          []netip.Addr
	id                          []int32 // the SIM picked
}

var picks = sync.OnceValue(func() *benchPicks {
	rng := rand.New(rand.NewPCG(1, 2))
	var imsi, unknown, msisdn, imei []byte
	p := &benchPicks{ip: make([]netip.Addr, nPicks), id: make([]int32, nPicks)}
	for j := range nPicks {
		i := 1 + rng.IntN(benchN)
		imsi = fmt.Appendf(imsi, "00101%010d", i)
		unknown = fmt.Appendf(unknown, "00102%010d", i)
		msisdn = fmt.Appendf(msisdn, "49170%08d", i)
		imei = fmt.Appendf(imei, "35332509%06d07", i%1_000_000) // IMEISV of the bound device
		p.id[j] = int32(i)
		p.ip[j] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	p.imsi, p.unknown, p.msisdn, p.imei = string(imsi), string(unknown), string(msisdn), string(imei)
	return p
})

// Ways a template identifies its SIM.
const (
	byIMSI = iota
	byUnknownIMSI
	byMSISDN
	byIP
)

type template struct {
	name  string
	by    int
	imei  int // 0: none, 1: the bound device, 2: another device
	allow bool
	req   simguard.Request
}

func templates() []template {
	loc := simguard.Location{PLMN: simguard.PLMN{MCC: 262, MNC: 1}}
	data := simguard.Request{Kind: simguard.KindDataSession, Time: t0, RAT: simguard.RAT4G, APN: "IoT.example", Location: loc}
	with := func(r simguard.Request, f func(*simguard.Request)) simguard.Request { f(&r); return r }
	return []template{
		{"data_session", byIMSI, 1, true, data},
		{"data_session/apn_denied", byIMSI, 1, false, with(data, func(r *simguard.Request) { r.APN = "internet" })},
		{"data_session/other_device", byIMSI, 2, false, data},
		{"sms_mt", byMSISDN, 0, true, simguard.Request{Kind: simguard.KindSMSMT, Time: t0, Peer: "+4930123456"}},
		{"sms_mt/peer_denied", byMSISDN, 0, false, simguard.Request{Kind: simguard.KindSMSMT, Time: t0, Peer: "+4915112345"}},
		{"sms_mo", byIMSI, 0, true, simguard.Request{Kind: simguard.KindSMSMO, Time: t0, Peer: "4930999"}},
		{"attach", byIMSI, 1, true, with(data, func(r *simguard.Request) { r.Kind, r.APN = simguard.KindAttach, "" })},
		{"imei_check", byIMSI, 1, true, simguard.Request{Kind: simguard.KindIMEICheck, Time: t0}},
		{"flow", byIP, 0, true, simguard.Request{Kind: simguard.KindFlow, Time: t0, Flow: simguard.Flow{Remote: netip.MustParseAddr("203.0.113.9"), Proto: 6, Port: 443}}},
		{"flow/denied", byIP, 0, false, simguard.Request{Kind: simguard.KindFlow, Time: t0, Flow: simguard.Flow{Remote: netip.MustParseAddr("203.0.113.9"), Proto: 6, Port: 22}}},
		{"unknown_imsi", byUnknownIMSI, 1, false, data},
	}
}

// fill points t's request at pick j and returns it.
func (p *benchPicks) fill(t *template, j int) *simguard.Request {
	r := &t.req
	switch t.by {
	case byIMSI:
		r.IMSI = p.imsi[j*15 : j*15+15]
	case byUnknownIMSI:
		r.IMSI = p.unknown[j*15 : j*15+15]
	case byMSISDN:
		r.MSISDN = p.msisdn[j*13 : j*13+13]
	case byIP:
		r.IP = p.ip[j]
	}
	switch t.imei {
	case 1:
		r.IMEI = p.imei[j*16 : j*16+16]
	case 2:
		k := (j + 1) & (nPicks - 1)
		r.IMEI = p.imei[k*16 : k*16+16]
	}
	return r
}

// replay evaluates templates round-robin over the first span picks.
func replay(b *testing.B, s *Snapshot, ts []template, span int) {
	p := picks()
	b.ReportAllocs()
	cpuPerOp(b, func() {
		for j := 0; b.Loop(); j++ {
			s.Evaluate(p.fill(&ts[j%len(ts)], j&(span-1)))
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	s, p := fleet1M(), picks()
	ts := templates()
	for i := range ts {
		// Every template decides as its name says (benchSIM suspends every
		// 50th SIM and locks two in three to their device).
		for j := range 300 {
			id := int(p.id[j])
			want := ts[i].allow || ts[i].imei == 2 && id%3 == 0
			if id%50 == 0 && ts[i].by != byUnknownIMSI {
				want = false
			}
			if d := s.Evaluate(p.fill(&ts[i], j)); d.Allow != want {
				b.Fatalf("%s, SIM %d: %+v", ts[i].name, id, d)
			}
		}
	}
	b.Run("cold-mixed", func(b *testing.B) { replay(b, s, templates(), nPicks) })
	b.Run("warm-mixed", func(b *testing.B) { replay(b, s, templates(), 4096) })
	b.Run("hot-mixed", func(b *testing.B) { replay(b, s, templates(), 16) })
	for _, t := range templates() {
		b.Run("cold-"+t.name, func(b *testing.B) { replay(b, s, []template{t}, nPicks) })
	}
	b.Run("parallel-cold-mixed", func(b *testing.B) {
		b.ReportAllocs()
		cpuPerOp(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				ts := templates() // each goroutine fills its own requests
				for j := rand.IntN(nPicks); pb.Next(); j++ {
					s.Evaluate(p.fill(&ts[j%len(ts)], j&(nPicks-1)))
				}
			})
		})
	})
}

func BenchmarkExplain(b *testing.B) {
	s, p := fleet1M(), picks()
	ts := templates()
	b.ReportAllocs()
	for j := 0; b.Loop(); j++ {
		s.Explain(p.fill(&ts[j%len(ts)], j&(nPicks-1)))
	}
}
