package smpp

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// deadAddr returns a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// TestUpstreamDownThrottles: with no upstream bound, an ESME gets
// ESME_RTHROTTLED at once, not silence.
func TestUpstreamDownThrottles(t *testing.T) {
	h := startProxy(t, []string{deadAddr(t)}, nil)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	start := time.Now()
	r, err := c.Do(submit("4930123456", simMeter, "hi"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RTHROTTLED {
		t.Errorf("status %s", st)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answer took %s", d)
	}
}

// TestUpstreamKilledMidWindow: a full window of messages is outstanding at
// the SMSC when it dies; every one of them is answered ESME_RSYSERR.
func TestUpstreamKilledMidWindow(t *testing.T) {
	var seen atomic.Int32
	smsc := newSMSC(t, smpptest.SMSCOptions{Respond: func(*pdu.PDU) (pdu.Status, bool) {
		seen.Add(1)
		return 0, false // hold every message
	}})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	const n = 64
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: n})
	var mu sync.Mutex
	statuses := map[pdu.Status]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		err := c.Send(submit("4930123456", simMeter, "x"), func(r *pdu.PDU, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[0xffffffff]++
				return
			}
			statuses[r.Status]++
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, func() bool { return seen.Load() == n }, "all messages at the SMSC")
	smsc.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("messages left unanswered after the SMSC died")
	}
	if statuses[pdu.ESME_RSYSERR] != n {
		t.Errorf("statuses %v, want %d ESME_RSYSERR", statuses, n)
	}
}

// TestUpstreamRestartNothingLost: messages keep coming while the SMSC
// restarts; every one is answered (OK, or an error while it is down), and
// once it is back messages flow again.
func TestUpstreamRestartNothingLost(t *testing.T) {
	smsc, err := smpptest.NewSMSC("127.0.0.1:0", smpptest.SMSCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := smsc.Addr()
	h := startProxy(t, []string{addr}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 16})

	var sent, answered atomic.Int64
	var mu sync.Mutex
	statuses := map[pdu.Status]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			sent.Add(1)
			if c.Send(submit("4930123456", simMeter, "x"), func(r *pdu.PDU, err error) {
				mu.Lock()
				if err == nil {
					statuses[r.Status]++
				}
				mu.Unlock()
				answered.Add(1)
			}) != nil {
				sent.Add(-1)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	smsc.Close()
	eventually(t, 5*time.Second, func() bool { return h.srv.UpstreamBinds("main") == 0 }, "upstream down")
	time.Sleep(100 * time.Millisecond)
	smsc2, err := smpptest.NewSMSC(addr, smpptest.SMSCOptions{})
	if err != nil {
		t.Fatalf("restart SMSC on %s: %v", addr, err)
	}
	defer smsc2.Close()
	h.waitUp(1)
	eventually(t, 5*time.Second, func() bool { return smsc2.Submits() > 20 }, "messages through the restarted SMSC")
	close(stop)
	wg.Wait()
	eventually(t, 5*time.Second, func() bool { return answered.Load() == sent.Load() }, "every message answered")
	mu.Lock()
	defer mu.Unlock()
	if statuses[pdu.ESME_ROK] == 0 || statuses[pdu.ESME_RTHROTTLED]+statuses[pdu.ESME_RSYSERR] == 0 {
		t.Errorf("statuses %v: want successes and errors during the outage", statuses)
	}
	for st := range statuses {
		if st != pdu.ESME_ROK && st != pdu.ESME_RTHROTTLED && st != pdu.ESME_RSYSERR {
			t.Errorf("unexpected status %s", st)
		}
	}
	t.Logf("sent %d, statuses %v", sent.Load(), statuses)
}

// TestFailover: the first address is dead, the second takes the bind.
func TestFailover(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{deadAddr(t), smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	r, err := c.Do(submit("4930123456", simMeter, "hi"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK || smsc.Submits() != 1 {
		t.Errorf("status %s, SMSC got %d", st, smsc.Submits())
	}
}

// TestUpstreamBindRefused: wrong credentials upstream keep the route down
// and ESMEs throttled.
func TestUpstreamBindRefused(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{SystemID: "other", Password: "x"})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	eventually(t, 5*time.Second, func() bool {
		return counterValue(t, h.reg, "simguard_smpp_upstream_connects_total", map[string]string{"result": "bind_error"}) >= 2
	}, "bind retries")
	r, err := c.Do(submit("4930123456", simMeter, "hi"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RTHROTTLED {
		t.Errorf("status %s", st)
	}
}

// TestResponseTimeout: an SMSC that never answers costs the ESME
// ResponseTimeout, then ESME_RSYSERR.
func TestResponseTimeout(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Respond: func(*pdu.PDU) (pdu.Status, bool) { return 0, false }})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) { c.ResponseTimeout = 200 * time.Millisecond })
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	r, err := c.Do(submit("4930123456", simMeter, "hi"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RSYSERR {
		t.Errorf("status %s", st)
	}
}

// TestWindowFull: with the upstream window full, the next message waits
// WindowWait and is then throttled.
func TestWindowFull(t *testing.T) {
	var held atomic.Int32
	smsc := newSMSC(t, smpptest.SMSCOptions{Respond: func(*pdu.PDU) (pdu.Status, bool) {
		held.Add(1)
		return 0, false
	}})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) {
		c.Upstreams[0].Window = 2
		c.WindowWait = 50 * time.Millisecond
	})
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 3})
	results := make(chan pdu.Status, 3)
	for range 3 {
		c.Send(submit("4930123456", simMeter, "x"), func(r *pdu.PDU, err error) {
			if err == nil {
				results <- r.Status
			}
		})
	}
	select {
	case st := <-results:
		if st != pdu.ESME_RTHROTTLED {
			t.Errorf("third message: %s", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to the message beyond the window")
	}
	if held.Load() != 2 {
		t.Errorf("SMSC holds %d", held.Load())
	}
}
