package control_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/scan"
)

// fakeRunner records what the control plane asks of the fleet auditor.
type fakeRunner struct {
	db  simguard.FindingStore
	got []simguard.ScanRequest
}

func (r *fakeRunner) Submit(ctx context.Context, a simguard.Actor, req simguard.ScanRequest) (simguard.ScanRun, error) {
	r.got = append(r.got, req)
	return r.db.CreateScanRun(ctx, simguard.ScanRun{TenantID: a.TenantID, Scope: "adhoc", Actor: a.Name, Status: simguard.ScanQueued},
		simguard.Change{Actor: a, Action: "scan.start"})
}

// trackerSIM returns a demo SIM of the asset-trackers group, whose policy
// lets 192.0.2.0/28 in on tcp/22.
func (f *fixture) trackerSIM(t *testing.T) simguard.SIM {
	t.Helper()
	s := demo.SIMs()[600]
	if s.Group != "asset-trackers" || s.State != simguard.SIMActive {
		t.Fatalf("demo SIM 600 is %s in %s, want an active asset tracker", s.State, s.Group)
	}
	if _, err := f.svc.ImportSIMs(f.admin, []control.ImportRow{{Line: 2, SIM: s}}); err != nil {
		t.Fatal(err)
	}
	sim, err := f.svc.GetSIM(f.admin, s.ICCID)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// recordScan stores a finished run of the provider tenant with findings.
func (f *fixture) recordScan(t *testing.T, at time.Time, findings ...simguard.Finding) simguard.ScanRun {
	t.Helper()
	ctx := context.Background()
	run, err := f.db.CreateScanRun(ctx, simguard.ScanRun{TenantID: simguard.ProviderTenantID, Scope: "group:asset-trackers", Actor: "scan:schedule",
		StartedAt: at, Targets: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")}, TCPPorts: []simguard.PortRange{{From: 1, To: 65535}}},
		simguard.Change{Actor: simguard.SystemActor(simguard.ProviderTenantID, "scan:schedule"), Action: "scan.start"})
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.FinishedAt = simguard.ScanDone, at.Add(time.Minute)
	if err := f.db.FinishScanRun(ctx, run, findings); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestScansAndRemediation(t *testing.T) {
	f := newFixture(t)
	sim := f.trackerSIM(t)
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	other, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := f.as(t, other.ID, simguard.RoleAdmin)

	// Without the auditor attached, a scan cannot start.
	if _, err := f.svc.StartScan(f.admin, simguard.ScanRequest{Targets: []string{"10.45.0.7"}}); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Fatalf("StartScan without an auditor: %v, want ECONFLICT", err)
	}
	runner := &fakeRunner{db: f.db}
	f.svc.SetScanRunner(runner)
	if _, err := f.svc.StartScan(auditor, simguard.ScanRequest{Targets: []string{"10.45.0.7"}}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("an auditor started a scan: %v", err)
	}
	queued, err := f.svc.StartScan(f.admin, simguard.ScanRequest{Targets: []string{"10.45.0.7"}, Credentials: true})
	if err != nil || queued.Status != simguard.ScanQueued || len(runner.got) != 1 || !runner.got[0].Credentials {
		t.Fatalf("StartScan = %+v, %v; runner got %+v", queued, err, runner.got)
	}

	dev := netip.MustParseAddr("10.45.0.7")
	t0 := f.clock.t
	ssh := simguard.Finding{SIMID: sim.ID, Group: "asset-trackers", Target: dev, Proto: "tcp", Port: 22, Service: "ssh", Severity: simguard.SeverityInfo,
		FirstSeen: t0, LastSeen: t0}
	ssh.AddIssue(simguard.IssueDefaultCredential, simguard.SeverityCritical, "vendor default login works")
	ssh.Remediation = &simguard.Remediation{Action: "close_port", Group: "asset-trackers", Proto: "tcp", Port: 22, AllowedBy: []int{0}, GroupVersion: 1}
	mqtts := simguard.Finding{SIMID: sim.ID, Group: "asset-trackers", Target: dev, Proto: "tcp", Port: 8883, Service: "mqtts", TLS: true,
		Severity: simguard.SeverityInfo, Compliant: true, FirstSeen: t0, LastSeen: t0}
	r1 := f.recordScan(t, t0, ssh)
	r2 := f.recordScan(t, t0.Add(time.Hour), ssh, mqtts)

	rep, err := f.svc.GetScan(auditor, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 || rep.Diff.PrevScanID != r1.ID || len(rep.Diff.Opened) != 1 || rep.Diff.Opened[0].Port != 8883 ||
		rep.Summary.Findings != 2 || rep.Summary.Credentials != 0 || rep.Summary.BySeverity[simguard.SeverityCritical] != 1 ||
		!rep.Findings[0].FirstSeen.Equal(t0) {
		t.Fatalf("report of run %d: %+v", r2.ID, rep)
	}
	if _, err := f.svc.GetScan(acme, r2.ID); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Fatalf("another tenant read the report: %v", err)
	}
	runs, err := f.svc.ListScans(auditor, 0)
	if err != nil || len(runs) != 3 || runs[0].ID != r2.ID {
		t.Fatalf("ListScans = %+v, %v", runs, err)
	}
	crit, err := f.svc.FindFindings(auditor, simguard.FindingFilter{MinSeverity: simguard.SeverityCritical, State: simguard.FindingOpen})
	if err != nil || len(crit) != 1 || crit[0].ScanID != r2.ID || crit[0].Port != 22 {
		t.Fatalf("open critical findings = %+v, %v", crit, err)
	}
	if got, _ := f.svc.FindFindings(acme, simguard.FindingFilter{}); len(got) != 0 {
		t.Fatalf("another tenant sees findings: %+v", got)
	}

	// Remediation: the inbound rule that lets tcp/22 in goes, through an
	// audited group update, and the policy denies the flow at once.
	inbound := simguard.Request{Kind: simguard.KindFlow, IMSI: sim.IMSI,
		Flow: simguard.Flow{Inbound: true, Remote: netip.MustParseAddr("192.0.2.3"), Proto: 6, Port: 22}}
	if d := f.decide(inbound); d.Reason != simguard.ReasonAllowed {
		t.Fatalf("before remediation the policy says %s, want allowed", d.Reason)
	}
	if _, err := f.svc.RemediateFinding(auditor, crit[0].ID, 0); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("an auditor remediated: %v", err)
	}
	if _, err := f.svc.RemediateFinding(acme, crit[0].ID, 0); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Fatalf("another tenant remediated: %v", err)
	}
	res, err := f.svc.RemediateFinding(f.admin, crit[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Group.Version != 2 || len(res.Group.Policy.Inbound) != 0 {
		t.Fatalf("group after remediation: %+v", res.Group)
	}
	if d := f.decide(inbound); d.Reason != simguard.ReasonInboundDenied {
		t.Fatalf("after remediation the policy says %s, want inbound_denied", d.Reason)
	}
	recs, err := f.svc.FindAudit(f.admin, simguard.AuditFilter{Object: "group:asset-trackers", Action: "group.remediate"})
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Actor, "bootstrap-admin") || !strings.Contains(string(recs[0].Before), `"inbound"`) {
		t.Fatalf("audit of the remediation: %+v, %v", recs, err)
	}

	// Again: the group moved on (version 2) and the port is closed anyway.
	_, err = f.svc.RemediateFinding(f.admin, crit[0].ID, 0)
	if simguard.ErrorCode(err) != simguard.EPRECONDITION || !strings.Contains(err.Error(), "--if-match 2") {
		t.Fatalf("remediating with a stale version: %v", err)
	}
	if _, err := f.svc.RemediateFinding(f.admin, crit[0].ID, 2); simguard.ErrorCode(err) != simguard.ECONFLICT || !strings.Contains(err.Error(), "already denies") {
		t.Fatalf("remediating a closed port: %v", err)
	}
	compliant, err := f.svc.FindFindings(f.admin, simguard.FindingFilter{ScanID: r2.ID})
	if err != nil || len(compliant) != 2 {
		t.Fatal(compliant, err)
	}
	if _, err := f.svc.RemediateFinding(f.admin, compliant[1].ID, 0); simguard.ErrorCode(err) != simguard.ECONFLICT || !strings.Contains(err.Error(), "breaks no rule") {
		t.Fatalf("remediating a compliant finding: %v", err)
	}
	if _, err := f.svc.RemediateFinding(f.admin, 9999, 0); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Fatalf("remediating an unknown finding: %v", err)
	}
}

