package scan

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/simguard/simguard"
)

// fakeUDP answers each datagram with reply(request) (nil: stay silent).
func fakeUDP(t *testing.T, reply func([]byte) []byte) uint16 {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if r := reply(buf[:n]); r != nil {
				pc.WriteTo(r, from)
			}
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

// closedUDPPort returns a loopback UDP port with nothing on it.
func closedUDPPort(t *testing.T) uint16 {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	pc.Close()
	return p
}

func TestSweepUDP(t *testing.T) {
	const (
		snmpResp = "303402010104067075626c6963a22702025300020100020100301b301906082b06010201010100040d4c696e757820677720352e3130"
		dnsResp  = "5300840000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3839"
		ntpResp  = "240200000000000000000000000000000000000000000000000000000000530000000000000000000000000000000000"
		ntp6Resp = "16825347000000000000003476657273696f6e3d226e74706420342e322e3870313540312e333732382d6f222c2070726f636573736f723d227838365f363422"
		coapResp = "624553005347c128ff3c2f73656e736f72732f74656d703e"
	)
	fixed := func(h string) func([]byte) []byte { return func([]byte) []byte { return mustHex(t, h) } }
	ntp := func(req []byte) []byte {
		if req[0]&7 == 6 {
			return mustHex(t, ntp6Resp)
		}
		return mustHex(t, ntpResp)
	}
	var silentHits atomic.Int32
	tests := []struct {
		name     string
		probe    string
		port     uint16
		open     bool
		product  string
		issues   []simguard.IssueKind
		severity simguard.Severity
	}{
		{name: "snmp public", probe: "snmp", port: fakeUDP(t, fixed(snmpResp)), open: true, product: "Linux gw 5.10",
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol, simguard.IssueDefaultCredential}, severity: simguard.SeverityCritical},
		{name: "dns", probe: "dns", port: fakeUDP(t, fixed(dnsResp)), open: true, severity: simguard.SeverityInfo},
		{name: "ntp with mode 6", probe: "ntp", port: fakeUDP(t, ntp), open: true, product: "ntpd 4.2.8p15@1.3728-o",
			issues: []simguard.IssueKind{simguard.IssueInfoLeak}, severity: simguard.SeverityLow},
		{name: "coap", probe: "coap", port: fakeUDP(t, fixed(coapResp)), open: true,
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol}, severity: simguard.SeverityMedium},
		{name: "mqtt-sn", probe: "mqtt-sn", port: fakeUDP(t, fixed("030201")), open: true,
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol}, severity: simguard.SeverityMedium},
		{name: "answer of another protocol", probe: "dns", port: fakeUDP(t, fixed("68656c6c6f")), open: false},
		{name: "silent", probe: "snmp", port: fakeUDP(t, func([]byte) []byte { silentHits.Add(1); return nil }), open: false},
		{name: "closed", probe: "coap", port: closedUDPPort(t), open: false},
	}
	s := newTestScanner(t, Deps{})
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probe udpProbe
			for _, p := range udpProbes {
				if p.service == tt.probe {
					probe = p
				}
			}
			probe.port = tt.port
			var st udpStats
			book := newLedger([]netip.Addr{lo})
			res := s.sweepUDP(context.Background(), []netip.Addr{lo}, []udpProbe{probe}, &st, book)
			if (len(res) == 1) != tt.open {
				t.Fatalf("%d results, want open=%v", len(res), tt.open)
			}
			// An answer (a service, or ICMP port unreachable) proves the
			// host is there; silence is filtered and proves nothing.
			var run simguard.ScanRun
			book.apply(&run)
			silent := tt.name == "silent" || tt.name == "answer of another protocol"
			if silent != (st.filtered.Load() == 1) || silent != (run.Stats.Unreachable == 1) || st.unknown.Load() != 0 {
				t.Fatalf("filtered %d, unknown %d, unreachable %v", st.filtered.Load(), st.unknown.Load(), run.Unreachable)
			}
			if !tt.open {
				return
			}
			f := s.newFinding(&simguard.ScanRun{}, res[0].ap, "udp", res[0].svc)
			var kinds []simguard.IssueKind
			for _, is := range f.Issues {
				kinds = append(kinds, is.Kind)
			}
			if f.Service != tt.probe || f.Product != tt.product || f.Severity != tt.severity || len(kinds) != len(tt.issues) {
				t.Fatalf("finding %+v, issues %v", f, kinds)
			}
			for i := range kinds {
				if kinds[i] != tt.issues[i] {
					t.Fatalf("issues %v, want %v", kinds, tt.issues)
				}
			}
		})
	}
	if n := silentHits.Load(); n != 2 {
		t.Errorf("silent service got %d probes, want 2 (one retry)", n)
	}
}

// A UDP probe that fails on this host (here: a datagram too large to
// send) says nothing about the port: it is counted as unknown, and the
// address is not taken as answering.
func TestUDPUnknownCounted(t *testing.T) {
	s := newTestScanner(t, Deps{})
	lo := netip.MustParseAddr("127.0.0.1")
	probe := udpProbe{service: "snmp", port: closedUDPPort(t),
		request: func(uint16) []byte { return make([]byte, 70000) },
		parse:   func([]byte, uint16) (string, bool) { return "", false }}
	var st udpStats
	book := newLedger([]netip.Addr{lo})
	if res := s.sweepUDP(context.Background(), []netip.Addr{lo}, []udpProbe{probe}, &st, book); len(res) != 0 {
		t.Fatalf("results %+v", res)
	}
	var run simguard.ScanRun
	book.apply(&run)
	if st.unknown.Load() != 1 || st.filtered.Load() != 0 || len(run.Unreachable) != 1 {
		t.Fatalf("unknown %d, filtered %d, unreachable %v; want 1, 0, [%s]", st.unknown.Load(), st.filtered.Load(), run.Unreachable, lo)
	}
}
