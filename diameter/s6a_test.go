package diameter

import (
	"net/netip"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
	"github.com/simguard/simguard/policy"
)

type policySnapshot = policy.Snapshot

func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func experimental(a *wire.Message) (uint32, bool) {
	er := a.Find(wire.AVPExperimentalResult, 0)
	if er == nil {
		return 0, false
	}
	inner, _ := er.Group()
	v := wire.Find(inner, wire.AVPVendorID, 0)
	c := wire.Find(inner, wire.AVPExperimentalResultCode, 0)
	if v == nil || c == nil {
		return 0, false
	}
	vendor, _ := v.Uint32()
	code, _ := c.Uint32()
	return code, vendor == wire.Vendor3GPP
}

func TestS6aGuard(t *testing.T) {
	hss := startHSS(t)
	h := startServer(t, Config{HSS: HSSConfig{Addr: hss.ln.Addr().String(), Host: hssHost, Realm: "test.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost), localPeer("mme-de.test.example", "262-01")}, testPolicy(t, 3))
	h.waitHSS(t)
	cl := dial(t, h.srv.Addr(), mmeHost)
	if rc := cl.cer(wire.AppS6a, wire.AppS13); rc != wire.ResultSuccess {
		t.Fatalf("CER: %d", rc)
	}

	// Allowed: relayed with a new hop-by-hop id, the same end-to-end id
	// and a Route-Record; the HSS's answer comes back with our ids.
	req := ulr(cl, testIMSI(0), imeiBound, homePLMN, 1005)
	cl.write(req)
	a := cl.mustRead()
	if resultOf(a) != wire.ResultSuccess || a.HopByHop != req.HopByHop || a.EndToEnd != req.EndToEnd || a.Find(wire.AVPULAFlags, wire.Vendor3GPP) == nil {
		t.Fatalf("relayed ULA:\n%s", wire.Format(a))
	}
	got := hss.received(wire.CmdUpdateLocation, true)
	if got == nil {
		t.Fatal("the HSS got no ULR")
	}
	if got.EndToEnd != req.EndToEnd || got.HopByHop == req.HopByHop {
		t.Fatalf("relayed ids hbh %x e2e %x (sent %x %x)", got.HopByHop, got.EndToEnd, req.HopByHop, req.EndToEnd)
	}
	if rr := got.Find(wire.AVPRouteRecord, 0); rr == nil || string(rr.Data) != mmeHost {
		t.Fatalf("no Route-Record naming the MME:\n%s", wire.Format(got))
	}
	e := h.ev.wait(t, EventULR, func(e simguard.Event) bool { return e.Decision == "allow" })
	if e.Attrs["plmn"] != "001-01" || e.Attrs["rat"] != "nb-iot" || e.SIMID != 1 {
		t.Fatalf("allow event %+v", e)
	}

	denials := []struct {
		name   string
		host   string
		imsi   string
		imei   string
		plmn   simguard.PLMN
		rat    uint32
		code   uint32
		exp    bool
		reason simguard.Reason
	}{
		{"roaming where not allowed", mmeHost, testIMSI(0), imeiBound, simguard.PLMN{MCC: 262, MNC: 1}, 1004, wire.ExpRoamingNotAllowed, true, simguard.ReasonLocationDenied},
		{"radio type not allowed (UTRAN)", mmeHost, testIMSI(0), imeiBound, homePLMN, 1000, wire.ExpRATNotAllowed, true, simguard.ReasonRATDenied},
		{"radio type not allowed (NR)", mmeHost, testIMSI(0), imeiBound, homePLMN, 1006, wire.ExpRATNotAllowed, true, simguard.ReasonRATDenied},
		{"unknown SIM", mmeHost, "001019999999999", imeiBound, homePLMN, 1004, wire.ExpUserUnknown, true, simguard.ReasonSIMUnknown},
		{"suspended SIM", mmeHost, testIMSI(2), imeiBound, homePLMN, 1004, wire.ResultAuthorizationRejected, false, simguard.ReasonSIMSuspended},
		{"another device", mmeHost, testIMSI(0), imeiOther, homePLMN, 1004, wire.ResultAuthorizationRejected, false, simguard.ReasonIMEIMismatch},
		{"MME not allowed for that network", "mme-de.test.example", testIMSI(0), imeiBound, homePLMN, 1004, wire.ExpRoamingNotAllowed, true, simguard.ReasonLocationDenied},
	}
	for _, d := range denials {
		t.Run(d.name, func(t *testing.T) {
			c := cl
			if d.host != mmeHost {
				c = dial(t, h.srv.Addr(), d.host)
				c.cer(wire.AppS6a)
			}
			req := ulr(c, d.imsi, d.imei, d.plmn, d.rat)
			c.write(req)
			a := c.mustRead()
			if a.HopByHop != req.HopByHop || a.Code != wire.CmdUpdateLocation || a.IsRequest() {
				t.Fatalf("answer:\n%s", wire.Format(a))
			}
			if d.exp {
				code, ok := experimental(a)
				if !ok || code != d.code || a.Find(wire.AVPResultCode, 0) != nil {
					t.Fatalf("want Experimental-Result 10415/%d:\n%s", d.code, wire.Format(a))
				}
			} else if rc := a.Find(wire.AVPResultCode, 0); rc == nil || resultOf(a) != d.code {
				t.Fatalf("want Result-Code %d:\n%s", d.code, wire.Format(a))
			}
			h.ev.wait(t, EventULR, func(e simguard.Event) bool {
				return e.Decision == "deny" && e.Reason == d.reason && e.Attrs["peer"] == d.host && e.Attrs["imsi"] == d.imsi
			})
		})
	}
	if n := len(hssReceivedULRs(hss)); n != 1 {
		t.Fatalf("the HSS got %d ULRs, want only the allowed one", n)
	}

	// AIR passes through unchanged in meaning.
	air := cl.request(wire.CmdAuthenticationInfo, wire.AppS6a, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)),
		wire.NewBytes(wire.AVPVisitedPLMNID, wire.Vendor3GPP, wire.AVPMandatory, encodePLMN(homePLMN)))
	cl.write(air)
	if a := cl.mustRead(); a.Code != wire.CmdAuthenticationInfo || resultOf(a) != wire.ResultSuccess || a.HopByHop != air.HopByHop {
		t.Fatalf("AIA:\n%s", wire.Format(a))
	}

	// CLR from the HSS goes to the MME named by Destination-Host, and the
	// MME's CLA goes back to the HSS with the HSS's hop-by-hop id.
	clr := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: wire.CmdCancelLocation, AppID: wire.AppS6a, HopByHop: 0xabcdef, EndToEnd: 0x1234}}
	clr.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, "hss;clr;1"),
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, hssHost),
		wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewString(wire.AVPDestinationHost, 0, wire.AVPMandatory, mmeHost),
		wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, testIMSI(0)),
		wire.NewUint32(wire.AVPCancellationType, wire.Vendor3GPP, wire.AVPMandatory, 0))
	hss.send(clr)
	in := cl.mustRead()
	if in.Code != wire.CmdCancelLocation || !in.IsRequest() || in.EndToEnd != 0x1234 {
		t.Fatalf("CLR at the MME:\n%s", wire.Format(in))
	}
	cla := in.Answer()
	cla.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, wire.ResultSuccess),
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, mmeHost), wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"))
	cl.write(cla)
	back := hss.received(wire.CmdCancelLocation, false)
	if back == nil || back.HopByHop != 0xabcdef {
		t.Fatalf("CLA at the HSS: %v", back)
	}
}

