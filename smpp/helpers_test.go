package smpp

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testPolicy is a small stand-in for policy.Snapshot until that package
// lands: SIMs by MSISDN, groups with real simguard.Policy values, and the
// checks of the SMS path in the documented order.
type testPolicy struct {
	sims   map[string]testSIM
	groups map[string]simguard.Policy
}

type testSIM struct {
	id, tenant int64
	state      simguard.SIMState
	group      string
}

func (tp *testPolicy) Evaluate(r *simguard.Request) simguard.Decision {
	sim, ok := tp.sims[r.MSISDN]
	if !ok {
		return simguard.Decision{Reason: simguard.ReasonSIMUnknown, Rule: "sim"}
	}
	d := simguard.Decision{SIMID: sim.id, TenantID: sim.tenant, Group: sim.group}
	deny := func(reason simguard.Reason, rule string) simguard.Decision {
		d.Reason, d.Rule = reason, rule
		return d
	}
	switch sim.state {
	case simguard.SIMInventory:
		return deny(simguard.ReasonSIMInactive, "sim.state")
	case simguard.SIMSuspended:
		return deny(simguard.ReasonSIMSuspended, "sim.state")
	case simguard.SIMTerminated:
		return deny(simguard.ReasonSIMTerminated, "sim.state")
	}
	pol := tp.groups[sim.group]
	svc, peers := simguard.ServiceSMSMT, pol.SMS.MT
	if r.Kind == simguard.KindSMSMO {
		svc, peers = simguard.ServiceSMSMO, pol.SMS.MO
	}
	if !pol.HasService(svc) {
		return deny(simguard.ReasonServiceDisabled, "group:"+sim.group+"/services")
	}
	if hasPrefix(peers.Deny, r.Peer) || (len(peers.Allow) > 0 && !hasPrefix(peers.Allow, r.Peer)) {
		return deny(simguard.ReasonSMSPeerDenied, "group:"+sim.group+"/sms.peers")
	}
	if r.Kind == simguard.KindSMSMT && r.SMS.Binary &&
		!(pol.SMS.Binary.Allow && (len(pol.SMS.Binary.Sources) == 0 || hasPrefix(pol.SMS.Binary.Sources, r.Peer))) {
		return deny(simguard.ReasonSMSBinaryDenied, "group:"+sim.group+"/sms.binary")
	}
	if r.Kind == simguard.KindSMSMT && r.SMS.Silent && !pol.SMS.AllowSilent {
		return deny(simguard.ReasonSMSSilentDenied, "group:"+sim.group+"/sms.allow_silent")
	}
	d.Allow, d.Reason, d.Rule = true, simguard.ReasonAllowed, "group:"+sim.group
	d.SMSPerMinute, d.SMSSourcePerMinute = int32(pol.SMS.PerMinute), int32(pol.SMS.SourcePerMinute)
	return d
}

func hasPrefix(list []string, s string) bool {
	for _, p := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// The fleet of the tests. Tenant 2 owns the meters, tenant 3 the trackers.
const (
	simMeter     = "491700000001" // tenant 2, active, group meters
	simMeter2    = "491700000002" // tenant 2, active, group meters
	simSuspended = "491700000003" // tenant 2, suspended
	simTracker   = "491700000004" // tenant 3, active, group trackers
	simOTA       = "491700000005" // tenant 2, group ota: binary from 4915100 allowed
	simNoSMS     = "491700000006" // tenant 2, group datasonly
	simFlood     = "491700000007" // tenant 2, group limited: 3 per minute
)

func testFleet() *testPolicy {
	sms := []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}
	return &testPolicy{
		sims: map[string]testSIM{
			simMeter:     {1, 2, simguard.SIMActive, "meters"},
			simMeter2:    {2, 2, simguard.SIMActive, "meters"},
			simSuspended: {3, 2, simguard.SIMSuspended, "meters"},
			simTracker:   {4, 3, simguard.SIMActive, "trackers"},
			simOTA:       {5, 2, simguard.SIMActive, "ota"},
			simNoSMS:     {6, 2, simguard.SIMActive, "dataonly"},
			simFlood:     {7, 2, simguard.SIMActive, "limited"},
		},
		groups: map[string]simguard.Policy{
			"meters": {Services: sms, SMS: simguard.SMSPolicy{
				MT: simguard.SMSPeers{Deny: []string{"4990"}},
				MO: simguard.SMSPeers{Allow: []string{"8888", "4930"}, Deny: []string{"4990"}},
			}},
			"trackers": {Services: sms},
			"ota": {Services: sms, SMS: simguard.SMSPolicy{
				Binary: simguard.BinarySMS{Allow: true, Sources: []string{"4915100"}},
			}},
			"dataonly": {Services: []simguard.Service{simguard.ServiceData}},
			"limited":  {Services: sms, SMS: simguard.SMSPolicy{PerMinute: 3, SourcePerMinute: 100}},
		},
	}
}

type eventLog struct {
	mu     sync.Mutex
	events []simguard.Event
}

