package radius

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/radius/uli"
)

// TestDroppedPackets: a wrong secret, a missing Message-Authenticator and
// an unknown client all get silence, an event and a metric.
func TestDroppedPackets(t *testing.T) {
	needRadclient(t)
	eval := newTestEvaluator(baseSIM(1, "001010000000001"))
	h := startServer(t, eval, func(c *Config, d *Deps) {
		d.Clients = []simguard.NASClient{
			{TenantID: 1, Name: "pgw-strict", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: testSecret},
			// ::1 is a legacy NAS that cannot send Message-Authenticator.
			{TenantID: 1, Name: "pgw-legacy", Prefix: netip.MustParsePrefix("::1/128"), Secret: testSecret, AllowMissingMessageAuthenticator: true},
		}
	})
	noMA := func(imsi string) []string {
		a := accessAttrs(imsi, "", testAPN)
		return a[:len(a)-1] // without Message-Authenticator
	}
	tests := []struct {
		name   string
		to     netip.AddrPort
		secret string
		attrs  []string
		cmd    string
		cause  string // "" means: answered
	}{
		{"wrong secret access", h.auth, "wrong-secret", accessAttrs("001010000000001", "", testAPN), "auth", dropBadAuth},
		{"wrong secret accounting", h.acct, "wrong-secret", acctAttrs("Start", "s1", "001010000000001"), "acct", dropBadAuth},
		{"missing message-authenticator", h.auth, testSecret, noMA("001010000000001"), "auth", dropMissingMsgAuth},
		{"legacy nas may omit it", h.auth6, testSecret, noMA("001010000000001"), "auth", ""},
		{"status-server", h.auth, testSecret, []string{"Message-Authenticator = 0x00"}, "status", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counterValue(t, h.reg, "simguard_radius_dropped_total", map[string]string{"cause": tt.cause})
			res := radclient(t, tt.to, tt.cmd, tt.secret, tt.attrs...)
			if tt.cause == "" {
				if res.code != 0 {
					t.Fatalf("want an answer, got (exit %d):\n%s", res.code, res.out)
				}
				return
			}
			if !res.silent() {
				t.Fatalf("want silence, got:\n%s", res.out)
			}
			// radclient sent the request twice (-r 1 is one retry).
			if after := counterValue(t, h.reg, "simguard_radius_dropped_total", map[string]string{"cause": tt.cause}); after < before+1 {
				t.Errorf("drop counter %s went from %v to %v", tt.cause, before, after)
			}
			h.sink.waitFor(t, 1, EventDropped, map[string]string{"cause": tt.cause})
		})
	}

	t.Run("unknown client", func(t *testing.T) {
		if err := h.srv.SetClients([]simguard.NASClient{{Name: "elsewhere", Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: testSecret}}); err != nil {
			t.Fatal(err)
		}
		res := radclient(t, h.auth, "auth", testSecret, accessAttrs("001010000000001", "", testAPN)...)
		if !res.silent() {
			t.Fatalf("want silence, got:\n%s", res.out)
		}
		ev := h.sink.waitFor(t, 1, EventDropped, map[string]string{"cause": dropUnknownClient})
		if !strings.HasPrefix(ev[0].Attrs["src"], "127.0.0.1:") {
			t.Errorf("event src = %q", ev[0].Attrs["src"])
		}
	})
}

