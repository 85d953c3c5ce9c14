package smpp

import (
	"bytes"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestMTAllowedPassesUnchanged: an allowed message reaches the SMSC byte
// for byte (only the sequence number differs), its message ID comes back
// unchanged, usage is metered and an allow event is recorded.
func TestMTAllowedPassesUnchanged(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Record: true, SystemID: "fw", Password: "fwpw"})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})

	sent := submit("4930123456", simMeter, "Hello meter")
	sent.RegisteredDelivery = 1
	sent.TLVs = []pdu.TLV{pdu.Uint16TLV(pdu.TagUserMessageReference, 42), {Tag: 0x1400, Value: []byte{9, 8, 7}}}
	r, err := c.Do(sent, 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK {
		t.Fatalf("status %s", st)
	}
	if r.MessageID != "1" {
		t.Errorf("message id %q, want the SMSC's %q", r.MessageID, "1")
	}
	got := smsc.Received()
	if len(got) != 1 {
		t.Fatalf("SMSC got %d messages", len(got))
	}
	want, _ := sent.Encode()
	if !bytes.Equal(got[0][16:], want[16:]) || !bytes.Equal(got[0][:12], want[:12]) {
		t.Errorf("content changed:\n sent %x\n  got %x", want, got[0])
	}
	eventually(t, time.Second, func() bool { return h.usage.count(1) == 1 }, "usage of SIM 1")
	ev := h.events.find("sms.mt")
	if len(ev) != 1 || ev[0].Decision != "allow" || ev[0].SIMID != 1 || ev[0].TenantID != 2 || ev[0].Attrs["account"] != "meterapp" {
		t.Errorf("events %+v", ev)
	}
}

// TestMTDenials: each denied message gets its documented status, an event
// with the reason, and never reaches the SMSC.
func TestMTDenials(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Record: true})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	ota := func(src, dst string) *pdu.PDU {
		p := submit(src, dst, "")
		p.ESMClass, p.ProtocolID, p.DataCoding = 0x40, 0x7f, 0xf6
		p.ShortMessage = []byte{0x02, 0x70, 0x00, 0x00, 0x15, 0x0d, 0, 0, 0, 0, 0x50, 0x53, 0x48}
		return p
	}
	tests := []struct {
		name   string
		p      *pdu.PDU
		status pdu.Status
		reason simguard.Reason
		binary string
	}{
		{"unknown SIM", submit("4930123456", "491799999999", "hi"), pdu.ESME_RINVDSTADR, simguard.ReasonSIMUnknown, ""},
		{"suspended SIM", submit("4930123456", simSuspended, "hi"), pdu.ESME_RSUBMITFAIL, simguard.ReasonSIMSuspended, ""},
		{"SMS not enabled", submit("4930123456", simNoSMS, "hi"), pdu.ESME_RSUBMITFAIL, simguard.ReasonServiceDisabled, ""},
		{"denied source", submit("4990555", simMeter, "win a prize"), pdu.ESME_RINVSRCADR, simguard.ReasonSMSPeerDenied, ""},
		{"SIM OTA (Simjacker)", ota("4930123456", simMeter), pdu.ESME_RINVESMCLASS, simguard.ReasonSMSBinaryDenied, CauseOTA},
		{"OTA from a source not allowed", ota("4930123456", simOTA), pdu.ESME_RINVESMCLASS, simguard.ReasonSMSBinaryDenied, CauseOTA},
		{"class 2 text", func() *pdu.PDU { p := submit("4930123456", simMeter, "x"); p.DataCoding = 0x12; return p }(), pdu.ESME_RINVESMCLASS, simguard.ReasonSMSBinaryDenied, CauseClass2},
		{"silent SMS", func() *pdu.PDU { p := submit("4930123456", simMeter, ""); p.ProtocolID = 0x40; return p }(), pdu.ESME_RSUBMITFAIL, simguard.ReasonSMSSilentDenied, ""},
		{"other tenant's SIM looks unknown", submit("4930123456", simTracker, "hi"), pdu.ESME_RINVDSTADR, simguard.ReasonSIMUnknown, ""},
		{"data_sm to a suspended SIM", &pdu.PDU{ID: pdu.DataSM, Source: pdu.Address{Addr: "4930123456"}, Dest: pdu.Address{Addr: simSuspended},
			TLVs: []pdu.TLV{{Tag: pdu.TagMessagePayload, Value: []byte("hi")}}}, pdu.ESME_RSUBMITFAIL, simguard.ReasonSIMSuspended, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Do(tc.p, 5*time.Second)
			if st := statusOf(t, r, err); st != tc.status {
				t.Errorf("status %s, want %s", st, tc.status)
			}
			ev := h.events.find("sms.mt")
			if len(ev) != i+1 {
				t.Fatalf("%d events after %d messages", len(ev), i+1)
			}
			e := ev[i]
			if e.Decision != "deny" || e.Reason != tc.reason || e.Attrs["status"] != tc.status.String() || e.Attrs["binary"] != tc.binary {
				t.Errorf("event %+v", e)
			}
		})
	}
	if n := smsc.Submits(); n != 0 {
		t.Errorf("SMSC got %d denied messages", n)
	}
}

