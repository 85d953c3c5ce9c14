package radius

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// TestAccountingLifecycle: Start, Interim-Update and Stop from radclient
// are stored with their counters (Gigawords included), meter the usage
// delta once, and the session is correlated to its Access-Accept by Class.
func TestAccountingLifecycle(t *testing.T) {
	needRadclient(t)
	sim := baseSIM(1, "001010000000001")
	sim.LockMode, sim.IMEI = simguard.IMEILockExplicit, "35300000000001"
	h := startServer(t, newTestEvaluator(sim))

	res := radclient(t, h.auth, "auth", testSecret, accessAttrs(sim.IMSI, imeiA, testAPN,
		"3GPP-User-Location-Info = 0x8200f110000100f11000000101", "3GPP-RAT-Type = 6")...)
	if !res.accepted() {
		t.Fatalf("not accepted:\n%s", res.out)
	}
	class := h.sink.find(EventAccess, map[string]string{"imsi": sim.IMSI})[0].Attrs["class"]
	classAttr := "Class = " + fmtHex([]byte(class))

	steps := []struct {
		status string
		extra  []string
		in     uint64
		out    uint64
		usage  int64
	}{
		{"Start", nil, 0, 0, 0},
		{"Interim-Update", []string{"Acct-Input-Octets = 1000", "Acct-Output-Octets = 500", "Acct-Input-Packets = 10", "Acct-Output-Packets = 5", "Acct-Session-Time = 60"}, 1000, 500, 1500},
		{"Interim-Update", []string{"Acct-Input-Octets = 100", "Acct-Input-Gigawords = 1", "Acct-Output-Octets = 600", "Acct-Session-Time = 120"}, 1<<32 + 100, 600, 1<<32 + 700},
		{"Stop", []string{"Acct-Input-Octets = 200", "Acct-Input-Gigawords = 1", "Acct-Output-Octets = 700", "Acct-Terminate-Cause = User-Request", "Acct-Session-Time = 180"}, 1<<32 + 200, 700, 1<<32 + 900},
	}
	for _, st := range steps {
		extra := append([]string{classAttr, "Framed-IP-Address = 10.9.8.7"}, st.extra...)
		res := radclient(t, h.acct, "acct", testSecret, acctAttrs(st.status, "sess-1", sim.IMSI, extra...)...)
		if res.code != 0 || !res.has("Received Accounting-Response") {
			t.Fatalf("%s: no Accounting-Response (exit %d):\n%s", st.status, res.code, res.out)
		}
		rows := h.sessions.all()
		if len(rows) != 1 {
			t.Fatalf("%s: %d stored sessions, want 1", st.status, len(rows))
		}
		r := rows[0]
		if r.InputOctets != st.in || r.OutputOctets != st.out {
			t.Errorf("%s: counters in=%d out=%d, want %d %d", st.status, r.InputOctets, r.OutputOctets, st.in, st.out)
		}
		if got := h.fb.usageOf(1); got != st.usage {
			t.Errorf("%s: metered usage %d, want %d", st.status, got, st.usage)
		}
	}
	r := h.sessions.all()[0]
	want := simguard.RADIUSSession{SIMID: 1, TenantID: 1, NAS: "pgw-v4", SessionID: "sess-1", IMSI: sim.IMSI,
		IMEI: imeiA, APN: testAPN, RAT: simguard.RAT4G, IP: netip.MustParseAddr("10.9.8.7"), TerminateCause: "user-request"}
	if r.SIMID != want.SIMID || r.NAS != want.NAS || r.IMSI != want.IMSI || r.IMEI != want.IMEI || r.APN != want.APN ||
		r.RAT != want.RAT || r.IP != want.IP || r.TerminateCause != want.TerminateCause || r.Live() || r.Class != class {
		t.Errorf("stored session = %+v", r)
	}
	if !r.Location.HasCell || r.Location.Cell != 0x101 || r.InputPackets != 0 {
		t.Errorf("location %+v, input packets %d", r.Location, r.InputPackets)
	}
	if got := len(h.sink.find(EventAccounting, map[string]string{"session": "sess-1"})); got != 4 {
		t.Errorf("%d accounting events, want 4", got)
	}
	if n := counterValue(t, h.reg, "simguard_radius_live_sessions", nil); n != 0 {
		t.Errorf("live sessions gauge = %v after Stop", n)
	}
}

