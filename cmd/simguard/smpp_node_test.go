package main

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestSMSFirewallNode runs "simguard smpp" as a separate node of an
// in-process control plane, with a node token: binds are checked through
// the API, the policy follows the control plane (a SIM suspended with the
// CLI is refused), events and usage go back to it, and a deleted account
// loses its bind.
func TestSMSFirewallNode(t *testing.T) {
	smpptest.NeedPerl(t)
	const wait = 10 * time.Second
	s := startServer(t, t.TempDir(), true)
	defer s.stop()
	out := mustCLI(t, s, "", "token", "create", "--name", "smpp-node-1", "--role", "node")
	nodeToken := regexp.MustCompile(`sgt_\S+`).FindString(out)
	mustCLI(t, s, "pw1\n", "smpp", "account", "add", "fleetapp", "--mo-prefix", "12345", "--password-stdin")

	smsc := smpptest.StartPerl(t, perlScript("smsc.pl"))
	smscPort := smpptest.Num(smsc.Next(t, "listening", wait), "port")
	nodeOut := &syncBuffer{}
	env := &cliEnv{stdout: nodeOut, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(k string) string {
		switch k {
		case "SIMGUARD_TOKEN":
			return nodeToken
		case "SIMGUARD_SMPP_PASSWORD":
			return "fwpw"
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, env, []string{"smpp", "--server", s.url, "--smpp-listen", "127.0.0.1:0",
			"--smpp-upstream", "fw@127.0.0.1:" + strconv.Itoa(smscPort), "--account-check", "100ms", "--log-level", "error"})
	}()
	defer func() {
		cancel()
		select {
		case code := <-exit:
			if code != 0 {
				t.Errorf("node exited with %d:\n%s", code, nodeOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("the node did not stop")
		}
	}()
	var port string
	for deadline := time.Now().Add(wait); port == ""; time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(nodeOut.String()); m != nil {
			port = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not start:\n%s", nodeOut.String())
		}
	}
	if b := smsc.Next(t, "bind", wait); b["system_id"] != "fw" || b["password"] != "fwpw" {
		t.Fatalf("the node bound to the SMSC as %v", b)
	}
	bad := smpptest.StartPerl(t, perlScript("esme.pl"), port, "fleetapp", "guess")
	if b := bad.Next(t, "bind", wait); smpptest.Num(b, "status") != 0x0E {
		t.Fatalf("wrong password bound through the node: %v", b)
	}
	esme := smpptest.StartPerl(t, perlScript("esme.pl"), port, "fleetapp", "pw1")
	if b := esme.Next(t, "bind", wait); smpptest.Num(b, "status") != 0 {
		t.Fatalf("bind through the node: %v", b)
	}
	sub := &submitter{t: t, esme: esme}
	tracker := demo.MSISDN(650)
	if st := sub.submit("12345", tracker, nil); st != 0 {
		t.Fatalf("text through the node: 0x%x", st)
	}
	if st := sub.submit("447700900123", tracker, nil); st != 0x0A {
		t.Errorf("denied source through the node: 0x%x", st)
	}
	// The node follows the control plane: suspended there, refused here.
	mustCLI(t, s, "", "sim", "suspend", demo.IMSI(650))
	deadline := time.Now().Add(20 * time.Second)
	for st := sub.submit("12345", tracker, nil); st != 0x45; st = sub.submit("12345", tracker, nil) {
		if time.Now().After(deadline) {
			t.Fatalf("the node still answers 0x%x for a suspended SIM", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Its events and the usage of what it delivered reach the control plane.
	space := regexp.MustCompile(`\s+`)
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		ev := space.ReplaceAllString(mustCLI(t, s, "", "events", "--type", "sms.mt"), " ")
		if strings.Contains(ev, "sms.mt allow allowed") && strings.Contains(ev, "sms.mt deny sms_peer_denied") && strings.Contains(ev, "sms.mt deny sim_suspended") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node's events did not arrive:\n%s", ev)
		}
	}
	// (More than one message may have passed before the node heard of
	// the suspension.)
	out = mustCLI(t, s, "", "sim", "get", demo.IMSI(650))
	if m := regexp.MustCompile(`(\d+) SMS since`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("usage of the node's messages:\n%s", out)
	}
	// An account deleted on the control plane loses its bind on the node.
	mustCLI(t, s, "", "smpp", "account", "delete", "fleetapp")
	select {
	case <-esme.Exited():
	case <-time.After(wait):
		t.Fatal("the deleted account is still bound to the node")
	}
}