// TestMTBinaryAllowedFromSource: the ota group takes binary messages from
// its operator's OTA platform, and they pass unchanged.
func TestMTBinaryAllowedFromSource(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Record: true})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	p := submit("4915100000", simOTA, "")
	p.ESMClass, p.ProtocolID, p.DataCoding = 0x40, 0x7f, 0xf6
	p.ShortMessage = []byte{0x02, 0x70, 0x00, 0x00, 0x15, 0x0d, 0, 0, 0, 0, 0x50, 0x53, 0x48}
	r, err := c.Do(p, 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK {
		t.Fatalf("status %s", st)
	}
	got := smsc.Received()
	want, _ := p.Encode()
	if len(got) != 1 || !bytes.Equal(got[0][16:], want[16:]) {
		t.Errorf("SMSC got %x, want body %x", got, want[16:])
	}
}

// TestRateLimits: the limited group allows 3 messages per SIM per minute;
// the fourth is throttled, and another SIM is not affected.
func TestRateLimits(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: now}
	h := startProxy(t, []string{smsc.Addr()}, func(_ *Config, d *Deps) { d.Clock = clock.now })
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	var got []pdu.Status
	for range 5 {
		r, err := c.Do(submit("4930123456", simFlood, "x"), 5*time.Second)
		got = append(got, statusOf(t, r, err))
	}
	want := []pdu.Status{pdu.ESME_ROK, pdu.ESME_ROK, pdu.ESME_ROK, pdu.ESME_RTHROTTLED, pdu.ESME_RTHROTTLED}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	ev := h.events.find("sms.mt")
	if last := ev[len(ev)-1]; last.Reason != simguard.ReasonRateLimited || last.Attrs["rule"] != "group:limited/sms.per_minute" {
		t.Errorf("event %+v", last)
	}
	// 20 seconds refill one token at 3 per minute.
	clock.advance(20 * time.Second)
	r, err := c.Do(submit("4930123456", simFlood, "x"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK {
		t.Errorf("after refill: %s", st)
	}
	if smsc.Submits() != 4 {
		t.Errorf("SMSC got %d", smsc.Submits())
	}
}

// TestDataSMAndParallelBinds: data_sm relays like submit_sm, and a route
// with two binds spreads messages over both.
func TestDataSMAndParallelBinds(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Record: true})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) { c.Upstreams[0].Binds = 2 })
	h.waitUp(2)
	if smsc.Bound() != 2 {
		t.Fatalf("SMSC sees %d binds", smsc.Bound())
	}
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	p := &pdu.PDU{ID: pdu.DataSM, Source: pdu.Address{TON: 1, NPI: 1, Addr: "4930123456"}, Dest: pdu.Address{TON: 1, NPI: 1, Addr: simMeter},
		RegisteredDelivery: 1, TLVs: []pdu.TLV{{Tag: pdu.TagMessagePayload, Value: []byte("wake up")}, pdu.Uint16TLV(pdu.TagUserMessageReference, 513)}}
	for i := range 4 {
		r, err := c.Do(p, 5*time.Second)
		if st := statusOf(t, r, err); st != pdu.ESME_ROK || r.ID != pdu.DataSMResp || r.MessageID == "" {
			t.Fatalf("message %d: %s %s %q", i, r.ID, st, r.MessageID)
		}
	}
	want, _ := p.Encode()
	for i, f := range smsc.Received() {
		if !bytes.Equal(f[16:], want[16:]) {
			t.Errorf("message %d changed: %x", i, f)
		}
	}
	for _, u := range h.srv.routeByName["main"].binds {
		l := u.cur.Load()
		if l == nil || l.seq.Load() < 2 {
			t.Errorf("bind %d carried nothing", u.idx)
		}
	}
}
