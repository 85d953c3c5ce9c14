package smpp

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/smpp/smpptest"
)

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

// demoFleet is the demo fleet of "simguard serve --demo" (package demo),
// moved to tenant 2, plus a SIM of tenant 3 and an OTA pilot group whose
// SIMs take binary messages from the operator's OTA platform. Of the demo
// groups, asset-trackers take MT from 12345 and 4930123 (binary denied, 10
// a minute) and send MO to 12345 only; smart-meters have sms_mo only.
func demoFleet(t testing.TB) *enforce.Policy {
	groups := demo.Groups()
	for i := range groups {
		groups[i].TenantID = 2
	}
	sms := []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}
	groups = append(groups,
		simguard.Group{TenantID: 2, Name: "ota-pilot", Policy: simguard.Policy{Services: sms,
			SMS: simguard.SMSPolicy{Binary: simguard.BinarySMS{Allow: true, Sources: []string{"4915100"}}}}},
		simguard.Group{TenantID: 3, Name: "other", Policy: simguard.Policy{Services: sms}})
	var sims []simguard.SIM
	for i, s := range demo.SIMs() {
		s.ID, s.TenantID = int64(i+1), 2
		sims = append(sims, s)
	}
	sims = append(sims,
		testSIM(1001, 2, demoOTA, simguard.SIMActive, "ota-pilot"),
		testSIM(1002, 3, demoOther, simguard.SIMActive, "other"))
	return compileFleet(t, groups, sims)
}

// SIMs of the demo fleet by role.
var (
	demoTracker      = demo.MSISDN(600) // asset-trackers
	demoTrackerFlood = demo.MSISDN(601)
	demoTrackerHeld  = demo.MSISDN(602)
	demoMeter        = demo.MSISDN(0)   // smart-meters: sms_mo only
	demoSuspended    = demo.MSISDN(951) // smart-meters, suspended
)

const (
	demoOTA   = "491700001001" // ota-pilot
	demoOther = "491700001002" // tenant 3
)