// startQueue connects a real fleet auditor whose audit range is loopback.
func (f *fixture) startQueue(t *testing.T) {
	t.Helper()
	inv := scan.NewPolicyInventory(f.svc.Policy().Snapshot, nil)
	s, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Rate: 10000, ConnectTimeout: time.Second},
		scan.Deps{Store: f.db, Inventory: inv, Fleet: inv})
	if err != nil {
		t.Fatal(err)
	}
	q, err := scan.NewQueue(s, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	f.svc.SetScanRunner(q)
}

// A tenant scans only its own SIMs' addresses; the provider's admin the
// whole audit ranges.
func TestStartScanConfinedToTenant(t *testing.T) {
	f := newFixture(t)
	f.startQueue(t)
	other, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := f.as(t, other.ID, simguard.RoleAdmin)
	g := demo.Groups()[0]
	if _, err := f.svc.CreateGroup(acme, g); err != nil {
		t.Fatal(err)
	}
	own := demo.SIMs()[900]
	own.Group, own.State, own.StaticIP = g.Name, simguard.SIMActive, netip.MustParseAddr("127.0.0.2")
	if _, err := f.svc.CreateSIM(acme, own); err != nil {
		t.Fatal(err)
	}
	theirs := demo.SIMs()[901]
	theirs.Group, theirs.State, theirs.StaticIP = g.Name, simguard.SIMActive, netip.MustParseAddr("127.0.0.3")
	if _, err := f.svc.CreateSIM(f.admin, theirs); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name    string
		targets []string
		field   string
		addr    string
	}{
		{"the provider's SIM", []string{"127.0.0.2", "127.0.0.3"}, "targets[1]", "127.0.0.3"},
		{"nobody's address", []string{"127.0.0.9"}, "targets[0]", "127.0.0.9"},
		{"a prefix without its SIMs", []string{"127.0.1.0/24"}, "targets[0]", "127.0.1.0/24"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.StartScan(acme, simguard.ScanRequest{Targets: c.targets, Ports: "1"})
			var e *simguard.Error
			if !errors.As(err, &e) || e.Code != simguard.EFORBIDDEN || e.Field != c.field || !strings.Contains(e.Message, c.addr) {
				t.Fatalf("StartScan(%v) = %v; want forbidden on %s naming %s", c.targets, err, c.field, c.addr)
			}
		})
	}
	run, err := f.svc.StartScan(acme, simguard.ScanRequest{Targets: []string{"127.0.0.0/29"}, Ports: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}; !slices.Equal(run.Targets, want) || run.Stats.Narrowed != 1 {
		t.Fatalf("tenant's prefix scan: targets %v, stats %+v; want %v, narrowed 1", run.Targets, run.Stats, want)
	}
	run, err = f.svc.StartScan(f.admin, simguard.ScanRequest{Targets: []string{"127.0.0.0/29"}, Ports: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/29")}; !slices.Equal(run.Targets, want) || run.Stats.Narrowed != 0 {
		t.Fatalf("provider admin's scan: targets %v, stats %+v; want %v", run.Targets, run.Stats, want)
	}
	operator := f.as(t, simguard.ProviderTenantID, simguard.RoleOperator)
	if _, err := f.svc.StartScan(operator, simguard.ScanRequest{Targets: []string{"127.0.0.2"}, Ports: "1"}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("a provider operator scanned a tenant's SIM: %v", err)
	}
}
