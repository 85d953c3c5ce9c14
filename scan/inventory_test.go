package scan_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/scan"
)

// sessions is a fake of what RADIUS knows about live sessions.
type sessions map[int64]netip.Addr

func (s sessions) SessionAddr(id int64) (netip.Addr, bool) { a, ok := s[id]; return a, ok }

func (s sessions) SessionSIM(a netip.Addr) (int64, bool) {
	for id, x := range s {
		if x == a {
			return id, true
		}
	}
	return 0, false
}

func inventoryFleet(t *testing.T) *policy.Snapshot {
	t.Helper()
	groups := []simguard.Group{
		{TenantID: 1, Name: "meters", Version: 4, Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 1, Name: "cameras", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 1, Name: "spare", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 2, Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
	}
	sim := func(id, tenant int64, group string, state simguard.SIMState, ip string) simguard.SIM {
		s := simguard.SIM{ID: id, TenantID: tenant, ICCID: demo.ICCID(int(id)), IMSI: demo.IMSI(int(id)), State: state, Group: group}
		if ip != "" {
			s.StaticIP = netip.MustParseAddr(ip)
		}
		return s
	}
	sims := []simguard.SIM{
		sim(1, 1, "meters", simguard.SIMActive, "10.45.0.9"),
		sim(2, 1, "meters", simguard.SIMActive, "10.45.0.3"),
		sim(3, 1, "meters", simguard.SIMSuspended, "10.45.0.4"), // no data service: not scanned
		sim(4, 1, "meters", simguard.SIMActive, ""),             // dynamic address from its session
		sim(5, 1, "meters", simguard.SIMActive, ""),             // no session, no static IP
		sim(6, 1, "cameras", simguard.SIMActive, "10.45.1.1"),
		sim(7, 2, "meters", simguard.SIMActive, "10.99.0.1"),
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestPolicyInventory(t *testing.T) {
	snap := inventoryFleet(t)
	live := sessions{4: netip.MustParseAddr("10.46.0.20"), 2: netip.MustParseAddr("10.46.0.2")}
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, live)
	devices := []struct {
		name   string
		tenant int64
		addr   string
		want   scan.Device
		ok     bool
	}{
		{"static IP", 1, "10.45.0.9", scan.Device{SIMID: 1, Group: "meters"}, true},
		{"session address", 1, "10.46.0.20", scan.Device{SIMID: 4, Group: "meters"}, true},
		{"IPv4-mapped", 1, "::ffff:10.45.0.9", scan.Device{SIMID: 1, Group: "meters"}, true},
		{"another tenant's SIM", 1, "10.99.0.1", scan.Device{}, false},
		{"unknown", 1, "10.45.7.7", scan.Device{}, false},
	}
	for _, tt := range devices {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := inv.DeviceByIP(tt.tenant, netip.MustParseAddr(tt.addr))
			if d != tt.want || ok != tt.ok {
				t.Fatalf("DeviceByIP(%d, %s) = %+v, %v; want %+v, %v", tt.tenant, tt.addr, d, ok, tt.want, tt.ok)
			}
		})
	}
	if g, ok := inv.Group(1, "meters"); !ok || g.Version != 4 {
		t.Errorf("Group(1, meters) = %+v, %v", g, ok)
	}
	if _, ok := inv.Group(2, "cameras"); ok {
		t.Error("Group found another tenant's group")
	}
	got, err := inv.GroupAddrs(context.Background(), 1, "meters")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("10.45.0.9"), netip.MustParseAddr("10.46.0.2"), netip.MustParseAddr("10.46.0.20")}
	if !slices.Equal(got, want) {
		t.Errorf("GroupAddrs(meters) = %v, want %v (active SIMs, sessions before static IPs, sorted)", got, want)
	}
	noSessions := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, nil)
	got, _ = noSessions.GroupAddrs(context.Background(), 1, "meters")
	if want := []netip.Addr{netip.MustParseAddr("10.45.0.3"), netip.MustParseAddr("10.45.0.9")}; !slices.Equal(got, want) {
		t.Errorf("GroupAddrs without sessions = %v, want %v", got, want)
	}
}

func TestScanOfAGroup(t *testing.T) {
	snap := inventoryFleet(t)
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, nil)
	s, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16")}},
		scan.Deps{Inventory: inv, Fleet: inv})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name  string
		req   scan.Request
		code  string
		field string
	}{
		{"group in range", scan.Request{TenantID: 1, Group: "cameras"}, "", ""},
		{"unknown group", scan.Request{TenantID: 1, Group: "nope"}, simguard.EINVALID, "group"},
		{"another tenant's group", scan.Request{TenantID: 2, Group: "cameras"}, simguard.EINVALID, "group"},
		{"group and targets", scan.Request{TenantID: 1, Group: "meters", Targets: []string{"10.45.0.1"}}, simguard.EINVALID, "group"},
		{"group outside the audit ranges", scan.Request{TenantID: 2, Group: "meters"}, simguard.EINVALID, "targets[0]"},
		{"group without addresses", scan.Request{TenantID: 1, Group: "spare"}, simguard.EINVALID, "group"},
		{"bad name", scan.Request{TenantID: 1, Group: "-x"}, simguard.EINVALID, "group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(ctx, tt.req)
			var e *simguard.Error
			if tt.code == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.code != "" && (simguard.ErrorCode(err) != tt.code || !errors.As(err, &e) || e.Field != tt.field) {
				t.Fatalf("Validate = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
	noFleet, _ := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16")}}, scan.Deps{})
	if err := noFleet.Validate(ctx, scan.Request{TenantID: 1, Group: "meters"}); simguard.ErrorCode(err) != simguard.EUNAVAILABLE {
		t.Errorf("a group without a fleet: %v", err)
	}
}
