package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/scan/creds"
)

// chromiumPath is Debian's chromium, which the project's test script
// installs; Playwright cannot download a browser here.
const chromiumPath = "/usr/bin/chromium"

// TestConsoleInBrowser drives the web console of a real "serve --demo"
// (with the RADIUS server) with headless Chromium through Playwright
// (console/e2e): log in, find a SIM, suspend it with confirmation, see
// the audit record, see radclient's Access-Request for it denied on the
// open overview and a live session appear, edit a group, scan a loopback
// device from the console (fleet auditor on, audit range 127.0.0.0/8),
// close the port of its worst finding after the diff, and check that an
// auditor can change nothing. It saves screenshots of every page at
// laptop and phone size in test-output/console/.
func TestConsoleInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (scripts/test installs it with the other peers): skipping the browser test of the console")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("Debian's chromium is not installed at " + chromiumPath + " (scripts/test installs it): skipping the browser test of the console")
	}
	e2e, err := filepath.Abs(filepath.Join("..", "..", "console", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		// scripts/test runs npm ci for every package-lock.json; a plain
		// "go test" does it here.
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = e2e
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", e2e, err, out)
		}
	}
	out, err := filepath.Abs(filepath.Join("..", "..", "test-output", "console"))
	if err != nil {
		t.Fatal(err)
	}

	s, radiusEnv := startConsoleServer(t)
	defer s.stop()
	scanEnv := startScanDevice(t, s)
	token := func(role string) string {
		code, text := s.cli(t, s.token, "", "token", "create", "--name", "e2e-"+role, "--role", role)
		secret := regexp.MustCompile(`sgt_\S+`).FindString(text)
		if code != 0 || secret == "" {
			t.Fatalf("token create --role %s: %d %s", role, code, text)
		}
		return secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.test.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"SIMGUARD_URL="+s.url,
		"SIMGUARD_ADMIN_TOKEN="+s.token,
		"SIMGUARD_AUDITOR_TOKEN="+token("auditor"),
		"SIMGUARD_NODE_TOKEN="+token("node"),
		"SIMGUARD_OUT="+out,
		"SIMGUARD_SIM_IMSI="+demo.IMSI(41), "SIMGUARD_SIM_IMEI="+demo.IMEI(41),
		"SIMGUARD_SESSION_IMSI="+demo.IMSI(42), "SIMGUARD_SESSION_IMEI="+demo.IMEI(42),
	)
	cmd.Env = append(cmd.Env, radiusEnv...)
	cmd.Env = append(cmd.Env, scanEnv...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	t.Logf("browser test output:\n%s", buf.String())
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	if !strings.Contains(buf.String(), " 0 failed") {
		t.Fatal("the browser test did not report its result")
	}
}

// startConsoleServer runs "serve --demo" in-process on free ports with
// the console and, when radclient is there to talk to it, the RADIUS
// server with a NAS client for 127.0.0.1. It returns the environment that
// tells the browser test how to reach RADIUS.
func startConsoleServer(t *testing.T) (*server, []string) {
	t.Helper()
	_, err := exec.LookPath("radclient")
	withRADIUS := err == nil
	if !withRADIUS {
		t.Log("radclient (freeradius-utils) is not installed: the denial comes through the node events API instead of RADIUS")
	}
	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = t.TempDir(), "127.0.0.1:0", true
	// The fleet auditor may scan loopback only: the test's device lives
	// there (startScanDevice).
	cfg.Scan = scanConfig{Enabled: true, AuditRanges: []string{"127.0.0.0/8"}, ConnectTimeout: time.Second,
		BannerWait: 500 * time.Millisecond, CredentialAudit: creds.Config{Delay: 20 * time.Millisecond}}
	if withRADIUS {
		cfg.RADIUS.Enabled = true
		cfg.RADIUS.AuthAddrs, cfg.RADIUS.AcctAddrs = []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}
	}
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
	s := &server{url: cp.URL, out: out}
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
	if !withRADIUS {
		return s, nil
	}
	// The NAS's CoA port: a socket that takes Disconnect-Requests (none is
	// expected) so that they go nowhere else.
	coa, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coa.Close() })
	const secret = "console-e2e-secret"
	port := strconv.Itoa(coa.LocalAddr().(*net.UDPAddr).Port)
	if code, text := s.cli(t, s.token, secret+"\n", "radius", "nas", "add", "--name", "pgw-console", "--prefix", "127.0.0.1", "--coa-port", port); code != 0 {
		t.Fatalf("radius nas add: exit %d\n%s", code, text)
	}
	return s, []string{
		"SIMGUARD_RADIUS_AUTH=" + cp.radius.AuthAddrs()[0].String(),
		"SIMGUARD_RADIUS_ACCT=" + cp.radius.AcctAddrs()[0].String(),
		"SIMGUARD_RADIUS_SECRET=" + secret,
	}
}

