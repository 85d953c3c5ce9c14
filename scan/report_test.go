package scan

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func reportFixture() *Report {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dev := netip.MustParseAddr("10.45.0.7")
	telnet := simguard.Finding{
		ID: 120, State: simguard.FindingOpen, TenantID: 3, ScanID: 12, SIMID: 42, Group: "meters", Target: dev, Proto: "tcp", Port: 23,
		Service: "telnet", Banner: "=cmd|' /C calc'!A0 login:", Plaintext: true, Severity: simguard.SeverityInfo,
		FirstSeen: t0.Add(-24 * time.Hour), LastSeen: t0,
		Credentials: []simguard.Credential{{Service: "telnet", Method: "login", Username: "root", ListEntry: "builtin:8"}},
		Remediation: &simguard.Remediation{Action: "close_port", Group: "meters", Proto: "tcp", Port: 23, AllowedBy: []int{}, GroupVersion: 7},
	}
	telnet.AddIssue(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "telnet sends user names, passwords and sessions in clear text; use SSH")
	telnet.AddIssue(simguard.IssueDefaultCredential, simguard.SeverityCritical, `vendor default login works: user "root" (builtin:8, after 3 attempts)`)
	telnet.AddIssue(simguard.IssuePortNotAllowed, simguard.SeverityMedium, "group meters allows no inbound tcp/23 (policy.inbound), yet the device listens on it")
	mqtts := simguard.Finding{
		ID: 121, State: simguard.FindingOpen, TenantID: 3, ScanID: 12, SIMID: 42, Group: "meters", Target: dev, Proto: "tcp", Port: 8883,
		Service: "mqtts", TLS: true, TLSVersion: "TLS 1.3", Severity: simguard.SeverityInfo, Compliant: true,
		FirstSeen: t0, LastSeen: t0,
	}
	findings := []simguard.Finding{telnet, mqtts}
	return &Report{
		Run: simguard.ScanRun{
			ID: 12, TenantID: 3, Scope: "group:meters", Actor: "scan:schedule",
			Targets:  []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")},
			TCPPorts: []simguard.PortRange{{From: 1, To: 65535}}, UDPPorts: []simguard.PortRange{{From: 161, To: 161}},
			Credentials: true, Status: simguard.ScanDone, StartedAt: t0, FinishedAt: t0.Add(90 * time.Second),
			Stats: simguard.ScanStats{Hosts: 254, Probes: 16646890, OpenPorts: 2, Attempts: 3},
		},
		Summary:  summarize(findings),
		Findings: findings,
		Diff:     simguard.ScanDiff{PrevScanID: 11, Opened: []simguard.Finding{mqtts}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n%s", name, got)
	}
}

func TestReportJSON(t *testing.T) {
	var b bytes.Buffer
	if err := reportFixture().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
}

func TestReportCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, reportFixture().Findings); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", b.Bytes())
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	// A banner is device-controlled text: it must not start a formula.
	if banner := rows[1][len(CSVHeader)-1]; banner[0] != '\'' {
		t.Errorf("banner cell %q is not neutralized", banner)
	}
}
