// Command smpp measures submit_sm throughput and latency of the SMS
// firewall: the same Go ESME client, with the same window, sends to a sink
// SMSC directly and then through the proxy, and the two runs are compared.
//
//	go run ./bench/smpp
//
// Three scenarios: "saturated" (a sink that answers at once, the client as
// fast as its window allows: the proxy's raw capacity), "smsc-latency" (a
// sink that answers after -smsc-delay, as an SMSC that stores messages
// does) and "paced" (-rate messages per second offered).
//
// Client, sink and proxy are built on package pdu (smpp/smpptest) and run
// in this one process: Perl Net::SMPP, which the acceptance tests use, is
// far too slow to load a proxy. The proxy runs with a policy of one
// thousand SIMs that allows every message, so each one is evaluated, rate
// limited, metered and recorded as an event.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
	"golang.org/x/crypto/bcrypt"
)

// scenario is one load shape, run against the sink directly and through
// the proxy.
type scenario struct {
	name  string
	delay time.Duration // the sink's answer latency
	rate  float64       // messages per second offered; 0: as fast as the window allows
	n     int
}

func main() {
	n := flag.Int("n", 200_000, "messages per run (after warm-up)")
	warm := flag.Int("warmup", 20_000, "messages sent before measuring")
	window := flag.Int("window", 256, "outstanding submit_sm of the client")
	binds := flag.Int("binds", 1, "proxy binds to the sink")
	upWindow := flag.Int("upstream-window", 1024, "outstanding requests per proxy bind")
	rounds := flag.Int("rounds", 3, "alternating direct/proxy rounds; the best of each is reported")
	delay := flag.Duration("smsc-delay", 5*time.Millisecond, "answer latency of the sink in the realistic scenario")
	rate := flag.Float64("rate", 20_000, "offered load of the paced scenario, submit_sm/s")
	only := flag.String("scenario", "", "run only this scenario (saturated, smsc-latency, paced)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the proxy rounds to this file")
	flag.Parse()
	log.SetFlags(0)

	fmt.Printf("go %s, GOMAXPROCS %d, %d CPUs; window %d, proxy binds %d, upstream window %d, best of %d rounds\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), *window, *binds, *upWindow, *rounds)
	scenarios := []scenario{
		{"saturated", 0, 0, *n},
		{"smsc-latency", *delay, 0, *n},
		{"paced", 0, *rate, int(*rate * 5)},
	}
	for _, sc := range scenarios {
		if *only != "" && *only != sc.name {
			continue
		}
		sink, err := smpptest.NewSMSC("127.0.0.1:0", smpptest.SMSCOptions{Delay: sc.delay})
		if err != nil {
			log.Fatal(err)
		}
		proxyAddr, stop := startProxy(sink.Addr(), *binds, *upWindow)
		fmt.Printf("\n%s: sink latency %s, offered %s, %d messages per run\n", sc.name, sc.delay, offered(sc.rate), sc.n)
		var best [2]result
		for range *rounds {
			for i, target := range []string{sink.Addr(), proxyAddr} {
				if i == 1 && *cpuprofile != "" {
					f, err := os.Create(*cpuprofile)
					if err != nil {
						log.Fatal(err)
					}
					pprof.StartCPUProfile(f)
				}
				res := run(target, *warm, sc.n, *window, sc.rate)
				if i == 1 && *cpuprofile != "" {
					pprof.StopCPUProfile()
				}
				if res.rate > best[i].rate {
					best[i] = res
				}
			}
		}
		stop()
		sink.Close()
		fmt.Printf("  direct %s\n  proxy  %s\n  throughput loss through the proxy: %.1f%%\n",
			best[0], best[1], 100*(1-best[1].rate/best[0].rate))
	}
}

func offered(rate float64) string {
	if rate == 0 {
		return "as much as the window allows"
	}
	return fmt.Sprintf("%.0f/s", rate)
}

type result struct {
	rate          float64
	p50, p99, max time.Duration
	errors        int64
}

func (r result) String() string {
	return fmt.Sprintf("%8.0f submit_sm/s   latency p50 %6.2fms p99 %6.2fms max %6.2fms   errors %d",
		r.rate, ms(r.p50), ms(r.p99), ms(r.max), r.errors)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// run binds a fresh client, sends warm messages, then n measured ones,
// window at a time (and paced, when rate > 0).
func run(addr string, warm, n, window int, rate float64) result {
	c, err := smpptest.Dial(addr, smpptest.ClientOptions{SystemID: "bench", Password: "bench", Window: window})
	if err != nil {
		log.Fatalf("bind to %s: %v", addr, err)
	}
	defer c.Close()
	send(c, warm, nil, nil, rate)
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	start := time.Now()
	send(c, n, lat, &errs, rate)
	elapsed := time.Since(start)
	slices.Sort(lat)
	return result{
		rate:   float64(n) / elapsed.Seconds(),
		p50:    lat[n/2],
		p99:    lat[n*99/100],
		max:    lat[n-1],
		errors: errs.Load(),
	}
}

// send sends n submit_sm to the thousand bench SIMs, paced at rate per
// second when rate > 0, and waits for every answer; lat, when set, gets
// each message's round trip.
func send(c *smpptest.Client, n int, lat []time.Duration, errs *atomic.Int64, rate float64) {
	var wg sync.WaitGroup
	wg.Add(n)
	text := []byte("meter 42: 17.5 kWh, 230 V, status ok")
	start := time.Now()
	for i := range n {
		if rate > 0 {
			if ahead := time.Duration(float64(i)/rate*1e9) - time.Since(start); ahead > time.Millisecond {
				time.Sleep(ahead)
			}
		}
		p := &pdu.PDU{ID: pdu.SubmitSM,
			Source:       pdu.Address{TON: 1, NPI: 1, Addr: "4930123456"},
			Dest:         pdu.Address{TON: 1, NPI: 1, Addr: benchMSISDN(i % benchSIMs)},
			ShortMessage: text}
		t0 := time.Now()
		err := c.Send(p, func(r *pdu.PDU, err error) {
			if lat != nil {
				lat[i] = time.Since(t0)
			}
			if errs != nil && (err != nil || r.Status != pdu.ESME_ROK) {
				errs.Add(1)
			}
			wg.Done()
		})
		if err != nil {
			log.Fatalf("send: %v", err)
		}
	}
	wg.Wait()
}

const benchSIMs = 1000

func benchMSISDN(i int) string { return "4917" + fmt.Sprintf("%08d", i) }

// allowAll is the bench policy: a thousand active SIMs that may receive
// anything, found by MSISDN in a map as the real snapshot does.
type allowAll map[string]int64

func (a allowAll) Evaluate(r *simguard.Request) simguard.Decision {
	id, ok := a[r.MSISDN]
	if !ok {
		return simguard.Decision{Reason: simguard.ReasonSIMUnknown}
	}
	return simguard.Decision{Allow: true, Reason: simguard.ReasonAllowed, SIMID: id, TenantID: 2, Group: "bench",
		SMSPerMinute: 1 << 30, SMSSourcePerMinute: 1 << 30}
}

type countEvents struct{ n atomic.Int64 }

func (c *countEvents) Emit(simguard.Event) { c.n.Add(1) }

type countUsage struct{ n atomic.Int64 }

func (*countUsage) LearnIMEI(context.Context, int64, string, string) error          { return nil }
func (*countUsage) ReportIMEIMismatch(context.Context, int64, string, string) error { return nil }
func (c *countUsage) AddUsage(_ context.Context, _ int64, _, sms int64) error {
	c.n.Add(sms)
	return nil
}

// oneAccount checks binds as the control plane does (bcrypt).
type oneAccount struct {
	a    simguard.SMPPAccount
	hash []byte
}

func (o oneAccount) AuthenticateSMPP(_ context.Context, id, password string) (simguard.SMPPAccount, error) {
	if id != o.a.SystemID {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "system_id", Message: "unknown"}
	}
	if bcrypt.CompareHashAndPassword(o.hash, []byte(password)) != nil {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "password", Message: "wrong"}
	}
	return o.a, nil
}

func startProxy(sinkAddr string, binds, window int) (string, func()) {
	pol := allowAll{}
	for i := range benchSIMs {
		pol[benchMSISDN(i)] = int64(i + 1)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("bench"), bcrypt.MinCost)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := smpp.New(smpp.Config{
		Upstreams: []simguard.SMPPUpstream{{Name: "sink", Addrs: []string{sinkAddr}, Binds: binds, Window: window}},
	}, smpp.Deps{
		Evaluator:  pol,
		Events:     &countEvents{},
		Feedback:   &countUsage{},
		Auth:       oneAccount{a: simguard.SMPPAccount{ID: 1, TenantID: 2, SystemID: "bench"}, hash: hash},
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := srv.Serve(ctx, ln); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		close(done)
	}()
	for deadline := time.Now().Add(5 * time.Second); srv.UpstreamBinds("sink") < binds; {
		if time.Now().After(deadline) {
			log.Fatal("proxy did not bind to the sink")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ln.Addr().String(), func() { cancel(); <-done }
}
