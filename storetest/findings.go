package storetest

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// Fleet exposure audit: scan runs, findings and exposures.

func testFindings(t *testing.T, open func(t *testing.T) simguard.Store) {
	t.Run("RunLifecycle", func(t *testing.T) { testScanRunLifecycle(t, open) })
	t.Run("Queries", func(t *testing.T) { testFindingQueries(t, open) })
	t.Run("Exposure", func(t *testing.T) { testExposure(t, open) })
}

var (
	scanT0  = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	scanDev = netip.MustParseAddr("10.45.0.7")
)

func scanRun(tenantID int64, scope string, at time.Time, ports ...simguard.PortRange) simguard.ScanRun {
	if len(ports) == 0 {
		ports = []simguard.PortRange{{From: 1, To: 65535}}
	}
	return simguard.ScanRun{
		TenantID: tenantID, Scope: scope, Actor: "storetest", StartedAt: at, Credentials: true,
		Targets: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")}, TCPPorts: ports,
	}
}

func finding(tenantID int64, port uint16, sim int64, at time.Time, kinds ...simguard.IssueKind) simguard.Finding {
	f := simguard.Finding{TenantID: tenantID, SIMID: sim, Group: "meters", Target: scanDev, Proto: "tcp", Port: port,
		Service: "telnet", Severity: simguard.SeverityInfo, FirstSeen: at, LastSeen: at}
	for _, k := range kinds {
		sev := simguard.SeverityHigh
		if k == simguard.IssueDefaultCredential {
			sev = simguard.SeverityCritical
		}
		f.AddIssue(k, sev, "storetest")
	}
	return f
}

// runScan records a run with findings and returns it as finished.
func (f *fixture) runScan(t *testing.T, run simguard.ScanRun, status simguard.ScanStatus, findings ...simguard.Finding) (simguard.ScanRun, []simguard.Finding) {
	t.Helper()
	run, err := f.s.CreateScanRun(f.ctx, run, Change(run.TenantID, "scan.start"))
	must(t, "CreateScanRun", err)
	run.Status, run.FinishedAt = status, run.StartedAt.Add(time.Minute)
	must(t, "FinishScanRun", f.s.FinishScanRun(f.ctx, run, findings))
	return run, findings
}