// TestLearnThenMismatch: learn mode binds the first IMEI (a write to the
// control plane), accepts it again, and rejects another device with
// imei_mismatch, reporting it.
func TestLearnThenMismatch(t *testing.T) {
	needRadclient(t)
	s := baseSIM(7, "001010000000007")
	s.LockMode = simguard.IMEILockLearn
	eval := newTestEvaluator(s)
	h := startServer(t, eval)

	steps := []struct {
		imeisv string
		accept bool
	}{{imeiA, true}, {imeiA, true}, {imeiB, false}, {imeiA, true}, {imeiB, false}}
	for i, st := range steps {
		res := radclient(t, h.auth, "auth", testSecret, accessAttrs(s.IMSI, st.imeisv, testAPN)...)
		if res.accepted() != st.accept {
			t.Fatalf("step %d (%s): accepted=%v, want %v:\n%s", i, st.imeisv, res.accepted(), st.accept, res.out)
		}
	}
	learned, mismatches := h.fb.calls()
	if len(learned) != 1 || learned[0] != "7/"+imeiA {
		t.Errorf("learned = %v, want one binding to %s", learned, imeiA)
	}
	// Reported once: the retry within a minute is not written again.
	if len(mismatches) != 1 || mismatches[0] != "7/"+imeiB {
		t.Errorf("mismatches = %v", mismatches)
	}
	if ev := h.sink.find(EventAccess, map[string]string{"imei_learned": "true"}); len(ev) != 1 {
		t.Errorf("imei_learned events = %d, want 1", len(ev))
	}
	ev := h.sink.find(EventAccess, map[string]string{"imei": imeiB})
	if len(ev) != 2 || ev[0].Reason != simguard.ReasonIMEIMismatch || ev[0].SIMID != 7 {
		t.Errorf("mismatch event = %+v", ev)
	}
}

// TestLocationFromEveryULIType sends each golden 3GPP-User-Location-Info
// of the uli package through radclient and checks the location the policy
// saw; a location lock by area accepts one TAC and rejects another.
func TestLocationFromEveryULIType(t *testing.T) {
	needRadclient(t)
	open := baseSIM(1, "001010000000001")
	locked := baseSIM(2, "001010000000002")
	locked.Areas = []uint32{1}
	h := startServer(t, newTestEvaluator(open, locked))

	f, err := os.Open("uli/testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		name, hexv, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			raw := mustHex(t, hexv)
			u, err := uli.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			session := "uli-" + name
			res := radclient(t, h.auth, "auth", testSecret,
				accessAttrs(open.IMSI, "", testAPN, "3GPP-User-Location-Info = 0x"+hexv, "Acct-Session-Id = "+session)...)
			if !res.accepted() {
				t.Fatalf("not accepted:\n%s", res.out)
			}
			l := u.Location()
			want := map[string]string{"imsi": open.IMSI, "uli_type": u.Type.String(), "plmn": l.PLMN.String()}
			if l.HasArea {
				want["area"] = itoa(uint64(l.Area))
			}
			if l.HasCell {
				want["cell"] = itoa(l.Cell)
			}
			ev := h.sink.find(EventAccess, want)
			if len(ev) == 0 {
				t.Fatalf("no access event with %v", want)
			}
			if !l.HasArea && ev[len(ev)-1].Attrs["area"] != "" || !l.HasCell && ev[len(ev)-1].Attrs["cell"] != "" {
				t.Errorf("event has location fields the ULI lacks: %v", ev[len(ev)-1].Attrs)
			}
		})
	}
	if n < 15 {
		t.Fatalf("only %d ULI cases read", n)
	}

	for _, tc := range []struct {
		uli    string
		accept bool
	}{
		{"8200f110000100f11000000101", true},  // TAC 1
		{"8200f110000200f11000000101", false}, // TAC 2
		{"8900f110000001214365000000101f", true},
		{"8a00f110000000107b", false}, // an NG-RAN node names no area
		{"82ff", false},               // undecodable: no area
	} {
		res := radclient(t, h.auth, "auth", testSecret, accessAttrs(locked.IMSI, "", testAPN, "3GPP-User-Location-Info = 0x"+tc.uli)...)
		if res.accepted() != tc.accept {
			t.Errorf("ULI %s: accepted=%v, want %v:\n%s", tc.uli, res.accepted(), tc.accept, res.out)
		}
	}
	if ev := h.sink.find(EventAccess, map[string]string{"imsi": locked.IMSI, "uli_type": "invalid"}); len(ev) != 1 {
		t.Errorf("undecodable ULI events = %d, want 1", len(ev))
	}
}
