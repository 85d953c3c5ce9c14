package gateway

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
)

type sinkFunc struct {
	mu  sync.Mutex
	evs []simguard.Event
}

func (s *sinkFunc) Emit(e simguard.Event) { s.mu.Lock(); s.evs = append(s.evs, e); s.mu.Unlock() }

// TestDeniedDirection: a flow.denied event takes its direction, and so
// its device and SIM, from the chain that dropped the packet, not from
// whether the source is a device address.
func TestDeniedDirection(t *testing.T) {
	sink := &sinkFunc{}
	a, err := New(fixtureConfig(), Options{}, Deps{Policy: enforce.NewPolicy(fixture(t), nil), Events: sink})
	if err != nil {
		t.Fatal(err)
	}
	a.cur = Compile(fixture(t), fixtureConfig(), t0, fixtureLeases)
	pkt := func(reason, src, dst string, port uint16) DeniedPacket {
		return DeniedPacket{Reason: reason, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: 6, SrcPort: 40000, DstPort: port}
	}
	cases := []struct {
		name      string
		p         DeniedPacket
		dir, dev  string
		sim       int64
		wantRsn   simguard.Reason
		remoteKey string
	}{
		{"device to device, dropped by the second's inbound rules", pkt("inbound_denied", "10.64.0.3", "10.64.0.1", 22), "inbound", "10.64.0.1", 1, simguard.ReasonInboundDenied, "10.64.0.3"},
		{"internet to device", pkt("inbound_denied", "198.51.100.9", "10.64.0.1", 23), "inbound", "10.64.0.1", 1, simguard.ReasonInboundDenied, "198.51.100.9"},
		{"device to forbidden destination", pkt("destination_denied", "10.64.0.1", "192.0.2.7", 80), "egress", "10.64.0.1", 1, simguard.ReasonDestinationDenied, "192.0.2.7"},
		{"blocked destination device", pkt("sim_blocked", "10.64.0.1", "10.64.0.2", 80), "inbound", "10.64.0.2", 2, simguard.ReasonSIMSuspended, "10.64.0.1"},
		{"blocked source device", pkt("sim_blocked", "10.64.0.2", "10.64.0.1", 80), "egress", "10.64.0.2", 2, simguard.ReasonSIMSuspended, "10.64.0.1"},
		{"spoofed source", pkt("source_spoofed", "10.99.0.2", "192.0.2.7", 80), "egress", "10.99.0.2", 0, reasonSourceSpoofed, "192.0.2.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink.evs = nil
			a.denied(c.p)
			if len(sink.evs) != 1 {
				t.Fatalf("%d events", len(sink.evs))
			}
			e := sink.evs[0]
			if e.Attrs["direction"] != c.dir || e.Attrs["device"] != c.dev || e.Attrs["remote"] != c.remoteKey || e.SIMID != c.sim || e.Reason != c.wantRsn {
				t.Errorf("event direction %q device %q remote %q sim %d reason %q; want %q %q %q %d %q",
					e.Attrs["direction"], e.Attrs["device"], e.Attrs["remote"], e.SIMID, e.Reason, c.dir, c.dev, c.remoteKey, c.sim, c.wantRsn)
			}
		})
	}
}

func TestConfigWarnings(t *testing.T) {
	c := fixtureConfig()
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("fixture config warns: %q", ws)
	}
	c.DeviceIfaces = nil
	c.SNAT, c.SNATAddr = simguard.SNATAddress, netip.MustParseAddr("198.51.100.1")
	ws := strings.Join(c.Warnings(), "\n")
	for _, want := range []string{"spoofed sources are NOT filtered", "IPv6 traffic of devices in fd00:64::/64 leaves through up0 WITHOUT source NAT"} {
		if !strings.Contains(ws, want) {
			t.Errorf("warnings %q lack %q", ws, want)
		}
	}
}

func TestConfigOverlappingDeviceNets(t *testing.T) {
	c := Config{DeviceNets: []netip.Prefix{netip.MustParsePrefix("10.64.0.0/16"), netip.MustParsePrefix("10.64.1.0/24")}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "overlap") || !strings.Contains(err.Error(), "device_nets") {
		t.Errorf("overlapping device nets: %v", err)
	}
}
