package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
)

func listenTCP(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

func TestScanFindingsDiffAndEvents(t *testing.T) {
	web := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "admin" && p == "admin" {
			fmt.Fprintln(w, "ok")
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="modem"`)
		w.WriteHeader(http.StatusUnauthorized)
	}, nil)
	silentLn, silent := listenTCP(t)
	late, latePort := listenTCP(t)
	late.Close() // closed during the first scan, opened for the second

	lo := netip.MustParseAddr("127.0.0.1")
	inv := inventory{
		devices: map[netip.Addr]Device{lo: {SIMID: 42, Group: "meters"}},
		groups: map[string]simguard.Group{"meters": {Name: "meters", Version: 7, Policy: simguard.Policy{Inbound: []simguard.FlowRule{
			{CIDR: netip.MustParsePrefix("10.0.0.0/8"), Proto: "tcp", Ports: []simguard.PortRange{{From: web.Port(), To: web.Port()}}},
			{CIDR: netip.MustParsePrefix("10.1.0.0/16"), Proto: "udp"},
		}}}},
	}
	store, events := newMemStore(), &eventLog{}
	clk := &clock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	s := newTestScanner(t, Deps{Store: store, Events: events, Inventory: inv, Clock: clk.now})
	req := Request{
		TenantID: 3, Scope: "group:meters", Actor: simguard.SystemActor(3, "scan:schedule"),
		Targets:     []string{"127.0.0.1"},
		Ports:       fmt.Sprintf("%d,%d,%d", web.Port(), silent, latePort),
		Credentials: true,
	}

	rep, err := s.Scan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("first scan: %d findings, want 2: %+v", len(rep.Findings), rep.Findings)
	}
	byPort := map[uint16]simguard.Finding{}
	for _, f := range rep.Findings {
		byPort[f.Port] = f
	}
	w := byPort[web.Port()]
	if w.Service != "http" || w.SIMID != 42 || w.Group != "meters" || w.Severity != simguard.SeverityCritical ||
		len(w.Credentials) != 1 || w.Credentials[0].Username != "admin" || !strings.HasPrefix(w.Credentials[0].ListEntry, "builtin:") ||
		w.Compliant || !w.Plaintext || w.HasIssue(simguard.IssuePortNotAllowed) {
		t.Errorf("web finding: %+v", w)
	}
	if r := w.Remediation; r == nil || r.Action != "close_port" || r.Group != "meters" || r.GroupVersion != 7 || fmt.Sprint(r.AllowedBy) != "[0]" {
		t.Errorf("web remediation: %+v", w.Remediation)
	}
	q := byPort[silent]
	if q.Service != "unknown" || q.Compliant || !q.HasIssue(simguard.IssuePortNotAllowed) || q.Severity != simguard.SeverityMedium ||
		q.Remediation == nil || len(q.Remediation.AllowedBy) != 0 {
		t.Errorf("silent finding: %+v", q)
	}
	// No baseline: nothing opened, but the working default login is news.
	if ev := events.all(); rep.Diff.PrevScanID != 0 || len(rep.Diff.Opened) != 0 || len(ev) != 1 || ev[0].Type != "scan.default_credential" ||
		ev[0].SIMID != 42 || ev[0].Attrs["port"] != fmt.Sprint(web.Port()) {
		t.Errorf("first scan has no baseline, yet diff %+v events %v", rep.Diff, ev)
	}
	if run := store.run(1); run.Status != simguard.ScanDone || run.Stats.OpenPorts != 2 || run.Stats.Attempts < 1 || !run.Credentials {
		t.Errorf("stored run: %+v", run)
	}
	if ch := store.changes[0]; ch.Action != "scan.start" || ch.Actor.Name != "scan:schedule" {
		t.Errorf("audit change: %+v", ch)
	}

	// The late port opens: the second scan reports it as newly opened.
	clk.advance(time.Hour)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(lo, latePort).String())
	if err != nil {
		t.Skipf("port %d was taken meanwhile: %v", latePort, err)
	}
	defer ln.Close()
	go func() {
		for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
			c.Close()
		}
	}()
	rep2, err := s.Scan(context.Background(), Request{TenantID: 3, Scope: "group:meters", Targets: req.Targets, Ports: req.Ports})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Diff.PrevScanID != 1 || len(rep2.Diff.Opened) != 1 || rep2.Diff.Opened[0].Port != latePort || len(rep2.Diff.Closed) != 0 {
		t.Fatalf("second diff: %+v", rep2.Diff)
	}
	ev := events.all()[1:]
	if len(ev) != 1 || ev[0].Type != "scan.port_opened" || ev[0].SIMID != 42 || ev[0].TenantID != 3 || ev[0].Source != "scan" ||
		ev[0].Attrs["port"] != fmt.Sprint(latePort) || ev[0].Attrs["scan_id"] != "2" {
		t.Fatalf("events: %+v", ev)
	}
	for _, f := range rep2.Findings {
		want := clk.now().Add(-time.Hour)
		if f.Port == latePort {
			want = clk.now()
		}
		if !f.FirstSeen.Equal(want) || !f.LastSeen.Equal(clk.now()) {
			t.Errorf("port %d first/last seen %s/%s, want first %s", f.Port, f.FirstSeen, f.LastSeen, want)
		}
	}

	// The silent service goes away: the third scan reports it closed.
	silentLn.Close()
	rep3, err := s.Scan(context.Background(), Request{TenantID: 3, Scope: "group:meters", Targets: req.Targets, Ports: req.Ports})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep3.Diff.Closed) != 1 || rep3.Diff.Closed[0].Port != silent || len(rep3.Diff.Opened) != 0 {
		t.Fatalf("third diff: %+v", rep3.Diff)
	}
}

func TestScanRefusesTargetsOutsideAuditRanges(t *testing.T) {
	var accepted atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
			accepted.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name    string
		ranges  []netip.Prefix
		wantErr string
	}{
		{"no audit ranges", nil, "no audit ranges are configured, so every target is refused: set scan.audit_ranges"},
		{"other range", []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}, "127.0.0.1/32 is outside the audit ranges (198.18.0.0/15)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			s, err := New(Config{AuditRanges: tt.ranges}, Deps{Store: store})
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Targets: []string{"127.0.0.1"}, Ports: fmt.Sprint(port), UDP: true, Credentials: true}
			_, err = s.Scan(context.Background(), req)
			var e *simguard.Error
			if !errors.As(err, &e) || e.Code != simguard.EINVALID || e.Field != "targets" && e.Field != "targets[0]" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want EINVALID on targets containing %q", err, tt.wantErr)
			}
			if s.Validate(context.Background(), req) == nil {
				t.Error("Validate accepted what Scan refused")
			}
			if len(store.runs) != 0 {
				t.Error("a refused scan was recorded as a run")
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the refused target got %d connections", n)
	}
}

// TestScanCancel checks that a canceled scan stops promptly, is recorded
// as canceled, and leaves no goroutine behind.
func TestScanCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	store := newMemStore()
	s, err := New(Config{AuditRanges: loopback, Rate: 200, Concurrency: 64}, Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = s.Scan(ctx, Request{Targets: []string{"127.0.0.1"}, Ports: "1-1024", UDP: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
	if run := store.run(1); run.Status != simguard.ScanCanceled || run.FinishedAt.IsZero() {
		t.Errorf("stored run: %+v", run)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after the scan, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s, err := New(Config{AuditRanges: loopback}, Deps{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	_, port := listenTCP(t)
	if _, err := s.Scan(context.Background(), Request{Targets: []string{"127.0.0.1"}, Ports: fmt.Sprint(port), PortsOnly: true}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"simguard_scan_probes_total": false, "simguard_scan_runs_total": false, "simguard_scan_findings_total": false, "simguard_scan_credential_attempts_total": false,
		"simguard_scan_active": false, "simguard_scan_queued": false}
	for _, mf := range mfs {
		if _, ok := want[mf.GetName()]; !ok {
			t.Errorf("unexpected metric %s", mf.GetName())
		}
		want[mf.GetName()] = true
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("metric %s missing", n)
		}
	}
	if _, err := New(Config{AuditRanges: loopback}, Deps{Registerer: reg}); err == nil {
		t.Error("registering twice did not fail")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{}, ""},
		{"negative rate", Config{Rate: -1}, "rate"},
		{"huge concurrency", Config{Concurrency: 1 << 20}, "concurrency"},
		{"retries", Config{Retries: 9}, "retries"},
		{"tiny timeout", Config{ConnectTimeout: time.Microsecond}, "connect_timeout"},
		{"too wide a range", Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "audit_ranges[0]"},
		{"invalid range", Config{AuditRanges: []netip.Prefix{{}}}, "audit_ranges[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.cfg.Rate != 1000 || tt.cfg.Retries != 1 || tt.cfg.Creds.MaxAttemptsPerHost != 30 {
					t.Errorf("defaults not filled: %+v", tt.cfg)
				}
				return
			}
			var e *simguard.Error
			if !errors.As(err, &e) || e.Field != tt.wantErr {
				t.Fatalf("err = %v, want a field error on %s", err, tt.wantErr)
			}
		})
	}
}
