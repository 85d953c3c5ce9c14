package smpp

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// inbox collects what an ESME receives.
type inbox struct {
	mu  sync.Mutex
	got [][]byte
}

func (b *inbox) take(p *pdu.PDU) pdu.Status {
	f, _ := p.Encode()
	b.mu.Lock()
	b.got = append(b.got, f)
	b.mu.Unlock()
	return pdu.ESME_ROK
}

func (b *inbox) frames() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.got...)
}

func deliver(src, dst, text string) *pdu.PDU {
	return &pdu.PDU{ID: pdu.DeliverSM, Source: pdu.Address{TON: 1, NPI: 1, Addr: src},
		Dest: pdu.Address{Addr: dst}, ShortMessage: []byte(text)}
}

// TestMO: device messages are checked against the SIM's policy and go to
// the account of the SIM's tenant whose MO prefix matches.
func TestMO(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	var shortcode, meterapp, tracker inbox
	h.dial("shortcd", "pw2", smpptest.ClientOptions{Bind: pdu.BindReceiver, OnDeliver: shortcode.take})
	h.dial("meterapp", "pw1", smpptest.ClientOptions{OnDeliver: meterapp.take})
	h.dial("tracker", "pw3", smpptest.ClientOptions{OnDeliver: tracker.take})
	// A transmitter of the same tenant must never be chosen to receive.
	h.dial("operator", "pw4", smpptest.ClientOptions{Bind: pdu.BindTransmitter})

	tests := []struct {
		name   string
		p      *pdu.PDU
		status pdu.Status
		reason simguard.Reason
		to     *inbox
	}{
		{"to the short code", deliver(simMeter, "8888", "TEMP 21"), pdu.ESME_ROK, simguard.ReasonAllowed, &shortcode},
		{"to a number of the meter app", deliver(simMeter, "4930111", "TEMP 22"), pdu.ESME_ROK, simguard.ReasonAllowed, &meterapp},
		{"tracker tenant", deliver(simTracker, "4930111", "POS 52.5,13.4"), pdu.ESME_ROK, simguard.ReasonAllowed, &tracker},
		{"premium number denied", deliver(simMeter, "4990123", "BUY"), pdu.ESME_RINVDSTADR, simguard.ReasonSMSPeerDenied, nil},
		{"not in the allowed prefixes", deliver(simMeter, "1555", "x"), pdu.ESME_RINVDSTADR, simguard.ReasonSMSPeerDenied, nil},
		{"unknown SIM", deliver("491799999999", "8888", "x"), pdu.ESME_RINVSRCADR, simguard.ReasonSIMUnknown, nil},
		{"suspended SIM", deliver(simSuspended, "8888", "x"), pdu.ESME_RX_P_APPN, simguard.ReasonSIMSuspended, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := [3]int{len(shortcode.frames()), len(meterapp.frames()), len(tracker.frames())}
			r, err := smsc.Deliver(tc.p, 5*time.Second)
			if st := statusOf(t, r, err); st != tc.status {
				t.Fatalf("status %s, want %s", st, tc.status)
			}
			ev := h.events.find("sms.mo")
			if len(ev) != i+1 || ev[i].Reason != tc.reason {
				t.Fatalf("events %+v", ev)
			}
			after := [3]int{len(shortcode.frames()), len(meterapp.frames()), len(tracker.frames())}
			for j, b := range []*inbox{&shortcode, &meterapp, &tracker} {
				want := before[j]
				if b == tc.to {
					want++
				}
				if after[j] != want {
					t.Errorf("inbox %d has %d messages, want %d", j, after[j], want)
				}
			}
			if tc.to != nil {
				got := tc.to.frames()
				sent, _ := tc.p.Encode()
				if last := got[len(got)-1]; !bytes.Equal(last[16:], sent[16:]) {
					t.Errorf("content changed: %x, want %x", last[16:], sent[16:])
				}
			}
		})
	}
	if n := h.usage.count(1); n != 2 {
		t.Errorf("usage of SIM 1: %d", n)
	}
}

