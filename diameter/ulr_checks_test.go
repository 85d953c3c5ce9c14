package diameter

import (
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// withoutAVP drops every top-level AVP code (vendor 3GPP or none) from m.
func withoutAVP(m *wire.Message, code uint32) *wire.Message {
	out := m.AVPs[:0:0]
	for _, a := range m.AVPs {
		if a.Code != code {
			out = append(out, a)
		}
	}
	m.AVPs = out
	return m
}

// The MME-to-network check cannot be skipped by leaving Visited-PLMN-Id
// out, and a request with two identities is refused, not decided on one.
func TestULRMissingAndRepeatedAVPs(t *testing.T) {
	hss := startHSS(t)
	h := startServer(t, Config{HSS: HSSConfig{Addr: hss.ln.Addr().String(), Host: hssHost, Realm: "test.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost, "001-01")}, testPolicy(t, 3))
	h.waitHSS(t)
	cl := dial(t, h.srv.Addr(), mmeHost)
	if rc := cl.cer(wire.AppS6a, wire.AppS13); rc != wire.ResultSuccess {
		t.Fatalf("CER: %d", rc)
	}
	imsi := func(v string) wire.AVP { return wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, v) }
	cases := []struct {
		name   string
		req    *wire.Message
		code   uint32
		failed uint32
	}{
		{"ULR without Visited-PLMN-Id", withoutAVP(ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004), wire.AVPVisitedPLMNID),
			wire.ResultMissingAVP, wire.AVPVisitedPLMNID},
		{"ULR with two User-Names", ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004).Add(imsi(testIMSI(1))),
			wire.ResultAVPOccursTooManyTimes, wire.AVPUserName},
		{"ULR with two Visited-PLMN-Ids", ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004).Add(
			wire.NewBytes(wire.AVPVisitedPLMNID, wire.Vendor3GPP, wire.AVPMandatory, encodePLMN(simguard.PLMN{MCC: 262, MNC: 1}))),
			wire.ResultAVPOccursTooManyTimes, wire.AVPVisitedPLMNID},
		{"ULR with two Terminal-Informations", ulr(cl, testIMSI(0), imeiBound, homePLMN, 1004).Add(
			wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory, wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imeiOther))),
			wire.ResultAVPOccursTooManyTimes, wire.AVPTerminalInformation},
		{"ECR with two User-Names", ecr(cl, testIMSI(0), imeiBound, "").Add(imsi(testIMSI(1))),
			wire.ResultAVPOccursTooManyTimes, wire.AVPUserName},
		{"ECR with two Terminal-Informations", ecr(cl, testIMSI(0), imeiBound, "").Add(
			wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory, wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imeiOther))),
			wire.ResultAVPOccursTooManyTimes, wire.AVPTerminalInformation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl.write(tc.req)
			a := cl.mustRead()
			if a.HopByHop != tc.req.HopByHop || a.Find(wire.AVPResultCode, 0) == nil || resultOf(a) != tc.code {
				t.Fatalf("want Result-Code %d:\n%s", tc.code, wire.Format(a))
			}
			fa := a.Find(wire.AVPFailedAVP, 0)
			if fa == nil {
				t.Fatalf("no Failed-AVP:\n%s", wire.Format(a))
			}
			inner, err := fa.Group()
			if err != nil || len(inner) != 1 || inner[0].Code != tc.failed {
				t.Fatalf("Failed-AVP %v %v, want AVP %d", inner, err, tc.failed)
			}
		})
	}
	if n := len(hssReceivedULRs(hss)); n != 0 {
		t.Fatalf("the HSS got %d ULRs", n)
	}
}
