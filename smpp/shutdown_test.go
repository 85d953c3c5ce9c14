package smpp

import (
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
	"go.uber.org/goleak"
)

// TestShutdown: on cancel the proxy stops taking messages, waits for the
// SMSC's answers to those outstanding, relays them, unbinds, and leaves no
// goroutine behind.
func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	smsc, err := smpptest.NewSMSC("127.0.0.1:0", smpptest.SMSCOptions{Delay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer smsc.Close()
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) { c.ShutdownTimeout = 5 * time.Second })
	h.waitUp(1)
	c, err := smpptest.Dial(h.addr, smpptest.ClientOptions{SystemID: "meterapp", Password: "pw1", Window: 10})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []pdu.Status
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		c.Send(submit("4930123456", simMeter, "x"), func(r *pdu.PDU, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				got = append(got, r.Status)
			}
		})
	}
	eventually(t, 5*time.Second, func() bool { return smsc.Submits() == 10 }, "messages at the SMSC")
	start := time.Now()
	h.stop()
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	wg.Wait()
	for i, st := range got {
		if st != pdu.ESME_ROK {
			t.Errorf("message %d: %s", i, st)
		}
	}
	if len(got) != 10 {
		t.Errorf("%d of 10 answered", len(got))
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Error("the ESME was not unbound")
	}
}
