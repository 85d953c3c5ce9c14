package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/simguard/simguard/demo"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server runs "simguard serve" in-process on a free port.
type server struct {
	url, token string
	out        *syncBuffer
	stop       func()
	cp         *controlPlane // for tests that look inside (its store, its listeners)
}

func startServer(t *testing.T, dir string, demoFleet bool) *server {
	t.Helper()
	cfg := defaultServeConfig()
	cfg.Data, cfg.Demo = dir, demoFleet
	return startServerConfig(t, cfg)
}

// startServerConfig runs serve with cfg on a free loopback port.
func startServerConfig(t *testing.T, cfg serveConfig) *server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	out := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := openControlPlane(ctx, cfg, slog.New(slog.DiscardHandler), env)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cp.run(ctx) }()
	s := &server{url: cp.URL, out: out, cp: cp}
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		cp.close()
	}
	if m := regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String()); m != nil {
		s.token = m[1]
	}
	return s
}

// cli runs one CLI command against s and returns its exit code and output.
func (s *server) cli(t *testing.T, token, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &out, stdin: strings.NewReader(stdin), getenv: func(k string) string {
		switch k {
		case "SIMGUARD_SERVER":
			return s.url
		case "SIMGUARD_TOKEN":
			return token
		}
		return ""
	}}
	code := run(context.Background(), env, args)
	return code, out.String()
}

func TestServeDemoAndCLI(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, true)
	defer s.stop()
	if s.token == "" {
		t.Fatalf("no admin token printed on first start:\n%s", s.out.String())
	}
	for _, want := range []string{"Demo fleet loaded: 4 groups, 1000 SIMs", "imei_mismatch", "sms_binary_denied", "destination_denied"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("serve output lacks %q", want)
		}
	}
	steps := []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"sim", "list", "--group", "smart-meters", "--limit", "3"}, "", 0, demo.ICCID(2)},
		{[]string{"sim", "get", demo.IMSI(1)}, "", 0, "explicit (locked)"},
		{[]string{"policy", "check", "--imsi", demo.IMSI(1), "--imei", demo.IMEI(2), "--plmn", "001-01", "--rat", "nb-iot", "--apn", "meters.iot", "--exit-code"}, "", 3, "FAIL  imei_lock"},
		{[]string{"policy", "check", "--imsi", demo.IMSI(1), "--imei", demo.IMEI(1), "--plmn", "001-01", "--rat", "nb-iot", "--apn", "meters.iot", "--exit-code"}, "", 0, "ALLOW"},
		{[]string{"sim", "suspend", demo.IMSI(1)}, "", 0, "suspended"},
		{[]string{"policy", "check", "--imsi", demo.IMSI(1), "--imei", demo.IMEI(1), "--plmn", "001-01", "--rat", "nb-iot", "--apn", "meters.iot"}, "", 0, "sim_suspended"},
		{[]string{"sim", "activate", demo.IMSI(1), "--for", "2h"}, "", 0, "Active until"},
		{[]string{"sim", "bind-imei", demo.IMSI(1), "352099001761481"}, "", 0, "35209900176148"},
		{[]string{"audit", "log", "--object", "sim:" + demo.ICCID(1)}, "", 0, "sim.bind_imei"},
		{[]string{"audit", "verify"}, "", 0, "audit log OK"},
		{[]string{"sim", "import", "-"}, "iccid,imsi,group\n123,001010000099999,smart-meters\n", 1, "line 2: iccid"},
		{[]string{"sim", "get", "nope"}, "", 1, "does not exist"},
		{[]string{"sim", "frobnicate"}, "", 2, "unknown command"},
		{[]string{"sim", "get", "--help"}, "", 0, "Usage: simguard sim get"},
	}
	for _, st := range steps {
		code, out := s.cli(t, s.token, st.stdin, st.args...)
		if code != st.code || !strings.Contains(out, st.want) {
			t.Errorf("simguard %s: exit %d, want %d with %q; output:\n%s", strings.Join(st.args, " "), code, st.code, st.want, out)
		}
	}

	// group apply shows the diff, applies after "y", and is then up to date.
	code, out := s.cli(t, s.token, "", "group", "get", "smart-meters")
	if code != 0 {
		t.Fatal(out)
	}
	file := filepath.Join(t.TempDir(), "meters.yaml")
	os.WriteFile(file, []byte(strings.Replace(out, "meters.iot", "meters-v2.iot", 1)), 0o600)
	code, out = s.cli(t, s.token, "y\n", "group", "apply", "-f", file)
	if code != 0 || !strings.Contains(out, "-    - meters.iot") || !strings.Contains(out, "+    - meters-v2.iot") || !strings.Contains(out, "applied (version 2)") {
		t.Fatalf("group apply: %d\n%s", code, out)
	}
	if code, out = s.cli(t, s.token, "", "group", "apply", "-f", file); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second apply: %d\n%s", code, out)
	}
	os.WriteFile(file, []byte("name: x\npolicy:\n  servces: [data]\n"), 0o600)
	if code, out = s.cli(t, s.token, "", "group", "apply", "-f", file); code != 1 || !strings.Contains(out, "line 3") || !strings.Contains(out, "servces") {
		t.Fatalf("typo in a group file: %d\n%s", code, out)
	}

	// An auditor reads but cannot change anything.
	code, out = s.cli(t, s.token, "", "token", "create", "--name", "auditor1", "--role", "auditor")
	m := regexp.MustCompile(`sgt_\S+`).FindString(out)
	if code != 0 || m == "" {
		t.Fatalf("token create: %d %s", code, out)
	}
	if code, out = s.cli(t, m, "", "sim", "get", demo.IMSI(1)); code != 0 {
		t.Fatalf("auditor read: %s", out)
	}
	if code, out = s.cli(t, m, "", "sim", "suspend", demo.IMSI(1)); code != 1 || !strings.Contains(out, "forbidden") {
		t.Fatalf("auditor suspend: %d %s", code, out)
	}
}

