package control_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

func TestBlockDestinationNarrowsTheAllowlist(t *testing.T) {
	f := newFixture(t)
	rule := simguard.SystemActor(simguard.ProviderTenantID, "rule:egress-burst")
	ctx := simguard.WithActor(f.admin, rule)
	// asset-trackers allow tcp/443 to 198.51.100.0/24; block one host.
	tr := demo.SIMs()[600]
	imp := tr
	if _, err := f.svc.CreateSIM(f.admin, imp); err != nil {
		t.Fatal(err)
	}
	flow := func(ip string, port uint16) simguard.Decision {
		return f.decide(simguard.Request{Kind: simguard.KindFlow, IMSI: tr.IMSI, Time: time.Now(),
			Flow: simguard.Flow{Remote: netip.MustParseAddr(ip), Proto: 6, Port: port}})
	}
	if d := flow("198.51.100.66", 443); !d.Allow {
		t.Fatalf("before: %+v", d)
	}
	changed, err := f.svc.BlockDestination(ctx, "asset-trackers", netip.MustParsePrefix("198.51.100.66/32"))
	if err != nil || !changed {
		t.Fatalf("block: %v %v", changed, err)
	}
	if d := flow("198.51.100.66", 443); d.Reason != simguard.ReasonDestinationDenied {
		t.Fatalf("blocked host: %+v", d)
	}
	for _, ip := range []string{"198.51.100.0", "198.51.100.65", "198.51.100.67", "198.51.100.255"} {
		if d := flow(ip, 443); !d.Allow {
			t.Fatalf("neighbour %s lost access: %+v", ip, d)
		}
	}
	if d := flow("198.51.100.67", 80); d.Allow {
		t.Fatal("the narrowed rules lost their port restriction")
	}
	g, _ := f.svc.GetGroup(f.admin, "asset-trackers")
	if len(g.Policy.Egress) != 8 {
		t.Fatalf("a /24 minus a /32 is 8 prefixes, got %v", g.Policy.Egress)
	}
	recs, _ := f.svc.FindAudit(f.admin, simguard.AuditFilter{Action: "group.block_destination"})
	if len(recs) != 1 || !strings.HasPrefix(recs[0].Actor, "rule:") {
		t.Fatalf("audit: %+v", recs)
	}
	// Again: nothing left to block.
	if changed, err := f.svc.BlockDestination(ctx, "asset-trackers", netip.MustParsePrefix("198.51.100.66/32")); err != nil || changed {
		t.Fatalf("second block: %v %v", changed, err)
	}
	// A block covering a whole rule removes it.
	if _, err := f.svc.BlockDestination(ctx, "asset-trackers", netip.MustParsePrefix("198.51.100.0/24")); err != nil {
		t.Fatal(err)
	}
	if g, _ := f.svc.GetGroup(f.admin, "asset-trackers"); len(g.Policy.Egress) != 0 {
		t.Fatalf("rules left: %v", g.Policy.Egress)
	}
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	if _, err := f.svc.BlockDestination(auditor, "smart-meters", netip.MustParsePrefix("203.0.113.10/32")); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("auditor: %v", err)
	}
}
