package main

import (
	"fmt"
	"log"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

type result struct {
	n             int
	rate          float64
	p50, p99, max time.Duration
	errors        int64
	elapsed       time.Duration
	proxy         procUsage // of the proxy's process during the run
	self          procUsage // of this process: client and sink (and an inproc proxy)
}

func (r result) String() string {
	return fmt.Sprintf("%8.0f submit_sm/s   latency p50 %6.2fms p99 %6.2fms max %6.2fms   errors %d",
		r.rate, ms(r.p50), ms(r.p99), ms(r.max), r.errors)
}

// proxyCost says what the proxy's process spent per message: CPU time and
// read/write system calls (each message is read and written on both
// sides, request and response: eight PDUs, so eight calls without any
// batching).
func (r result) proxyCost() string {
	per := float64(r.n)
	return fmt.Sprintf("proxy process: %.1f µs CPU per message (%.0f%% of one core at this rate), %.2f read+write syscalls per message",
		float64(r.proxy.cpu.Microseconds())/per, 100*r.proxy.cpu.Seconds()/r.elapsed.Seconds(), float64(r.proxy.syscalls)/per)
}

// selfCost is what the client and the sink spent per message.
func (r result) selfCost() string {
	return fmt.Sprintf("client and sink: %.1f µs CPU per message", float64(r.self.cpu.Microseconds())/float64(r.n))
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// run binds a fresh client, sends warm messages, then n measured ones,
// window at a time (and paced, when rate > 0). proxy reads the usage of
// the proxy's process, which is taken around the measured messages, as is
// this process's own.
func run(addr string, warm, n, window int, rate float64, proxy func() procUsage) result {
	c, err := smpptest.Dial(addr, smpptest.ClientOptions{SystemID: "bench", Password: "bench", Window: window})
	if err != nil {
		log.Fatalf("bind to %s: %v", addr, err)
	}
	defer c.Close()
	send(c, warm, nil, nil, rate)
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	p0, s0 := proxy(), readProc(os.Getpid())
	start := time.Now()
	send(c, n, lat, &errs, rate)
	elapsed := time.Since(start)
	pu, su := proxy().since(p0), readProc(os.Getpid()).since(s0)
	slices.Sort(lat)
	return result{
		proxy:   pu,
		self:    su,
		n:       n,
		rate:    float64(n) / elapsed.Seconds(),
		p50:     lat[n/2],
		p99:     lat[n*99/100],
		max:     lat[n-1],
		errors:  errs.Load(),
		elapsed: elapsed,
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
			Dest:         pdu.Address{TON: 1, NPI: 1, Addr: benchMSISDNs[i%benchSIMs]},
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

// benchMSISDNs are the numbers of the bench SIMs, made once so that the
// client does not spend its time formatting them.
var benchMSISDNs = func() []string {
	out := make([]string, benchSIMs)
	for i := range out {
		out[i] = fmt.Sprintf("4917%08d", i)
	}
	return out
}()
