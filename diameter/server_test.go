package diameter

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var homePLMN = simguard.PLMN{MCC: 1, MNC: 1}

func TestCapabilitiesExchange(t *testing.T) {
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 3))
	cases := []struct {
		name string
		host string
		apps []uint32
		want uint32
	}{
		{"known peer, S13", mmeHost, []uint32{wire.AppS13}, wire.ResultSuccess},
		{"unknown Origin-Host", "rogue.test.example", []uint32{wire.AppS13}, wire.ResultUnknownPeer},
		// No HSS configured: S6a is not offered.
		{"no common application", mmeHost, []uint32{wire.AppS6a}, wire.ResultNoCommonApplication},
		{"relay application takes all", mmeHost, []uint32{wire.AppRelay}, wire.ResultSuccess},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := dial(t, h.srv.Addr(), c.host)
			if got := cl.cer(c.apps...); got != c.want {
				t.Fatalf("CEA Result-Code %d, want %d", got, c.want)
			}
			if c.want != wire.ResultSuccess {
				if _, err := cl.read(); err == nil {
					t.Fatal("the connection stayed open after a rejected CER")
				}
			}
		})
	}
	h.ev.wait(t, EventPeer, func(e simguard.Event) bool {
		return e.Attrs["state"] == "rejected" && e.Attrs["why"] == "unknown Origin-Host"
	})
}

// TestUnknownSourceAddress: a connection from an address of no peer's
// prefix is closed at accept, without a CEA; it is counted, and reported
// once a minute per address, not once per connection.
func TestUnknownSourceAddress(t *testing.T) {
	p := localPeer(mmeHost)
	p.Prefix = netipPrefix("192.0.2.0/24")
	h := startServer(t, Config{}, []simguard.DiameterPeer{p}, testPolicy(t, 3))
	for i := 0; i < 3; i++ {
		cl := dial(t, h.srv.Addr(), mmeHost)
		cl.write(cl.request(wire.CmdCapabilitiesExchange, wire.AppCommon, vsai(wire.AppS13)))
		if m, err := cl.read(); err == nil {
			t.Fatalf("a connection from an address of no peer got\n%s", wire.Format(m))
		}
	}
	if n := testutil.ToFloat64(h.srv.m.dropped.WithLabelValues("unknown_address")); n != 3 {
		t.Fatalf("dropped{unknown_address} = %v, want 3", n)
	}
	h.ev.wait(t, EventPeer, func(e simguard.Event) bool { return e.Attrs["state"] == "rejected" })
	h.ev.mu.Lock()
	n := len(h.ev.ev)
	h.ev.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d events for 3 connections from one address, want 1", n)
	}
}

