package scan_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/scan"
)

// A tenant's scan reaches only its own SIMs' addresses; a provider admin
// reaches the whole audit ranges.
func TestScanConfinedToTenant(t *testing.T) {
	snap := inventoryFleet(t)
	// SIM 4 (tenant 1) holds 10.46.0.20 now; SIM 7 (tenant 2) has a
	// session at 10.45.0.3, the static IP of tenant 1's SIM 2.
	live := sessions{4: netip.MustParseAddr("10.46.0.20"), 7: netip.MustParseAddr("10.45.0.3")}
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, live)
	if got, want := inv.TenantAddrs(1), addrs("10.45.0.4", "10.45.0.9", "10.45.1.1", "10.46.0.20"); !slices.Equal(got, want) {
		t.Errorf("TenantAddrs(1) = %v, want %v (no address another tenant's session holds)", got, want)
	}
	if got, want := inv.TenantAddrs(2), addrs("10.45.0.3", "10.99.0.1"); !slices.Equal(got, want) {
		t.Errorf("TenantAddrs(2) = %v, want %v", got, want)
	}
	// A group scan leaves out the static IP another tenant's session holds
	// (SIM 2's), rather than failing as a whole.
	if got, _ := inv.GroupAddrs(context.Background(), 1, "meters"); !slices.Equal(got, addrs("10.45.0.9", "10.46.0.20")) {
		t.Errorf("GroupAddrs(1, meters) = %v, want [10.45.0.9 10.46.0.20]", got)
	}
	s, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		scan.Deps{Inventory: inv, Fleet: inv})
	if err != nil {
		t.Fatal(err)
	}
	provider := simguard.Actor{TenantID: 1, Role: simguard.RoleAdmin, Name: "root", Provider: true}
	providerOp := simguard.Actor{TenantID: 1, Role: simguard.RoleOperator, Name: "op"}
	acme := simguard.Actor{TenantID: 2, Role: simguard.RoleAdmin, Name: "acme-admin"}
	for _, c := range []struct {
		name    string
		actor   simguard.Actor
		targets []string
		code    string
		field   string
		names   string
	}{
		{"provider admin, any address in range", provider, []string{"10.45.7.7", "10.99.0.0/24"}, "", "", ""},
		{"tenant, own static IP", acme, []string{"10.99.0.1"}, "", "", ""},
		{"tenant, own session address", acme, []string{"10.45.0.3"}, "", "", ""},
		{"tenant, another tenant's SIM", acme, []string{"10.99.0.1", "10.45.0.9"}, simguard.EFORBIDDEN, "targets[1]", "10.45.0.9"},
		{"tenant, nobody's address", acme, []string{"10.45.7.7"}, simguard.EFORBIDDEN, "targets[0]", "10.45.7.7"},
		{"tenant, a prefix without its SIMs", acme, []string{"10.46.0.0/16"}, simguard.EFORBIDDEN, "targets[0]", "10.46.0.0/16"},
		{"tenant, outside the ranges", acme, []string{"192.0.2.1"}, simguard.EINVALID, "targets[0]", "192.0.2.1"},
		{"provider operator is a tenant like any", providerOp, []string{"10.99.0.1"}, simguard.EFORBIDDEN, "targets[0]", "10.99.0.1"},
		{"provider operator, own static IP", providerOp, []string{"10.45.0.9"}, "", "", ""},
		{"provider operator, own static IP another tenant's session holds", providerOp, []string{"10.45.0.3"}, simguard.EFORBIDDEN, "targets[0]", "10.45.0.3"},
		{"provider admin acting in another tenant is confined", simguard.Actor{TenantID: 2, Role: simguard.RoleAdmin, Provider: true}, []string{"10.45.0.9"}, simguard.EFORBIDDEN, "targets[0]", "10.45.0.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(context.Background(), scan.Request{TenantID: c.actor.TenantID, Actor: c.actor, Targets: c.targets, Ports: "22"})
			if simguard.ErrorCode(err) != c.code {
				t.Fatalf("Validate = %v, want code %q", err, c.code)
			}
			if err == nil {
				return
			}
			var e *simguard.Error
			if !asError(err, &e) || e.Field != c.field || !strings.Contains(err.Error(), c.names) {
				t.Fatalf("Validate = %v, want field %s naming %s", err, c.field, c.names)
			}
		})
	}

	if err := s.Validate(context.Background(), scan.Request{TenantID: 1, Actor: providerOp, Group: "meters", Ports: "22"}); err != nil {
		t.Errorf("a group scan of the tenant's own group: %v", err)
	}

	// A prefix is narrowed to the tenant's own addresses, and the run
	// says so (loopback only: this one sends packets).
	loop, err := policy.Compile([]simguard.Group{{TenantID: 2, Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}}},
		[]simguard.SIM{{ID: 9, TenantID: 2, ICCID: "8949000000000000091", IMSI: "001010000000091", State: simguard.SIMActive, Group: "meters",
			StaticIP: netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	linv := scan.NewPolicyInventory(func() *policy.Snapshot { return loop }, nil)
	ls, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Rate: 10000},
		scan.Deps{Inventory: linv, Fleet: linv})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ls.Scan(context.Background(), scan.Request{TenantID: 2, Actor: acme, Targets: []string{"127.0.0.0/24"}, Ports: "1", PortsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}; !slices.Equal(rep.Run.Targets, want) || rep.Run.Stats.Narrowed != 1 || rep.Run.Stats.Hosts != 1 {
		t.Fatalf("narrowed run: targets %v, stats %+v; want %v, narrowed 1, hosts 1", rep.Run.Targets, rep.Run.Stats, want)
	}
}

func asError(err error, e **simguard.Error) bool { return errors.As(err, e) }

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}
