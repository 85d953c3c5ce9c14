package control_test

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// TestPlanRemediation checks that the plan a confirmation page shows is
// what RemediateFinding then does, that planning changes nothing, and that
// both refuse the same findings with the same words.
func TestPlanRemediation(t *testing.T) {
	f := newFixture(t)
	sim := f.trackerSIM(t)
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	other, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := f.as(t, other.ID, simguard.RoleAdmin)

	dev := netip.MustParseAddr("10.45.0.7")
	at := f.clock.t
	finding := func(port uint16, group string, rem bool) simguard.Finding {
		x := simguard.Finding{SIMID: sim.ID, Group: group, Target: dev, Proto: "tcp", Port: port, Service: "telnet",
			Plaintext: true, Severity: simguard.SeverityInfo, FirstSeen: at, LastSeen: at}
		if rem {
			x.AddIssue(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "telnet sends passwords in clear text")
			x.Remediation = &simguard.Remediation{Action: "close_port", Group: group, Proto: "tcp", Port: port, AllowedBy: []int{0}, GroupVersion: 1}
		} else {
			x.Compliant = true
		}
		return x
	}
	noSIM := finding(2323, "", false)
	noSIM.SIMID = 0
	run := f.recordScan(t, at, finding(22, "asset-trackers", true), finding(80, "asset-trackers", false), noSIM, finding(23, "asset-trackers", true))
	fs, err := f.svc.FindFindings(f.admin, simguard.FindingFilter{ScanID: run.ID})
	if err != nil || len(fs) != 4 {
		t.Fatalf("findings: %+v, %v", fs, err)
	}
	ssh, compliant, orphan, telnet := fs[0].ID, fs[1].ID, fs[2].ID, fs[3].ID

	// The group moved on since the scan: tcp/23 is let in too now.
	g, err := f.svc.GetGroup(f.admin, "asset-trackers")
	if err != nil {
		t.Fatal(err)
	}
	g.Policy.Inbound[0].Ports = append(g.Policy.Inbound[0].Ports, simguard.PortRange{From: 23, To: 23})
	if g, _, err = f.svc.ApplyGroup(f.admin, g, g.Version); err != nil || g.Version != 2 {
		t.Fatalf("apply: %+v, %v", g, err)
	}

	plan, err := f.svc.PlanRemediation(auditor, ssh) // reading roles may look
	if err != nil {
		t.Fatal(err)
	}
	if !plan.GroupMoved() || plan.Current.Version != 2 || plan.Remediation.GroupVersion != 1 || plan.Finding.ID != ssh {
		t.Fatalf("plan = %+v", plan)
	}
	want := []simguard.FlowRule{{CIDR: netip.MustParsePrefix("192.0.2.0/28"), Proto: "tcp", Ports: []simguard.PortRange{{From: 23, To: 23}}}}
	if !reflect.DeepEqual(plan.Desired.Policy.Inbound, want) {
		t.Fatalf("desired inbound = %+v, want %+v", plan.Desired.Policy.Inbound, want)
	}
	if len(plan.Current.Policy.Inbound[0].Ports) != 2 {
		t.Fatalf("planning changed the current group it returns: %+v", plan.Current.Policy.Inbound)
	}
	var changed []string
	for _, l := range strings.Split(plan.Diff, "\n") {
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			changed = append(changed, strings.Join(strings.Fields(l), " "))
		}
	}
	if strings.Join(changed, "|") != `- - "22"` {
		t.Errorf("changed lines %q, want only port 22 going; diff:\n%s", changed, plan.Diff)
	}
	if g, _ := f.svc.GetGroup(f.admin, "asset-trackers"); g.Version != 2 {
		t.Fatalf("planning changed the group: version %d", g.Version)
	}
	if recs, _ := f.svc.FindAudit(f.admin, simguard.AuditFilter{Action: "group.remediate"}); len(recs) != 0 {
		t.Fatalf("planning was audited as a change: %+v", recs)
	}

	// The scan's version is stale; the plan's version applies exactly it.
	if _, err := f.svc.RemediateFinding(f.admin, ssh, 0); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Fatalf("remediate with the scan's version: %v", err)
	}
	res, err := f.svc.RemediateFinding(f.admin, ssh, plan.Current.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Group.Policy, plan.Desired.Policy) || res.Group.Version != 3 {
		t.Fatalf("remediation did %+v, the plan said %+v", res.Group.Policy.Inbound, plan.Desired.Policy.Inbound)
	}
	// A plan shown before that change no longer applies.
	if _, err := f.svc.RemediateFinding(f.admin, telnet, plan.Current.Version); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Fatalf("remediate with an old plan's version: %v", err)
	}
	// The last port of the rule: the rule goes.
	last, err := f.svc.PlanRemediation(f.admin, telnet)
	if err != nil || len(last.Desired.Policy.Inbound) != 0 || last.Current.Version != 3 {
		t.Fatalf("plan for tcp/23 = %+v, %v", last, err)
	}

	refusals := []struct {
		name string
		ctx  context.Context
		id   int64
		code string
		want string
	}{
		{"already closed", f.admin, ssh, simguard.ECONFLICT, "already denies inbound tcp/22"},
		{"compliant", f.admin, compliant, simguard.ECONFLICT, "breaks no rule"},
		{"no SIM of a group", f.admin, orphan, simguard.ECONFLICT, "belongs to no SIM of a group"},
		{"unknown finding", f.admin, 9999, simguard.ENOTFOUND, "not found"},
		{"another tenant", acme, telnet, simguard.ENOTFOUND, "not found"},
		{"no actor", context.Background(), telnet, simguard.EUNAUTHORIZED, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, perr := f.svc.PlanRemediation(tt.ctx, tt.id)
			if simguard.ErrorCode(perr) != tt.code || !strings.Contains(simguard.ErrorMessage(perr), tt.want) {
				t.Fatalf("PlanRemediation: %v, want %s %q", perr, tt.code, tt.want)
			}
			_, rerr := f.svc.RemediateFinding(tt.ctx, tt.id, 3)
			if simguard.ErrorCode(rerr) != tt.code || simguard.ErrorMessage(rerr) != simguard.ErrorMessage(perr) {
				t.Fatalf("RemediateFinding says %v, the plan said %v", rerr, perr)
			}
		})
	}
}