// TestMONoReceiver: with no receiving bind, the SMSC is told to retry.
func TestMONoReceiver(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	h.dial("meterapp", "pw1", smpptest.ClientOptions{Bind: pdu.BindTransmitter})
	r, err := smsc.Deliver(deliver(simMeter, "4930111", "x"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RX_T_APPN {
		t.Errorf("status %s", st)
	}
}

// TestMOESMEAnswerRelayed: the ESME's own error answer reaches the SMSC.
func TestMOESMEAnswerRelayed(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	h.dial("meterapp", "pw1", smpptest.ClientOptions{OnDeliver: func(*pdu.PDU) pdu.Status { return pdu.ESME_RX_R_APPN }})
	r, err := smsc.Deliver(deliver(simMeter, "4930111", "x"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RX_R_APPN {
		t.Errorf("status %s", st)
	}
	if n := h.usage.count(1); n != 0 {
		t.Errorf("a refused message was metered: %d", n)
	}
}

// TestReceipts: a delivery receipt goes, unchanged, to the account that
// submitted the message, found by message ID, even when another account
// of the same tenant could receive.
func TestReceipts(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	var sender, other inbox
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{OnDeliver: sender.take})
	h.dial("shortcd", "pw2", smpptest.ClientOptions{OnDeliver: other.take})
	p := submit("8888", simMeter, "hello")
	p.RegisteredDelivery = 1
	r, err := c.Do(p, 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK {
		t.Fatalf("submit: %s", st)
	}
	rcpt := &pdu.PDU{ID: pdu.DeliverSM, Source: pdu.Address{TON: 1, NPI: 1, Addr: simMeter}, Dest: pdu.Address{Addr: "8888"},
		ESMClass:     pdu.ESMDeliveryReceipt,
		ShortMessage: []byte("id:" + r.MessageID + " sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:hello"),
		TLVs:         []pdu.TLV{pdu.CStringTLV(pdu.TagReceiptedMessageID, r.MessageID), pdu.Uint8TLV(pdu.TagMessageState, 2)}}
	rr, err := smsc.Deliver(rcpt, 5*time.Second)
	if st := statusOf(t, rr, err); st != pdu.ESME_ROK {
		t.Fatalf("receipt: %s", st)
	}
	got := sender.frames()
	want, _ := rcpt.Encode()
	if len(got) != 1 || !bytes.Equal(got[0][16:], want[16:]) {
		t.Errorf("sender got %x, want body %x", got, want[16:])
	}
	if len(other.frames()) != 0 {
		t.Error("the receipt went to the short code account, whose prefix matches, instead of the submitter")
	}
	if len(h.events.find("sms.mo")) != 0 {
		t.Error("a receipt was evaluated as a device message")
	}

	// A receipt whose message ID is unknown (say, after a restart) falls
	// back to the account whose prefix matches its destination.
	rcpt.TLVs = []pdu.TLV{pdu.CStringTLV(pdu.TagReceiptedMessageID, "unknown-id")}
	rcpt.ShortMessage = []byte("id:unknown-id stat:DELIVRD")
	if rr, err := smsc.Deliver(rcpt, 5*time.Second); statusOf(t, rr, err) != pdu.ESME_ROK || len(other.frames()) != 1 {
		t.Errorf("fallback receipt: status %v, short code inbox %d", rr, len(other.frames()))
	}
	// The submitter is known but has no receiving bind: the receipt waits
	// for it (the SMSC retries) instead of going to the prefix owner.
	tx := h.dial("meterapp", "pw1", smpptest.ClientOptions{Bind: pdu.BindTransmitter})
	p.Source.Addr = "8888"
	r, err = tx.Do(p, 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_ROK {
		t.Fatalf("submit: %s", st)
	}
	c.Abort()
	eventually(t, 5*time.Second, func() bool {
		return counterValue(t, h.reg, "simguard_smpp_esme_binds", map[string]string{"bind_type": "transceiver"}) == 1
	}, "the transceiver gone")
	rcpt.TLVs = []pdu.TLV{pdu.CStringTLV(pdu.TagReceiptedMessageID, r.MessageID)}
	if rr, err := smsc.Deliver(rcpt, 5*time.Second); statusOf(t, rr, err) != pdu.ESME_RX_T_APPN || len(other.frames()) != 1 {
		t.Errorf("receipt of an absent submitter: status %s, short code inbox %d", rr.Status, len(other.frames()))
	}

	// Nobody to take it: the SMSC keeps it and retries.
	rcpt.TLVs = []pdu.TLV{pdu.CStringTLV(pdu.TagReceiptedMessageID, "unknown-id")}
	rcpt.Dest.Addr = "SOMEONE"
	if rr, err := smsc.Deliver(rcpt, 5*time.Second); statusOf(t, rr, err) != pdu.ESME_RX_T_APPN {
		t.Errorf("unroutable receipt: status %s", rr.Status)
	}
}
