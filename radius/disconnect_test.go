package radius

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc3576"
)

// testNAS receives Disconnect-Requests on loopback, checks them with
// layeh's authenticator code and an independent HMAC, and answers as
// told.
type testNAS struct {
	conn   *net.UDPConn
	secret []byte
	mu     sync.Mutex
	got    []*radius.Packet
	answer func(*radius.Packet) *radius.Packet // nil: stay silent
	bad    []string
}

func newTestNAS(t *testing.T, secret string, answer func(*radius.Packet) *radius.Packet) *testNAS {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	n := &testNAS{conn: c, secret: []byte(secret), answer: answer}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			n.serve(append([]byte(nil), buf[:k]...), from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return n
}

func (n *testNAS) port() uint16 { return n.conn.LocalAddr().(*net.UDPAddr).AddrPort().Port() }

func (n *testNAS) serve(b []byte, from netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !radius.IsAuthenticRequest(b, n.secret) {
		n.bad = append(n.bad, "request authenticator")
		return
	}
	p, err := radius.Parse(b, n.secret)
	if err != nil || p.Code != radius.CodeDisconnectRequest {
		n.bad = append(n.bad, "not a Disconnect-Request")
		return
	}
	// Message-Authenticator, first attribute, over a zero authenticator.
	if b[20] != attrMessageAuth || b[21] != 18 {
		n.bad = append(n.bad, "Message-Authenticator not first")
		return
	}
	c := append([]byte(nil), b...)
	copy(c[4:20], make([]byte, 16))
	copy(c[22:38], make([]byte, 16))
	h := hmac.New(md5.New, n.secret)
	h.Write(c)
	if !bytes.Equal(h.Sum(nil), b[22:38]) {
		n.bad = append(n.bad, "Message-Authenticator wrong")
		return
	}
	n.got = append(n.got, p)
	if n.answer == nil {
		return
	}
	if r := n.answer(p); r != nil {
		wire, _ := r.Encode()
		_, _ = n.conn.WriteToUDPAddrPort(wire, from)
	}
}

func (n *testNAS) requests() ([]*radius.Packet, []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*radius.Packet(nil), n.got...), append([]string(nil), n.bad...)
}

// TestDisconnectOnPolicyChange: a live session whose SIM is suspended gets
// a Disconnect-Request at its NAS's CoA port; ACK, NAK and silence are
// recorded, a NAK for an unknown session closes it.
func TestDisconnectOnPolicyChange(t *testing.T) {
	needRadclient(t)
	tests := []struct {
		name    string
		answer  func(*radius.Packet) *radius.Packet
		outcome simguard.DisconnectOutcome
		live    bool // the session is still live afterwards
	}{
		{"ack", func(p *radius.Packet) *radius.Packet { return p.Response(radius.CodeDisconnectACK) }, simguard.DisconnectACK, true},
		{"nak session gone", func(p *radius.Packet) *radius.Packet {
			r := p.Response(radius.CodeDisconnectNAK)
			_ = rfc3576.ErrorCause_Set(r, rfc3576.ErrorCause_Value_SessionContextNotFound)
			return r
		}, simguard.DisconnectNAK, false},
		{"nak other", func(p *radius.Packet) *radius.Packet {
			r := p.Response(radius.CodeDisconnectNAK)
			_ = rfc3576.ErrorCause_Set(r, rfc3576.ErrorCause_Value_AdministrativelyProhibited)
			return r
		}, simguard.DisconnectNAK, true},
		{"silence", nil, simguard.DisconnectTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nas := newTestNAS(t, testSecret, tt.answer)
			sim := baseSIM(1, "001010000000001")
			eval := newTestEvaluator(sim)
			h := startServer(t, eval, func(c *Config, d *Deps) {
				d.Clients = []simguard.NASClient{{TenantID: 1, Name: "pgw", Prefix: netip.MustParsePrefix("127.0.0.1/32"),
					Secret: testSecret, CoAPort: nas.port()}}
			})
			for _, st := range []string{"Start", "Interim-Update"} {
				res := radclient(t, h.acct, "acct", testSecret, acctAttrs(st, "sess-9", sim.IMSI, "Framed-IP-Address = 10.1.2.3")...)
				if res.code != 0 {
					t.Fatalf("%s not answered:\n%s", st, res.out)
				}
			}
			if n := h.srv.OnPolicyChange(context.Background(), eval); n != 0 {
				t.Fatalf("%d disconnects while the SIM is allowed", n)
			}
			eval.change(sim.IMSI, func(s *testSIM) { s.State = simguard.SIMSuspended })
			if n := h.srv.OnPolicyChange(context.Background(), eval, 1); n != 1 {
				t.Fatalf("OnPolicyChange started %d disconnects, want 1", n)
			}
			ev := h.sink.waitFor(t, 1, EventDisconnect, map[string]string{"session": "sess-9"})
			if ev[0].Attrs["outcome"] != string(tt.outcome) || ev[0].Reason != simguard.ReasonSIMSuspended || ev[0].SIMID != 1 {
				t.Errorf("disconnect event = %+v", ev[0])
			}
			reqs, bad := nas.requests()
			if len(bad) > 0 || len(reqs) == 0 {
				t.Fatalf("NAS got %d good requests; problems: %v", len(reqs), bad)
			}
			p := reqs[0]
			if rfc2866.AcctSessionID_GetString(p) != "sess-9" || rfc2865.UserName_GetString(p) != sim.IMSI ||
				rfc2865.FramedIPAddress_Get(p).String() != "10.1.2.3" {
				t.Errorf("Disconnect-Request identifies the wrong session: %v", p.Attributes)
			}
			if tt.outcome == simguard.DisconnectTimeout && len(reqs) != 2 {
				t.Errorf("%d attempts, want 2 (the configured retries)", len(reqs))
			}
			waitUntil(t, func() bool {
				r := h.sessions.all()[0]
				return r.Disconnect != nil && r.Disconnect.Outcome == tt.outcome && r.Live() == tt.live
			})
			// A second change does not disconnect again: the ACKed session
			// waits for its Stop, the others for RetryAfter.
			if n := h.srv.OnPolicyChange(context.Background(), eval); n != 0 {
				t.Errorf("second OnPolicyChange started %d disconnects", n)
			}
		})
	}
}

// TestDisconnectOnQuotaInInterim: an Interim-Update of a SIM whose quota
// the (already updated) policy says is used up ends the session at once.
func TestDisconnectOnQuotaInInterim(t *testing.T) {
	needRadclient(t)
	nas := newTestNAS(t, testSecret, func(p *radius.Packet) *radius.Packet { return p.Response(radius.CodeDisconnectACK) })
	sim := baseSIM(1, "001010000000001")
	eval := newTestEvaluator(sim)
	h := startServer(t, eval, func(c *Config, d *Deps) {
		d.Clients = []simguard.NASClient{{TenantID: 1, Name: "pgw", Prefix: netip.MustParsePrefix("127.0.0.1/32"),
			Secret: testSecret, CoAPort: nas.port()}}
	})
	radclient(t, h.acct, "acct", testSecret, acctAttrs("Start", "q1", sim.IMSI)...)
	eval.change(sim.IMSI, func(s *testSIM) { s.QuotaUsed = true })
	radclient(t, h.acct, "acct", testSecret, acctAttrs("Interim-Update", "q1", sim.IMSI, "Acct-Input-Octets = 999999")...)
	ev := h.sink.waitFor(t, 1, EventDisconnect, map[string]string{"session": "q1", "outcome": "ack"})
	if ev[0].Reason != simguard.ReasonQuotaExceeded {
		t.Errorf("reason %s", ev[0].Reason)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
