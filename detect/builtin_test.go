package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func concat(lists ...[]simguard.Event) []simguard.Event {
	var out []simguard.Event
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func access(sim int64, at time.Duration, decision string, reason simguard.Reason, attrs ...string) simguard.Event {
	return evt("radius.access", sim, at, decision, reason, attrs...)
}

func acct(sim int64, at time.Duration, session string, in, out int64, status string) simguard.Event {
	return evt("radius.accounting", sim, at, "", "", "session", session, "status", status,
		"in_bytes", fmt.Sprint(in), "out_bytes", fmt.Sprint(out))
}

func flow(typ string, at time.Duration, src, dst, port string) simguard.Event {
	return evt(typ, 7, at, "", "", "src", src, "dst", dst, "port", port, "proto", "tcp", "direction", "egress", "group", "meters")
}

// scanEvt is an event of the fleet exposure audit as scan/assess.go emits
// it.
func scanEvt(typ string, sim int64, port, service string) simguard.Event {
	e := evt(typ, sim, 0, "", "", "scan_id", "7", "target", "10.45.0.7", "proto", "tcp", "port", port,
		"service", service, "severity", "critical", "group", "meters")
	e.Source = "scan"
	return e
}

// volume makes accounting interims of one session growing by step bytes
// every 10 minutes, starting at minute start.
func volume(n, start int, step int64) []simguard.Event {
	return repeat(n, func(i int) simguard.Event {
		return acct(42, time.Duration(start+10*i)*time.Minute, "s1", int64(i+1)*step, 0, "interim")
	})
}

// TestBuiltinRules feeds each built-in rule the events of its attack and of
// look-alike normal traffic.
func TestBuiltinRules(t *testing.T) {
	rs := builtinRules(t)
	const mb = 1 << 20
	cases := []struct {
		name   string
		rule   string
		events []simguard.Event
		want   int // firings of rule
	}{
		{"bruteforce sim: 5 wrong IMEIs in 20s", "radius-bruteforce-sim",
			repeat(5, func(i int) simguard.Event {
				return access(42, time.Duration(i)*5*time.Second, "deny", simguard.ReasonIMEIMismatch, "imei", "3520990017614"+itoa(i))
			}), 1},
		{"bruteforce sim: 4 in a minute then one later", "radius-bruteforce-sim",
			append(repeat(4, func(i int) simguard.Event {
				return access(42, time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch)
			}), access(42, 2*time.Minute, "deny", simguard.ReasonIMEIMismatch)), 0},
		{"bruteforce sim: rejects of a suspended SIM do not count", "radius-bruteforce-sim",
			repeat(10, func(i int) simguard.Event {
				return access(42, time.Duration(i)*time.Second, "deny", simguard.ReasonSIMSuspended)
			}), 0},
		{"bruteforce sim: accepted requests do not count", "radius-bruteforce-sim",
			repeat(10, func(i int) simguard.Event {
				return access(42, time.Duration(i)*time.Second, "allow", simguard.ReasonAllowed)
			}), 0},
		{"bruteforce sim: 5 each on two SIMs is not one SIM", "radius-bruteforce-sim",
			repeat(8, func(i int) simguard.Event {
				return access(int64(40+i%2), time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch)
			}), 0},
		{"bruteforce imei: one device, 10 SIMs rejected", "radius-bruteforce-imei",
			repeat(10, func(i int) simguard.Event {
				return access(int64(i+1), time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch, "imei", "35209900176148")
			}), 1},
		{"bruteforce imei: 9 rejects", "radius-bruteforce-imei",
			repeat(9, func(i int) simguard.Event {
				return access(int64(i+1), time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch, "imei", "35209900176148")
			}), 0},
		{"sim swap: imei.mismatch", "sim-swap",
			[]simguard.Event{evt("imei.mismatch", 42, 0, "", "", "imei", "35209900176148", "bound_imei", "35209900176149", "source", "radius")}, 1},
		{"sim swap: RADIUS reject for imei_mismatch", "sim-swap",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonIMEIMismatch, "imei", "35209900176148")}, 1},
		{"sim swap: accepted request", "sim-swap",
			[]simguard.Event{access(42, 0, "allow", simguard.ReasonAllowed, "imei", "35209900176148")}, 0},
		{"imei change: a second device replaced the first", "imei-change",
			[]simguard.Event{
				evt("imei.learned", 42, 0, "", "", "imei", "35209900176148", "previous_imei", ""),
				evt("imei.learned", 42, 48*time.Hour, "", "", "imei", "86000000000001", "previous_imei", "35209900176148"),
			}, 1},
		{"imei change: first device learned", "imei-change",
			[]simguard.Event{evt("imei.learned", 42, 0, "", "", "imei", "35209900176148", "previous_imei", "")}, 0},
		{"imei change: the same device learned again", "imei-change",
			[]simguard.Event{evt("imei.learned", 42, 0, "", "", "imei", "35209900176148", "previous_imei", "35209900176148")}, 0},
		{"roaming: German SIM in a US network", "roaming-outside-allowed",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonLocationDenied, "imsi", "262011234567890", "plmn", "310-260")}, 1},
		{"roaming: domestic network is not roaming", "roaming-outside-allowed",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonLocationDenied, "imsi", "262011234567890", "plmn", "262-02")}, 0},
		{"location: domestic cell not allowed", "location-violation",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonLocationDenied, "imsi", "262011234567890", "plmn", "262-02")}, 1},
		{"location: roaming is the roaming rule's", "location-violation",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonLocationDenied, "imsi", "262011234567890", "plmn", "310-260")}, 0},
		{"location: S6a update from a forbidden RAT", "location-violation",
			[]simguard.Event{evt("diameter.ulr", 42, 0, "deny", simguard.ReasonRATDenied, "imsi", "262011234567890", "plmn", "262-01", "rat", "2g")}, 1},
		{"window: data session outside the activation window", "outside-activation-window",
			[]simguard.Event{access(42, 0, "deny", simguard.ReasonOutsideWindow)}, 1},
		{"window: SMS inside it", "outside-activation-window",
			[]simguard.Event{evt("sms.mo", 42, 0, "allow", simguard.ReasonAllowed)}, 0},
		{"sms flood: 60 messages in 59s", "sms-flood",
			repeat(60, func(i int) simguard.Event {
				return evt("sms.mo", 42, time.Duration(i)*time.Second, "allow", simguard.ReasonAllowed)
			}), 1},
		{"sms flood: 60 messages in 2 minutes", "sms-flood",
			repeat(60, func(i int) simguard.Event {
				return evt("sms.mo", 42, time.Duration(2*i)*time.Second, "allow", simguard.ReasonAllowed)
			}), 0},
		{"binary sms: OTA blocked", "sms-binary-ota",
			[]simguard.Event{evt("sms.mt", 42, 0, "deny", simguard.ReasonSMSBinaryDenied, "peer", "4912345", "binary", "true")}, 1},
		{"binary sms: silent SMS blocked", "sms-binary-ota",
			[]simguard.Event{evt("sms.mt", 42, 0, "deny", simguard.ReasonSMSSilentDenied, "peer", "4912345", "silent", "true")}, 1},
		{"binary sms: allowed from the OTA server", "sms-binary-ota",
			[]simguard.Event{evt("sms.mt", 42, 0, "allow", simguard.ReasonAllowed, "peer", "4912345", "binary", "true")}, 0},
		{"egress burst: 21 denied flows in 2s", "egress-denied-burst",
			repeat(21, func(i int) simguard.Event {
				return flow("flow.denied", time.Duration(i)*100*time.Millisecond, "10.0.0.7", "198.51.100.1", "443")
			}), 1},
		{"egress burst: one denied flow every 4s", "egress-denied-burst",
			repeat(60, func(i int) simguard.Event {
				return flow("flow.denied", time.Duration(i)*4*time.Second, "10.0.0.7", "198.51.100.1", "443")
			}), 0},
		{"scanning: Telnet to 20 addresses", "device-scanning",
			repeat(20, func(i int) simguard.Event {
				return flow("flow.denied", time.Duration(i)*time.Second, "10.0.0.7", "198.51.100."+itoa(i), "23")
			}), 1},
		{"scanning: SSH and 2323 count too", "device-scanning",
			repeat(20, func(i int) simguard.Event {
				return flow("flow.denied", time.Duration(i)*time.Second, "10.0.0.7", "198.51.100."+itoa(i), []string{"22", "2323"}[i%2])
			}), 1},
		{"scanning: 20 connections to one address", "device-scanning",
			repeat(20, func(i int) simguard.Event {
				return flow("flow.denied", time.Duration(i)*time.Second, "10.0.0.7", "198.51.100.1", "23")
			}), 0},
		{"scanning: HTTPS to many addresses", "device-scanning",
			repeat(30, func(i int) simguard.Event {
				return flow("flow.allowed", time.Duration(i)*time.Second, "10.0.0.7", "198.51.100."+itoa(i), "443")
			}), 0},
		{"volume: 200 MB after 1 MB intervals", "data-volume-spike",
			concat([]simguard.Event{acct(42, 0, "s1", 0, 0, "start")}, volume(6, 10, mb),
				[]simguard.Event{acct(42, 70*time.Minute, "s1", 6*mb+200*mb, 0, "interim")}), 1},
		{"volume: steady 1 MB intervals", "data-volume-spike",
			concat([]simguard.Event{acct(42, 0, "s1", 0, 0, "start")}, volume(20, 10, mb)), 0},
		{"volume: a session first seen mid-way is not a spike", "data-volume-spike",
			concat([]simguard.Event{acct(42, 0, "s1", 0, 0, "start")}, volume(6, 10, mb),
				[]simguard.Event{acct(42, 70*time.Minute, "s2", 900*mb, 0, "interim")}), 0},
		{"volume: 15 MB after 1 MB intervals but below min samples", "data-volume-spike",
			concat([]simguard.Event{acct(42, 0, "s1", 0, 0, "start")}, volume(3, 10, mb),
				[]simguard.Event{acct(42, 40*time.Minute, "s1", 3*mb+15*mb, 0, "interim")}), 0},
		{"first contact: new destination after learning", "first-contact-destination",
			[]simguard.Event{
				flow("flow.allowed", 0, "10.0.0.7", "203.0.113.1", "443"),
				flow("flow.allowed", time.Hour, "10.0.0.8", "203.0.113.2", "443"),
				flow("flow.allowed", 25*time.Hour, "10.0.0.9", "203.0.113.1", "443"),
				flow("flow.allowed", 26*time.Hour, "10.0.0.9", "198.51.100.66", "443"),
			}, 1},
		{"first contact: known destinations only", "first-contact-destination",
			[]simguard.Event{
				flow("flow.allowed", 0, "10.0.0.7", "203.0.113.1", "443"),
				flow("flow.allowed", 30*time.Hour, "10.0.0.9", "203.0.113.1", "443"),
			}, 0},
		{"unknown nas", "unknown-nas",
			[]simguard.Event{evt("radius.unknown_client", 0, 0, "", "", "src", "192.0.2.1", "nas", "192.0.2.1")}, 1},
		{"unknown nas: as the RADIUS server drops it", "unknown-nas",
			[]simguard.Event{evt("radius.dropped", 0, 0, "", "", "cause", "unknown_client", "src", "192.0.2.1:40001")}, 1},
		{"unknown nas: other drops are not", "unknown-nas",
			[]simguard.Event{evt("radius.dropped", 0, 0, "", "", "cause", "bad_authenticator", "src", "192.0.2.1:40001")}, 0},
		{"binary sms: blocked, with the cause the SMPP proxy names", "sms-binary-ota",
			[]simguard.Event{evt("sms.mt", 42, 0, "deny", simguard.ReasonSMSPeerDenied, "src", "4912345", "binary", "pid_7f")}, 1},
		{"volume: octet counters as the RADIUS server names them", "data-volume-spike",
			concat([]simguard.Event{evt("radius.accounting", 42, 0, "", "", "session", "s9", "status", "start", "input_octets", "0", "output_octets", "0")},
				repeat(6, func(i int) simguard.Event {
					return evt("radius.accounting", 42, time.Duration(10*(i+1))*time.Minute, "", "", "session", "s9", "status", "interim",
						"input_octets", fmt.Sprint(int64(i+1)*mb), "output_octets", "0")
				}),
				[]simguard.Event{evt("radius.accounting", 42, 70*time.Minute, "", "", "session", "s9", "status", "interim", "input_octets", fmt.Sprint(6*mb+300*mb), "output_octets", "0")}), 1},
		{"scan: default login on a device", "scan-default-credential",
			[]simguard.Event{scanEvt("scan.default_credential", 42, "23", "telnet")}, 1},
		{"scan: default login on two services of one device", "scan-default-credential",
			[]simguard.Event{scanEvt("scan.default_credential", 42, "23", "telnet"), scanEvt("scan.default_credential", 42, "80", "http")}, 2},
		{"scan: default login on an address of no SIM", "scan-default-credential",
			[]simguard.Event{scanEvt("scan.default_credential", 0, "23", "telnet")}, 0},
		{"scan: an opened port is not a default login", "scan-default-credential",
			[]simguard.Event{scanEvt("scan.port_opened", 42, "23", "telnet")}, 0},
		{"scan: telnet opened", "scan-port-opened",
			[]simguard.Event{scanEvt("scan.port_opened", 42, "23", "telnet")}, 1},
		{"scan: ssh opened on another port", "scan-port-opened",
			[]simguard.Event{scanEvt("scan.port_opened", 42, "8022", "ssh")}, 1},
		{"scan: Mirai's 2323 opened, service not identified", "scan-port-opened",
			[]simguard.Event{scanEvt("scan.port_opened", 42, "2323", "unknown")}, 1},
		{"scan: HTTP opened", "scan-port-opened",
			[]simguard.Event{scanEvt("scan.port_opened", 42, "80", "http")}, 0},
		{"scan: a UDP service on port 23", "scan-port-opened",
			[]simguard.Event{func() simguard.Event {
				e := scanEvt("scan.port_opened", 42, "23", "unknown")
				e.Attrs["proto"] = "udp"
				return e
			}()}, 0},
		{"scan: an unreachable device", "scan-port-opened",
			[]simguard.Event{evt("scan.host_unreachable", 42, 0, "", "", "scan_id", "7", "target", "10.45.0.7", "group", "meters", "open_findings", "2")}, 0},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.rule] = true
		t.Run(c.name, func(t *testing.T) {
			if rs.Rule(c.rule) == nil {
				t.Fatalf("no built-in rule %q", c.rule)
			}
			got := firingsOf(run(rs, c.events), c.rule)
			if len(got) != c.want {
				t.Fatalf("%s fired %d times, want %d: %+v", c.rule, len(got), c.want, got)
			}
			for _, f := range got {
				if len(f.Events) == 0 || f.FirstAt.After(f.At) || f.Key == "" && len(f.Rule.GroupBy) > 0 {
					t.Errorf("firing lacks evidence or times: %+v", f)
				}
			}
		})
	}
	for _, r := range rs.Rules() {
		if !seen[r.Name] {
			t.Errorf("built-in rule %s has no test case", r.Name)
		}
	}
}

