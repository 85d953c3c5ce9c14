package smpp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestUsageBeforeAnswer: a sender that waits for each answer finds its
// message already metered when the answer comes, even when metering is
// slow (a store write per report).
func TestUsageBeforeAnswer(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, d *Deps) {
		c.UsageWait = 10 * time.Second
		d.Feedback.(*usageLog).delay = 30 * time.Millisecond
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
// as the control plane does on AddUsage.
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
	})
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
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
	if smsc.Submits() != 3 {
		t.Errorf("SMSC got %d", smsc.Submits())
	}
}