// scanDeviceSIM is the demo SIM (an active asset tracker) whose device
// the browser test scans.
const scanDeviceSIM = 700

// startScanDevice plays a device of the fleet on a loopback address of
// its own: a web interface behind HTTP basic auth with the vendor default
// admin:admin, and a plain HTTP API, both without TLS. Demo SIM 700 gets
// that address as its static IP, and its group (asset-trackers) lets both
// ports in from the operator's network, so that the auditor's findings
// name the SIM and can be remediated. It returns the environment that
// tells the browser test about the device.
func startScanDevice(t *testing.T, s *server) []string {
	t.Helper()
	const addr = "127.77.0.1"
	serve := func(h http.HandlerFunc) int {
		ln, err := net.Listen("tcp", addr+":0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().(*net.TCPAddr).Port
	}
	admin := serve(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "admin" {
			w.Header().Set("WWW-Authenticate", `Basic realm="tracker"`)
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "tracker admin\n")
	})
	api := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"lat":52.52,"lon":13.40}`+"\n")
	})
	iccid := demo.ICCID(scanDeviceSIM)
	s.mustCLI(t, "", "sim", "update", iccid, "--static-ip", addr)
	var g groupFile
	if err := yaml.Unmarshal([]byte(s.mustCLI(t, "", "group", "get", "asset-trackers")), &g); err != nil || len(g.Policy.Inbound) != 1 {
		t.Fatalf("group asset-trackers: %+v, %v", g, err)
	}
	in := &g.Policy.Inbound[0]
	in.Ports = append(in.Ports, simguard.PortRange{From: uint16(admin), To: uint16(admin)}, simguard.PortRange{From: uint16(api), To: uint16(api)})
	b, err := yaml.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "asset-trackers.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(t, "", "group", "apply", "-f", file, "--yes")
	return []string{
		"SIMGUARD_SCAN_TARGET=" + addr, "SIMGUARD_SCAN_ADMIN_PORT=" + strconv.Itoa(admin), "SIMGUARD_SCAN_API_PORT=" + strconv.Itoa(api),
		"SIMGUARD_SCAN_ICCID=" + iccid, "SIMGUARD_SCAN_GROUP=asset-trackers",
	}
}

// TestConsoleSessionsFromRADIUS checks the adapter that feeds the
// console's live-session panels from the RADIUS accounting store: live
// sessions only, newest first, of the caller's tenant, counted in full.
func TestConsoleSessionsFromRADIUS(t *testing.T) {
	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen = t.TempDir(), "127.0.0.1:0"
	out := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx := context.Background()
	cp, err := openControlPlane(ctx, cfg, slog.New(slog.DiscardHandler), env)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.close()
	secret := regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String())[1]
	a, _, err := cp.svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	admin := simguard.WithActor(ctx, a)
	other, err := cp.svc.CreateTenant(admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	save := func(tenant, sim int64, id string, stopped bool) {
		s := &simguard.RADIUSSession{TenantID: tenant, SIMID: sim, NAS: "pgw", SessionID: id, IMSI: "00101000000000" + id[len(id)-1:],
			IP: netip.MustParseAddr("10.0.0." + id[len(id)-1:]), Start: start, LastUpdate: start}
		if stopped {
			s.Stop = start.Add(time.Minute)
		}
		if err := cp.db.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	save(1, 7, "s1", false)
	save(1, 8, "s2", true) // over
	save(1, 7, "s3", false)
	save(other.ID, 9, "s4", false) // another tenant's
	save(1, 9, "s5", false)

	src := consoleSessions{cp.svc}
	got, live, err := src.LiveSessions(admin, 0, 2)
	if err != nil || live != 3 || len(got) != 2 || got[0].IP != "10.0.0.5" || got[1].IP != "10.0.0.3" {
		t.Fatalf("LiveSessions = %+v, %d, %v; want the newest two of three live", got, live, err)
	}
	got, live, err = src.LiveSessions(admin, 7, 10)
	if err != nil || live != 2 || len(got) != 2 || got[0].SIMID != 7 || got[1].IMSI != "001010000000001" {
		t.Fatalf("LiveSessions(SIM 7) = %+v, %d, %v", got, live, err)
	}
	if _, _, err := src.LiveSessions(ctx, 0, 10); simguard.ErrorCode(err) != simguard.EUNAUTHORIZED {
		t.Fatalf("without an actor: %v", err)
	}
}