func TestRestartKeepsStateAndRefusesATamperedAuditLog(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, true)
	if code, out := s.cli(t, s.token, "", "sim", "suspend", demo.IMSI(3)); code != 0 {
		t.Fatal(out)
	}
	s.stop()

	// An online backup is itself a data directory that serves.
	bak := filepath.Join(t.TempDir(), "bak")
	var bout bytes.Buffer
	benv := &cliEnv{stdout: &bout, stderr: &bout, getenv: func(string) string { return "" }}
	if code := run(context.Background(), benv, []string{"backup", "--data", dir, "--out", bak}); code != 0 || !strings.Contains(bout.String(), "verified") {
		t.Fatalf("backup: %d %s", code, bout.String())
	}
	sb := startServer(t, bak, false)
	if code, out := sb.cli(t, s.token, "", "sim", "get", demo.IMSI(3)); code != 0 || !strings.Contains(out, "suspended") {
		t.Fatalf("serving the backup: %d %s", code, out)
	}
	sb.stop()

	s2 := startServer(t, dir, true)
	if s2.token != "" || strings.Contains(s2.out.String(), "Demo fleet loaded") {
		t.Fatalf("second start printed a token or reloaded the demo:\n%s", s2.out.String())
	}
	if code, out := s2.cli(t, s.token, "", "sim", "get", demo.IMSI(3)); code != 0 || !strings.Contains(out, "suspended") {
		t.Fatalf("after restart: %d %s", code, out)
	}
	s2.stop()

	// Someone edits history behind simguard's back.
	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TRIGGER IF EXISTS audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`UPDATE audit_log SET actor = 'nobody' WHERE seq = 2`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampering touched %d rows", n)
	}
	db.Close()

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen = dir, "127.0.0.1:0"
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	if _, err := openControlPlane(context.Background(), cfg, slog.New(slog.DiscardHandler), env); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("start on a tampered log: %v", err)
	}
	var out bytes.Buffer
	env = &cliEnv{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if code := run(context.Background(), env, []string{"audit", "verify", "--data", dir}); code != 1 || !strings.Contains(out.String(), "seq 2: edited") {
		t.Fatalf("offline verify: %d\n%s", code, out.String())
	}
}

// TestServeCommandDemo runs "simguard serve --demo" through the command
// line, as the README's first command does: flags, first-start token, demo
// fleet, API, console and metrics answer, and it stops cleanly.
func TestServeCommandDemo(t *testing.T) {
	out := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: out, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, env, []string{"serve", "--demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--log-level", "warn"})
	}()
	var url, token string
	for deadline := time.Now().Add(60 * time.Second); url == ""; {
		if m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-exited:
			t.Fatalf("serve exited with %d:\n%s", code, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", out.String())
		}
	}
	token = regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String())[1]
	for _, want := range []string{"Demo fleet loaded: 4 groups, 1000 SIMs.", "ALLOW allowed", "DENY  imei_mismatch", "Web console:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --demo does not print %q", want)
		}
	}
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/sims?limit=1", true); code != 200 || !strings.Contains(body, `"iccid"`) {
		t.Errorf("GET /api/v1/sims with the printed token: %d %s", code, body)
	}
	if code, _ := get("/api/v1/sims?limit=1", false); code != 401 {
		t.Errorf("GET /api/v1/sims without a token: %d, want 401", code)
	}
	if code, body := get("/console/", false); code != 200 || !strings.Contains(body, "token") {
		t.Errorf("GET /console/: %d", code)
	}
	if code, body := get("/metrics", true); code != 200 || !strings.Contains(body, "simguard_") {
		t.Errorf("GET /metrics: %d", code)
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("serve exited with %d after the signal:\n%s", code, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of the signal")
	}
}
