package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/demo"
)

// TestRADIUSNodeEndToEnd runs "simguard serve" (without its own RADIUS
// server) and "simguard radius --server URL" as a separate enforcement
// node, as a user would: a node token and the NAS client are made with
// the CLI, radclient talks to the node, and the node keeps its sessions,
// leases, learned IMEIs and events on the control plane. A suspend on the
// control plane reaches the node through the policy mirror, which sends
// the test NAS a Disconnect-Request; the ACK shows in "simguard radius
// sessions" on the control plane. A NAS client registered later (over
// IPv6) is picked up by the node's poll.
func TestRADIUSNodeEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("radclient"); err != nil {
		t.Skip("radclient not installed (Debian package freeradius-utils)")
	}
	const secret = "node-shared-secret"
	coaPort, disconnects := startTestNAS(t, "127.0.0.1", secret)
	s := startServer(t, t.TempDir(), true)
	defer s.stop()
	if s.token == "" {
		t.Fatal("no admin token")
	}

	code, out := s.cli(t, s.token, "", "token", "create", "--name", "radius-node-1", "--role", "node")
	nodeToken := regexp.MustCompile(`sgt_\S+`).FindString(out)
	if code != 0 || nodeToken == "" {
		t.Fatalf("token create --role node: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, secret+"\n", "radius", "nas", "add", "--name", "pgw-node", "--prefix", "127.0.0.1",
		"--coa-port", coaPort); code != 0 {
		t.Fatalf("radius nas add: exit %d\n%s", code, out)
	}

	cfgFile := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(cfgFile, []byte(`nas_poll: 1s
radius:
  enabled: true  # copied from serve's config: ignored here
  auth_addrs: ["127.0.0.1:0", "[::1]:0"]
  acct_addrs: ["127.0.0.1:0"]
  recheck_interval: -1s
  pools:
    - {name: meters, apns: [meters.iot], prefixes: [10.99.0.0/24]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	nodeOut := &syncBuffer{}
	env := &cliEnv{stdout: nodeOut, stderr: nodeOut, stdin: strings.NewReader(""), getenv: func(k string) string {
		if k == "SIMGUARD_TOKEN" {
			return nodeToken
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, env, []string{"radius", "--server", s.url, "--config", cfgFile, "--log-level", "warn"})
	}()
	defer func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("the node exited with %d:\n%s", code, nodeOut.String())
		}
	}()
	var auth4, auth6, acct string
	for deadline := time.Now().Add(30 * time.Second); auth4 == ""; {
		m := regexp.MustCompile(`\(auth (\S+) (\S+); accounting (\S+)\)`).FindStringSubmatch(nodeOut.String())
		if m != nil {
			auth4, auth6, acct = m[1], m[2], m[3]
			break
		}
		select {
		case code := <-exited:
			t.Fatalf("the node exited with %d:\n%s", code, nodeOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not start:\n%s", nodeOut.String())
		}
	}

	// A meter without a static IP gets an address from the node's pool,
	// leased on the control plane.
	meter := []string{"User-Name = " + demo.IMSI(20), "3GPP-IMSI = " + demo.IMSI(20), "3GPP-IMEISV = " + demo.IMEI(20) + "01",
		"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Message-Authenticator = 0x00"}
	if res := radclientRun(t, auth4, "auth", secret, meter); !strings.Contains(res, "Received Access-Accept") || !strings.Contains(res, "Framed-IP-Address = 10.99.0.1") {
		t.Fatalf("meter through the node:\n%s", res)
	}
	nc, err := client.New(s.url, nodeToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if leases, err := nc.IPLeases(context.Background(), "meters"); err != nil || len(leases) != 1 || leases[0].IP.String() != "10.99.0.1" {
		t.Errorf("leases on the control plane: %+v %v", leases, err)
	}
	// A tracker in learn mode binds its first IMEI: a write on the control plane.
	tracker := []string{"User-Name = " + demo.IMSI(600), "3GPP-IMSI = " + demo.IMSI(600), "3GPP-IMEISV = 3569990000060001",
		"Called-Station-Id = track.iot", "3GPP-RAT-Type = 6", "3GPP-SGSN-MCC-MNC = 26201", "Message-Authenticator = 0x00"}
	if res := radclientRun(t, auth4, "auth", secret, tracker); !strings.Contains(res, "Received Access-Accept") {
		t.Fatalf("tracker through the node:\n%s\nnode:\n%s", res, nodeOut.String())
	}
	if code, out := s.cli(t, s.token, "", "sim", "get", demo.IMSI(600)); code != 0 || !strings.Contains(out, "35699900000600") {
		t.Errorf("the IMEI the node learned is not bound on the control plane: exit %d\n%s", code, out)
	}

	start := []string{"Acct-Status-Type = Start", "Acct-Session-Id = node-1", "User-Name = " + demo.IMSI(20),
		"3GPP-IMSI = " + demo.IMSI(20), "3GPP-IMEISV = " + demo.IMEI(20) + "01", "Called-Station-Id = meters.iot",
		"3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Framed-IP-Address = 10.99.0.1"}
	if res := radclientRun(t, acct, "acct", secret, start); !strings.Contains(res, "Accounting-Response") {
		t.Fatalf("Accounting-Start through the node:\n%s", res)
	}
	interim := append([]string{"Acct-Status-Type = Interim-Update", "Acct-Input-Octets = 1000", "Acct-Output-Octets = 2000"}, start[1:]...)
	if res := radclientRun(t, acct, "acct", secret, interim); !strings.Contains(res, "Accounting-Response") {
		t.Fatalf("Interim-Update through the node:\n%s", res)
	}
	if code, out := s.cli(t, s.token, "", "radius", "sessions", "--live"); code != 0 || !strings.Contains(out, "node-1") ||
		!strings.Contains(out, "pgw-node") || !strings.Contains(out, "10.99.0.1") || !strings.Contains(out, "1000") {
		t.Errorf("the node's session on the control plane: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "", "sim", "get", demo.IMSI(20)); code != 0 || !strings.Contains(out, "3000 bytes") {
		t.Errorf("usage the node metered: exit %d\n%s", code, out)
	}

	// Suspended on the control plane → the node disconnects the session.
	if code, out := s.cli(t, s.token, "", "sim", "suspend", demo.IMSI(20)); code != 0 {
		t.Fatalf("sim suspend: exit %d\n%s", code, out)
	}
	select {
	case p := <-disconnects:
		if rfc2866.AcctSessionID_GetString(p) != "node-1" || rfc2865.FramedIPAddress_Get(p).String() != "10.99.0.1" {
			t.Errorf("Disconnect-Request for session %q, IP %s", rfc2866.AcctSessionID_GetString(p), rfc2865.FramedIPAddress_Get(p))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the test NAS received no Disconnect-Request after the suspend\n%s", nodeOut.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, out := s.cli(t, s.token, "", "radius", "sessions", "--live")
		if strings.Contains(out, "ack (sim_suspended)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ACK is not recorded on the control plane:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := radclientRun(t, auth4, "auth", secret, meter); !strings.Contains(res, `Reply-Message = "sim_suspended"`) {
		t.Errorf("suspended meter through the node:\n%s", res)
	}

	// A NAS client registered now, over IPv6, is picked up by the poll.
	if code, out := s.cli(t, s.token, secret+"\n", "radius", "nas", "add", "--name", "pgw-node6", "--prefix", "::1"); code != 0 {
		t.Fatalf("radius nas add ::1: exit %d\n%s", code, out)
	}
	meter21 := []string{"User-Name = " + demo.IMSI(21), "3GPP-IMSI = " + demo.IMSI(21), "3GPP-IMEISV = " + demo.IMEI(21) + "01",
		"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 9", "3GPP-SGSN-MCC-MNC = 00101", "Message-Authenticator = 0x00"}
	for deadline := time.Now().Add(20 * time.Second); ; {
		res := radclientRun(t, auth6, "auth", secret, meter21)
		if strings.Contains(res, "Received Access-Accept") {
			if !strings.Contains(res, "Framed-IP-Address = 10.99.0.2") {
				t.Errorf("second meter's address:\n%s", res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not pick up the IPv6 NAS client:\n%s", res)
		}
	}

	// The node's events are in the control plane's event log.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, out := s.cli(t, s.token, "", "events", "--type", "radius.")
		if strings.Contains(out, "radius.disconnect") && strings.Contains(out, "radius.accounting") && strings.Contains(out, "nas=pgw-node6") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node's events are not on the control plane:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Detection on the control plane sees the node's events: a burst of
	// wrong-IMEI requests through the node raises the brute-force alert,
	// whose action suspends the SIM.
	thief := []string{"User-Name = " + demo.IMSI(22), "3GPP-IMSI = " + demo.IMSI(22), "3GPP-IMEISV = 3599990000000101",
		"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Message-Authenticator = 0x00"}
	for range 6 {
		if res := radclientRun(t, auth4, "auth", secret, thief); !strings.Contains(res, "Access-Reject") {
			t.Fatalf("wrong IMEI through the node:\n%s", res)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, alerts := s.cli(t, s.token, "", "alerts", "list")
		_, sim := s.cli(t, s.token, "", "sim", "get", demo.IMSI(22))
		if strings.Contains(alerts, "radius-bruteforce-sim") && strings.Contains(sim, "suspended") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert or automatic suspension from the node's events:\nalerts:\n%s\nsim:\n%s", alerts, sim)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The recorded events replay offline: 'events --json' writes what
	// 'detect replay' reads, and the same rule fires.
	code, jsonl := s.cli(t, s.token, "", "events", "--type", "radius.access", "--json", "--limit", "1000")
	if code != 0 || strings.Count(jsonl, "\n") < 6 {
		t.Fatalf("events --json: exit %d\n%s", code, jsonl)
	}
	recorded := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(recorded, []byte(jsonl), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runCLI(t, "", "detect", "replay", recorded); code != 0 || !strings.Contains(out, "radius-bruteforce-sim") {
		t.Errorf("detect replay of events --json: exit %d\n%s", code, out)
	}
}
