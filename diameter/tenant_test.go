package diameter

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// A tenant's MME may relay S6a only about its own tenant's SIMs, and the
// HSS's CLR/IDR reach a tenant's MME only for that tenant's SIMs.
func TestS6aTenantIsolation(t *testing.T) {
	hss := startHSS(t)
	other := localPeer("mme-t2.test.example")
	other.ID, other.TenantID = 2, 2
	h := startServer(t, Config{HSS: HSSConfig{Addr: hss.ln.Addr().String(), Host: hssHost, Realm: "test.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost), other}, testPolicy(t, 3)) // the SIMs are tenant 1's
	h.waitHSS(t)
	cl := dial(t, h.srv.Addr(), other.OriginHost)
	if rc := cl.cer(wire.AppS6a); rc != wire.ResultSuccess {
		t.Fatalf("CER: %d", rc)
	}
	for _, imsi := range []string{testIMSI(0), "001019999999999"} {
		air := cl.request(wire.CmdAuthenticationInfo, wire.AppS6a, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi),
			wire.NewBytes(wire.AVPVisitedPLMNID, wire.Vendor3GPP, wire.AVPMandatory, encodePLMN(homePLMN)))
		cl.write(air)
		a := cl.mustRead()
		if code, ok := experimental(a); !ok || code != wire.ExpUserUnknown || a.HopByHop != air.HopByHop || a.Find(wire.AVPResultCode, 0) != nil {
			t.Fatalf("AIA to another tenant's MME for %s:\n%s", imsi, wire.Format(a))
		}
	}
	// PUR and NOR too: every S6a request, not only AIR.
	pur := cl.request(wire.CmdPurgeUE, wire.AppS6a, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)))
	cl.write(pur)
	if code, _ := experimental(cl.mustRead()); code != wire.ExpUserUnknown {
		t.Fatal("PUR of another tenant's SIM was not refused")
	}
	if m := hss.received(wire.CmdAuthenticationInfo, true); m != nil {
		t.Fatalf("the HSS got an AIR from another tenant's MME:\n%s", wire.Format(m))
	}

	// A CLR for tenant 1's SIM addressed to tenant 2's MME is not delivered.
	clr := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: wire.CmdCancelLocation, AppID: wire.AppS6a, HopByHop: 0xabcdef, EndToEnd: 0x1234}}
	clr.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, "hss;clr;1"),
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, hssHost),
		wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewString(wire.AVPDestinationHost, 0, wire.AVPMandatory, other.OriginHost),
		wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)),
		wire.NewUint32(wire.AVPCancellationType, wire.Vendor3GPP, wire.AVPMandatory, 0))
	hss.send(clr)
	back := hss.received(wire.CmdCancelLocation, false)
	if back == nil || resultOf(back) != wire.ResultUnableToDeliver || back.HopByHop != 0xabcdef {
		t.Fatalf("CLA at the HSS: %v", back)
	}
	cl.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if m, err := readNoDeadline(cl.nc); err == nil {
		t.Fatalf("another tenant's MME got:\n%s", wire.Format(m))
	}
}

// Requests relayed to the HSS name it: Destination-Host hss.host and
// Destination-Realm hss.realm, whatever the MME put there.
func TestRelayedRequestsNameTheHSS(t *testing.T) {
	hss := startHSS(t)
	h := startServer(t, Config{HSS: HSSConfig{Addr: hss.ln.Addr().String(), Host: hssHost, Realm: "hss-realm.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	h.waitHSS(t)
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS6a)
	cl.write(ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004)) // Destination-Realm test.example, no Destination-Host
	if a := cl.mustRead(); resultOf(a) != wire.ResultSuccess {
		t.Fatalf("ULA:\n%s", wire.Format(a))
	}
	cl.write(cl.request(wire.CmdAuthenticationInfo, wire.AppS6a, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)),
		wire.NewString(wire.AVPDestinationHost, 0, wire.AVPMandatory, "elsewhere.example")))
	if a := cl.mustRead(); resultOf(a) != wire.ResultSuccess {
		t.Fatalf("AIA:\n%s", wire.Format(a))
	}
	for _, code := range []uint32{wire.CmdUpdateLocation, wire.CmdAuthenticationInfo} {
		m := hss.received(code, true)
		if m == nil {
			t.Fatalf("the HSS got no %d", code)
		}
		n := 0
		for _, a := range m.AVPs {
			if a.Code == wire.AVPDestinationHost || a.Code == wire.AVPDestinationRealm {
				n++
			}
		}
		if identity(m, wire.AVPDestinationHost) != hssHost || identity(m, wire.AVPDestinationRealm) != "hss-realm.example" || n != 2 {
			t.Fatalf("relayed to the HSS:\n%s", wire.Format(m))
		}
	}
}
