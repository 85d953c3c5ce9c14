package sqlite

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func TestFindingStore(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	admin := simguard.Change{Actor: simguard.SystemActor(1, "system"), Action: "tenant.create"}
	tn, err := db.CreateTenant(ctx, "acme", admin)
	if err != nil {
		t.Fatal(err)
	}
	ch := simguard.Change{Actor: simguard.SystemActor(tn.ID, "scan:schedule"), Action: "scan.start"}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	newRun := func(scope string) simguard.ScanRun {
		return simguard.ScanRun{
			TenantID: tn.ID, Scope: scope, Actor: "scan:schedule", StartedAt: t0, Credentials: true,
			Targets:  []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")},
			TCPPorts: []simguard.PortRange{{From: 1, To: 65535}},
		}
	}
	dev := netip.MustParseAddr("10.45.0.7")
	finding := func(port uint16, sim int64, sev simguard.Severity) simguard.Finding {
		f := simguard.Finding{TenantID: tn.ID, SIMID: sim, Group: "meters", Target: dev, Proto: "tcp", Port: port,
			Service: "telnet", Severity: simguard.SeverityInfo, FirstSeen: t0, LastSeen: t0}
		if sev != simguard.SeverityInfo {
			f.AddIssue(simguard.IssuePlaintextLogin, sev, "x")
		}
		return f
	}

	// Run 1: done, two findings.
	r1, err := db.CreateScanRun(ctx, newRun("group:meters"), ch)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID == 0 || r1.Status != simguard.ScanRunning {
		t.Fatalf("created %+v", r1)
	}
	recs, err := db.FindAudit(ctx, simguard.AuditFilter{TenantID: tn.ID, Action: "scan.start"})
	if err != nil || len(recs) != 1 || recs[0].Object != "scan:1" || recs[0].Actor != "scan:schedule" || !strings.Contains(string(recs[0].After), `"credentials":true`) {
		t.Fatalf("audit %+v, %v", recs, err)
	}
	r1.Status, r1.FinishedAt = simguard.ScanDone, t0.Add(time.Minute)
	if err := db.FinishScanRun(ctx, r1, []simguard.Finding{finding(23, 42, simguard.SeverityHigh), finding(22, 43, simguard.SeverityInfo)}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishScanRun(ctx, r1, nil); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("finishing twice: %v, want ECONFLICT", err)
	}
	if err := db.FinishScanRun(ctx, simguard.ScanRun{ID: 99, TenantID: tn.ID}, nil); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("finishing an unknown run: %v, want ENOTFOUND", err)
	}
	// Run 2, same scope, canceled: not a baseline.
	r2, err := db.CreateScanRun(ctx, newRun("group:meters"), ch)
	if err != nil {
		t.Fatal(err)
	}
	r2.Status = simguard.ScanCanceled
	if err := db.FinishScanRun(ctx, r2, []simguard.Finding{finding(80, 42, simguard.SeverityMedium)}); err != nil {
		t.Fatal(err)
	}

	last, fs, err := db.LastScanRun(ctx, tn.ID, "group:meters")
	if err != nil {
		t.Fatal(err)
	}
	if last.ID != r1.ID || last.Status != simguard.ScanDone || !last.FinishedAt.Equal(r1.FinishedAt) || len(fs) != 2 ||
		fs[0].ScanID != r1.ID || fs[0].ID == 0 || fs[0].Port != 23 || fs[0].Severity != simguard.SeverityHigh || !fs[0].FirstSeen.Equal(t0) {
		t.Fatalf("last %+v findings %+v", last, fs)
	}
	if _, _, err := db.LastScanRun(ctx, tn.ID, "adhoc"); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("empty scope: %v, want ENOTFOUND", err)
	}
	runs, err := db.ListScanRuns(ctx, tn.ID, 0)
	if err != nil || len(runs) != 2 || runs[0].ID != r2.ID || runs[0].Status != simguard.ScanCanceled {
		t.Fatalf("runs %+v, %v", runs, err)
	}

	tests := []struct {
		name  string
		f     simguard.FindingFilter
		ports []uint16
	}{
		{"tenant", simguard.FindingFilter{TenantID: tn.ID}, []uint16{23, 22, 80}},
		{"scan", simguard.FindingFilter{TenantID: tn.ID, ScanID: r2.ID}, []uint16{80}},
		{"sim", simguard.FindingFilter{TenantID: tn.ID, SIMID: 43}, []uint16{22}},
		{"min severity", simguard.FindingFilter{TenantID: tn.ID, MinSeverity: simguard.SeverityMedium}, []uint16{23, 80}},
		{"target", simguard.FindingFilter{TenantID: tn.ID, Target: dev}, []uint16{23, 22, 80}},
		{"other target", simguard.FindingFilter{TenantID: tn.ID, Target: netip.MustParseAddr("10.45.0.8")}, nil},
		{"group and page", simguard.FindingFilter{TenantID: tn.ID, Group: "meters", AfterID: 1, Limit: 1}, []uint16{22}},
		{"other tenant", simguard.FindingFilter{TenantID: tn.ID + 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.FindFindings(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ports []uint16
			for _, f := range got {
				ports = append(ports, f.Port)
			}
			if len(ports) != len(tt.ports) {
				t.Fatalf("ports %v, want %v", ports, tt.ports)
			}
			for i := range ports {
				if ports[i] != tt.ports[i] {
					t.Fatalf("ports %v, want %v", ports, tt.ports)
				}
			}
		})
	}
	if _, err := db.FindFindings(ctx, simguard.FindingFilter{MinSeverity: "urgent"}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("bad severity: %v", err)
	}
	if _, err := db.CreateScanRun(ctx, newRun("adhoc"), simguard.Change{Action: "scan.start"}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("run without an actor: %v, want EINVALID", err)
	}
	bad := newRun("adhoc")
	bad.TenantID = 999
	if _, err := db.CreateScanRun(ctx, bad, ch); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("run of an unknown tenant: %v, want ENOTFOUND", err)
	}
}