// TestPerlPeers is the acceptance test of issue 5: Perl Net::SMPP is the
// ESME on one side and the SMSC on the other, over real TCP, with the
// proxy between them deciding with the real policy engine on the demo
// fleet.
func TestPerlPeers(t *testing.T) {
	smpptest.NeedPerl(t)
	smsc := smpptest.StartPerl(t, "testdata/smsc.pl")
	port := smpptest.Num(smsc.Next(t, "listening", 10*time.Second), "port")
	smscAddr := "127.0.0.1:" + strconv.Itoa(port)
	h := startProxy(t, []string{smscAddr}, func(_ *Config, d *Deps) {
		d.Evaluator = demoFleet(t)
		d.Auth = &accountMap{m: map[string]simguard.SMPPAccount{
			"fleetapp": {ID: 1, TenantID: 2, SystemID: "fleetapp", PasswordHash: testHash(t, "pw1")},
			"shortcd":  {ID: 2, TenantID: 2, SystemID: "shortcd", PasswordHash: testHash(t, "pw2"), MOPrefixes: []string{"12345"}},
		}}
	})
	h.waitUp(1)
	if b := smsc.Next(t, "bind", 5*time.Second); b["system_id"] != "fw" || b["password"] != "fwpw" {
		t.Fatalf("proxy bound upstream as %v", b)
	}
	_, proxyPort, _ := splitHostPort(h.addr)
	esme := smpptest.StartPerl(t, "testdata/esme.pl", proxyPort, "fleetapp", "pw1")
	if b := esme.Next(t, "bind", 10*time.Second); smpptest.Num(b, "status") != 0 {
		t.Fatalf("ESME bind: %v", b)
	}
	shortcode := smpptest.StartPerl(t, "testdata/esme.pl", proxyPort, "shortcd", "pw2", "receiver")
	if b := shortcode.Next(t, "bind", 10*time.Second); smpptest.Num(b, "status") != 0 {
		t.Fatalf("short code bind: %v", b)
	}
	const wait = 10 * time.Second
	intl := map[string]any{"source_addr_ton": 1, "source_addr_npi": 1, "dest_addr_ton": 1, "dest_addr_npi": 1}
	msg := func(extra map[string]any) map[string]any {
		m := map[string]any{"op": "submit"}
		for k, v := range intl {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	var messageID string
	t.Run("text to an allowed SIM arrives unchanged", func(t *testing.T) {
		esme.Send(t, msg(map[string]any{"id": "t1", "source_addr": "4930123456", "destination_addr": demoTracker,
			"short_message": "Hello tracker 7", "registered_delivery": 1}))
		r := esme.Next(t, "submit_resp", wait)
		if smpptest.Num(r, "status") != 0 {
			t.Fatalf("status 0x%x", smpptest.Num(r, "status"))
		}
		messageID, _ = r["message_id"].(string)
		if messageID != "perl-1" {
			t.Errorf("message id %q, want the SMSC's perl-1", messageID)
		}
		s := smsc.Next(t, "submit", wait)
		// The body Net::SMPP builds for these parameters, field by field.
		want := "00" + "0101" + hexOf("4930123456") + "00" + "0101" + hexOf(demoTracker) + "00" +
			"000000" + "00" + "00" + "01000000" + fmt.Sprintf("%02x", len("Hello tracker 7")) + hexOf("Hello tracker 7")
		if s["body_hex"] != want {
			t.Errorf("SMSC got body\n%v\nwant\n%v", s["body_hex"], want)
		}
	})
	t.Run("delivery receipt relayed to the submitter", func(t *testing.T) {
		text := "id:" + messageID + " sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:Hello tracker 7"
		smsc.Send(t, map[string]any{"op": "deliver", "id": "r1", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": demoTracker,
			"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "4930123456", "esm_class": 4, "short_message": text,
			"receipted_message_id_hex": hexOf(messageID + "\x00"), "message_state_hex": "02"})
		if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0 {
			t.Fatalf("receipt answered 0x%x", smpptest.Num(r, "status"))
		}
		d := esme.Next(t, "deliver", wait)
		want := "00" + "0101" + hexOf(demoTracker) + "00" + "0101" + hexOf("4930123456") + "00" + "04" + "00" + "00" + "00" + "00" +
			"00" + "00" + "00" + "00" + fmt.Sprintf("%02x", len(text)) + hexOf(text) +
			// smsc.pl passes parameters in sorted order: message_state first.
			"0427000102" + "001e" + fmt.Sprintf("%04x", len(messageID)+1) + hexOf(messageID+"\x00")
		if d["body_hex"] != want {
			t.Errorf("ESME got\n%v\nwant\n%v", d["body_hex"], want)
		}
	})

	denials := []struct {
		name   string
		params map[string]any
		status int
	}{
		{"denied source", map[string]any{"source_addr": "4990555", "destination_addr": demoTracker, "short_message": "win a prize"}, 0x0A},
		{"suspended SIM", map[string]any{"source_addr": "12345", "destination_addr": demoSuspended, "short_message": "hi"}, 0x45},
		{"meter: no sms_mt", map[string]any{"source_addr": "12345", "destination_addr": demoMeter, "short_message": "hi"}, 0x45},
		{"unknown SIM", map[string]any{"source_addr": "12345", "destination_addr": "491799999999", "short_message": "hi"}, 0x0B},
		{"binary OTA (UDHI, PID 0x7F, class 2 8-bit)", map[string]any{"source_addr": "12345", "destination_addr": demoTracker,
			"esm_class": 0x40, "protocol_id": 0x7f, "data_coding": 0xf6,
			"short_message_hex": "027000" + "00150d00000000505348000000000000a0a40000023f00"}, 0x43},
		{"class 2 text", map[string]any{"source_addr": "12345", "destination_addr": demoTracker, "data_coding": 0x12, "short_message": "x"}, 0x43},
		{"silent SMS", map[string]any{"source_addr": "12345", "destination_addr": demoTracker, "protocol_id": 0x40, "short_message": ""}, 0x45},
		{"other tenant's SIM", map[string]any{"source_addr": "12345", "destination_addr": demoOther, "short_message": "hi"}, 0x0B},
	}
	for _, tc := range denials {
		t.Run(tc.name, func(t *testing.T) {
			p := msg(tc.params)
			p["id"] = tc.name
			esme.Send(t, p)
			if r := esme.Next(t, "submit_resp", wait); smpptest.Num(r, "status") != tc.status {
				t.Errorf("status 0x%x, want 0x%x", smpptest.Num(r, "status"), tc.status)
			}
		})
	}
	t.Run("concatenated text passes", func(t *testing.T) {
		esme.Send(t, msg(map[string]any{"id": "concat", "source_addr": "12345", "destination_addr": demoTracker,
			"esm_class": 0x40, "short_message_hex": "050003010201" + hexOf("first half")}))
		if r := esme.Next(t, "submit_resp", wait); smpptest.Num(r, "status") != 0 {
			t.Errorf("status 0x%x", smpptest.Num(r, "status"))
		}
		if s := smsc.Next(t, "submit", wait); s["short_message_hex"] != "050003010201"+hexOf("first half") {
			t.Errorf("SMSC got %v", s)
		}
	})
	t.Run("binary OTA allowed from the OTA platform", func(t *testing.T) {
		esme.Send(t, msg(map[string]any{"id": "ota", "source_addr": "4915100000", "destination_addr": demoOTA,
			"esm_class": 0x40, "protocol_id": 0x7f, "data_coding": 0xf6, "short_message_hex": "0270000015"}))
		if r := esme.Next(t, "submit_resp", wait); smpptest.Num(r, "status") != 0 {
			t.Errorf("status 0x%x", smpptest.Num(r, "status"))
		}
		if s := smsc.Next(t, "submit", wait); s["short_message_hex"] != "0270000015" || smpptest.Num(s, "protocol_id") != 0x7f {
			t.Errorf("SMSC got %v", s)
		}
	})
	t.Run("flood beyond the rate limit", func(t *testing.T) {
		p := msg(map[string]any{"source_addr": "12345", "destination_addr": demoTrackerFlood, "short_message": "x"})
		p["op"], p["id"], p["n"] = "flood", "f1", 12
		esme.Send(t, p)
		r := esme.Next(t, "flood", wait)
		want := make([]any, 12)
		for i := range want {
			want[i] = 0.0
			if i >= 10 {
				want[i] = 88.0
			}
		}
		if got := fmt.Sprint(r["statuses"]); got != fmt.Sprint(want) {
			t.Errorf("statuses %s, want %v (10 per minute, then ESME_RTHROTTLED 0x58)", got, want)
		}
		if n := smsc.Count("submit", 10, wait); n != 10 {
			t.Errorf("SMSC got %d of the 10 allowed", n)
		}
	})
	t.Run("MO to the short code delivered", func(t *testing.T) {
		for _, sim := range []string{demoTracker, demoMeter} {
			smsc.Send(t, map[string]any{"op": "deliver", "id": "m-" + sim, "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": sim,
				"destination_addr": "12345", "short_message": "POS 52.52,13.40"})
			if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0 {
				t.Fatalf("from %s: status 0x%x", sim, smpptest.Num(r, "status"))
			}
			if d := shortcode.Next(t, "deliver", wait); d["short_message"] != "POS 52.52,13.40" || d["source_addr"] != sim {
				t.Errorf("short code got %v", d)
			}
		}
	})
	t.Run("MO to a denied number", func(t *testing.T) {
		for _, dst := range []string{"9001234", "4919123"} {
			smsc.Send(t, map[string]any{"op": "deliver", "id": "m2", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": demoTracker,
				"destination_addr": dst, "short_message": "BUY"})
			if r := smsc.Next(t, "deliver_resp", wait); smpptest.Num(r, "status") != 0x0B {
				t.Errorf("to %s: status 0x%x, want ESME_RINVDSTADR", dst, smpptest.Num(r, "status"))
			}
		}
		if n := shortcode.Count("deliver", 1, 500*time.Millisecond); n != 0 {
			t.Error("the denied message reached the short code")
		}
	})
	t.Run("bad password", func(t *testing.T) {
		bad := smpptest.StartPerl(t, "testdata/esme.pl", proxyPort, "fleetapp", "guess")
		if b := bad.Next(t, "bind", wait); smpptest.Num(b, "status") != 0x0E {
			t.Errorf("bind status 0x%x, want ESME_RINVPASWD", smpptest.Num(b, "status"))
		}
	})
	t.Run("upstream restart: nothing lost", func(t *testing.T) {
		// The SMSC holds the next messages, then dies with them outstanding.
		smsc.Send(t, map[string]any{"op": "hold"})
		p := msg(map[string]any{"source_addr": "12345", "destination_addr": demoTrackerHeld, "short_message": "x"})
		p["op"], p["id"], p["n"] = "flood", "held", 10
		esme.Send(t, p)
		if n := smsc.Count("submit", 10, wait); n != 10 {
			t.Fatalf("SMSC got %d of 10", n)
		}
		smsc.Kill()
		r := esme.Next(t, "flood", wait)
		if got, want := fmt.Sprint(r["statuses"]), fmt.Sprint([]any{8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0}); got != want {
			t.Errorf("outstanding messages answered %s, want ESME_RSYSERR (8) for each", got)
		}
		eventually(t, wait, func() bool { return h.srv.UpstreamBinds("main") == 0 }, "upstream down")
		esme.Send(t, msg(map[string]any{"id": "down", "source_addr": "12345", "destination_addr": demoTracker, "short_message": "x"}))
		if r := esme.Next(t, "submit_resp", wait); smpptest.Num(r, "status") != 0x58 {
			t.Errorf("while down: 0x%x, want ESME_RTHROTTLED", smpptest.Num(r, "status"))
		}
		smsc2 := smpptest.StartPerl(t, "testdata/smsc.pl", strconv.Itoa(port))
		smsc2.Next(t, "listening", wait)
		h.waitUp(1)
		esme.Send(t, msg(map[string]any{"id": "back", "source_addr": "12345", "destination_addr": demoTracker, "short_message": "after"}))
		if r := esme.Next(t, "submit_resp", wait); smpptest.Num(r, "status") != 0 {
			t.Errorf("after restart: 0x%x", smpptest.Num(r, "status"))
		}
		if s := smsc2.Next(t, "submit", wait); s["short_message_hex"] != hexOf("after") {
			t.Errorf("restarted SMSC got %v", s)
		}
		smsc2.Quit()
	})
	esme.Quit()
	shortcode.Quit()
}

func splitHostPort(a string) (string, string, error) { return net.SplitHostPort(a) }
