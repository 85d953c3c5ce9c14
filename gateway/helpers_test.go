package gateway

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func luhn(payload string) string {
	sum := 0
	for i := 0; i < len(payload); i++ {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return payload + string(byte('0'+(10-sum%10)%10))
}

// sim is an active SIM of tenant 1 with IMSI 00101+id.
func sim(id int64, group string, state simguard.SIMState, ip string) simguard.SIM {
	s := simguard.SIM{
		ID: id, TenantID: 1, ICCID: luhn(fmt.Sprintf("894900%012d", id)), IMSI: fmt.Sprintf("00101%010d", id),
		State: state, Group: group, IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff},
	}
	if ip != "" {
		s.StaticIP = netip.MustParseAddr(ip)
	}
	return s
}

func rules(specs ...string) []simguard.FlowRule {
	var rs []simguard.FlowRule
	for _, s := range specs {
		var cidr, proto, ports string
		fmt.Sscan(s, &cidr, &proto, &ports)
		r := simguard.FlowRule{CIDR: netip.MustParsePrefix(cidr), Proto: proto}
		if ports != "" {
			var pr simguard.PortRange
			if err := pr.UnmarshalText([]byte(ports)); err != nil {
				panic(err)
			}
			r.Ports = append(r.Ports, pr)
		}
		rs = append(rs, r)
	}
	return rs
}

func group(id int64, name string, services []simguard.Service, egress, inbound []simguard.FlowRule) simguard.Group {
	g := simguard.Group{ID: id, TenantID: 1, Name: name, Policy: simguard.Policy{Services: services, Egress: egress, Inbound: inbound}}
	if err := g.Validate(); err != nil {
		panic(err)
	}
	return g
}

var data = []simguard.Service{simguard.ServiceData}

// fixture is a small fleet with every case the compiler distinguishes.
func fixture(t testing.TB) *policy.Snapshot {
	t.Helper()
	groups := []simguard.Group{
		group(1, "meters", data,
			rules("203.0.113.10/32 tcp 443", "203.0.113.0/24 udp 123", "203.0.113.0/28 tcp 400-500", "2001:db8:1::/48 tcp 8883"),
			rules("198.51.100.0/24 tcp 22")),
		group(2, "cameras", data, rules("192.0.2.0/24 any"), nil),
		group(3, "sms-only", []simguard.Service{simguard.ServiceSMSMO}, rules("192.0.2.0/24 any"), nil),
	}
	sims := []simguard.SIM{
		sim(1, "meters", simguard.SIMActive, "10.64.0.1"),
		sim(2, "meters", simguard.SIMSuspended, "10.64.0.2"),
		sim(3, "cameras", simguard.SIMActive, "10.64.0.3"),
		sim(4, "cameras", simguard.SIMTerminated, "10.64.0.4"),
		sim(5, "sms-only", simguard.SIMActive, "10.64.0.5"),
		sim(6, "meters", simguard.SIMInventory, "10.64.0.6"),
		sim(7, "meters", simguard.SIMActive, "fd00:64::7"),
		sim(8, "meters", simguard.SIMActive, "172.16.0.8"), // outside the device prefixes
		sim(9, "cameras", simguard.SIMActive, ""),          // address from a pool lease
		sim(10, "gone", simguard.SIMActive, "10.64.0.10"),  // group missing
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func fixtureConfig() Config {
	c := Config{
		DeviceNets: []netip.Prefix{netip.MustParsePrefix("10.64.0.0/16"), netip.MustParsePrefix("fd00:64::/64")},
		Uplink:     "up0",
		// dev0 need not exist: iifname matches by name.
		DeviceIfaces: []string{"dev0"},
	}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

var fixtureLeases = simguard.DeviceAddrs{9: {netip.MustParseAddr("10.64.1.9")}}
