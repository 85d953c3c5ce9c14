package gateway

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/simguard/simguard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered ruleset (go test -update rewrites it):\n%s", path, got)
	}
}

func TestRenderGolden(t *testing.T) {
	masq := fixtureConfig()
	fixed := fixtureConfig()
	fixed.SNAT, fixed.SNATAddr = simguard.SNATAddress, netip.MustParseAddr("198.51.100.1")
	off := Config{DeviceNets: []netip.Prefix{netip.MustParsePrefix("10.64.0.0/16")}, NFLogGroup: 3, LogRate: 10}
	if err := off.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		cfg  Config
	}{{"masquerade.nft", masq}, {"snat_address.nft", fixed}, {"no_nat.nft", off}} {
		t.Run(c.file, func(t *testing.T) {
			rs := Compile(fixture(t), c.cfg, t0, fixtureLeases)
			golden(t, c.file, rs.Text())
		})
	}
}

func TestCompileBindings(t *testing.T) {
	rs := Compile(fixture(t), fixtureConfig(), t0, fixtureLeases)
	cases := []struct {
		name    string
		addr    string
		chain   string
		blocked bool
		in      bool // present at all
	}{
		{"active static", "10.64.0.1", "g1", false, true},
		{"suspended", "10.64.0.2", "g1", true, true},
		{"active other group", "10.64.0.3", "g2", false, true},
		{"terminated", "10.64.0.4", "g2", true, true},
		{"data service off", "10.64.0.5", "g3", true, true},
		{"inventory", "10.64.0.6", "g1", true, true},
		{"ipv6", "fd00:64::7", "g1", false, true},
		{"outside device nets", "172.16.0.8", "", false, false},
		{"pool lease", "10.64.1.9", "g2", false, true},
		{"group missing", "10.64.0.10", "", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, ok := rs.Addrs[netip.MustParseAddr(c.addr)]
			if ok != c.in {
				t.Fatalf("present %v, want %v", ok, c.in)
			}
			if ok && (b.Chain != c.chain || b.Blocked() != c.blocked) {
				t.Errorf("chain %q blocked %v, want %q %v", b.Chain, b.Blocked(), c.chain, c.blocked)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	e := func(p string, plo, phi uint8, lo, hi uint16) Entry {
		return Entry{Net: netip.MustParsePrefix(p), ProtoLo: plo, ProtoHi: phi, PortLo: lo, PortHi: hi}
	}
	cases := []struct {
		name    string
		in, out []Entry
	}{
		{"disjoint kept", []Entry{e("10.0.0.0/8", 6, 6, 443, 443), e("11.0.0.0/8", 17, 17, 53, 53)},
			[]Entry{e("10.0.0.0/8", 6, 6, 443, 443), e("11.0.0.0/8", 17, 17, 53, 53)}},
		{"duplicates merged", []Entry{e("10.0.0.0/8", 6, 6, 443, 443), e("10.0.0.0/8", 6, 6, 443, 443)},
			[]Entry{e("10.0.0.0/8", 6, 6, 443, 443)}},
		{"adjacent ports joined", []Entry{e("10.0.0.0/8", 6, 6, 1, 10), e("10.0.0.0/8", 6, 6, 11, 20)},
			[]Entry{e("10.0.0.0/8", 6, 6, 1, 20)}},
		{"overlapping ports", []Entry{e("10.0.0.0/8", 6, 6, 1, 100), e("10.0.0.0/8", 6, 6, 50, 200)},
			[]Entry{e("10.0.0.0/8", 6, 6, 1, 200)}},
		{"any protocol swallows tcp", []Entry{e("10.0.0.0/8", 0, 255, 0, 65535), e("10.0.0.0/8", 6, 6, 443, 443)},
			[]Entry{e("10.0.0.0/8", 0, 255, 0, 65535)}},
		{"nested prefix split", []Entry{e("10.0.0.0/30", 6, 6, 443, 443), e("10.0.0.1/32", 17, 17, 53, 53)},
			[]Entry{e("10.0.0.0/32", 6, 6, 443, 443), e("10.0.0.1/32", 6, 6, 443, 443), e("10.0.0.1/32", 17, 17, 53, 53), e("10.0.0.2/31", 6, 6, 443, 443)}},
		{"protocol ranges cut", []Entry{e("10.0.0.0/8", 0, 255, 80, 80), e("10.0.0.0/8", 6, 6, 443, 443)},
			[]Entry{e("10.0.0.0/8", 0, 5, 80, 80), e("10.0.0.0/8", 6, 6, 80, 80), e("10.0.0.0/8", 6, 6, 443, 443), e("10.0.0.0/8", 7, 255, 80, 80)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := normalize(c.in)
			if !slices.Equal(got, c.out) {
				t.Errorf("got  %v\nwant %v", got, c.out)
			}
			// Whatever the shape, the result must match exactly the same
			// packets and its entries must not overlap.
			for i := range got {
				for j := i + 1; j < len(got); j++ {
					if overlaps(got[i], got[j]) {
						t.Errorf("%v overlaps %v", got[i], got[j])
					}
				}
			}
		})
	}
}

func overlaps(a, b Entry) bool {
	return a.Net.Overlaps(b.Net) && a.ProtoLo <= b.ProtoHi && b.ProtoLo <= a.ProtoHi && a.PortLo <= b.PortHi && b.PortLo <= a.PortHi
}

// TestNormalizeSamePackets checks normalize against the entries it came
// from on a grid of packets.
func TestNormalizeSamePackets(t *testing.T) {
	in := entriesOf(t, rules("10.0.0.0/24 tcp 1-1000", "10.0.0.128/25 tcp 500-2000", "10.0.0.7/32 any", "10.0.0.0/16 udp 53", "10.0.1.0/24 icmp"))
	out := normalize(in)
	match := func(es []Entry, a netip.Addr, proto uint8, port uint16) bool {
		for _, e := range es {
			if e.Net.Contains(a) && e.ProtoLo <= proto && proto <= e.ProtoHi && e.PortLo <= port && port <= e.PortHi {
				return true
			}
		}
		return false
	}
	for _, a := range []string{"10.0.0.0", "10.0.0.7", "10.0.0.127", "10.0.0.128", "10.0.0.255", "10.0.1.1", "10.0.2.1", "10.1.0.0"} {
		for _, proto := range []uint8{1, 6, 17, 47} {
			for _, port := range []uint16{0, 1, 53, 499, 500, 1000, 1001, 2000, 2001, 65535} {
				addr := netip.MustParseAddr(a)
				if w, g := match(in, addr, proto, port), match(out, addr, proto, port); w != g {
					t.Errorf("%s proto %d port %d: normalized %v, original %v", a, proto, port, g, w)
				}
			}
		}
	}
}

func entriesOf(t *testing.T, rs []simguard.FlowRule) []Entry {
	t.Helper()
	g := group(99, "x", data, rs, nil)
	var out []Entry
	for _, r := range g.Policy.Egress {
		v4, _ := entries([]simguard.FlowRule{r})
		out = append(out, v4...)
	}
	return out
}

// TestSharedAddressStaysBlocked: an address two SIMs claim (SIM 3's
// static IP also leased to SIM 9) is blocked by Compile, and stays
// blocked whichever single SIM is updated afterwards, until one of the
// claims goes away; after every step the ruleset equals a fresh Compile.
func TestSharedAddressStaysBlocked(t *testing.T) {
	shared := netip.MustParseAddr("10.64.0.3")
	clash := simguard.DeviceAddrs{9: {netip.MustParseAddr("10.64.1.9"), shared}}
	snap := fixture(t)
	rs := Compile(snap, fixtureConfig(), t0, clash)
	same := func(step string, extra simguard.DeviceAddrs) {
		t.Helper()
		fresh := Compile(snap, fixtureConfig(), t0, extra)
		for a, want := range fresh.Addrs {
			got, ok := rs.Addrs[a]
			if !ok || got.Blocked() != want.Blocked() || got.Chain != want.Chain {
				t.Errorf("%s: %s is %+v (present %v), a fresh compile says %+v", step, a, got, ok, want)
			}
		}
		if len(rs.Addrs) != len(fresh.Addrs) {
			t.Errorf("%s: %d addresses, a fresh compile has %d", step, len(rs.Addrs), len(fresh.Addrs))
		}
	}
	if b := rs.Addrs[shared]; !b.Blocked() || b.Chain != "" {
		t.Fatalf("Compile: shared %s is %+v, want blocked", shared, b)
	}
	if got := rs.Conflicts(); len(got) != 1 || got[0] != shared {
		t.Errorf("Conflicts() = %v", got)
	}
	for _, ids := range [][]int64{{3}, {9}, {3, 9}, {9, 3}} {
		d := rs.UpdateSIMs(snap, ids, t0, clash)
		if b := rs.Addrs[shared]; !b.Blocked() || b.Chain != "" {
			t.Fatalf("after updating SIMs %v: shared %s is %+v, want still blocked", ids, shared, b)
		}
		if !d.Empty() {
			t.Errorf("updating SIMs %v with nothing changed: delta %+v", ids, d)
		}
		same(fmt.Sprint("update ", ids), clash)
	}
	// A state change of one claimant keeps it blocked too.
	s3 := sim(3, "cameras", simguard.SIMActive, "10.64.0.3")
	s3.Group = "meters"
	var err error
	if snap, err = snap.WithSIM(&s3); err != nil {
		t.Fatal(err)
	}
	rs.UpdateSIMs(snap, []int64{3}, t0, clash)
	if b := rs.Addrs[shared]; !b.Blocked() || b.Chain != "" {
		t.Fatalf("after moving SIM 3: shared %s is %+v, want still blocked", shared, b)
	}
	same("move SIM 3", clash)
	// SIM 9 gives the address back: it opens for SIM 3 alone.
	d := rs.UpdateSIMs(snap, []int64{9}, t0, fixtureLeases)
	if b := rs.Addrs[shared]; b.Blocked() || b.SIMID != 3 || b.Chain != "g1" {
		t.Fatalf("after SIM 9 let go: %s is %+v, want SIM 3's group g1, open", shared, b)
	}
	if d.Empty() {
		t.Error("the address opened without a delta")
	}
	same("SIM 9 let go", fixtureLeases)
}
