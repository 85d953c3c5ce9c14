//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// TestGatewayNodeFollows runs "simguard gateway --server URL" as a node
// programming a network namespace of its own: it installs the table from
// the remote policy, follows a suspension made on the control plane with
// an element update, and leaves the table in place when it stops.
func TestGatewayNodeFollows(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (ip netns add)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	b := make([]byte, 4)
	rand.Read(b)
	ns := "sgwnode" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("the kernel refuses network namespaces here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nft := func(args ...string) string {
		out, _ := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
		return string(out)
	}

	s := startServer(t, t.TempDir(), false)
	defer s.stop()
	ctx := context.Background()
	api, err := client.New(s.url, s.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := simguard.Group{Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData},
		Egress: []simguard.FlowRule{{CIDR: netip.MustParsePrefix("192.0.2.0/24"), Proto: "tcp", Ports: []simguard.PortRange{{From: 443, To: 443}}}}}}
	if _, err := api.ApplyGroup(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ImportSIMs(ctx, strings.NewReader(`[{"iccid":"8949000000000000018","imsi":"001010000000001","group":"meters","state":"active","static_ip":"10.64.1.2"}]`), "application/json", nil); err != nil {
		t.Fatal(err)
	}
	code, out := s.cli(t, s.token, "", "token", "create", "--name", "gw-node", "--role", "node")
	nodeToken := regexp.MustCompile(`sgt_\S+`).FindString(out)
	if code != 0 || nodeToken == "" {
		t.Fatalf("token create: %d %s", code, out)
	}

	var nodeOut syncBuffer
	env := &cliEnv{stdout: &nodeOut, stderr: &nodeOut, stdin: bytes.NewReader(nil), getenv: func(k string) string {
		if k == "SIMGUARD_TOKEN" {
			return nodeToken
		}
		return ""
	}}
	nctx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- run(nctx, env, []string{"gateway", "--server", s.url, "--device-net", "10.64.0.0/16", "--uplink", "up0",
			"--netns", "/run/netns/" + ns, "--resync", "1h", "--log-level", "debug"})
	}()
	defer cancel()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20s\nnode output:\n%s\nruleset:\n%s", what, nodeOut.String(), nft("list", "ruleset"))
			}
			select {
			case c := <-done:
				t.Fatalf("the node exited (%d) while waiting for %s:\n%s", c, what, nodeOut.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	waitFor("table installed", func() bool {
		return strings.Contains(nft("list", "map", "inet", "simguard", "sim4_out"), "10.64.1.2 : goto g")
	})

	if _, err := api.SIMAction(ctx, "001010000000001", "suspend", nil, 0); err != nil {
		t.Fatal(err)
	}
	waitFor("suspension followed", func() bool { return strings.Contains(nft("list", "set", "inet", "simguard", "blocked4"), "10.64.1.2") })
	if !strings.Contains(nodeOut.String(), "gateway elements updated") {
		t.Errorf("the suspension was not applied as an element update:\n%s", nodeOut.String())
	}

	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Fatalf("node exit %d:\n%s", c, nodeOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not stop")
	}
	if !strings.Contains(nft("list", "tables"), "inet simguard") {
		t.Error("the table is gone after the node stopped (want fail closed)")
	}
}
