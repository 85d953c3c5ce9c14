// Command diameter measures simguard's Diameter enforcement point:
//
//   - ECR: ME-Identity-Check answers per second and their latency, with
//     1,000,000 SIMs in the policy, from several connections that each
//     keep -window requests outstanding (pipelined);
//
//   - S6a guard overhead: the latency of an Update-Location sent straight
//     to an HSS, and through simguard (checked, relayed, answer relayed
//     back), one request at a time, so that the difference is what the
//     guard adds.
//
//     go run ./bench/diameter
//
// Everything runs in this process on loopback TCP: the MME load
// generator, simguard's diameter.Server (the real policy engine, events
// counted in memory) and a minimal HSS that answers at once. They share
// the machine's cores, so the numbers are a floor for simguard alone.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

func main() {
	sims := flag.Int("sims", 1_000_000, "SIMs in the policy")
	conns := flag.Int("conns", 4, "MME connections sending ECRs")
	window := flag.Int("window", 128, "outstanding ECRs per connection")
	n := flag.Int("n", 1_000_000, "ECRs to measure (after warm-up)")
	warm := flag.Int("warmup", 100_000, "ECRs before measuring")
	ulrs := flag.Int("ulrs", 20_000, "ULRs per side (direct, guarded) for the overhead")
	rounds := flag.Int("rounds", 3, "rounds; the best ECR rate and the median overhead are reported")
	external := flag.String("addr", "", "measure ECRs against this running simguard (serve --diameter) instead of an in-process server; its peers must include mme0..N-1.bench.example for 127.0.0.1 and its SIMs IMSI 00101%010d (i+1) locked to IMEI 35209900%06d (i+imei-offset): the demo fleet's meters with -sims 590 -imei-offset 1")
	imeiOffset := flag.Int("imei-offset", 0, "added to i in the IMEI of SIM i (1 for the demo fleet)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and load generator) here")
	flag.Parse()
	log.SetFlags(0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Printf("go %s, GOMAXPROCS %d, %d CPUs; %s\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage())
	imeiShift = *imeiOffset
	if *external != "" {
		var best ecrResult
		for r := 1; r <= *rounds; r++ {
			res, err := runECR(*external, *sims, *conns, *window, *warm, *n)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("round %d ECR against %s: %s\n", r, *external, res)
			if res.rate > best.rate {
				best = res
			}
		}
		fmt.Printf("\nbest ECR round: %s; %s\n", best, loadAverage())
		return
	}
	start := time.Now()
	pol := fleet(*sims)
	fmt.Printf("policy: %d SIMs compiled in %s\n", pol.Snapshot().Len(), time.Since(start).Round(time.Millisecond))

	hss, err := startHSS()
	if err != nil {
		log.Fatal(err)
	}
	defer hss.close()
	ev := &countEvents{}
	srv, err := diameter.New(diameter.Config{Listen: "127.0.0.1:0", OriginHost: "eir.bench.example", OriginRealm: "bench.example",
		HSS: diameter.HSSConfig{Addr: hss.addr(), Host: hssHost, Realm: "bench.example"}},
		diameter.Deps{Evaluator: pol, Feedback: nopFeedback{}, Events: ev})
	if err != nil {
		log.Fatal(err)
	}
	peers := []simguard.DiameterPeer{{ID: 1, TenantID: 1, OriginHost: mmeHost, Prefix: netip.MustParsePrefix("127.0.0.0/8")}}
	for c := 0; c < *conns; c++ {
		peers = append(peers, simguard.DiameterPeer{ID: int64(c + 2), TenantID: 1, OriginHost: mmeName(c), Prefix: netip.MustParsePrefix("127.0.0.0/8")})
	}
	srv.SetPeers(peers)
	if err := srv.Listen(); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitHSS(hss)

	var best ecrResult
	var over []overhead
	for r := 1; r <= *rounds; r++ {
		res, err := runECR(srv.Addr().String(), *sims, *conns, *window, *warm, *n)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("round %d ECR: %s\n", r, res)
		if res.rate > best.rate {
			best = res
		}
		runtime.GC() // the ECR round's garbage is not the ULR round's cost
		o, err := runOverhead(srv.Addr().String(), hss.addr(), *sims, *ulrs)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("round %d ULR: %s\n", r, o)
		over = append(over, o)
	}
	sort.Slice(over, func(i, j int) bool { return over[i].p99Overhead() < over[j].p99Overhead() })
	fmt.Printf("\nbest ECR round: %s\nmedian ULR round: %s\nevents emitted: %d; %s\n", best, over[len(over)/2], ev.n.Load(), loadAverage())
}

const (
	mmeHost = "mme.bench.example"
	hssHost = "hss.bench.example"
)

// mmeName names the c-th load connection: one Origin-Host per
// connection (a second connection of one host replaces the first).
func mmeName(c int) string { return fmt.Sprintf("mme%d.bench.example", c) }

func imsi(i int) string { return fmt.Sprintf("00101%010d", i+1) }

// imeiShift is -imei-offset.
var imeiShift int

func imei(i int) string { return fmt.Sprintf("35209900%06d", (i+imeiShift)%1_000_000) }

// fleet compiles n SIMs, each locked to its own IMEI, in one group that
// allows the home network and 4G/NB-IoT/LTE-M.
func fleet(n int) *enforce.Policy {
	g := simguard.Group{ID: 1, TenantID: 1, Name: "meters", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData},
		Location: simguard.LocationLock{PLMNs: []string{"001-01"}},
		RATs:     []simguard.RAT{simguard.RAT4G, simguard.RATNBIoT, simguard.RATLTEM},
	}}
	b, err := policy.NewBuilder([]simguard.Group{g})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < n; i++ {
		s := simguard.SIM{ID: int64(i + 1), TenantID: 1, ICCID: iccid(i), IMSI: imsi(i), State: simguard.SIMActive, Group: "meters",
			IMEILock: simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: imei(i)}}
		if err := b.AddSIM(&s); err != nil {
			log.Fatal(err)
		}
	}
	return enforce.NewPolicy(b.Build(), nil)
}

func iccid(i int) string {
	body := fmt.Sprintf("898800100%09d", i+1)
	sum := 0
	for j := 0; j < len(body); j++ {
		d := int(body[len(body)-1-j] - '0')
		if j%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

type countEvents struct{ n atomic.Int64 }

func (c *countEvents) Emit(simguard.Event) { c.n.Add(1) }

type nopFeedback struct{}

func (nopFeedback) LearnIMEI(context.Context, int64, string, string) error          { return nil }
func (nopFeedback) ReportIMEIMismatch(context.Context, int64, string, string) error { return nil }
func (nopFeedback) AddUsage(context.Context, int64, int64, int64) error             { return nil }

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	return "load average " + strings.Join(f[:3], " ")
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
