//go:build linux

package scan_test

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/scan"
	"github.com/simguard/simguard/sqlite"
)

type events []simguard.Event

func (e *events) Emit(ev simguard.Event) { *e = append(*e, ev) }

// TestScanWithPolicySnapshotAndSQLite runs the scanner against the real
// policy snapshot (SIM by static IP, the group's inbound rules) and the
// real SQLite store (run, audit record, findings, diff across runs).
func TestScanWithPolicySnapshotAndSQLite(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "simguard.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tn, err := db.CreateTenant(ctx, "acme", simguard.Change{Actor: simguard.SystemActor(1, "system"), Action: "tenant.create"})
	if err != nil {
		t.Fatal(err)
	}

	allowed, allowedPort := listen(t)
	defer allowed.Close()
	strayLn, strayPort := listen(t)
	strayLn.Close() // closed for the baseline
	groups := []simguard.Group{{TenantID: tn.ID, Name: "meters", Version: 3, Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData},
		Inbound: []simguard.FlowRule{{CIDR: netip.MustParsePrefix("192.0.2.0/24"), Proto: "tcp",
			Ports: []simguard.PortRange{{From: allowedPort, To: allowedPort}}}},
	}}}
	for i := range groups {
		if err := groups[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	sims := []simguard.SIM{{ID: 42, TenantID: tn.ID, ICCID: "8949000000000000018", IMSI: "001010000000042",
		State: simguard.SIMActive, Group: "meters", StaticIP: netip.MustParseAddr("127.0.0.1")}}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		t.Fatal(err)
	}
	var evs events
	s, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		scan.Deps{Store: db, Inventory: scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, nil), Events: &evs})
	if err != nil {
		t.Fatal(err)
	}
	req := scan.Request{TenantID: tn.ID, Scope: "group:meters", Actor: simguard.SystemActor(tn.ID, "scan:schedule"),
		Targets: []string{"127.0.0.1"}, Ports: fmt.Sprintf("%d,%d", allowedPort, strayPort)}

	// Baseline with only the allowed port open.
	rep, err := s.Scan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].SIMID != 42 || rep.Findings[0].Group != "meters" ||
		rep.Findings[0].HasIssue(simguard.IssuePortNotAllowed) || !rep.Findings[0].Compliant {
		t.Fatalf("baseline findings %+v", rep.Findings)
	}
	// The stray port opens: a finding that breaks policy.inbound, an event.
	stray := reopen(t, strayPort)
	defer stray.Close()
	rep, err = s.Scan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Findings, func(f simguard.Finding) bool { return f.Port == strayPort })
	if i < 0 {
		t.Fatalf("stray port not found: %+v", rep.Findings)
	}
	f := rep.Findings[i]
	if !f.HasIssue(simguard.IssuePortNotAllowed) || f.Compliant || f.Remediation == nil || f.Remediation.GroupVersion != 3 || len(f.Remediation.AllowedBy) != 0 {
		t.Errorf("stray finding %+v", f)
	}
	if len(evs) != 1 || evs[0].Type != "scan.port_opened" || evs[0].SIMID != 42 || evs[0].Attrs["port"] != fmt.Sprint(strayPort) {
		t.Errorf("events %+v", evs)
	}
	stored, err := db.FindFindings(ctx, simguard.FindingFilter{TenantID: tn.ID, ScanID: rep.Run.ID})
	if err != nil || len(stored) != 2 || stored[0].ScanID != rep.Run.ID {
		t.Fatalf("stored findings %+v, %v", stored, err)
	}
	recs, err := db.FindAudit(ctx, simguard.AuditFilter{TenantID: tn.ID, Action: "scan.start"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit records %+v, %v", recs, err)
	}
}

func listen(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go acceptAll(ln)
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

// reopen listens again on a port that listen gave and the test closed.
func reopen(t *testing.T, port uint16) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	go acceptAll(ln)
	return ln
}

func acceptAll(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
