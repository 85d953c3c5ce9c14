package radius

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

const (
	imeiA   = "3530000000000101" // IMEISV; device 35300000000001
	imeiB   = "3530000000000299"
	testAPN = "iot.example"
)

func baseSIM(id int64, imsi string) testSIM {
	return testSIM{ID: id, Tenant: 1, IMSI: imsi, MSISDN: "4917" + imsi[len(imsi)-8:], State: simguard.SIMActive,
		DataOn: true, APNs: []string{testAPN}}
}

// TestAccessDecisions drives every decision path with radclient over IPv4
// and IPv6.
func TestAccessDecisions(t *testing.T) {
	needRadclient(t)
	windowEnd := time.Now().Add(90 * time.Minute)
	sims := []testSIM{
		baseSIM(1, "001010000000001"),
		func() testSIM { s := baseSIM(2, "001010000000002"); s.State = simguard.SIMSuspended; return s }(),
		func() testSIM { s := baseSIM(3, "001010000000003"); s.State = simguard.SIMTerminated; return s }(),
		func() testSIM { s := baseSIM(4, "001010000000004"); s.State = simguard.SIMInventory; return s }(),
		func() testSIM { s := baseSIM(5, "001010000000005"); s.DataOn = false; return s }(),
		func() testSIM {
			s := baseSIM(6, "001010000000006")
			s.WindowEnd = time.Now().Add(-time.Minute)
			return s
		}(),
		func() testSIM {
			s := baseSIM(7, "001010000000007")
			s.LockMode, s.IMEI = simguard.IMEILockExplicit, "35300000000001"
			return s
		}(),
		func() testSIM { s := baseSIM(8, "001010000000008"); s.QuotaUsed = true; return s }(),
		func() testSIM {
			s := baseSIM(9, "001010000000009")
			s.RATs = []simguard.RAT{simguard.RATNBIoT}
			return s
		}(),
		func() testSIM { s := baseSIM(10, "001010000000010"); s.PLMNs = []string{"262-01"}; return s }(),
		func() testSIM {
			s := baseSIM(11, "001010000000011")
			s.StaticIP, s.WindowEnd = netip.MustParseAddr("10.20.30.40"), windowEnd
			return s
		}(),
		func() testSIM {
			s := baseSIM(12, "001010000000012")
			s.StaticIP = netip.MustParseAddr("2001:db8::42")
			return s
		}(),
		func() testSIM { s := baseSIM(13, "001010000000013"); s.TACs = []string{"35300000"}; return s }(),
	}
	h := startServer(t, newTestEvaluator(sims...))

	tests := []struct {
		name    string
		imsi    string
		imeisv  string
		apn     string
		extra   []string
		accept  bool
		reason  simguard.Reason
		replies []string
	}{
		{name: "accept", imsi: "001010000000001", apn: testAPN, accept: true, replies: []string{"Class = 0x"}},
		{name: "unknown sim", imsi: "001019999999999", apn: testAPN, reason: simguard.ReasonSIMUnknown},
		{name: "suspended", imsi: "001010000000002", apn: testAPN, reason: simguard.ReasonSIMSuspended},
		{name: "terminated", imsi: "001010000000003", apn: testAPN, reason: simguard.ReasonSIMTerminated},
		{name: "inventory", imsi: "001010000000004", apn: testAPN, reason: simguard.ReasonSIMInactive},
		{name: "data off", imsi: "001010000000005", apn: testAPN, reason: simguard.ReasonServiceDisabled},
		{name: "window ended", imsi: "001010000000006", apn: testAPN, reason: simguard.ReasonOutsideWindow},
		{name: "imei missing", imsi: "001010000000007", apn: testAPN, reason: simguard.ReasonIMEIMissing},
		{name: "imei match", imsi: "001010000000007", imeisv: imeiA, apn: testAPN, accept: true},
		{name: "imei mismatch", imsi: "001010000000007", imeisv: imeiB, apn: testAPN, reason: simguard.ReasonIMEIMismatch},
		{name: "quota used", imsi: "001010000000008", apn: testAPN, reason: simguard.ReasonQuotaExceeded},
		{name: "device model allowed", imsi: "001010000000013", imeisv: imeiA, apn: testAPN, accept: true},
		{name: "device model denied", imsi: "001010000000013", imeisv: "8600000000000101", apn: testAPN, reason: simguard.ReasonDeviceModelDenied},
		{name: "apn denied", imsi: "001010000000001", apn: "internet", reason: simguard.ReasonAPNDenied},
		{name: "rat nb-iot allowed", imsi: "001010000000009", apn: testAPN, extra: []string{"3GPP-RAT-Type = 8"}, accept: true},
		{name: "rat eutran denied", imsi: "001010000000009", apn: testAPN, extra: []string{"3GPP-RAT-Type = EUTRAN"}, reason: simguard.ReasonRATDenied},
		{name: "rat wlan denied", imsi: "001010000000009", apn: testAPN, extra: []string{"3GPP-RAT-Type = WLAN"}, reason: simguard.ReasonRATDenied},
		{name: "plmn allowed", imsi: "001010000000010", apn: testAPN, extra: []string{"3GPP-SGSN-MCC-MNC = 26201"}, accept: true},
		{name: "plmn denied", imsi: "001010000000010", apn: testAPN, extra: []string{"3GPP-SGSN-MCC-MNC = 26202"}, reason: simguard.ReasonLocationDenied},
		{name: "static ip and session timeout", imsi: "001010000000011", apn: testAPN, accept: true,
			replies: []string{"Framed-IP-Address = 10.20.30.40", "Session-Timeout = 5"}},
		{name: "static ipv6", imsi: "001010000000012", apn: testAPN, accept: true, replies: []string{"Framed-IPv6-Address = 2001:db8::42"}},
	}
	for _, tt := range tests {
		for _, to := range []netip.AddrPort{h.auth, h.auth6} {
			t.Run(tt.name+"/"+to.Addr().String(), func(t *testing.T) {
				res := radclient(t, to, "auth", testSecret, accessAttrs(tt.imsi, tt.imeisv, tt.apn, tt.extra...)...)
				if testing.Verbose() {
					res.dump(t)
				}
				if tt.accept {
					if !res.accepted() || res.code != 0 {
						t.Fatalf("want Access-Accept, got (exit %d):\n%s", res.code, res.out)
					}
				} else {
					if !res.rejected() || res.code != 1 {
						t.Fatalf("want Access-Reject, got (exit %d):\n%s", res.code, res.out)
					}
					if want := `Reply-Message = "` + string(tt.reason) + `"`; !res.has(want) {
						t.Errorf("reply lacks %s:\n%s", want, res.out)
					}
				}
				for _, r := range tt.replies {
					if !res.has(r) {
						t.Errorf("reply lacks %q:\n%s", r, res.out)
					}
				}
				if !res.has("Message-Authenticator") {
					t.Errorf("reply has no Message-Authenticator:\n%s", res.out)
				}
			})
		}
	}
	// Every decision became an event with its reason and the request's
	// attributes; the metrics count them.
	ev := h.sink.find(EventAccess, map[string]string{"imsi": "001010000000010", "plmn": "262-02"})
	if len(ev) != 2 || ev[0].Reason != simguard.ReasonLocationDenied || ev[0].Decision != "deny" || ev[0].SIMID != 10 {
		t.Errorf("location denial events = %+v", ev)
	}
	if n := counterValue(t, h.reg, "simguard_radius_decisions_total", map[string]string{"decision": "deny", "reason": "rat_denied"}); n != 4 {
		t.Errorf("rat_denied decisions = %v, want 4", n)
	}
	if ev := h.sink.find(EventAccess, map[string]string{"imsi": "001010000000009", "rat": "nb-iot"}); len(ev) != 2 || ev[0].Decision != "allow" {
		t.Errorf("nb-iot events = %+v", ev)
	}
	// Identity fallback: 3GPP-IMSI, then User-Name (IMSI, realm ignored, or
	// MSISDN), then Calling-Station-Id; with nothing usable no SIM is found.
	for _, tc := range []struct {
		name     string
		attrs    []string
		identity string
		reason   simguard.Reason
	}{
		{"user-name imsi with realm", []string{`User-Name = "001010000000001@iot.example"`}, "user-name", simguard.ReasonAllowed},
		{"user-name msisdn", []string{`User-Name = "+491700000001"`}, "user-name", simguard.ReasonAllowed},
		{"calling-station-id", []string{"User-Name = guest", "Calling-Station-Id = 491700000001"}, "calling-station-id", simguard.ReasonAllowed},
		{"3gpp-imsi of 12 digits is not an imsi", []string{"3GPP-IMSI = 491700000001", "User-Name = guest"}, "", simguard.ReasonSIMUnknown},
	} {
		attrs := append([]string{"Called-Station-Id = " + testAPN, "Message-Authenticator = 0x00", `Acct-Session-Id = "` + tc.name + `"`}, tc.attrs...)
		res := radclient(t, h.auth, "auth", testSecret, attrs...)
		if res.accepted() != (tc.reason == simguard.ReasonAllowed) {
			t.Errorf("%s: accepted=%v:\n%s", tc.name, res.accepted(), res.out)
		}
		if tc.reason != simguard.ReasonAllowed && !res.has(`Reply-Message = "`+string(tc.reason)+`"`) {
			t.Errorf("%s: want %s:\n%s", tc.name, tc.reason, res.out)
		}
		if tc.identity != "" && len(h.sink.find(EventAccess, map[string]string{"identity": tc.identity})) == 0 {
			t.Errorf("%s: no event with identity %s", tc.name, tc.identity)
		}
	}
	// Session-Timeout counts down to the window end (90 minutes): check it
	// is the window, not a default.
	res := radclient(t, h.auth, "auth", testSecret, accessAttrs("001010000000011", "", testAPN)...)
	if !strings.Contains(res.out, "Session-Timeout = 53") && !strings.Contains(res.out, "Session-Timeout = 54") {
		t.Errorf("Session-Timeout is not about 5400s:\n%s", res.out)
	}
}

