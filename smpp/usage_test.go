package smpp

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestUsageBeforeAnswer: a sender that waits for each answer finds its
// message already metered when the answer comes, even when metering is
// slow (a store write per report).
func TestUsageBeforeAnswer(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	var asked []string
	var mu sync.Mutex
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, d *Deps) {
		c.UsageWait = 10 * time.Second
		d.Feedback.(*usageLog).delay = 30 * time.Millisecond
		d.QuotaBlocks = func(tenant int64, group string) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, fmt.Sprintf("%d %s", tenant, group))
			return true
		}
	})
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	for i := range 4 {
		r, err := c.Do(submit("4930123456", simMeter, "x"), 10*time.Second)
		if st := statusOf(t, r, err); st != pdu.ESME_ROK {
			t.Fatalf("message %d: %s", i, st)
		}
		if n := h.usage.count(1); n != int64(i+1) {
			t.Fatalf("answer %d came with %d messages metered", i+1, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 || asked[0] != "2 meters" {
		t.Errorf("QuotaBlocks asked about %v, want the SIM's tenant and group (2 meters)", asked)
	}
}

// batchUsage is a Feedback that meters many SIMs at once, as
// control.Service does; calls counts batches.
type batchUsage struct{ *usageLog }

func (b batchUsage) AddUsageBatch(ctx context.Context, usage []simguard.SIMUsage) error {
	time.Sleep(b.delay)
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	for _, u := range usage {
		b.usageLog.record(u.SIMID, u.SMSCount)
	}
	return nil
}

// TestUsageUnderLoad: under load, reports are summed per SIM and written
// off the relay path, so slow metering does not slow the relay down to
// one message per write, and every message is counted; a Feedback that
// meters in batches gets whole batches.
func TestUsageUnderLoad(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "per SIM", true: "batches"}[batch], func(t *testing.T) { testUsageUnderLoad(t, batch) })
	}
}

func testUsageUnderLoad(t *testing.T, batch bool) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, d *Deps) {
		d.Feedback.(*usageLog).delay = 5 * time.Millisecond
		if batch {
			d.Feedback = batchUsage{d.Feedback.(*usageLog)}
		}
	})
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 100})
	const n = 300
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		if err := c.Send(submit("4930123456", []string{simMeter, simMeter2}[i%2], "x"), func(r *pdu.PDU, err error) {
			if err != nil || r.Status != pdu.ESME_ROK {
				t.Errorf("answer %v %v", r, err)
			}
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	eventually(t, 10*time.Second, func() bool { return h.usage.count(1)+h.usage.count(2) == n }, "every message metered")
	h.usage.mu.Lock()
	calls := h.usage.calls
	h.usage.mu.Unlock()
	if calls >= n/2 {
		t.Errorf("%d reports for %d messages to one SIM: not batched", calls, n)
	}
}

// TestSMSQuota: a group with an SMS quota of 3 (block) refuses the 4th
// message with ESME_RMSGQFUL once the metered usage reaches the snapshot,
// as the control plane does on AddUsage; also right after a burst, when
// the meter pauses between batches.
func TestSMSQuota(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	now := time.Now().UTC()
	groups := testGroups()
	groups[0].Policy.Quotas = simguard.Quotas{Period: "day", SMSCount: 3, OnExhaustion: "block"}
	sims := testSIMs()
	pol := compileFleet(t, groups, sims)
	h := startProxy(t, []string{smsc.Addr()}, func(_ *Config, d *Deps) {
		d.Evaluator = pol
		d.Feedback.(*usageLog).after = func(sim, total int64) {
			s := sims[sim-1]
			s.Usage = simguard.Usage{PeriodStart: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC), SMSCount: total}
			setSIM(t, pol, s)
		}
		d.Feedback.(*usageLog).delay = 5 * time.Millisecond
	})
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 50})
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		if err := c.Send(submit("4930123456", simOTA, "burst"), func(*pdu.PDU, error) { wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	var got []pdu.Status
	for range 5 {
		r, err := c.Do(submit("4930123456", simMeter, "x"), 10*time.Second)
		got = append(got, statusOf(t, r, err))
	}
	want := []pdu.Status{pdu.ESME_ROK, pdu.ESME_ROK, pdu.ESME_ROK, pdu.ESME_RMSGQFUL, pdu.ESME_RMSGQFUL}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	ev := h.events.find("sms.mt")
	if last := ev[len(ev)-1]; last.Reason != simguard.ReasonQuotaExceeded || last.Attrs["rule"] != "group:meters/quotas" {
		t.Errorf("event %+v", last)
	}
	if smsc.Submits() != 200+3 {
		t.Errorf("SMSC got %d", smsc.Submits())
	}
}

// gatedUsage holds each report: it says when one begins (entered) and
// waits for the test to let it finish (release).
type gatedUsage struct {
	usageLog
	entered, release chan struct{}
}

func (g *gatedUsage) AddUsage(ctx context.Context, sim int64, data, sms int64) error {
	g.entered <- struct{}{}
	<-g.release
	return g.usageLog.AddUsage(ctx, sim, data, sms)
}

// TestUsageWaitCutsThePause: a sender waiting for its answer does not wait
// out the pause the meter takes between batches under load.
func TestUsageWaitCutsThePause(t *testing.T) {
	fb := &gatedUsage{entered: make(chan struct{}), release: make(chan struct{})}
	m := newUsageMeter(fb, slog.New(slog.DiscardHandler), prometheus.NewCounter(prometheus.CounterOpts{Name: "x"}))
	m.coalesce = time.Hour
	go m.run(context.Background())
	m.add(1)
	<-fb.entered // the worker writes {1}
	m.add(2)     // pending when that batch ends: the worker pauses
	fb.release <- struct{}{}
	done := make(chan struct{})
	go func() { // let every later report through
		for {
			select {
			case <-fb.entered:
				fb.release <- struct{}{}
			case <-done:
				return
			}
		}
	}()
	m.record(3, true, 10*time.Second)
	if n := fb.count(3); n != 1 {
		t.Errorf("the answer came with %d messages of SIM 3 reported, want 1", n)
	}
	m.close()
	close(done)
	if fb.count(1)+fb.count(2)+fb.count(3) != 3 {
		t.Errorf("reported %d %d %d", fb.count(1), fb.count(2), fb.count(3))
	}
}
