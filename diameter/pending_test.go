package diameter

import (
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

func (h *fakeHSS) count(code uint32) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.got {
		if m.Code == code && m.IsRequest() {
			n++
		}
	}
	return n
}

// Relayed requests waiting for an answer are bounded per peer and in all;
// beyond, the sender gets DIAMETER_TOO_BUSY and nothing is relayed. An
// overlong Session-Id (kept until the answer) is refused.
func TestPendingRelayLimits(t *testing.T) {
	hss := startHSS(t)
	hss.hold.Store(true)
	h := startServer(t, Config{HSS: HSSConfig{Addr: hss.ln.Addr().String(), Host: hssHost, Realm: "test.example"},
		MaxPendingRelays: 3, MaxPendingPerPeer: 2},
		[]simguard.DiameterPeer{localPeer(mmeHost), localPeer("mme2.test.example")}, testPolicy(t, 3))
	h.waitHSS(t)
	air := func(c *client) *wire.Message {
		return c.request(wire.CmdAuthenticationInfo, wire.AppS6a, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)))
	}
	waitRelayed := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for hss.count(wire.CmdAuthenticationInfo) < n {
			if time.Now().After(deadline) {
				t.Fatalf("the HSS got %d AIRs, want %d", hss.count(wire.CmdAuthenticationInfo), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	busy := func(c *client, req *wire.Message) {
		t.Helper()
		c.write(req)
		a := c.mustRead()
		if a.HopByHop != req.HopByHop || resultOf(a) != wire.ResultTooBusy {
			t.Fatalf("want DIAMETER_TOO_BUSY:\n%s", wire.Format(a))
		}
	}
	c1 := dial(t, h.srv.Addr(), mmeHost)
	c1.cer(wire.AppS6a)
	c1.write(air(c1))
	c1.write(air(c1))
	waitRelayed(2)
	busy(c1, air(c1)) // the peer's two are waiting

	c2 := dial(t, h.srv.Addr(), "mme2.test.example")
	c2.cer(wire.AppS6a)
	c2.write(air(c2))
	waitRelayed(3)
	busy(c2, air(c2)) // three wait in all

	long := air(c2)
	long.AVPs[0] = wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, strings.Repeat("x", 1025))
	c2.write(long)
	if a := c2.mustRead(); resultOf(a) != wire.ResultInvalidAVPLength {
		t.Fatalf("want DIAMETER_INVALID_AVP_LENGTH for a long Session-Id:\n%s", wire.Format(a))
	}
	time.Sleep(200 * time.Millisecond)
	if n := hss.count(wire.CmdAuthenticationInfo); n != 3 {
		t.Fatalf("the HSS got %d AIRs, want 3", n)
	}
	h.srv.pend.mu.Lock()
	n, per := len(h.srv.pend.m), len(h.srv.pend.byFrom)
	h.srv.pend.mu.Unlock()
	if n != 3 || per != 2 {
		t.Fatalf("pending %d from %d peers", n, per)
	}
}