func testScanRunLifecycle(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a := f.alpha.ID
	queued := scanRun(a, "group:meters", scanT0)
	queued.Status = simguard.ScanQueued
	run, err := f.s.CreateScanRun(f.ctx, queued, Change(a, "scan.start"))
	must(t, "CreateScanRun", err)
	if run.ID == 0 || run.Status != simguard.ScanQueued {
		t.Fatalf("created %+v", run)
	}
	rec := f.lastAudit(t)
	if rec.Action != "scan.start" || rec.Object != "scan:"+strconv.FormatInt(run.ID, 10) || rec.TenantID != a ||
		!strings.Contains(rec.Actor, "admin") || !strings.Contains(string(rec.After), `"credentials":true`) {
		t.Fatalf("audit record of the run: %+v", rec)
	}
	t1 := scanT0.Add(time.Second)
	must(t, "StartScanRun", f.s.StartScanRun(f.ctx, a, run.ID, t1))
	wantCode(t, "StartScanRun twice", f.s.StartScanRun(f.ctx, a, run.ID, t1), simguard.ECONFLICT)
	wantCode(t, "StartScanRun of another tenant's run", f.s.StartScanRun(f.ctx, f.beta.ID, run.ID, t1), simguard.ENOTFOUND)
	got, err := f.s.GetScanRun(f.ctx, a, run.ID)
	must(t, "GetScanRun", err)
	if got.Status != simguard.ScanRunning || !got.StartedAt.Equal(t1) || got.Scope != "group:meters" {
		t.Fatalf("started run %+v", got)
	}
	_, err = f.s.GetScanRun(f.ctx, f.beta.ID, run.ID)
	wantCode(t, "GetScanRun of another tenant", err, simguard.ENOTFOUND)

	got.Status, got.FinishedAt = simguard.ScanDone, t1.Add(time.Minute)
	got.Stats = simguard.ScanStats{Hosts: 254, OpenPorts: 2}
	fs := []simguard.Finding{finding(a, 23, 42, t1, simguard.IssuePlaintextLogin), finding(a, 22, 43, t1)}
	must(t, "FinishScanRun", f.s.FinishScanRun(f.ctx, got, fs))
	for i, fd := range fs {
		if fd.ID == 0 || fd.ScanID != run.ID || fd.State != simguard.FindingOpen || !fd.FirstSeen.Equal(t1) {
			t.Errorf("finding %d after FinishScanRun: %+v", i, fd)
		}
	}
	wantCode(t, "FinishScanRun twice", f.s.FinishScanRun(f.ctx, got, nil), simguard.ECONFLICT)
	unknown := got
	unknown.ID = run.ID + 100
	wantCode(t, "FinishScanRun of an unknown run", f.s.FinishScanRun(f.ctx, unknown, nil), simguard.ENOTFOUND)
	notDone := got
	notDone.Status = simguard.ScanRunning
	wantCode(t, "FinishScanRun as running", f.s.FinishScanRun(f.ctx, notDone, nil), simguard.EINVALID)

	// A canceled run of the same scope is no baseline.
	canceled, _ := f.runScan(t, scanRun(a, "group:meters", t1.Add(time.Hour)), simguard.ScanCanceled, finding(a, 80, 42, t1.Add(time.Hour)))
	last, lastFs, err := f.s.LastScanRun(f.ctx, a, "group:meters", 0)
	must(t, "LastScanRun", err)
	if last.ID != run.ID || last.Status != simguard.ScanDone || last.Stats.Hosts != 254 || len(lastFs) != 2 || lastFs[0].Port != 23 || lastFs[0].ID != fs[0].ID {
		t.Fatalf("LastScanRun = %+v with %+v", last, lastFs)
	}
	_, _, err = f.s.LastScanRun(f.ctx, a, "group:meters", run.ID)
	wantCode(t, "LastScanRun before the first", err, simguard.ENOTFOUND)
	_, _, err = f.s.LastScanRun(f.ctx, a, "adhoc", 0)
	wantCode(t, "LastScanRun of an empty scope", err, simguard.ENOTFOUND)
	_, _, err = f.s.LastScanRun(f.ctx, f.beta.ID, "group:meters", 0)
	wantCode(t, "LastScanRun of another tenant", err, simguard.ENOTFOUND)

	runs, err := f.s.ListScanRuns(f.ctx, a, 0)
	must(t, "ListScanRuns", err)
	if len(runs) != 2 || runs[0].ID != canceled.ID || runs[1].ID != run.ID {
		t.Fatalf("ListScanRuns = %+v", runs)
	}
	if runs, _ := f.s.ListScanRuns(f.ctx, f.beta.ID, 0); len(runs) != 0 {
		t.Fatalf("beta sees alpha's runs: %+v", runs)
	}

	// Runs a stopped process left behind are failed on the next start.
	stale1, err := f.s.CreateScanRun(f.ctx, queued, Change(a, "scan.start"))
	must(t, "CreateScanRun", err)
	stale2, err := f.s.CreateScanRun(f.ctx, scanRun(f.beta.ID, "adhoc", scanT0), Change(f.beta.ID, "scan.start"))
	must(t, "CreateScanRun", err)
	n, err := f.s.AbandonScanRuns(f.ctx, "interrupted")
	if err != nil || n != 2 {
		t.Fatalf("AbandonScanRuns = %d, %v; want 2", n, err)
	}
	for _, r := range []simguard.ScanRun{stale1, stale2} {
		got, err := f.s.GetScanRun(f.ctx, r.TenantID, r.ID)
		must(t, "GetScanRun", err)
		if got.Status != simguard.ScanFailed || got.Error != "interrupted" || got.FinishedAt.IsZero() {
			t.Errorf("abandoned run %+v", got)
		}
	}
	if n, _ := f.s.AbandonScanRuns(f.ctx, "again"); n != 0 {
		t.Errorf("AbandonScanRuns again marked %d runs", n)
	}

	_, err = f.s.CreateScanRun(f.ctx, scanRun(a, "adhoc", scanT0), simguard.Change{Action: "scan.start"})
	wantCode(t, "CreateScanRun without an actor", err, simguard.EINVALID)
	_, err = f.s.CreateScanRun(f.ctx, scanRun(9999, "adhoc", scanT0), Change(9999, "scan.start"))
	wantCode(t, "CreateScanRun of an unknown tenant", err, simguard.ENOTFOUND)
	_, err = f.s.CreateScanRun(f.ctx, scanRun(a, "", scanT0), Change(a, "scan.start"))
	wantCode(t, "CreateScanRun without a scope", err, simguard.EINVALID)
	done := scanRun(a, "adhoc", scanT0)
	done.Status = simguard.ScanDone
	_, err = f.s.CreateScanRun(f.ctx, done, Change(a, "scan.start"))
	wantCode(t, "CreateScanRun as done", err, simguard.EINVALID)
}

