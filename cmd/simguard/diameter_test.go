package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/diameter/wire"
)

// TestDiameterNodeEndToEnd: "simguard diameter" as a node of "simguard
// serve": the peer and the device list are managed with the CLI, the
// node answers ECRs from the control plane's policy (device list
// included), learns an IMEI through the API, and its events reach the
// control plane.
func TestDiameterNodeEndToEnd(t *testing.T) {
	s := startServer(t, t.TempDir(), true)
	defer s.stop()
	if s.token == "" {
		t.Fatal("no admin token")
	}
	code, out := s.cli(t, s.token, "", "token", "create", "--name", "diameter-node-1", "--role", "node")
	nodeToken := regexp.MustCompile(`sgt_\S+`).FindString(out)
	if code != 0 || nodeToken == "" {
		t.Fatalf("token create --role node: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "", "diameter", "peers", "add", "--origin-host", "mme.node.test", "--prefix", "127.0.0.1", "--plmns", "001-01"); code != 0 {
		t.Fatalf("diameter peers add: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "", "diameter", "peers", "list"); code != 0 || !strings.Contains(out, "mme.node.test") || !strings.Contains(out, "001-01") {
		t.Fatalf("diameter peers list: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "imei,status,note\n"+demo.IMEI(1)+",stolen,case 1\n", "devices", "import", "-"); code != 0 || !strings.Contains(out, "1 device(s) imported") {
		t.Fatalf("devices import: exit %d\n%s", code, out)
	}
	if code, out := s.cli(t, s.token, "", "devices", "list"); code != 0 || !strings.Contains(out, "stolen") {
		t.Fatalf("devices list: exit %d\n%s", code, out)
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
		exited <- run(ctx, env, []string{"diameter", "--server", s.url, "--diameter-listen", "127.0.0.1:0",
			"--diameter-origin-host", "eir.node.test", "--log-level", "warn"})
	}()
	defer func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("the node exited with %d:\n%s", code, nodeOut.String())
		}
	}()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if m := regexp.MustCompile(`Diameter node listening on (\S+)`).FindStringSubmatch(nodeOut.String()); m != nil {
			addr = m[1]
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

	mme := dialMME(t, addr, "mme.node.test")
	cases := []struct {
		imsi, imei string
		want       uint32
	}{
		{demo.IMSI(0), demo.IMEI(0), wire.EquipmentWhitelisted},
		{demo.IMSI(0), demo.IMEI(5), wire.EquipmentBlacklisted},       // another meter's device
		{demo.IMSI(1), demo.IMEI(1), wire.EquipmentBlacklisted},       // its own device, reported stolen
		{demo.IMSI(600), "86000000000600", wire.EquipmentWhitelisted}, // learn lock binds
	}
	for _, c := range cases {
		if got := mme.ecr(t, c.imsi, c.imei); got != c.want {
			t.Errorf("ECR %s/%s: Equipment-Status %d, want %d", c.imsi, c.imei, got, c.want)
		}
	}
	ac, err := client.New(s.url, s.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		sim, err := ac.SIM(context.Background(), demo.IMSI(600))
		if err == nil && sim.IMEILock.IMEI == "86000000000600" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the learned IMEI did not reach the control plane: %+v %v", sim.IMEILock, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		evs, _, err := ac.Events(context.Background(), client.EventQuery{Type: "diameter.ecr", Limit: 100})
		if err == nil && len(evs) >= len(cases) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ECR events on the control plane: %d, %v", len(evs), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// policy check explains the same device-list decision.
	if code, out := s.cli(t, s.token, "", "policy", "check", "--kind", "imei_check", "--imsi", demo.IMSI(1), "--imei", demo.IMEI(1)); code != 0 || !strings.Contains(out, "device_blocked") || !strings.Contains(out, "device_list") {
		t.Fatalf("policy check: exit %d\n%s", code, out)
	}
}

type testMME struct {
	nc  net.Conn
	hbh uint32
}

func dialMME(t *testing.T, addr, host string) *testMME {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	m := &testMME{nc: nc}
	cer := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest, Code: wire.CmdCapabilitiesExchange, HopByHop: 1, EndToEnd: 1}}
	cer.Add(wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, host), wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "node.test"),
		wire.NewUint32(wire.AVPAuthApplicationID, 0, wire.AVPMandatory, wire.AppS13))
	if a := m.roundTrip(t, cer); a.Find(wire.AVPResultCode, 0) == nil || resultCode(a) != wire.ResultSuccess {
		t.Fatalf("CEA:\n%s", wire.Format(a))
	}
	return m
}

func resultCode(m *wire.Message) uint32 {
	v, _ := m.Find(wire.AVPResultCode, 0).Uint32()
	return v
}

func (m *testMME) roundTrip(t *testing.T, req *wire.Message) *wire.Message {
	t.Helper()
	m.nc.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := m.nc.Write(req.Append(nil)); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, wire.HeaderLen)
	if _, err := io.ReadFull(m.nc, hdr); err != nil {
		t.Fatal(err)
	}
	n, err := wire.PeekLength(hdr)
	if err != nil {
		t.Fatal(err)
	}
	b := append(hdr, make([]byte, n-wire.HeaderLen)...)
	if _, err := io.ReadFull(m.nc, b[wire.HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	a, err := wire.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (m *testMME) ecr(t *testing.T, imsi, imei string) uint32 {
	t.Helper()
	m.hbh++
	req := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: wire.CmdMEIdentityCheck, AppID: wire.AppS13, HopByHop: m.hbh + 10, EndToEnd: m.hbh}}
	req.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, fmt.Sprintf("mme.node.test;%d", m.hbh)),
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, "mme.node.test"), wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "node.test"),
		wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory, wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imei)),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi))
	a := m.roundTrip(t, req)
	es := a.Find(wire.AVPEquipmentStatus, wire.Vendor3GPP)
	if es == nil {
		t.Fatalf("ECA without Equipment-Status:\n%s", wire.Format(a))
	}
	v, _ := es.Uint32()
	return v
}

// TestDiameterConfigExample: the config example of docs/diameter.md loads
// strictly and validates; unknown keys are errors.
func TestDiameterConfigExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/diameter.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/diameter.md has no yaml example")
	}
	path := filepath.Join(t.TempDir(), "simguard.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &cliEnv{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	cfg, err := loadServeConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", path}, env)
	if err != nil {
		t.Fatalf("the docs example does not load: %v", err)
	}
	dc := cfg.Diameter
	if !dc.Enabled || dc.HSS.Host != "hss1.epc.mnc001.mcc001.3gppnetwork.org" || dc.Watchdog != 30*time.Second || dc.UnknownSIM != "blacklisted" {
		t.Errorf("decoded %+v", dc)
	}
	if err := checkDiameter(&cfg, env); err != nil {
		t.Errorf("the docs example does not validate: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("diameter:\n  enabled: true\n  colour: red\n"), 0o600)
	if _, err := loadServeConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", bad}, env); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an unknown diameter field: %v", err)
	}
	for _, v := range []string{"diameter:\n  enabled: true\n  watchdog: 10ms\n", "diameter:\n  enabled: true\n  unknown_sim: maybe\n",
		"diameter:\n  enabled: true\n  hss: {addr: 127.0.0.1:3868}\n"} {
		_ = os.WriteFile(bad, []byte(v), 0o600)
		c, err := loadServeConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", bad}, env)
		if err == nil {
			err = checkDiameter(&c, env)
		}
		if err == nil {
			t.Errorf("accepted %q", v)
		}
	}
}