func hssReceivedULRs(h *fakeHSS) []*wire.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*wire.Message
	for _, m := range h.got {
		if m.Code == wire.CmdUpdateLocation && m.IsRequest() {
			out = append(out, m)
		}
	}
	return out
}

func TestS6aWithoutHSSConnection(t *testing.T) {
	// An HSS address nothing listens on: allowed ULRs get UNABLE_TO_DELIVER.
	h := startServer(t, Config{HSS: HSSConfig{Addr: "127.0.0.1:1", Host: hssHost, Realm: "test.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS6a)
	cl.write(ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004))
	if a := cl.mustRead(); resultOf(a) != wire.ResultUnableToDeliver || a.Flags&wire.FlagError == 0 {
		t.Fatalf("ULA without HSS:\n%s", wire.Format(a))
	}
}

func TestPLMNCodec(t *testing.T) {
	cases := []struct {
		hex  []byte
		want string
	}{
		{[]byte{0x00, 0xf1, 0x10}, "001-01"},
		{[]byte{0x62, 0xf2, 0x10}, "262-01"},
		{[]byte{0x13, 0x00, 0x62}, "310-260"},
	}
	for _, c := range cases {
		p, err := decodePLMN(c.hex)
		if err != nil || p.String() != c.want {
			t.Fatalf("%x: %v %v, want %s", c.hex, p, err, c.want)
		}
		if enc := encodePLMN(p); string(enc) != string(c.hex) {
			t.Fatalf("encode %s: %x, want %x", c.want, enc, c.hex)
		}
	}
	for _, bad := range [][]byte{{0x00, 0xf1}, {0xaa, 0xf1, 0x10}, {0x00, 0xe1, 0x10}} {
		if _, err := decodePLMN(bad); err == nil {
			t.Fatalf("%x decoded", bad)
		}
	}
	if ratName(1005) != simguard.RATNBIoT || ratName(1007) != simguard.RATLTEM || ratName(1006) != simguard.RAT5G || ratName(1004) != simguard.RAT4G || ratName(7) != "rat-7" {
		t.Fatal("RAT-Type mapping")
	}
}