// TestIdentityOrderPerNAS: a NAS client whose identity order names only
// Calling-Station-Id is answered for the SIM of that MSISDN, whatever the
// IMSI attributes say; another NAS keeps the default order (IMSI first).
func TestIdentityOrderPerNAS(t *testing.T) {
	needRadclient(t)
	byMSISDN := baseSIM(1, "001010000000001") // MSISDN 491700000001, as accessAttrs sends
	suspended := baseSIM(2, "001010000000002")
	suspended.State = simguard.SIMSuspended
	h := startServer(t, newTestEvaluator(byMSISDN, suspended), func(_ *Config, d *Deps) {
		d.Clients[0].IdentityOrder = []simguard.IdentitySource{simguard.IdentityCallingStationID}
	})
	attrs := accessAttrs(suspended.IMSI, "", testAPN)
	if res := radclient(t, h.auth, "auth", testSecret, attrs...); !res.accepted() {
		t.Errorf("NAS reading Calling-Station-Id only: want the MSISDN's SIM accepted:\n%s", res.out)
	}
	if res := radclient(t, h.auth6, "auth", testSecret, attrs...); !res.rejected() || !res.has(`Reply-Message = "sim_suspended"`) {
		t.Errorf("NAS with the default order: want the IMSI's (suspended) SIM rejected:\n%s", res.out)
	}
}
