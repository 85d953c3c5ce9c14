package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
	"github.com/simguard/simguard/notify"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &out, stdin: strings.NewReader(stdin), getenv: func(string) string { return "" }}
	return run(context.Background(), env, args), out.String()
}

func TestDetectRulesCommand(t *testing.T) {
	code, out := runCLI(t, "", "detect", "rules")
	if code != 0 || !strings.Contains(out, "radius-bruteforce-sim") || !strings.Contains(out, "16 rules") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	dir := t.TempDir()
	bad := "name: mine\nseverity: urgent\nevents: [radius.access]\ntrigger: {kind: each}\n"
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = runCLI(t, "", "detect", "rules", "--rules", dir)
	want := filepath.Join(dir, "mine.yaml") + `:2:11: rule "mine": severity: must be one of info, low, medium, high, critical, got "urgent"`
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 1 and %q in:\n%s", code, want, out)
	}
}

func TestDetectReplayCommand(t *testing.T) {
	var lines []string
	for i := 0; i < 5; i++ {
		b, _ := json.Marshal(simguard.Event{Time: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC), TenantID: 1, SIMID: 42,
			Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonIMEIMismatch})
		lines = append(lines, string(b))
	}
	code, out := runCLI(t, strings.Join(lines, "\n"), "detect", "replay", "-")
	if code != 0 || !strings.Contains(out, "radius-bruteforce-sim  tenant=1 sim=42") || !strings.Contains(out, "action suspend_sim sim:42: not_run") ||
		!strings.Contains(out, "5 events, 6 firings, 2 alerts from 2 rules") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out = runCLI(t, "not json\n", "detect", "replay", "-")
	if code != 1 || !strings.Contains(out, "-: line 1: not a JSON event") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, _ := runCLI(t, "", "detect", "replay"); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
}

