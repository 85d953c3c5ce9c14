package smpp

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestEveryReasonThroughThePolicy drives every reason the real policy
// engine (and the proxy's own rate limits) can give a message, in both
// directions, and checks that the peer gets the command_status of the
// documented table (StatusFor, pinned against doc.go by
// TestStatusMappingDocumented) and that the event carries the reason.
// Reasons the policy never gives SMS (location, RAT, APN, device model)
// are covered by the table tests only.
func TestEveryReasonThroughThePolicy(t *testing.T) {
	now := time.Now().UTC()
	past := now.Add(-time.Hour)
	sms := []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}
	groups := []simguard.Group{
		{TenantID: 2, Name: "open", Policy: simguard.Policy{Services: sms, SMS: simguard.SMSPolicy{
			MT: simguard.SMSPeers{Allow: []string{"4930"}}, MO: simguard.SMSPeers{Allow: []string{"8888"}},
			PerMinute: 2,
		}}},
		{TenantID: 2, Name: "nosms", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 2, Name: "ended", Policy: simguard.Policy{Services: sms, Windows: []simguard.Window{{Until: &past}}}},
		{TenantID: 2, Name: "capped", Policy: simguard.Policy{Services: sms,
			Quotas: simguard.Quotas{Period: "month", SMSCount: 5, OnExhaustion: "block"}}},
	}
	mismatch := testSIM(16, 2, "491700000016", simguard.SIMActive, "open")
	mismatch.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: "35209900000016", BoundAt: &past,
		MismatchIMEI: "35209900000099", MismatchAt: &now}
	used := testSIM(17, 2, "491700000017", simguard.SIMActive, "capped")
	used.Usage = simguard.Usage{PeriodStart: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), SMSCount: 5}
	expired := testSIM(18, 2, "491700000018", simguard.SIMActive, "open")
	expired.ActiveUntil = &past
	sims := []simguard.SIM{
		testSIM(10, 2, "491700000010", simguard.SIMActive, "open"),
		testSIM(11, 2, "491700000011", simguard.SIMInventory, "open"),
		testSIM(12, 2, "491700000012", simguard.SIMSuspended, "open"),
		testSIM(13, 2, "491700000013", simguard.SIMTerminated, "open"),
		testSIM(14, 2, "491700000014", simguard.SIMActive, "nosms"),
		testSIM(15, 2, "491700000015", simguard.SIMActive, "ended"),
		mismatch, used, expired,
		testSIM(19, 2, "491700000019", simguard.SIMActive, "open"),
		testSIM(20, 2, "491700000020", simguard.SIMActive, "open"),
	}
	pol := compileFleet(t, groups, sims)
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, func(_ *Config, d *Deps) { d.Evaluator = pol })
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	h.dial("shortcd", "pw2", smpptest.ClientOptions{Bind: pdu.BindReceiver})

	text := func(dst string) *pdu.PDU { return submit("4930123456", dst, "hi") }
	mt := []struct {
		name   string
		p      *pdu.PDU
		reason simguard.Reason
	}{
		{"allowed", text("491700000010"), simguard.ReasonAllowed},
		{"unknown number", text("491799999999"), simguard.ReasonSIMUnknown},
		{"alphanumeric destination", text("SHOP"), simguard.ReasonSIMUnknown},
		{"inventory", text("491700000011"), simguard.ReasonSIMInactive},
		{"suspended", text("491700000012"), simguard.ReasonSIMSuspended},
		{"terminated", text("491700000013"), simguard.ReasonSIMTerminated},
		{"no sms_mt", text("491700000014"), simguard.ReasonServiceDisabled},
		{"window ended", text("491700000015"), simguard.ReasonOutsideWindow},
		{"activation ended", text("491700000018"), simguard.ReasonOutsideWindow},
		{"device swapped", text("491700000016"), simguard.ReasonIMEIMismatch},
		{"quota used up", text("491700000017"), simguard.ReasonQuotaExceeded},
		{"source not allowed", submit("4990000", "491700000010", "hi"), simguard.ReasonSMSPeerDenied},
		{"binary", func() *pdu.PDU { p := text("491700000010"); p.DataCoding = 0xf6; return p }(), simguard.ReasonSMSBinaryDenied},
		{"silent", func() *pdu.PDU { p := text("491700000010"); p.ProtocolID = 0x40; return p }(), simguard.ReasonSMSSilentDenied},
		{"second allowed", text("491700000019"), simguard.ReasonAllowed},
		{"third: rate limit of 2 a minute", text("491700000019"), simguard.ReasonAllowed},
		{"over the rate limit", text("491700000019"), simguard.ReasonRateLimited},
	}
	for i, tc := range mt {
		t.Run("MT "+tc.name, func(t *testing.T) {
			r, err := c.Do(tc.p, 5*time.Second)
			st := statusOf(t, r, err)
			want := pdu.ESME_ROK
			if tc.reason != simguard.ReasonAllowed {
				want = StatusFor(simguard.KindSMSMT, tc.reason)
			}
			if st != want {
				t.Errorf("status %s, want %s for %s", st, want, tc.reason)
			}
			if ev := h.events.find("sms.mt"); len(ev) != i+1 || ev[i].Reason != tc.reason {
				t.Errorf("event %+v, want reason %s", ev[len(ev)-1], tc.reason)
			}
		})
	}

	deliver := func(src, dst string) *pdu.PDU {
		return &pdu.PDU{ID: pdu.DeliverSM, Source: pdu.Address{TON: 1, NPI: 1, Addr: src}, Dest: pdu.Address{Addr: dst}, ShortMessage: []byte("x")}
	}
	mo := []struct {
		name   string
		p      *pdu.PDU
		reason simguard.Reason
	}{
		{"allowed", deliver("491700000010", "8888"), simguard.ReasonAllowed},
		{"unknown device", deliver("491799999999", "8888"), simguard.ReasonSIMUnknown},
		{"inventory", deliver("491700000011", "8888"), simguard.ReasonSIMInactive},
		{"suspended", deliver("491700000012", "8888"), simguard.ReasonSIMSuspended},
		{"terminated", deliver("491700000013", "8888"), simguard.ReasonSIMTerminated},
		{"no sms_mo", deliver("491700000014", "8888"), simguard.ReasonServiceDisabled},
		{"window ended", deliver("491700000015", "8888"), simguard.ReasonOutsideWindow},
		{"device swapped", deliver("491700000016", "8888"), simguard.ReasonIMEIMismatch},
		{"quota used up", deliver("491700000017", "8888"), simguard.ReasonQuotaExceeded},
		{"premium-rate destination", deliver("491700000010", "9001234"), simguard.ReasonSMSPeerDenied},
		{"second allowed", deliver("491700000020", "8888"), simguard.ReasonAllowed},
		{"third allowed", deliver("491700000020", "8888"), simguard.ReasonAllowed},
		{"over the rate limit", deliver("491700000020", "8888"), simguard.ReasonRateLimited},
	}
	for i, tc := range mo {
		t.Run("MO "+tc.name, func(t *testing.T) {
			r, err := smsc.Deliver(tc.p, 5*time.Second)
			st := statusOf(t, r, err)
			want := pdu.ESME_ROK
			if tc.reason != simguard.ReasonAllowed {
				want = StatusFor(simguard.KindSMSMO, tc.reason)
			}
			if st != want {
				t.Errorf("status %s, want %s for %s", st, want, tc.reason)
			}
			if ev := h.events.find("sms.mo"); len(ev) != i+1 || ev[i].Reason != tc.reason {
				t.Errorf("event %+v, want reason %s", ev[len(ev)-1], tc.reason)
			}
		})
	}
}
