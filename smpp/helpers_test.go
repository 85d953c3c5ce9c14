package smpp

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The fleet of the tests, evaluated by the real policy engine
// (policy.Snapshot behind an enforce.Policy, as in production). Tenant 2
// owns the meters, tenant 3 the trackers.
const (
	simMeter     = "491700000001" // tenant 2, active, group meters
	simMeter2    = "491700000002" // tenant 2, active, group meters
	simSuspended = "491700000003" // tenant 2, suspended
	simTracker   = "491700000004" // tenant 3, active, group trackers
	simOTA       = "491700000005" // tenant 2, group ota: binary from 4915100 allowed
	simNoSMS     = "491700000006" // tenant 2, group datasonly
	simFlood     = "491700000007" // tenant 2, group limited: 3 per minute
)

func testGroups() []simguard.Group {
	sms := []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}
	return []simguard.Group{
		{TenantID: 2, Name: "meters", Policy: simguard.Policy{Services: sms, SMS: simguard.SMSPolicy{
			MT: simguard.SMSPeers{Deny: []string{"4990"}},
			MO: simguard.SMSPeers{Allow: []string{"8888", "4930"}, Deny: []string{"4990"}},
		}}},
		{TenantID: 3, Name: "trackers", Policy: simguard.Policy{Services: sms}},
		{TenantID: 2, Name: "ota", Policy: simguard.Policy{Services: sms, SMS: simguard.SMSPolicy{
			Binary: simguard.BinarySMS{Allow: true, Sources: []string{"4915100"}},
		}}},
		{TenantID: 2, Name: "dataonly", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 2, Name: "limited", Policy: simguard.Policy{Services: sms, SMS: simguard.SMSPolicy{PerMinute: 3, SourcePerMinute: 100}}},
	}
}

// testSIM makes the SIM with ID id (its identities derive from it).
func testSIM(id, tenant int64, msisdn string, state simguard.SIMState, group string) simguard.SIM {
	return simguard.SIM{ID: id, TenantID: tenant, ICCID: demo.ICCID(int(id)), IMSI: demo.IMSI(int(id)), MSISDN: msisdn,
		State: state, Group: group, IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff}}
}

func testSIMs() []simguard.SIM {
	return []simguard.SIM{
		testSIM(1, 2, simMeter, simguard.SIMActive, "meters"),
		testSIM(2, 2, simMeter2, simguard.SIMActive, "meters"),
		testSIM(3, 2, simSuspended, simguard.SIMSuspended, "meters"),
		testSIM(4, 3, simTracker, simguard.SIMActive, "trackers"),
		testSIM(5, 2, simOTA, simguard.SIMActive, "ota"),
		testSIM(6, 2, simNoSMS, simguard.SIMActive, "dataonly"),
		testSIM(7, 2, simFlood, simguard.SIMActive, "limited"),
	}
}

// compileFleet compiles groups and SIMs into a live policy.
func compileFleet(t testing.TB, groups []simguard.Group, sims []simguard.SIM) *enforce.Policy {
	t.Helper()
	for i := range groups {
		if err := groups[i].Validate(); err != nil {
			t.Fatalf("group %s: %v", groups[i].Name, err)
		}
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		t.Fatal(err)
	}
	return enforce.NewPolicy(snap, nil)
}

func testFleet(t testing.TB) *enforce.Policy { return compileFleet(t, testGroups(), testSIMs()) }

// setSIM replaces one SIM of a live policy, as the control plane does.
func setSIM(t testing.TB, p *enforce.Policy, sim simguard.SIM) {
	t.Helper()
	if err := p.UpdateSIMs([]int64{sim.ID}, func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithSIM(&sim) }); err != nil {
		t.Fatal(err)
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
	mu    sync.Mutex
	sms   map[int64]int64
	calls int
	// delay makes each report take that long, as a store write does;
	// after runs once a report is counted (under mu).
	delay time.Duration
	after func(sim, total int64)
}

func (u *usageLog) LearnIMEI(context.Context, int64, string, string) error { return nil }
func (u *usageLog) ReportIMEIMismatch(context.Context, int64, string, string) error {
	return nil
}
func (u *usageLog) AddUsage(_ context.Context, sim int64, data, sms int64) error {
	time.Sleep(u.delay)
	u.mu.Lock()
	u.calls++
	u.mu.Unlock()
	u.record(sim, sms)
	return nil
}

func (u *usageLog) record(sim, sms int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sms == nil {
		u.sms = map[int64]int64{}
	}
	u.sms[sim] += sms
	if u.after != nil {
		u.after(sim, u.sms[sim])
	}
}

func (u *usageLog) count(sim int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sms[sim]
}

// accountMap is the control plane's side of binds: it checks passwords
// against bcrypt hashes as control.Service does, and serves lookups for
// AccountsChanged. Tests may change it while the proxy runs.
type accountMap struct {
	mu sync.Mutex
	m  map[string]simguard.SMPPAccount
}

func (a *accountMap) SMPPAccountBySystemID(_ context.Context, id string) (simguard.SMPPAccount, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	acct, ok := a.m[id]
	if !ok {
		return acct, simguard.Errorf(simguard.ENOTFOUND, "no smpp account %q", id)
	}
	return acct, nil
}

func (a *accountMap) AuthenticateSMPP(ctx context.Context, id, password string) (simguard.SMPPAccount, error) {
	acct, err := a.SMPPAccountBySystemID(ctx, id)
	if err != nil {
		return acct, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "system_id", Message: "unknown"}
	}
	if bcrypt.CompareHashAndPassword([]byte(acct.PasswordHash), []byte(password)) != nil {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "password", Message: "wrong"}
	}
	acct.PasswordHash = ""
	return acct, nil
}

// edit changes an account as an admin would (a new version) or, with
// fn returning false, deletes it.
func (a *accountMap) edit(id string, fn func(*simguard.SMPPAccount) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	acct := a.m[id]
	if !fn(&acct) {
		delete(a.m, id)
		return
	}
	acct.Version++
	a.m[id] = acct
}

func testHash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func testAccounts(t testing.TB) *accountMap {
	return &accountMap{m: map[string]simguard.SMPPAccount{
		"meterapp": {ID: 1, TenantID: 2, SystemID: "meterapp", PasswordHash: testHash(t, "pw1")},
		"shortcd":  {ID: 2, TenantID: 2, SystemID: "shortcd", PasswordHash: testHash(t, "pw2"), MOPrefixes: []string{"8888"}},
		"tracker":  {ID: 3, TenantID: 3, SystemID: "tracker", PasswordHash: testHash(t, "pw3")},
		"operator": {ID: 4, TenantID: simguard.ProviderTenantID, SystemID: "operator", PasswordHash: testHash(t, "pw4")},
		"off":      {ID: 5, TenantID: 2, SystemID: "off", PasswordHash: testHash(t, "pw5"), Disabled: true},
		"solo":     {ID: 6, TenantID: 2, SystemID: "solo", PasswordHash: testHash(t, "pw6"), MaxBinds: 1},
	}}
}

// harness runs a proxy in front of test SMSCs.
type harness struct {
	t      testing.TB
	srv    *Server
	pol    *enforce.Policy
	accts  *accountMap
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
	h := &harness{t: t, events: &eventLog{}, usage: &usageLog{}, reg: prometheus.NewRegistry(), pol: testFleet(t), accts: testAccounts(t)}
	deps := Deps{
		Evaluator:  h.pol,
		Events:     h.events,
		Feedback:   h.usage,
		Auth:       h.accts,
		Accounts:   h.accts,
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