// TestUnauthenticatedLimit: connections that have not finished their CER
// have their own, smaller cap; an accepted CER frees its slot.
func TestUnauthenticatedLimit(t *testing.T) {
	h := startServer(t, Config{MaxUnauthenticated: 2}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	idle1 := dial(t, h.srv.Addr(), mmeHost)
	idle2 := dial(t, h.srv.Addr(), "mme2.test.example")
	_ = idle2
	deadline := time.Now().Add(10 * time.Second)
	for h.srv.unauth.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("unauthenticated %d, want 2", h.srv.unauth.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	third := dial(t, h.srv.Addr(), mmeHost)
	if _, err := third.read(); err == nil {
		t.Fatal("a third connection without CER was kept")
	}
	if rc := idle1.cer(wire.AppS13); rc != wire.ResultSuccess {
		t.Fatalf("CER: %d", rc)
	}
	if n := h.srv.unauth.Load(); n != 1 {
		t.Fatalf("unauthenticated %d after a CER, want 1", n)
	}
	next := dial(t, h.srv.Addr(), mmeHost)
	if rc := next.cer(wire.AppS13); rc != wire.ResultSuccess {
		t.Fatalf("CER after a slot was freed: %d", rc)
	}
	if n := testutil.ToFloat64(h.srv.m.dropped.WithLabelValues("too_many_unauthenticated")); n != 1 {
		t.Fatalf("dropped{too_many_unauthenticated} = %v, want 1", n)
	}
}

// TestLongOriginHostClipped: names an unknown peer chose are clipped in
// events.
func TestLongOriginHostClipped(t *testing.T) {
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	long := strings.Repeat("a", 2000) + ".example"
	cl := dial(t, h.srv.Addr(), long)
	if rc := cl.cer(wire.AppS13); rc != wire.ResultUnknownPeer {
		t.Fatalf("CER: %d", rc)
	}
	e := h.ev.wait(t, EventPeer, func(e simguard.Event) bool { return e.Attrs["state"] == "rejected" })
	if len(e.Attrs["peer"]) > 260 || len(e.Attrs["why"]) > 300 {
		t.Fatalf("event attrs of %d and %d bytes", len(e.Attrs["peer"]), len(e.Attrs["why"]))
	}
}

func TestEIR(t *testing.T) {
	pol := testPolicy(t, 3)
	snap, err := pol.Snapshot().WithDevices([]simguard.Device{
		{TenantID: 1, IMEI: "35000000000001", Status: simguard.DeviceStolen},
		{TenantID: 1, IMEI: imeiOther, Status: simguard.DeviceWatch},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = pol.Update(func(*policySnapshot) (*policySnapshot, error) { return snap, nil })
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, pol)
	cl := dial(t, h.srv.Addr(), mmeHost)
	if rc := cl.cer(wire.AppS13); rc != wire.ResultSuccess {
		t.Fatalf("CER: %d", rc)
	}
	cases := []struct {
		name       string
		imsi, imei string
		sv         string
		want       uint32
		reason     simguard.Reason
	}{
		{"bound device", testIMSI(0), imeiBound, "01", wire.EquipmentWhitelisted, simguard.ReasonAllowed},
		{"bound device, 15-digit IMEI", testIMSI(0), imeiBound + "9", "", wire.EquipmentWhitelisted, simguard.ReasonAllowed},
		{"another device", testIMSI(0), "35209900176149", "", wire.EquipmentBlacklisted, simguard.ReasonIMEIMismatch},
		{"learn lock binds", testIMSI(1), "35209900176150", "", wire.EquipmentWhitelisted, simguard.ReasonAllowed},
		{"suspended SIM", testIMSI(2), imeiBound, "", wire.EquipmentBlacklisted, simguard.ReasonSIMSuspended},
		{"unknown SIM", "001019999999999", imeiBound, "", wire.EquipmentBlacklisted, simguard.ReasonSIMUnknown},
		{"stolen device", testIMSI(1), "35000000000001", "", wire.EquipmentBlacklisted, simguard.ReasonDeviceBlocked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := ecr(cl, c.imsi, c.imei, c.sv)
			cl.write(req)
			a := cl.mustRead()
			if a.HopByHop != req.HopByHop || a.EndToEnd != req.EndToEnd || a.IsRequest() {
				t.Fatalf("answer ids %x/%x, want %x/%x", a.HopByHop, a.EndToEnd, req.HopByHop, req.EndToEnd)
			}
			if got := equipment(t, a); got != c.want {
				t.Fatalf("Equipment-Status %d, want %d", got, c.want)
			}
			e := h.ev.wait(t, EventECR, func(e simguard.Event) bool {
				return e.Attrs["imei"] != "" && e.Attrs["imsi"] == c.imsi && e.Reason == c.reason
			})
			if e.Attrs["equipment_status"] != equipmentNames[c.want] || e.Attrs["peer"] != mmeHost {
				t.Fatalf("event %+v", e)
			}
		})
	}
	h.fb.mu.Lock()
	learned, reports := h.fb.learned[2], h.fb.reports
	h.fb.mu.Unlock()
	if learned != "35209900176150" {
		t.Fatalf("learn lock: learned %q", learned)
	}
	if reports != 1 {
		t.Fatalf("IMEI mismatch reports %d, want 1", reports)
	}
	// A watched device: SIM 1's learn lock is still unbound in this
	// policy (the recording feedback does not change it), so imeiOther is
	// allowed, and the watch list makes it GREYLISTED.
	cl.write(ecr(cl, testIMSI(1), imeiOther, ""))
	if got := equipment(t, cl.mustRead()); got != wire.EquipmentGreylisted {
		t.Fatalf("watched device: Equipment-Status %d, want GREYLISTED", got)
	}
	// Missing IMEI: DIAMETER_MISSING_AVP with the E bit.
	m := cl.request(wire.CmdMEIdentityCheck, wire.AppS13, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)))
	cl.write(m)
	if a := cl.mustRead(); resultOf(a) != wire.ResultMissingAVP || a.Flags&wire.FlagError == 0 {
		t.Fatalf("ECR without IMEI:\n%s", wire.Format(a))
	}
	// An application that was not negotiated: 3007.
	cl.write(ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004))
	if a := cl.mustRead(); resultOf(a) != wire.ResultApplicationUnsupported || a.Flags&wire.FlagError == 0 {
		t.Fatalf("S6a on an S13-only connection:\n%s", wire.Format(a))
	}
	// A broken AVP value: 5014 with Failed-AVP, the connection stays.
	bad := ecr(cl, testIMSI(0), imeiBound, "")
	bad.Add(wire.NewBytes(wire.AVPOriginStateID, 0, wire.AVPMandatory, []byte{1, 2}))
	cl.write(bad)
	if a := cl.mustRead(); resultOf(a) != wire.ResultInvalidAVPLength || a.Find(wire.AVPFailedAVP, 0) == nil {
		t.Fatalf("invalid AVP length:\n%s", wire.Format(a))
	}
	cl.write(ecr(cl, testIMSI(0), imeiBound, ""))
	if got := equipment(t, cl.mustRead()); got != wire.EquipmentWhitelisted {
		t.Fatal("connection unusable after an invalid AVP")
	}
}