func TestBuiltinBruteForceFiring(t *testing.T) {
	rs := builtinRules(t)
	evs := repeat(5, func(i int) simguard.Event {
		return access(42, time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch, "imei", "3520990017614"+itoa(i))
	})
	got := firingsOf(run(rs, evs), "radius-bruteforce-sim")
	if len(got) != 1 {
		t.Fatalf("fired %d times", len(got))
	}
	f := got[0]
	if f.Key != "sim=42" || f.SIMID != 42 || f.TenantID != 1 {
		t.Errorf("key %q sim %d tenant %d", f.Key, f.SIMID, f.TenantID)
	}
	if !f.FirstAt.Equal(t0) || !f.At.Equal(t0.Add(4*time.Second)) {
		t.Errorf("first %v at %v", f.FirstAt, f.At)
	}
	if len(f.Events) != 5 || f.Events[0].Attrs["imei"] != "35209900176140" || f.Events[4].Attrs["imei"] != "35209900176144" {
		t.Errorf("evidence %+v", f.Events)
	}
	if !strings.Contains(f.Detail, "5 events within 1m0s") {
		t.Errorf("detail %q", f.Detail)
	}
	if len(f.Rule.Actions) != 1 || f.Rule.Actions[0].Type != simguard.ActionSuspendSIM || f.Rule.DryRun {
		t.Errorf("actions %+v dry-run %v", f.Rule.Actions, f.Rule.DryRun)
	}
}