// TestServeDetects runs serve with detection on: rejected requests for a
// SIM of the demo fleet go through the event writer into the engine, the
// SIM is suspended by the rule (audited as rule:radius-bruteforce-sim) and
// a webhook receiver gets the signed alert.
func TestServeDetects(t *testing.T) {
	const secret = "serve-detect-secret-0123"
	var mu sync.Mutex
	var bodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !notify.Verify(secret, b, r.Header.Get(notify.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer hook.Close()

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = t.TempDir(), "127.0.0.1:0", true
	// A second receiver is down at first: its delivery becomes a dead
	// letter, replayed later from the CLI.
	var downMu sync.Mutex
	up := false
	var replayed [][]byte
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		downMu.Lock()
		defer downMu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		replayed = append(replayed, b)
	}))
	defer down.Close()
	cfg.Detect.Webhooks = []detectWebhook{
		{Name: "soc", URL: hook.URL, Secret: secret, MinSeverity: "high"},
		{Name: "down", URL: down.URL, Secret: secret, Kinds: []string{"opened"}, MinSeverity: "critical", MaxAttempts: 1},
	}
	s := startServerConfig(t, cfg)
	defer s.stop()
	cp, ctx := s.cp, context.Background()

	sims, err := cp.db.ListSIMs(ctx, simguard.SIMFilter{TenantID: simguard.ProviderTenantID, State: simguard.SIMActive, Limit: 1})
	if err != nil || len(sims) != 1 {
		t.Fatalf("demo SIM: %v %v", sims, err)
	}
	sim := sims[0]
	for i := 0; i < 5; i++ {
		cp.events.Emit(simguard.Event{TenantID: sim.TenantID, SIMID: sim.ID, Source: "radius", Type: "radius.access",
			Decision: "deny", Reason: simguard.ReasonIMEIMismatch, Attrs: map[string]string{"imsi": sim.IMSI, "imei": "8600000000000" + string(rune('0'+i))}})
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := cp.db.GetSIM(ctx, sim.TenantID, sim.ID)
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		// The action's outcome is stored after the SIM is suspended.
		acted, _ := cp.db.ListAlerts(ctx, simguard.AlertFilter{Rule: "radius-bruteforce-sim"})
		if err == nil && got.State == simguard.SIMSuspended && n > 0 && len(acted) == 1 && len(acted[0].Actions) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIM state %s, %d webhook deliveries", got.State, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	recs, err := cp.db.FindAudit(ctx, simguard.AuditFilter{TenantID: sim.TenantID, Action: "sim.suspend"})
	if err != nil || len(recs) != 1 || recs[0].Actor != "rule:radius-bruteforce-sim" {
		t.Errorf("audit %+v %v", recs, err)
	}
	alerts, err := cp.db.ListAlerts(ctx, simguard.AlertFilter{Rule: "radius-bruteforce-sim"})
	if err != nil || len(alerts) != 1 || len(alerts[0].Events) != 5 || alerts[0].Events[0].ID == 0 {
		t.Fatalf("alerts %+v %v", alerts, err)
	}

	// The CLI over the API.
	if s.token == "" {
		t.Fatal("no admin token printed")
	}
	id := strconv.FormatInt(alerts[0].ID, 10)
	if code, o := s.cli(t, s.token, "", "alerts", "list", "--rule", "radius-bruteforce-sim"); code != 0 || !strings.Contains(o, "radius-bruteforce-sim") || !strings.Contains(o, "open") {
		t.Errorf("alerts list: %d\n%s", code, o)
	}
	if code, o := s.cli(t, s.token, "", "alerts", "get", id); code != 0 || !strings.Contains(o, "action suspend_sim sim:") || !strings.Contains(o, "imei_mismatch") {
		t.Errorf("alerts get: %d\n%s", code, o)
	}
	if code, o := s.cli(t, s.token, "", "alerts", "resolve", id, "--note", "device replaced"); code != 0 || !strings.Contains(o, "is resolved") {
		t.Errorf("alerts resolve: %d\n%s", code, o)
	}
	if code, o := s.cli(t, s.token, "", "alerts", "resolve", id); code != 1 || !strings.Contains(o, "already resolved") {
		t.Errorf("alerts resolve twice: %d\n%s", code, o)
	}
	recs, _ = cp.db.FindAudit(ctx, simguard.AuditFilter{TenantID: sim.TenantID, Action: "alert.resolve"})
	if len(recs) != 1 || !strings.HasPrefix(recs[0].Actor, "token:") {
		t.Errorf("resolve audit %+v", recs)
	}

	// The critical sim-swap alert went to "down", failed, and waits.
	var letters []simguard.DeadLetter
	for deadline := time.Now().Add(10 * time.Second); len(letters) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		letters, _ = cp.db.DeadLetters(ctx, "down", 0)
	}
	if len(letters) != 1 {
		t.Fatalf("dead letters %+v", letters)
	}
	if code, o := s.cli(t, s.token, "", "alerts", "dead-letters"); code != 0 || !strings.Contains(o, "down") || !strings.Contains(o, "503") {
		t.Errorf("alerts dead-letters: %d\n%s", code, o)
	}
	downMu.Lock()
	up = true
	downMu.Unlock()
	if code, o := s.cli(t, s.token, "", "alerts", "replay-webhook", "down"); code != 0 || !strings.Contains(o, "1 dead letters delivered") {
		t.Errorf("replay-webhook: %d\n%s", code, o)
	}
	downMu.Lock()
	if len(replayed) != 1 || string(replayed[0]) != string(letters[0].Body) {
		t.Errorf("replayed %q", replayed)
	}
	downMu.Unlock()
	if left, _ := cp.db.DeadLetters(ctx, "down", 0); len(left) != 0 {
		t.Errorf("dead letters left %d", len(left))
	}
	if code, o := s.cli(t, s.token, "", "alerts", "replay-webhook", "nope"); code != 1 || !strings.Contains(o, `no webhook "nope"`) {
		t.Errorf("replay unknown: %d\n%s", code, o)
	}
}