func TestUnknownSIMSetting(t *testing.T) {
	h := startServer(t, Config{UnknownSIM: "greylisted"}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS13)
	cl.write(ecr(cl, "001019999999999", imeiBound, ""))
	if got := equipment(t, cl.mustRead()); got != wire.EquipmentGreylisted {
		t.Fatalf("unknown SIM with unknown_sim greylisted: %d", got)
	}
}

func TestWatchdogAndDisconnect(t *testing.T) {
	h := startServer(t, Config{Watchdog: time.Second}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS13)
	// Our DWR is answered.
	cl.write(cl.request(wire.CmdDeviceWatchdog, wire.AppCommon))
	if a := cl.mustRead(); a.Code != wire.CmdDeviceWatchdog || resultOf(a) != wire.ResultSuccess {
		t.Fatalf("DWA:\n%s", wire.Format(a))
	}
	// Idle: simguard sends a DWR; answering it keeps the connection.
	dwr := cl.mustRead()
	if dwr.Code != wire.CmdDeviceWatchdog || !dwr.IsRequest() {
		t.Fatalf("want a DWR from simguard, got\n%s", wire.Format(dwr))
	}
	a := dwr.Answer()
	a.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, wire.ResultSuccess),
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, mmeHost), wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"))
	cl.write(a)
	// Not answering the next DWR closes the connection.
	if m := cl.mustRead(); m.Code != wire.CmdDeviceWatchdog {
		t.Fatalf("want the next DWR, got\n%s", wire.Format(m))
	}
	if _, err := cl.read(); err == nil {
		t.Fatal("connection open after an unanswered DWR")
	}
	h.ev.wait(t, EventPeer, func(e simguard.Event) bool {
		return e.Attrs["state"] == "disconnected" && len(e.Attrs["why"]) > 8 && e.Attrs["why"][:8] == "watchdog"
	})

	// DPR: answered with DPA, then the connection closes.
	cl2 := dial(t, h.srv.Addr(), mmeHost)
	cl2.cer(wire.AppS13)
	cl2.write(cl2.request(wire.CmdDisconnectPeer, wire.AppCommon, wire.NewUint32(wire.AVPDisconnectCause, 0, wire.AVPMandatory, 0)))
	if a := cl2.mustRead(); a.Code != wire.CmdDisconnectPeer || resultOf(a) != wire.ResultSuccess {
		t.Fatalf("DPA:\n%s", wire.Format(a))
	}
	if _, err := cl2.read(); err == nil {
		t.Fatal("connection open after DPR/DPA")
	}
}

func TestGarbageDropsOnlyThatConnection(t *testing.T) {
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost), localPeer("mme2.test.example")}, testPolicy(t, 1))
	good := dial(t, h.srv.Addr(), mmeHost)
	good.cer(wire.AppS13)
	bad := dial(t, h.srv.Addr(), "mme2.test.example")
	bad.cer(wire.AppS13)
	bad.nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if _, err := bad.read(); err == nil {
		t.Fatal("garbage did not close the connection")
	}
	h.ev.wait(t, EventDropped, func(e simguard.Event) bool { return e.Attrs["cause"] == "malformed" })
	good.write(ecr(good, testIMSI(0), imeiBound, ""))
	if got := equipment(t, good.mustRead()); got != wire.EquipmentWhitelisted {
		t.Fatal("the other peer stopped working")
	}
	// Too large and before-CER garbage too.
	big := dial(t, h.srv.Addr(), mmeHost)
	big.nc.Write([]byte{1, 0x7f, 0xff, 0xfc, 0x80, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1})
	if _, err := big.read(); err == nil {
		t.Fatal("an oversized message did not close the connection")
	}
	h.ev.wait(t, EventDropped, func(e simguard.Event) bool { return e.Attrs["cause"] == "too_large" })
}

func TestRemovedPeerIsDisconnected(t *testing.T) {
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS13)
	h.srv.SetPeers(nil)
	m := cl.mustRead() // the DPR
	if m.Code != wire.CmdDisconnectPeer || !m.IsRequest() {
		t.Fatalf("want DPR, got\n%s", wire.Format(m))
	}
	a := m.Answer()
	a.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, wire.ResultSuccess))
	cl.write(a)
	if _, err := cl.read(); err == nil {
		t.Fatal("connection of a removed peer stayed open")
	}
}

