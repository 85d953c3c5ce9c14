package main

import (
	"context"
	"flag"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	sgradius "github.com/simguard/simguard/radius"
)

// TestServeRADIUSEndToEnd runs "simguard serve" with the demo fleet and the
// RADIUS server, registers a NAS client with the CLI (through the API),
// lets radclient open a session for a demo meter, then suspends the SIM
// through the API: the test NAS receives the Disconnect-Request and ACKs
// it, and the session shows the ACK in "simguard radius sessions".
func TestServeRADIUSEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("radclient"); err != nil {
		t.Skip("radclient not installed (Debian package freeradius-utils)")
	}
	const secret = "e2e-shared-secret"
	coaPort, got := startTestNAS(t, "127.0.0.1", secret)

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = t.TempDir(), "127.0.0.1:0", true
	cfg.RADIUS.Enabled = true
	cfg.RADIUS.AuthAddrs, cfg.RADIUS.AcctAddrs = []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}
	cfg.RADIUS.RecheckInterval = -1
	cfg.RADIUS.Pools = []sgradius.PoolConfig{{Name: "meters", APNs: []string{"meters.iot"}, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.98.0.0/24")}}}
	s := startServerConfig(t, cfg)
	defer s.stop()
	cp, ctx := s.cp, context.Background()
	auth, acct := cp.radius.AuthAddrs()[0], cp.radius.AcctAddrs()[0]

	// The demo registered a loopback NAS client; this test registers its
	// own through the CLI and the API (the secret goes in on stdin).
	code, listing := s.cli(t, s.token, "", "radius", "nas", "list")
	m := regexp.MustCompile(`(?m)^(\d+)\s+demo-loopback\s+127\.0\.0\.0/8`).FindStringSubmatch(listing)
	if code != 0 || m == nil || strings.Contains(listing, demoSecret) || !strings.Contains(s.out.String(), "radclient -x") {
		t.Fatalf("the demo's NAS client: exit %d\n%s\nserve said:\n%s", code, listing, s.out.String())
	}
	if code, out := s.cli(t, s.token, "", "radius", "nas", "delete", m[1]); code != 0 {
		t.Fatalf("radius nas delete: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, secret+"\n", "radius", "nas", "add", "--name", "pgw-e2e", "--prefix", "127.0.0.1",
		"--coa-port", coaPort); code != 0 {
		t.Fatalf("radius nas add: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "", "radius", "nas", "list"); code != 0 || !strings.Contains(out, "pgw-e2e") || strings.Contains(out, secret) {
		t.Errorf("radius nas list: exit %d\n%s", code, out)
	}

	meter := []string{"User-Name = 001010000000001", "3GPP-IMSI = 001010000000001", "3GPP-IMEISV = 3520990000000101",
		"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Message-Authenticator = 0x00"}
	var res string
	deadline := time.Now().Add(10 * time.Second)
	for { // the topic reloads the clients asynchronously
		res = radclientRun(t, auth.String(), "auth", secret, meter)
		if strings.Contains(res, "Access-Accept") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(res, "Received Access-Accept") {
		t.Fatalf("demo meter not accepted:\n%s", res)
	}
	suspended := []string{"User-Name = 001010000000952", "3GPP-IMSI = 001010000000952", "Called-Station-Id = meters.iot", "Message-Authenticator = 0x00"}
	if res := radclientRun(t, auth.String(), "auth", secret, suspended); !strings.Contains(res, `Reply-Message = "sim_suspended"`) {
		t.Errorf("suspended demo SIM:\n%s", res)
	}
	start := []string{"Acct-Status-Type = Start", "Acct-Session-Id = e2e-1", "User-Name = 001010000000001",
		"3GPP-IMSI = 001010000000001", "3GPP-IMEISV = 3520990000000101", "Called-Station-Id = meters.iot",
		"3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Framed-IP-Address = 10.11.12.13"}
	if res := radclientRun(t, acct.String(), "acct", secret, start); !strings.Contains(res, "Accounting-Response") {
		t.Fatalf("Accounting-Start not answered:\n%s", res)
	}

	if code, out := s.cli(t, s.token, "", "sim", "suspend", "001010000000001"); code != 0 {
		t.Fatalf("sim suspend: exit %d\n%s", code, out)
	}
	select {
	case p := <-got:
		if rfc2866.AcctSessionID_GetString(p) != "e2e-1" {
			t.Errorf("Disconnect-Request for session %q", rfc2866.AcctSessionID_GetString(p))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the test NAS received no Disconnect-Request after the suspend")
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		sessions, err := cp.db.ListSessions(ctx, simguard.RADIUSSessionFilter{NAS: "pgw-e2e"})
		if err == nil && len(sessions) == 1 && sessions[0].Disconnect != nil && sessions[0].Disconnect.Outcome == simguard.DisconnectACK {
			if sessions[0].SIMID == 0 || sessions[0].Disconnect.Reason != simguard.ReasonSIMSuspended {
				t.Errorf("session %+v", sessions[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session did not record the ACK: %+v %v", sessions, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, listing = s.cli(t, s.token, "", "radius", "sessions", "--live")
	if code != 0 || !strings.Contains(listing, "e2e-1") || !strings.Contains(listing, "ack (sim_suspended)") || !strings.Contains(listing, "10.11.12.13") {
		t.Errorf("radius sessions: exit %d\n%s", code, listing)
	}

	// A meter without a static IP gets a pool address, which a terminate
	// gives back.
	meter30 := []string{"User-Name = " + demo.IMSI(30), "3GPP-IMSI = " + demo.IMSI(30), "3GPP-IMEISV = " + demo.IMEI(30) + "01",
		"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 9", "3GPP-SGSN-MCC-MNC = 00102", "Message-Authenticator = 0x00"}
	if res := radclientRun(t, auth.String(), "auth", secret, meter30); !strings.Contains(res, "Framed-IP-Address = 10.98.0.1") {
		t.Fatalf("meter from the pool:\n%s", res)
	}
	sim30, err := cp.db.FindSIM(ctx, 1, demo.IMSI(30))
	if err != nil {
		t.Fatal(err)
	}
	if l, err := cp.db.GetLease(ctx, "meters", sim30.ID); err != nil || l.IP.String() != "10.98.0.1" {
		t.Fatalf("lease: %+v %v", l, err)
	}
	if code, out := s.cli(t, s.token, "", "sim", "terminate", demo.IMSI(30)); code != 0 {
		t.Fatalf("sim terminate: exit %d\n%s", code, out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := cp.db.GetLease(ctx, "meters", sim30.ID)
		if simguard.ErrorCode(err) == simguard.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminated SIM keeps its address: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startTestNAS is a NAS's Disconnect/CoA port on host: it ACKs every
// authentic Disconnect-Request and passes it on.
func startTestNAS(t *testing.T, host, secret string) (port string, got <-chan *radius.Packet) {
	t.Helper()
	nas, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nas.Close() })
	ch := make(chan *radius.Packet, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := nas.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			p, err := radius.Parse(buf[:n], []byte(secret))
			if err != nil || !radius.IsAuthenticRequest(buf[:n], []byte(secret)) {
				continue
			}
			if wire, err := p.Response(radius.CodeDisconnectACK).Encode(); err == nil {
				_, _ = nas.WriteToUDPAddrPort(wire, from)
			}
			select {
			case ch <- p:
			default:
			}
		}
	}()
	return strconv.Itoa(int(nas.LocalAddr().(*net.UDPAddr).AddrPort().Port())), ch
}

func radclientRun(t *testing.T, addr, cmd, secret string, attrs []string) string {
	t.Helper()
	c := exec.Command("radclient", "-x", "-r", "1", "-t", "2", addr, cmd, secret)
	c.Stdin = strings.NewReader(strings.Join(attrs, "\n") + "\n")
	b, _ := c.CombinedOutput()
	return string(b)
}

// TestRADIUSConfigExample: the configuration example of docs/radius.md
// is what serve's strict config decoder accepts and the server validates.
func TestRADIUSConfigExample(t *testing.T) {
	readme, err := os.ReadFile("../../docs/radius.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/radius.md has no yaml example")
	}
	path := filepath.Join(t.TempDir(), "simguard.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	cfg, err := loadServeConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", path}, env)
	if err != nil {
		t.Fatalf("the README example does not load: %v", err)
	}
	rc := cfg.RADIUS
	if !rc.Enabled || rc.InterimInterval != 10*time.Minute || len(rc.Pools) != 1 || rc.Pools[0].Prefixes[1].String() != "2001:db8:64::/112" ||
		rc.Disconnect.Attempts != 3 || rc.RecheckInterval != time.Minute {
		t.Errorf("decoded %+v", rc)
	}
	if err := rc.Config.Validate(); err != nil {
		t.Errorf("the README example does not validate: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("radius:\n  enabled: true\n  colour: red\n"), 0o600)
	if _, err := loadServeConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", bad}, env); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an unknown radius field: %v", err)
	}
}

// TestRADIUSNodeConfigExample: the node configuration example of
// docs/radius.md is what the node's strict decoder accepts.
func TestRADIUSNodeConfigExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/radius.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "Node config file")
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/radius.md has no node config example")
	}
	path := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg radiusNodeConfig
	if err := decodeYAMLFile(path, &cfg); err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if cfg.Server == "" || cfg.NASPoll != 5*time.Second || cfg.Metrics == "" || len(cfg.RADIUS.Pools) != 1 {
		t.Errorf("decoded %+v", cfg)
	}
	if err := cfg.RADIUS.Config.Validate(); err != nil {
		t.Errorf("the example does not validate: %v", err)
	}
}
