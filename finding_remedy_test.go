package simguard

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

func pr(from, to uint16) PortRange { return PortRange{From: from, To: to} }

func TestClosePort(t *testing.T) {
	ops := netip.MustParsePrefix("192.0.2.0/24")
	vpn := netip.MustParsePrefix("198.51.100.0/24")
	tests := []struct {
		name    string
		inbound []FlowRule
		proto   string
		port    uint16
		want    []FlowRule
		changed bool
	}{
		{"single port rule is removed",
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(23, 23)}}, {CIDR: vpn, Proto: "tcp", Ports: []PortRange{pr(22, 22)}}},
			"tcp", 23,
			[]FlowRule{{CIDR: vpn, Proto: "tcp", Ports: []PortRange{pr(22, 22)}}}, true},
		{"port taken out of a list",
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(22, 22), pr(23, 23), pr(80, 80)}}},
			"tcp", 23,
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(22, 22), pr(80, 80)}}}, true},
		{"range split around the port",
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(8000, 8100)}}},
			"tcp", 8080,
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(8000, 8079), pr(8081, 8100)}}}, true},
		{"range edges",
			[]FlowRule{{CIDR: ops, Proto: "udp", Ports: []PortRange{pr(1, 10), pr(65530, 65535)}}},
			"udp", 1,
			[]FlowRule{{CIDR: ops, Proto: "udp", Ports: []PortRange{pr(2, 10), pr(65530, 65535)}}}, true},
		{"every port of the protocol",
			[]FlowRule{{CIDR: ops, Proto: "tcp"}},
			"tcp", 65535,
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(1, 65534)}}}, true},
		{"any protocol is split per protocol",
			[]FlowRule{{CIDR: ops, Proto: "any"}},
			"tcp", 23,
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(1, 22), pr(24, 65535)}}, {CIDR: ops, Proto: "udp"}, {CIDR: ops, Proto: "icmp"}}, true},
		{"other protocol untouched",
			[]FlowRule{{CIDR: ops, Proto: "udp", Ports: []PortRange{pr(23, 23)}}},
			"tcp", 23,
			[]FlowRule{{CIDR: ops, Proto: "udp", Ports: []PortRange{pr(23, 23)}}}, false},
		{"already denied",
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(22, 22)}}},
			"tcp", 23,
			[]FlowRule{{CIDR: ops, Proto: "tcp", Ports: []PortRange{pr(22, 22)}}}, false},
		{"no inbound rules", nil, "tcp", 23, nil, false},
		{"icmp is not a port", []FlowRule{{CIDR: ops, Proto: "any"}}, "icmp", 1, []FlowRule{{CIDR: ops, Proto: "any"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Policy{Inbound: tt.inbound}
			changed := ClosePort(&p, tt.proto, tt.port)
			if changed != tt.changed || !reflect.DeepEqual(p.Inbound, tt.want) {
				t.Fatalf("ClosePort(%s/%d) = %v, %+v\nwant %v, %+v", tt.proto, tt.port, changed, p.Inbound, tt.changed, tt.want)
			}
			if got := InboundAllowing(&p, tt.proto, tt.port); len(got) != 0 && tt.proto != "icmp" {
				t.Errorf("rules %v still allow %s/%d", got, tt.proto, tt.port)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("the narrowed policy does not validate: %v", err)
			}
		})
	}
}

// TestClosePortChangesNothingElse checks on random policies that closing a
// port denies exactly that port: every other protocol and port is allowed
// (from the same sources) exactly as before.
func TestClosePortChangesNothingElse(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cidrs := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24")}
	protos := []string{"tcp", "udp", "icmp", "any"}
	allows := func(p *Policy, cidr netip.Prefix, proto string, port uint16) bool {
		for i := range p.Inbound {
			r := &p.Inbound[i]
			if r.CIDR == cidr && ruleAllows(r, proto, port) && (proto != "icmp" || r.Proto == "icmp" || r.Proto == "any") {
				return true
			}
		}
		return false
	}
	for range 200 {
		var p Policy
		for range 1 + rng.IntN(4) {
			r := FlowRule{CIDR: cidrs[rng.IntN(2)], Proto: protos[rng.IntN(4)]}
			if r.Proto == "tcp" || r.Proto == "udp" {
				for range rng.IntN(3) {
					a := uint16(1 + rng.IntN(100))
					r.Ports = append(r.Ports, pr(a, a+uint16(rng.IntN(5))))
				}
			}
			p.Inbound = append(p.Inbound, r)
		}
		before := Policy{Inbound: append([]FlowRule(nil), p.Inbound...)}
		proto := []string{"tcp", "udp"}[rng.IntN(2)]
		port := uint16(1 + rng.IntN(105))
		ClosePort(&p, proto, port)
		for _, c := range cidrs {
			for _, x := range []string{"tcp", "udp"} {
				for q := uint16(1); q <= 110; q++ {
					want := allows(&before, c, x, q) && !(x == proto && q == port)
					if got := allows(&p, c, x, q); got != want {
						t.Fatalf("closing %s/%d of %+v: %s %s/%d allowed %v, want %v (after: %+v)", proto, port, before.Inbound, c, x, q, got, want, p.Inbound)
					}
				}
			}
			if allows(&before, c, "icmp", 0) != allows(&p, c, "icmp", 0) {
				t.Fatalf("closing %s/%d changed icmp from %s: %+v → %+v", proto, port, c, before.Inbound, p.Inbound)
			}
		}
	}
}