// TestDPRWithoutDPA: a peer that does not answer simguard's DPR is
// closed after Tw anyway.
func TestDPRWithoutDPA(t *testing.T) {
	h := startServer(t, Config{Watchdog: time.Second}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS13)
	h.srv.SetPeers(nil)
	if m := cl.mustRead(); m.Code != wire.CmdDisconnectPeer {
		t.Fatalf("want DPR, got\n%s", wire.Format(m))
	}
	start := time.Now()
	if _, err := cl.read(); err == nil {
		t.Fatal("connection open without a DPA")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("closed after %s; Tw is 1s", d)
	}
	h.ev.wait(t, EventPeer, func(e simguard.Event) bool { return e.Attrs["why"] == "no DPA within 1s" })
}

func TestMaxConnections(t *testing.T) {
	h := startServer(t, Config{MaxConnections: 2}, []simguard.DiameterPeer{localPeer(mmeHost), localPeer("mme2.test.example")}, testPolicy(t, 1))
	a := dial(t, h.srv.Addr(), mmeHost)
	a.cer(wire.AppS13)
	b := dial(t, h.srv.Addr(), "mme2.test.example")
	b.cer(wire.AppS13)
	c := dial(t, h.srv.Addr(), "mme3.test.example")
	if _, err := c.read(); err == nil {
		t.Fatal("a third connection was served with max_connections 2")
	}
	a.write(ecr(a, testIMSI(0), imeiBound, ""))
	if got := equipment(t, a.mustRead()); got != wire.EquipmentWhitelisted {
		t.Fatal("the open connections stopped working")
	}
}

// TestRemovedPeerIsNotServed: between simguard's DPR and the peer's DPA
// the removed peer's requests are answered DIAMETER_UNABLE_TO_DELIVER;
// a peer whose realm changed is disconnected too.
func TestRemovedPeerIsNotServed(t *testing.T) {
	p := localPeer(mmeHost)
	p.Realm = "test.example"
	h := startServer(t, Config{}, []simguard.DiameterPeer{p}, testPolicy(t, 1))
	for _, change := range []struct {
		name  string
		peers []simguard.DiameterPeer
	}{
		{"removed", nil},
		{"realm changed", []simguard.DiameterPeer{func() simguard.DiameterPeer { q := p; q.Realm = "other.example"; return q }()}},
	} {
		t.Run(change.name, func(t *testing.T) {
			h.srv.SetPeers([]simguard.DiameterPeer{p})
			cl := dial(t, h.srv.Addr(), mmeHost)
			if rc := cl.cer(wire.AppS13); rc != wire.ResultSuccess {
				t.Fatalf("CER: %d", rc)
			}
			h.srv.SetPeers(change.peers)
			if m := cl.mustRead(); m.Code != wire.CmdDisconnectPeer || !m.IsRequest() {
				t.Fatalf("want DPR, got\n%s", wire.Format(m))
			}
			req := ecr(cl, testIMSI(0), imeiBound, "")
			cl.write(req)
			a := cl.mustRead()
			if a.HopByHop != req.HopByHop || resultOf(a) != wire.ResultUnableToDeliver || a.Find(wire.AVPEquipmentStatus, wire.Vendor3GPP) != nil {
				t.Fatalf("ECR of a removed peer:\n%s", wire.Format(a))
			}
		})
	}
}

// TestCloseReadsHostWithoutRace: close (any goroutine: the watchdog, a
// failed relay write, shutdown) reads the Origin-Host the reader writes
// when the CER arrives. Under -race this failed before the host was
// atomic: the close below reads it with no ordering to the CER's write.
func TestCloseReadsHostWithoutRace(t *testing.T) {
	srv, err := New(Config{OriginHost: "eir.test.example", OriginRealm: "test.example"},
		Deps{Evaluator: testPolicy(t, 1), Feedback: &recFeedback{}, Events: &recEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetPeers([]simguard.DiameterPeer{localPeer(mmeHost)})
	local, remote := net.Pipe()
	defer remote.Close()
	c := srv.newConn(local, roleMME)
	cl := &client{t: t, host: "rogue.test.example"}
	cer := cl.request(wire.CmdCapabilitiesExchange, wire.AppCommon, vsai(wire.AppS13))
	closed := make(chan struct{})
	go func() {
		c.close("watchdog")
		close(closed)
	}()
	// No synchronisation with that goroutine before the CER is handled
	// (a sleep is none for the race detector), as in the server.
	time.Sleep(100 * time.Millisecond)
	_ = c.handleCER(cer)
	<-closed
}
