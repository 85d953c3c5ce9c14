package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/smpp/smpptest"
)

func perlScript(name string) string { return filepath.Join("..", "..", "smpp", "testdata", name) }

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

// startSMPPServer runs serve in-process with the demo fleet and the SMS
// firewall on a free port, relaying to the SMSC at smscAddr as "fw" with
// the password from the environment, as an operator would configure it.
func startSMPPServer(t *testing.T, dir, smscAddr string) (*server, string) {
	t.Helper()
	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = dir, "127.0.0.1:0", true
	cfg.SMPP = smppConfig{
		Listen:       "127.0.0.1:0",
		Upstreams:    []smppUpstreamConfig{{Name: "main", Addrs: []string{smscAddr}, SystemID: "fw", PasswordEnv: "SMSC_PASSWORD"}},
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, BindFailDelay: time.Millisecond,
	}
	out := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(k string) string {
		if k == "SMSC_PASSWORD" {
			return "fwpw"
		}
		return ""
	}}
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
	t.Cleanup(func() {
		if ctx.Err() == nil {
			s.stop()
		}
	})
	s.token = regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String())[1]
	m := regexp.MustCompile(`SMS firewall \(SMPP\) listening on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve did not say where the SMS firewall listens:\n%s", out.String())
	}
	return s, m[1]
}

func mustCLI(t *testing.T, s *server, stdin string, args ...string) string {
	t.Helper()
	code, out := s.cli(t, s.token, stdin, args...)
	if code != 0 {
		t.Fatalf("simguard %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// submitter sends submit_sm through a Perl ESME and returns the status.
type submitter struct {
	t    *testing.T
	esme *smpptest.Perl
	n    int
}

func (s *submitter) submit(src, dst string, extra map[string]any) int {
	s.t.Helper()
	s.n++
	cmd := map[string]any{"op": "submit", "id": strconv.Itoa(s.n), "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": src,
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": dst, "short_message": "hello"}
	for k, v := range extra {
		if v == nil {
			delete(cmd, k)
			continue
		}
		cmd[k] = v
	}
	s.esme.Send(s.t, cmd)
	return smpptest.Num(s.esme.Next(s.t, "submit_resp", 10*time.Second), "status")
}

// TestSMSFirewallEndToEnd is the acceptance test of issue 5 through the
// product: serve with the demo fleet and the SMS firewall on, an ESME
// account made with the CLI, Perl Net::SMPP as the customer's application
// and as the operator's SMSC over real TCP, and SIMs and groups changed
// with the CLI while messages flow. Every decision is visible with
// "simguard events".
func TestSMSFirewallEndToEnd(t *testing.T) {
	smpptest.NeedPerl(t)
	const wait = 10 * time.Second
	smsc := smpptest.StartPerl(t, perlScript("smsc.pl"))
	smscPort := smpptest.Num(smsc.Next(t, "listening", wait), "port")
	s, port := startSMPPServer(t, t.TempDir(), "127.0.0.1:"+strconv.Itoa(smscPort))
	if b := smsc.Next(t, "bind", wait); b["system_id"] != "fw" || b["password"] != "fwpw" {
		t.Fatalf("the firewall bound to the SMSC as %v", b)
	}

	out := mustCLI(t, s, "pw1\n", "smpp", "account", "add", "fleetapp", "--mo-prefix", "12345", "--password-stdin")
	if !strings.Contains(out, "SMPP account fleetapp created") || strings.Contains(out, "pw1") {
		t.Fatalf("account add: %s", out)
	}
	if code, out := s.cli(t, s.token, "", "smpp", "account", "add", "fleetapp"); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate account: %d %s", code, out)
	}
	bad := smpptest.StartPerl(t, perlScript("esme.pl"), port, "fleetapp", "guess")
	if b := bad.Next(t, "bind", wait); smpptest.Num(b, "status") != 0x0E {
		t.Fatalf("wrong password bound: %v", b)
	}
	esme := smpptest.StartPerl(t, perlScript("esme.pl"), port, "fleetapp", "pw1")
	if b := esme.Next(t, "bind", wait); smpptest.Num(b, "status") != 0 {
		t.Fatalf("bind: %v", b)
	}
	sub := &submitter{t: t, esme: esme}
	tracker := func(i int) string { return demo.MSISDN(600 + i) } // asset-trackers: MT from 12345 and 4930123 only

	// A normal text reaches the SMSC unchanged; its receipt comes back.
	esme.Send(t, map[string]any{"op": "submit", "id": "text", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "4930123456",
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": tracker(0), "short_message": "GPS ON", "registered_delivery": 1})
	r := esme.Next(t, "submit_resp", wait)
	if smpptest.Num(r, "status") != 0 || r["message_id"] != "perl-1" {
		t.Fatalf("text: %v", r)
	}
	want := "00" + "0101" + hexOf("4930123456") + "00" + "0101" + hexOf(tracker(0)) + "00" + "000000" + "00" + "00" + "01000000" + "06" + hexOf("GPS ON")
	if got := smsc.Next(t, "submit", wait); got["body_hex"] != want {
		t.Errorf("SMSC got\n%v\nwant\n%v", got["body_hex"], want)
	}
	receipt := "id:perl-1 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:GPS ON"
	smsc.Send(t, map[string]any{"op": "deliver", "id": "r1", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": tracker(0),
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "4930123456", "esm_class": 4, "short_message": receipt,
		"receipted_message_id_hex": hexOf("perl-1\x00"), "message_state_hex": "02"})
	if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0 {
		t.Fatalf("receipt answered %v", r)
	}
	if d := esme.Next(t, "deliver", wait); d["short_message"] != receipt || smpptest.Num(d, "esm_class") != 4 {
		t.Errorf("receipt relayed as %v", d)
	}

	// Denials, each with its documented status (docs/smpp.md).
	if st := sub.submit("447700900123", tracker(1), nil); st != 0x0A {
		t.Errorf("denied source: 0x%x, want ESME_RINVSRCADR", st)
	}
	mustCLI(t, s, "", "sim", "suspend", demo.IMSI(602))
	if st := sub.submit("12345", tracker(2), nil); st != 0x45 {
		t.Errorf("SIM suspended with the CLI: 0x%x, want ESME_RSUBMITFAIL", st)
	}
	ota := map[string]any{"esm_class": 0x40, "protocol_id": 0x7f, "data_coding": 0xf6, "short_message": nil,
		"short_message_hex": "027000" + "00150d00000000505348000000000000a0a40000023f00"}
	if st := sub.submit("12345", tracker(1), ota); st != 0x43 {
		t.Errorf("binary OTA: 0x%x, want ESME_RINVESMCLASS", st)
	}
	if st := sub.submit("12345", tracker(1), map[string]any{"protocol_id": 0x40, "short_message": ""}); st != 0x45 {
		t.Errorf("silent SMS: 0x%x, want ESME_RSUBMITFAIL", st)
	}
	if st := sub.submit("12345", demo.MSISDN(3), nil); st != 0x45 {
		t.Errorf("MT to a meter (sms_mo only): 0x%x, want ESME_RSUBMITFAIL", st)
	}
	flood := map[string]any{"op": "flood", "id": "flood", "n": 12, "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "12345",
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": tracker(3), "short_message": "ping"}
	esme.Send(t, flood)
	statuses := fmt.Sprint(esme.Next(t, "flood", wait)["statuses"])
	if want := "[0 0 0 0 0 0 0 0 0 0 88 88]"; statuses != want {
		t.Errorf("flood: %s, want %s (asset-trackers: 10 a minute, then ESME_RTHROTTLED)", statuses, want)
	}

	// MO: to the account's short code delivered, to a premium number refused.
	smsc.Send(t, map[string]any{"op": "deliver", "id": "mo1", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": tracker(4),
		"destination_addr": "12345", "short_message": "POS 52.52,13.40"})
	if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0 {
		t.Fatalf("MO to the short code: %v", r)
	}
	if d := esme.Next(t, "deliver", wait); d["short_message"] != "POS 52.52,13.40" || d["source_addr"] != tracker(4) {
		t.Errorf("MO delivered as %v", d)
	}
	smsc.Send(t, map[string]any{"op": "deliver", "id": "mo2", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": tracker(4),
		"destination_addr": "9001234", "short_message": "WIN"})
	if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0x0B {
		t.Errorf("MO to a premium number: %v, want ESME_RINVDSTADR", r)
	}

	// The SMS quota: a group with quotas.sms_count 3 refuses the 4th message.
	group := filepath.Join(t.TempDir(), "capped.yaml")
	os.WriteFile(group, []byte("name: sms-capped\npolicy:\n  services: [sms_mt]\n  quotas:\n    period: day\n    sms_count: 3\n    on_exhaustion: block\n"), 0o600)
	mustCLI(t, s, "", "group", "apply", "-f", group, "--yes")
	mustCLI(t, s, "", "sim", "update", demo.IMSI(5), "--group", "sms-capped")
	var quota []int
	for range 5 {
		quota = append(quota, sub.submit("12345", demo.MSISDN(5), nil))
	}
	if got := fmt.Sprint(quota); got != "[0 0 0 20 20]" {
		t.Errorf("quota of 3: %s, want [0 0 0 20 20] (ESME_RMSGQFUL 0x14 from the 4th)", got)
	}
	if out := mustCLI(t, s, "", "sim", "get", demo.IMSI(5)); !strings.Contains(out, "3 SMS since") {
		t.Errorf("usage after the quota test:\n%s", out)
	}

	// The upstream dies with messages outstanding: each is answered, the
	// ESME is throttled while it is down, and it is used again once back.
	smsc.Send(t, map[string]any{"op": "hold"})
	held := map[string]any{"op": "flood", "id": "held", "n": 5, "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "12345",
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": tracker(5), "short_message": "held"}
	esme.Send(t, held)
	for got := 0; got < 5; { // the SMSC holds all five
		if m := smsc.Next(t, "submit", wait); m["destination_addr"] == tracker(5) {
			got++
		}
	}
	smsc.Kill()
	if got := fmt.Sprint(esme.Next(t, "flood", wait)["statuses"]); got != "[8 8 8 8 8]" {
		t.Errorf("messages outstanding when the SMSC died: %s, want ESME_RSYSERR for each", got)
	}
	// Until the firewall sees the link gone (at once, here) a message may
	// still go out on it and come back ESME_RSYSERR; each try goes to
	// another tracker, so that no SIM reaches its rate limit.
	try := 10
	untilStatus := func(want int, what string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for st := sub.submit("12345", tracker(try), nil); st != want; st = sub.submit("12345", tracker(try), nil) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: 0x%x, want 0x%x", what, st, want)
			}
			try++
			time.Sleep(10 * time.Millisecond)
		}
		try++
	}
	untilStatus(0x58, "while the SMSC is down (ESME_RTHROTTLED)")
	smsc2 := smpptest.StartPerl(t, perlScript("smsc.pl"), strconv.Itoa(smscPort))
	smsc2.Next(t, "listening", wait)
	smsc2.Next(t, "bind", wait)
	untilStatus(0, "after the SMSC came back")
	if got := smsc2.Next(t, "submit", wait); !strings.HasPrefix(got["destination_addr"].(string), "4915100006") {
		t.Errorf("restarted SMSC got %v", got)
	}

	// Every decision is an event, seen with the CLI.
	wantEvents := []string{
		"sms.mt deny sms_peer_denied", "sms.mt deny sim_suspended", "sms.mt deny sms_binary_denied",
		"sms.mt deny sms_silent_denied", "sms.mt deny service_disabled", "sms.mt deny rate_limited",
		"sms.mt deny quota_exceeded", "sms.mt allow allowed", "sms.mo deny sms_peer_denied", "sms.mo allow allowed",
		"smpp.bind deny auth_failed",
	}
	space := regexp.MustCompile(`\s+`)
	var events string
	for deadline := time.Now().Add(wait); ; {
		events = space.ReplaceAllString(mustCLI(t, s, "", "events", "--type", "sms.,smpp.", "--limit", "1000"), " ")
		missing := ""
		for _, w := range wantEvents {
			if !strings.Contains(events, w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q event in:\n%s", missing, events)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Deleting the account drops its bind: the ESME is unbound.
	mustCLI(t, s, "", "smpp", "account", "delete", "fleetapp")
	select {
	case <-esme.Exited():
	case <-time.After(wait):
		t.Fatal("the deleted account's ESME is still bound")
	}
	smsc2.Quit()
}