func testFindingQueries(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a := f.alpha.ID
	t1 := scanT0.Add(time.Hour)
	r1, fs1 := f.runScan(t, scanRun(a, "group:meters", scanT0), simguard.ScanDone,
		finding(a, 23, 42, scanT0, simguard.IssuePlaintextLogin, simguard.IssueDefaultCredential), finding(a, 22, 43, scanT0))
	r2, _ := f.runScan(t, scanRun(a, "group:meters", t1), simguard.ScanDone,
		finding(a, 22, 43, t1), finding(a, 80, 42, t1, simguard.IssuePlaintextProtocol))
	f.runScan(t, scanRun(f.beta.ID, "adhoc", t1), simguard.ScanDone, finding(f.beta.ID, 23, 7, t1))

	type row struct {
		scan  int64
		port  uint16
		state simguard.FindingState
	}
	tests := []struct {
		name string
		f    simguard.FindingFilter
		want []row
	}{
		{"exposure: latest finding per service", simguard.FindingFilter{TenantID: a},
			[]row{{r1.ID, 23, "closed"}, {r2.ID, 22, "open"}, {r2.ID, 80, "open"}}},
		{"a run's findings with today's state", simguard.FindingFilter{TenantID: a, ScanID: r1.ID},
			[]row{{r1.ID, 23, "closed"}, {r1.ID, 22, "open"}}},
		{"open only", simguard.FindingFilter{TenantID: a, State: simguard.FindingOpen}, []row{{r2.ID, 22, "open"}, {r2.ID, 80, "open"}}},
		{"closed only", simguard.FindingFilter{TenantID: a, State: simguard.FindingClosed}, []row{{r1.ID, 23, "closed"}}},
		{"sim", simguard.FindingFilter{TenantID: a, SIMID: 43}, []row{{r2.ID, 22, "open"}}},
		{"min severity", simguard.FindingFilter{TenantID: a, MinSeverity: simguard.SeverityHigh}, []row{{r1.ID, 23, "closed"}, {r2.ID, 80, "open"}}},
		{"kind", simguard.FindingFilter{TenantID: a, Kind: simguard.IssueDefaultCredential}, []row{{r1.ID, 23, "closed"}}},
		{"kind in a run", simguard.FindingFilter{TenantID: a, ScanID: r2.ID, Kind: simguard.IssuePlaintextProtocol}, []row{{r2.ID, 80, "open"}}},
		{"group and target", simguard.FindingFilter{TenantID: a, Group: "meters", Target: scanDev}, []row{{r1.ID, 23, "closed"}, {r2.ID, 22, "open"}, {r2.ID, 80, "open"}}},
		{"other target", simguard.FindingFilter{TenantID: a, Target: netip.MustParseAddr("10.45.0.8")}, nil},
		{"other group", simguard.FindingFilter{TenantID: a, Group: "cameras"}, nil},
		{"page", simguard.FindingFilter{TenantID: a, AfterID: fs1[0].ID, Limit: 1}, []row{{r2.ID, 22, "open"}}},
		{"other tenant", simguard.FindingFilter{TenantID: f.beta.ID}, []row{{r2.ID + 1, 23, "open"}}},
		{"another tenant's run", simguard.FindingFilter{TenantID: f.beta.ID, ScanID: r1.ID}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.s.FindFindings(f.ctx, tt.f)
			must(t, "FindFindings", err)
			var rows []row
			for _, fd := range got {
				rows = append(rows, row{fd.ScanID, fd.Port, fd.State})
			}
			if !slices.Equal(rows, tt.want) {
				t.Fatalf("FindFindings(%+v) = %v, want %v", tt.f, rows, tt.want)
			}
		})
	}
	one, err := f.s.GetFinding(f.ctx, a, fs1[0].ID)
	must(t, "GetFinding", err)
	if one.Port != 23 || one.State != simguard.FindingClosed || !one.ClosedAt.Equal(t1) || len(one.Issues) != 2 || one.Severity != simguard.SeverityCritical {
		t.Fatalf("GetFinding = %+v", one)
	}
	_, err = f.s.GetFinding(f.ctx, f.beta.ID, fs1[0].ID)
	wantCode(t, "GetFinding of another tenant", err, simguard.ENOTFOUND)
	for _, bad := range []simguard.FindingFilter{
		{TenantID: a, MinSeverity: "urgent"}, {TenantID: a, State: "gone"}, {TenantID: a, Kind: "x%"}, {TenantID: a, Kind: "Default"},
	} {
		_, err := f.s.FindFindings(f.ctx, bad)
		wantCode(t, "FindFindings with a bad filter", err, simguard.EINVALID)
	}
}

