package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

// startScanServer runs serve in-process with the scan feature configured
// by sc (and its logs in the test log when the test fails).
func startScanServer(t *testing.T, dir string, sc scanConfig) *server {
	t.Helper()
	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Scan = dir, "127.0.0.1:0", sc
	out := &syncBuffer{}
	logs := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := openControlPlane(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), env)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cp.run(ctx) }()
	s := &server{url: cp.URL, out: out}
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		cp.close()
		if t.Failed() {
			t.Logf("serve log:\n%s", logs.String())
		}
	}
	if m := regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String()); m != nil {
		s.token = m[1]
	}
	return s
}

// mustCLI runs a CLI command that must succeed and returns its output.
func (s *server) mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out := s.cli(t, s.token, stdin, args...)
	if code != 0 {
		t.Fatalf("simguard %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// TestScanFeatureOnLoopback drives the auditor of a real serve through
// the CLI on loopback: configuration, a scan through the API, reports,
// findings, remediation and the refusals an operator meets first.
func TestScanFeatureOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptAndClose(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	s := startScanServer(t, t.TempDir(), scanConfig{Enabled: true, AuditRanges: []string{"127.0.0.0/8"}, PPS: 10000, ConnectTimeout: time.Second})
	defer s.stop()

	group := fmt.Sprintf("name: meters\npolicy:\n  services: [data]\n  inbound:\n    - cidr: 192.0.2.0/24\n      proto: tcp\n      ports: [\"%d\"]\n", port)
	file := filepath.Join(t.TempDir(), "meters.yaml")
	os.WriteFile(file, []byte(group), 0o600)
	s.mustCLI(t, "", "group", "apply", "-f", file, "--yes")
	s.mustCLI(t, "iccid,imsi,group,state,static_ip\n"+demo.ICCID(0)+","+demo.IMSI(0)+",meters,active,127.0.0.1\n", "sim", "import", "-")

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "192.0.2.1"}, 1, "outside the audit ranges (127.0.0.0/8)"},
		{[]string{"scan"}, 2, "give targets"},
		{[]string{"scan", "127.0.0.1", "--format", "xml"}, 2, "--format must be"},
		{[]string{"scan", "127.0.0.1", "--pps", "5"}, 2, "--pps: only for --local scans"},
		{[]string{"scan", "127.0.0.1", "--concurrency", "8"}, 2, "--concurrency: only for --local scans"},
		{[]string{"scan", "127.0.0.1", "--connect-timeout", "9s", "--audit-range", "127.0.0.0/8"}, 2, "--audit-range, --connect-timeout: only for --local scans"},
		{[]string{"scan", "127.0.0.1", "--local"}, 2, "--local needs --audit-range"},
		{[]string{"scan", "--group", "nope"}, 1, `no group "nope"`},
		{[]string{"scan", "show", "x"}, 2, "not a scan ID"},
		{[]string{"findings", "remediate"}, 2, "give the finding's ID"},
		{[]string{"findings", "--severity", "urgent"}, 1, "severity"},
	}
	for _, st := range steps {
		if code, out := s.cli(t, s.token, "", st.args...); code != st.code || !strings.Contains(out, st.want) {
			t.Errorf("simguard %s: exit %d, want %d with %q:\n%s", strings.Join(st.args, " "), code, st.code, st.want, out)
		}
	}

	out := s.mustCLI(t, "", "scan", "--group", "meters", "--ports", fmt.Sprint(port), "--wait")
	for _, want := range []string{"scan 1  done  scope group:meters", fmt.Sprintf("127.0.0.1  %d/tcp", port), "1 findings (1 info)"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan --wait output lacks %q:\n%s", want, out)
		}
	}
	out = s.mustCLI(t, "", "scan", "127.0.0.1", "--ports", fmt.Sprint(port))
	if !strings.Contains(out, "scan 2 queued") {
		t.Fatalf("scan without --wait: %s", out)
	}
	var rep simguard.ScanReport
	deadline := time.Now().Add(30 * time.Second)
	for rep.Run.Status != simguard.ScanDone && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		json.Unmarshal([]byte(s.mustCLI(t, "", "scan", "show", "2", "--format", "json")), &rep)
	}
	if rep.Run.Status != simguard.ScanDone || len(rep.Findings) != 1 || rep.Findings[0].SIMID == 0 || rep.Run.Scope != "adhoc" {
		t.Fatalf("scan 2: %+v", rep)
	}
	if out := s.mustCLI(t, "", "scan", "list"); !strings.Contains(out, "group:meters") || !strings.Contains(out, "adhoc") {
		t.Errorf("scan list:\n%s", out)
	}
	csv := s.mustCLI(t, "", "scan", "show", "2", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "tenant_id,scan_id,finding_id") {
		t.Errorf("csv:\n%s", csv)
	}
	if out := s.mustCLI(t, "", "findings", "--sim", demo.ICCID(0)); !strings.Contains(out, fmt.Sprintf("%d/tcp", port)) || !strings.Contains(out, "open") {
		t.Errorf("findings --sim:\n%s", out)
	}
	// The finding is compliant: nothing to remediate.
	id := fmt.Sprint(rep.Findings[0].ID)
	if code, out := s.cli(t, s.token, "", "findings", "remediate", id); code != 1 || !strings.Contains(out, "breaks no rule") {
		t.Errorf("remediate a compliant finding: %d %s", code, out)
	}
}

func TestScanConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		sc   scanConfig
		want string
	}{
		{"no audit ranges", scanConfig{Enabled: true}, "scan.audit_ranges: give the CIDRs"},
		{"bad range", scanConfig{Enabled: true, AuditRanges: []string{"10.0.0.0"}}, "scan.audit_ranges[0]"},
		{"too wide", scanConfig{Enabled: true, AuditRanges: []string{"0.0.0.0/0"}}, "too wide"},
		{"bad pps", scanConfig{Enabled: true, AuditRanges: []string{"10.0.0.0/8"}, PPS: -1}, "scan.rate"},
		{"missing credentials file", scanConfig{Enabled: true, AuditRanges: []string{"10.0.0.0/8"}, CredentialsFile: "/nonexistent/creds"}, "scan.credentials_file"},
		{"short schedule", scanConfig{Enabled: true, AuditRanges: []string{"10.0.0.0/8"}, Schedules: []scanSchedule{{Group: "meters", Every: time.Second}}}, "schedules[0].every"},
		{"unknown tenant", scanConfig{Enabled: true, AuditRanges: []string{"10.0.0.0/8"}, Schedules: []scanSchedule{{Tenant: "acme", Group: "meters", Every: time.Hour}}}, `no tenant "acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultServeConfig()
			cfg.Data, cfg.Listen, cfg.Scan = t.TempDir(), "127.0.0.1:0", tt.sc
			env := &cliEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
			cp, err := openControlPlane(context.Background(), cfg, slog.New(slog.DiscardHandler), env)
			if err == nil {
				cp.close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Disabled, the feature costs nothing and scans are refused with a hint.
	s := startServer(t, t.TempDir(), false)
	defer s.stop()
	if code, out := s.cli(t, s.token, "", "scan", "127.0.0.1"); code != 1 || !strings.Contains(out, "fleet auditor is off") {
		t.Fatalf("scan on a server without the auditor: %d %s", code, out)
	}
}

// TestScanDocExampleConfig decodes the example configuration of
// docs/scan.md as serve would (strictly), so the documentation cannot
// drift from the config keys.
func TestScanDocExampleConfig(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scan.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\nscan:")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/scan.md has no ```yaml scan: example")
	}
	file := filepath.Join(t.TempDir(), "simguard.yaml")
	os.WriteFile(file, []byte("scan:"+example), 0o600)
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	cfg, err := loadServeConfig(newFlags(env, "serve", "", ""), []string{"--config", file}, env)
	if err != nil {
		t.Fatalf("the documented config does not load: %v", err)
	}
	sc := cfg.Scan
	if !sc.Enabled || len(sc.AuditRanges) != 2 || sc.PPS != 1000 || len(sc.Schedules) != 2 || sc.Schedules[1].Tenant != "acme" ||
		sc.Schedules[0].Every != 24*time.Hour || sc.CredentialAudit.MaxAttemptsPerHost != 30 || sc.IdentifyConcurrency != 16 {
		t.Fatalf("decoded %+v", sc)
	}
	sc.CredentialsFile = ""
	if _, err := sc.scannerConfig(); err != nil {
		t.Fatalf("the documented values do not validate: %v", err)
	}
}