func (l *eventLog) Emit(e simguard.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// find returns the events of a type, oldest first.
func (l *eventLog) find(typ string) []simguard.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []simguard.Event
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

type usageLog struct {
	mu  sync.Mutex
	sms map[int64]int64
}

func (u *usageLog) LearnIMEI(context.Context, int64, string, string) error { return nil }
func (u *usageLog) ReportIMEIMismatch(context.Context, int64, string, string) error {
	return nil
}
func (u *usageLog) AddUsage(_ context.Context, sim int64, data, sms int64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sms == nil {
		u.sms = map[int64]int64{}
	}
	u.sms[sim] += sms
	return nil
}

func (u *usageLog) count(sim int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sms[sim]
}

type accountMap map[string]simguard.SMPPAccount

func (m accountMap) SMPPAccountBySystemID(_ context.Context, id string) (simguard.SMPPAccount, error) {
	a, ok := m[id]
	if !ok {
		return a, simguard.Errorf(simguard.ENOTFOUND, "no smpp account %q", id)
	}
	return a, nil
}

func testHash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func testAccounts(t testing.TB) accountMap {
	return accountMap{
		"meterapp": {ID: 1, TenantID: 2, SystemID: "meterapp", PasswordHash: testHash(t, "pw1")},
		"shortcd":  {ID: 2, TenantID: 2, SystemID: "shortcd", PasswordHash: testHash(t, "pw2"), MOPrefixes: []string{"8888"}},
		"tracker":  {ID: 3, TenantID: 3, SystemID: "tracker", PasswordHash: testHash(t, "pw3")},
		"operator": {ID: 4, TenantID: simguard.ProviderTenantID, SystemID: "operator", PasswordHash: testHash(t, "pw4")},
		"off":      {ID: 5, TenantID: 2, SystemID: "off", PasswordHash: testHash(t, "pw5"), Disabled: true},
		"solo":     {ID: 6, TenantID: 2, SystemID: "solo", PasswordHash: testHash(t, "pw6"), MaxBinds: 1},
	}
}

// harness runs a proxy in front of test SMSCs.
type harness struct {
	t      testing.TB
	srv    *Server
	addr   string
	events *eventLog
	usage  *usageLog
	reg    *prometheus.Registry
	stop   func()
}

// startProxy serves a proxy with one route "main" to upstreams; tweak
// adjusts the config before New.
func startProxy(t testing.TB, upstreams []string, tweak func(*Config, *Deps)) *harness {
	t.Helper()
	cfg := Config{
		Upstreams:           []simguard.SMPPUpstream{{Name: "main", Addrs: upstreams, SystemID: "fw", Password: "fwpw"}},
		BindFailDelay:       time.Millisecond,
		EnquireLinkInterval: 5 * time.Second,
		ResponseTimeout:     5 * time.Second,
		ReconnectMin:        20 * time.Millisecond,
		ReconnectMax:        200 * time.Millisecond,
		ShutdownTimeout:     time.Second,
	}
	h := &harness{t: t, events: &eventLog{}, usage: &usageLog{}, reg: prometheus.NewRegistry()}
	deps := Deps{
		Evaluator:  testFleet(),
		Events:     h.events,
		Feedback:   h.usage,
		Accounts:   testAccounts(t),
		Registerer: h.reg,
	}
	if tweak != nil {
		tweak(&cfg, &deps)
	}
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	h.srv, h.addr = srv, ln.Addr().String()
	var once sync.Once
	h.stop = func() { once.Do(func() { stopServe(t, cancel, done) }) }
	t.Cleanup(h.stop)
	return h
}

func stopServe(t testing.TB, cancel func(), done chan error) {
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("serve did not return after cancel")
	}
}

// waitUp waits until n binds of route main are up.
func (h *harness) waitUp(n int) {
	h.t.Helper()
	eventually(h.t, 10*time.Second, func() bool { return h.srv.UpstreamBinds("main") == n }, "upstream binds up")
}

func (h *harness) dial(systemID, password string, o smpptest.ClientOptions) *smpptest.Client {
	h.t.Helper()
	o.SystemID, o.Password = systemID, password
	c, err := smpptest.Dial(h.addr, o)
	if err != nil {
		h.t.Fatalf("bind %s: %v", systemID, err)
	}
	h.t.Cleanup(c.Abort)
	return c
}

func eventually(t testing.TB, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newSMSC(t *testing.T, opt smpptest.SMSCOptions) *smpptest.SMSC {
	t.Helper()
	s, err := smpptest.NewSMSC("127.0.0.1:0", opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func submit(src, dst string, text string) *pdu.PDU {
	return &pdu.PDU{ID: pdu.SubmitSM, Source: pdu.Address{TON: 1, NPI: 1, Addr: src},
		Dest: pdu.Address{TON: 1, NPI: 1, Addr: dst}, ShortMessage: []byte(text)}
}

func statusOf(t testing.TB, r *pdu.PDU, err error) pdu.Status {
	t.Helper()
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	return r.Status
}

// errAs is errors.As for tests that expect a *pdu.Error.
func errAs(err error) (*pdu.Error, bool) {
	var e *pdu.Error
	ok := errors.As(err, &e)
	return e, ok
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
