package smpp

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestAccountsChanged: a disabled account loses its binds, but only after
// its message in flight is answered; messages sent meanwhile are refused;
// other accounts keep theirs; a deleted account loses its binds too.
func TestAccountsChanged(t *testing.T) {
	gate := make(chan struct{})
	var held atomic.Bool
	smsc := newSMSC(t, smpptest.SMSCOptions{Respond: func(*pdu.PDU) (pdu.Status, bool) {
		if held.CompareAndSwap(false, true) {
			<-gate // the first message waits for the test
		}
		return pdu.ESME_ROK, true
	}})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 4})
	tracker := h.dial("tracker", "pw3", smpptest.ClientOptions{})
	shortcd := h.dial("shortcd", "pw2", smpptest.ClientOptions{Bind: pdu.BindReceiver})

	first := make(chan pdu.Status, 1)
	if err := c.Send(submit("4930123456", simMeter, "in flight"), func(r *pdu.PDU, err error) {
		if err != nil {
			first <- 0xffffffff
			return
		}
		first <- r.Status
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return smsc.Submits() == 1 }, "the first message at the SMSC")

	h.accts.edit("meterapp", func(a *simguard.SMPPAccount) bool { a.Disabled = true; return true })
	h.srv.AccountsChanged(context.Background())
	r, err := c.Do(submit("4930123456", simMeter, "too late"), 5*time.Second)
	if st := statusOf(t, r, err); st != pdu.ESME_RINVBNDSTS {
		t.Errorf("message after the revocation: %s, want ESME_RINVBNDSTS", st)
	}
	select {
	case <-c.Done():
		t.Fatal("unbound with a message in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if st := <-first; st != pdu.ESME_ROK {
		t.Errorf("the message in flight was answered %s", st)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the revoked bind stayed")
	}
	if _, err := smpptest.Dial(h.addr, smpptest.ClientOptions{SystemID: "meterapp", Password: "pw1"}); err == nil {
		t.Error("a disabled account bound again")
	}

	// An unchanged account keeps its bind; a deleted one loses it.
	h.accts.edit("tracker", func(*simguard.SMPPAccount) bool { return false })
	h.srv.AccountsChanged(context.Background())
	select {
	case <-tracker.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the deleted account's bind stayed")
	}
	select {
	case <-shortcd.Done():
		t.Fatal("an unchanged account lost its bind")
	default:
	}
	var causes []string
	for _, e := range h.events.find("smpp.unbind") {
		causes = append(causes, e.Attrs["system_id"]+":"+e.Attrs["cause"])
	}
	if len(causes) != 2 || causes[0] != "meterapp:account_disabled" || causes[1] != "tracker:account_deleted" {
		t.Errorf("unbind events %v", causes)
	}
}

// TestAccountsChangedVersion: any change of the account (here its MO
// prefixes) re-binds its sessions, so that they run with the new settings.
func TestAccountsChangedVersion(t *testing.T) {
	h := startProxy(t, []string{deadAddr(t)}, nil)
	c := h.dial("shortcd", "pw2", smpptest.ClientOptions{Bind: pdu.BindReceiver})
	h.srv.AccountsChanged(context.Background())
	select {
	case <-c.Done():
		t.Fatal("unbound without a change")
	case <-time.After(100 * time.Millisecond):
	}
	h.accts.edit("shortcd", func(a *simguard.SMPPAccount) bool { a.MOPrefixes = []string{"9999"}; return true })
	h.srv.AccountsChanged(context.Background())
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a changed account kept its bind")
	}
	if e := h.events.find("smpp.unbind"); len(e) != 1 || e[0].Attrs["cause"] != "account_changed" {
		t.Errorf("events %+v", e)
	}
}