// testExposure follows one service through opening, closing, reopening,
// runs that did not look at it, partial runs and a run finishing late.
func testExposure(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a := f.alpha.ID
	at := func(h int) time.Time { return scanT0.Add(time.Duration(h) * time.Hour) }
	state := func(port uint16) simguard.Finding {
		t.Helper()
		fs, err := f.s.FindFindings(f.ctx, simguard.FindingFilter{TenantID: a})
		must(t, "FindFindings", err)
		for _, fd := range fs {
			if fd.Port == port {
				return fd
			}
		}
		t.Fatalf("no exposure for port %d in %+v", port, fs)
		return simguard.Finding{}
	}
	check := func(step string, port uint16, st simguard.FindingState, first, last, closed time.Time) {
		t.Helper()
		fd := state(port)
		if fd.State != st || !fd.FirstSeen.Equal(first) || !fd.LastSeen.Equal(last) || !fd.ClosedAt.Equal(closed) {
			t.Errorf("%s: port %d is %s first %s last %s closed %s; want %s %s %s %s", step, port,
				fd.State, fd.FirstSeen, fd.LastSeen, fd.ClosedAt, st, first, last, closed)
		}
	}
	var zero time.Time
	f.runScan(t, scanRun(a, "adhoc", at(0)), simguard.ScanDone, finding(a, 23, 1, at(0)), finding(a, 80, 1, at(0)))
	_, fs := f.runScan(t, scanRun(a, "adhoc", at(1)), simguard.ScanDone, finding(a, 80, 1, at(1)))
	if !fs[0].FirstSeen.Equal(at(0)) {
		t.Errorf("a finding that stayed open got FirstSeen %s, want %s", fs[0].FirstSeen, at(0))
	}
	check("after it closed", 23, simguard.FindingClosed, at(0), at(0), at(1))
	check("still open", 80, simguard.FindingOpen, at(0), at(1), zero)

	// A run over other ports, and a canceled run over all: nothing closes.
	f.runScan(t, scanRun(a, "adhoc", at(2), simguard.PortRange{From: 1, To: 79}), simguard.ScanDone)
	f.runScan(t, scanRun(a, "adhoc", at(3)), simguard.ScanCanceled)
	check("runs that proved nothing", 80, simguard.FindingOpen, at(0), at(1), zero)

	// A done run over all ports in which the device answered nothing at
	// all (offline, or every port filtered), and one in which it answered
	// but port 80 stayed silent: nothing closes either.
	silent := scanRun(a, "adhoc", at(2).Add(10*time.Minute))
	silent.Unreachable = []netip.Addr{scanDev}
	silent.Stats.Unreachable = 1
	f.runScan(t, silent, simguard.ScanDone)
	check("after an unreachable run", 80, simguard.FindingOpen, at(0), at(1), zero)
	unsure := scanRun(a, "adhoc", at(2).Add(20*time.Minute))
	unsure.Inconclusive = []simguard.HostPorts{{Target: scanDev, Proto: "tcp", Ports: []simguard.PortRange{{From: 79, To: 81}}}}
	unsure, _ = f.runScan(t, unsure, simguard.ScanDone)
	check("after a run where the port was filtered", 80, simguard.FindingOpen, at(0), at(1), zero)
	got, err := f.s.GetScanRun(f.ctx, a, unsure.ID)
	must(t, "GetScanRun", err)
	if len(got.Inconclusive) != 1 || got.Inconclusive[0].Ports[0] != (simguard.PortRange{From: 79, To: 81}) {
		t.Errorf("stored run lost its inconclusive ports: %+v", got)
	}

	// It opens again: a new streak.
	f.runScan(t, scanRun(a, "adhoc", at(4)), simguard.ScanDone, finding(a, 23, 1, at(4)), finding(a, 80, 1, at(4)))
	check("reopened", 23, simguard.FindingOpen, at(4), at(4), zero)

	// A run that started before the last one and finishes now changes
	// nothing it saw later than it.
	_, late := f.runScan(t, scanRun(a, "adhoc", at(3).Add(30*time.Minute)), simguard.ScanDone, finding(a, 80, 1, at(3).Add(30*time.Minute)))
	check("after a late run", 23, simguard.FindingOpen, at(4), at(4), zero)
	check("after a late run", 80, simguard.FindingOpen, at(0), at(4), zero)
	if !late[0].FirstSeen.Equal(at(0)) || late[0].State != simguard.FindingOpen {
		t.Errorf("the late run's finding %+v", late[0])
	}
}