func TestDetectConfigSection(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "simguard.yaml")
	conf := `detect:
  rules: /etc/simguard/rules
  suspensions_per_hour: 10
  shards: 3
  webhooks:
    - name: soc
      url: https://soc.example/hook
      secret_env: SOC_SECRET
      min_severity: high
      kinds: [opened]
      max_attempts: 3
      backoff: 2s
  syslog: {network: tcp, address: "127.0.0.1:6514", facility: local3}
  jsonl: /var/log/simguard/alerts.jsonl
`
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	fs := newFlags(env, "serve", "", "")
	cfg, err := loadServeConfig(fs, []string{"--config", file, "--detect-rules", "/srv/rules"}, env)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Detect
	if !d.Enabled || d.Rules != "/srv/rules" || d.SuspensionsPerHour != 10 || d.Shards != 3 || len(d.Webhooks) != 1 ||
		d.Webhooks[0].SecretEnv != "SOC_SECRET" || d.Webhooks[0].Backoff != 2*time.Second || d.Syslog == nil ||
		d.Syslog.Facility != "local3" || d.JSONL != "/var/log/simguard/alerts.jsonl" {
		t.Errorf("detect config %+v", d)
	}
	if err := os.WriteFile(file, []byte("detect:\n  webhook: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadServeConfig(newFlags(env, "serve", "", ""), []string{"--config", file}, env); err == nil || !strings.Contains(err.Error(), "webhook") {
		t.Errorf("unknown field: %v", err)
	}
}

// TestDetectREADMEExamples: the README's config example is what serve
// accepts and attaches, and its rule example loads.
func TestDetectREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../../detect/README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```yaml\n")
	if len(blocks) != 3 {
		t.Fatalf("detect/README.md has %d yaml examples, want 2", len(blocks)-1)
	}
	conf, _, _ := strings.Cut(blocks[1], "```")
	rule, _, _ := strings.Cut(blocks[2], "```")
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rules, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "example.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	conf = strings.Replace(conf, "/etc/simguard/rules", rules, 1)
	conf = strings.Replace(conf, "/var/log/simguard/alerts.jsonl", filepath.Join(dir, "alerts.jsonl"), 1)
	path := filepath.Join(dir, "simguard.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(k string) string {
		if k == "SIMGUARD_SOC_WEBHOOK_SECRET" {
			return "a-webhook-secret-of-some-length"
		}
		return ""
	}}
	cfg, err := loadServeConfig(newFlags(env, "serve", "", ""), []string{"--config", path}, env)
	if err != nil {
		t.Fatalf("the README config does not load: %v", err)
	}
	cfg.Data, cfg.Listen = filepath.Join(dir, "data"), "127.0.0.1:0"
	cp, err := openControlPlane(context.Background(), cfg, slog.New(slog.DiscardHandler), env)
	if err != nil {
		t.Fatalf("serve does not start with the README config: %v", err)
	}
	cp.close()
	if code, out := runCLI(t, "", "detect", "rules", "--rules", rules); code != 0 || !strings.Contains(out, "telnet-from-meters") || !strings.Contains(out, "17 rules") {
		t.Errorf("detect rules: %d\n%s", code, out)
	}
}

// TestDetectRulesReloadOnHangup: SIGHUP loads the rule files again; rules
// that do not load leave the running ones in place.
func TestDetectRulesReloadOnHangup(t *testing.T) {
	rules := t.TempDir()
	cfg := defaultServeConfig()
	cfg.Data, cfg.Detect.Rules = t.TempDir(), rules
	s := startServerConfig(t, cfg)
	defer s.stop()
	running := func() string {
		req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`(?m)^simguard_detect_rules (\d+)$`).FindStringSubmatch(string(body) + "\nsimguard_detect_rules none")[1]
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); running() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("simguard_detect_rules = %s, want %s", running(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	builtin := len(mustBuiltinRules(t))
	plusOne := strconv.Itoa(builtin + 1)
	waitFor(strconv.Itoa(builtin))
	rule := `name: telnet-from-meters
description: a meter reached a Telnet port
severity: medium
events: [flow.denied]
condition: attrs.port == "23"
group_by: [sim]
trigger: {kind: sliding_window, threshold: 1, window: 1m}
`
	if err := os.WriteFile(filepath.Join(rules, "site.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(plusOne)
	if err := os.WriteFile(filepath.Join(rules, "broken.yaml"), []byte("name: x\ntrigger: {kind: nope}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := running(); got != plusOne {
		t.Errorf("after a broken rule file the engine runs %s rules, want the %s it had", got, plusOne)
	}
}

func mustBuiltinRules(t *testing.T) []*detect.Rule {
	t.Helper()
	rs, err := loadRules("")
	if err != nil {
		t.Fatal(err)
	}
	return rs.Rules()
}