// TestAccountingOddSequences: every odd sequence is answered (the NAS
// must not retry forever), recorded sensibly and reported, never a crash.
func TestAccountingOddSequences(t *testing.T) {
	needRadclient(t)
	sim := baseSIM(1, "001010000000001")
	h := startServer(t, newTestEvaluator(sim))
	send := func(status, session string, extra ...string) {
		t.Helper()
		res := radclient(t, h.acct, "acct", testSecret, acctAttrs(status, session, sim.IMSI, extra...)...)
		if res.code != 0 {
			t.Fatalf("%s %s: no answer:\n%s", status, session, res.out)
		}
	}
	send("Stop", "orphan", "Acct-Input-Octets = 300", "Acct-Session-Time = 30")
	send("Start", "twice")
	send("Start", "twice")
	send("Interim-Update", "no-start", "Acct-Output-Octets = 50")
	send("Stop", "closed")
	send("Start", "closed")
	send("Stop", "closed", "Acct-Delay-Time = 1")
	send("Stop", "closed", "Acct-Delay-Time = 2")
	send("Interim-Update", "twice", "Acct-Input-Octets = 900")
	send("Start", "twice") // a late duplicate Start keeps the counters
	send("Interim-Update", "twice", "Acct-Input-Octets = 950")
	send("Interim-Update", "twice", "Acct-Input-Octets = 400")

	for anomaly, n := range map[string]int{
		anomalyStopNoStart: 2, anomalyDuplicateStart: 2, anomalyInterimNoStart: 1,
		anomalyStopAfterStop: 1, anomalyCountersDecrease: 1,
	} {
		if got := len(h.sink.find(EventAnomaly, map[string]string{"anomaly": anomaly})); got != n {
			t.Errorf("%s events = %d, want %d", anomaly, got, n)
		}
	}
	byID := map[string][]simguard.RADIUSSession{}
	for _, r := range h.sessions.all() {
		byID[r.SessionID] = append(byID[r.SessionID], r)
	}
	if o := byID["orphan"]; len(o) != 1 || o[0].Live() || o[0].InputOctets != 300 || o[0].Stop.Sub(o[0].Start).Seconds() != 30 {
		t.Errorf("orphan stop = %+v", o)
	}
	if len(byID["twice"]) != 1 || !byID["twice"][0].Live() {
		t.Errorf("repeated start made %d sessions", len(byID["twice"]))
	}
	if c := byID["closed"]; len(c) != 2 || c[0].Live() || c[1].Live() {
		t.Errorf("closed = %+v", c)
	}
	// 300 (orphan) + 50 (no-start) + 950; the drop to 400 meters nothing.
	if got := h.fb.usageOf(1); got != 1300 {
		t.Errorf("metered %d, want 1300", got)
	}
	// Accounting-On: the NAS restarted, so its sessions are over.
	send("Accounting-On", "nas-boot")
	for _, r := range h.sessions.all() {
		if r.Live() {
			t.Errorf("session %s still live after Accounting-On", r.SessionID)
		}
	}
}

// TestAccountingNotDurableNotAnswered: while the store fails, the NAS gets
// no Accounting-Response and retries; once it works, the retry is stored.
func TestAccountingNotDurableNotAnswered(t *testing.T) {
	needRadclient(t)
	h := startServer(t, newTestEvaluator(baseSIM(1, "001010000000001")))
	h.sessions.mu.Lock()
	h.sessions.fail = true
	h.sessions.mu.Unlock()
	res := radclient(t, h.acct, "acct", testSecret, acctAttrs("Start", "s1", "001010000000001")...)
	if !res.silent() {
		t.Fatalf("answered although the store failed:\n%s", res.out)
	}
	h.sink.waitFor(t, 1, EventDropped, map[string]string{"cause": dropBackend})
	h.sessions.mu.Lock()
	h.sessions.fail = false
	h.sessions.mu.Unlock()
	res = radclient(t, h.acct, "acct", testSecret, acctAttrs("Start", "s1", "001010000000001")...)
	if res.code != 0 || len(h.sessions.all()) != 1 {
		t.Fatalf("retry not stored (exit %d, %d rows):\n%s", res.code, len(h.sessions.all()), res.out)
	}
	if !strings.Contains(res.out, "Accounting-Response") {
		t.Errorf("no Accounting-Response:\n%s", res.out)
	}
}

// TestAccountingOverIPv6: the accounting socket on ::1 records sessions
// of the IPv6 NAS and answers Status-Server.
func TestAccountingOverIPv6(t *testing.T) {
	needRadclient(t)
	h := startServer(t, newTestEvaluator(baseSIM(1, "001010000000001")))
	for _, st := range []string{"Start", "Stop"} {
		res := radclient(t, h.acct6, "acct", testSecret, acctAttrs(st, "v6-1", "001010000000001", "Framed-IPv6-Address = 2001:db8::9")...)
		if res.code != 0 {
			t.Fatalf("%s over IPv6 not answered:\n%s", st, res.out)
		}
	}
	rows := h.sessions.all()
	if len(rows) != 1 || rows[0].NAS != "pgw-v6" || rows[0].Live() || rows[0].IP.String() != "2001:db8::9" ||
		rows[0].NASAddr.String() != "::1" || rows[0].SIMID != 1 {
		t.Errorf("sessions = %+v", rows)
	}
	if res := radclient(t, h.acct6, "status", testSecret, "Message-Authenticator = 0x00"); res.code != 0 {
		t.Errorf("Status-Server on the accounting port:\n%s", res.out)
	}
}
