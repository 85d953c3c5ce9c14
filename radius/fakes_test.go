package radius

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// testSIM is one SIM of the tests with its group's policy flattened in:
// each becomes a SIM in a group of its own in a real policy.Snapshot.
type testSIM struct {
	ID, Tenant   int64
	IMSI, MSISDN string
	State        simguard.SIMState
	DataOn       bool
	APNs         []string
	RATs         []simguard.RAT
	PLMNs        []string // "MCC-MNC"
	Areas        []uint32 // TACs of PLMN 001-01; empty: any
	LockMode     simguard.IMEILockMode
	IMEI         string // 14 digits when bound
	WindowEnd    time.Time
	QuotaUsed    bool
	StaticIP     netip.Addr
	TACs         []string // allowed device models (IMEI prefixes); empty: any
}

// toStore turns s into the group and SIM the control plane would hold.
func (s testSIM) toStore(now time.Time) (simguard.Group, simguard.SIM) {
	g := simguard.Group{ID: s.ID, TenantID: s.Tenant, Name: "g" + itoa(uint64(s.ID)), Policy: simguard.Policy{
		APNs: slices.Clone(s.APNs), RATs: slices.Clone(s.RATs), DeviceTACs: slices.Clone(s.TACs),
		Location: simguard.LocationLock{PLMNs: slices.Clone(s.PLMNs)},
	}}
	if s.DataOn {
		g.Policy.Services = []simguard.Service{simguard.ServiceData}
	}
	for _, a := range s.Areas {
		g.Policy.Location.Areas = append(g.Policy.Location.Areas, "001-01-"+itoa(uint64(a)))
	}
	if !s.WindowEnd.IsZero() {
		end := s.WindowEnd
		g.Policy.Windows = []simguard.Window{{Until: &end}}
	}
	sim := simguard.SIM{ID: s.ID, TenantID: s.Tenant, ICCID: testICCID(s.ID), IMSI: s.IMSI, MSISDN: s.MSISDN,
		State: s.State, Group: g.Name, StaticIP: s.StaticIP, IMEILock: simguard.IMEILock{Mode: s.LockMode, IMEI: s.IMEI}}
	if s.QuotaUsed {
		g.Policy.Quotas = simguard.Quotas{Period: "month", DataBytes: 1000}
		sim.Usage = simguard.Usage{PeriodStart: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), DataBytes: 5000}
	}
	return g, sim
}

// testICCID makes a valid (Luhn) 19-digit ICCID for a SIM ID.
func testICCID(id int64) string {
	p := "894900" + strings.Repeat("0", 12-len(itoa(uint64(id)))) + itoa(uint64(id))
	sum := 0
	for i := len(p) - 1; i >= 0; i-- {
		d := int(p[i] - '0')
		if (len(p)-i)%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return p + string(rune('0'+(10-sum%10)%10))
}

// testEvaluator is the real policy behind enforce.Policy, as the lead
// wires it; change replaces a SIM and its group like a control-plane
// write does.
type testEvaluator struct {
	pol  *enforce.Policy
	mu   sync.Mutex
	sims map[string]*testSIM // by IMSI
}

func newTestEvaluator(sims ...testSIM) *testEvaluator {
	e := &testEvaluator{sims: map[string]*testSIM{}}
	var groups []simguard.Group
	var list []simguard.SIM
	for i := range sims {
		s := sims[i]
		e.sims[s.IMSI] = &s
		g, sim := s.toStore(time.Now())
		groups, list = append(groups, g), append(list, sim)
	}
	snap, err := policy.Compile(groups, list)
	if err != nil {
		panic("test policy: " + err.Error())
	}
	e.pol = enforce.NewPolicy(snap, nil)
	return e
}

func (e *testEvaluator) Evaluate(r *simguard.Request) simguard.Decision { return e.pol.Evaluate(r) }

// change edits the SIM with imsi and publishes a new snapshot.
func (e *testEvaluator) change(imsi string, fn func(*testSIM)) {
	if err := e.changeErr(imsi, func(s *testSIM) error { fn(s); return nil }); err != nil {
		panic(err)
	}
}

func (e *testEvaluator) changeErr(imsi string, fn func(*testSIM) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sims[imsi]
	if err := fn(s); err != nil {
		return err
	}
	g, sim := s.toStore(time.Now())
	return e.pol.UpdateSIMs([]int64{s.ID}, func(cur *policy.Snapshot) (*policy.Snapshot, error) {
		next, err := cur.WithGroup(&g)
		if err != nil {
			return nil, err
		}
		return next.WithSIM(&sim)
	})
}

func (e *testEvaluator) imsiOf(simID int64) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for imsi, s := range e.sims {
		if s.ID == simID {
			return imsi
		}
	}
	return ""
}

// testFeedback plays the control plane: a learned IMEI binds the SIM in
// the evaluator (compare-and-set, ECONFLICT if another is bound).
type testFeedback struct {
	eval *testEvaluator
	mu   sync.Mutex
	// learned, mismatches: "simID/imei"; usage: bytes by SIM.
	learned, mismatches []string
	usage               map[int64]int64
	failUsage           bool
}

func (f *testFeedback) LearnIMEI(_ context.Context, simID int64, imei, _ string) error {
	n, err := simguard.NormalizeIMEI(imei)
	if err != nil {
		return err
	}
	err = f.eval.changeErr(f.eval.imsiOf(simID), func(s *testSIM) error {
		if s.IMEI != "" && s.IMEI != n {
			return simguard.Errorf(simguard.ECONFLICT, "bound to another IMEI")
		}
		s.IMEI = n
		return nil
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.learned = append(f.learned, itoa(uint64(simID))+"/"+imei)
	f.mu.Unlock()
	return nil
}

func (f *testFeedback) ReportIMEIMismatch(_ context.Context, simID int64, imei, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mismatches = append(f.mismatches, itoa(uint64(simID))+"/"+imei)
	return nil
}

func (f *testFeedback) AddUsage(_ context.Context, simID int64, data, _ int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failUsage {
		return simguard.Errorf(simguard.EUNAVAILABLE, "control plane down")
	}
	if f.usage == nil {
		f.usage = map[int64]int64{}
	}
	f.usage[simID] += data
	return nil
}

func (f *testFeedback) calls() (learned, mismatches []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.learned...), append([]string(nil), f.mismatches...)
}

func (f *testFeedback) usageOf(simID int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage[simID]
}

// testSink collects events.
type testSink struct {
	mu     sync.Mutex
	events []simguard.Event
}

func (s *testSink) Emit(e simguard.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

// find returns the events of typ whose attrs include every pair of match.
func (s *testSink) find(typ string, match map[string]string) []simguard.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []simguard.Event
next:
	for _, e := range s.events {
		if e.Type != typ {
			continue
		}
		for k, v := range match {
			if e.Attrs[k] != v {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// waitFor polls until find returns at least n events (disconnects and
// such run in the background).
func (s *testSink) waitFor(t *testing.T, n int, typ string, match map[string]string) []simguard.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ev := s.find(typ, match); len(ev) >= n {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d %s event(s) matching %v; have %d", n, typ, match, len(s.find(typ, match)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testSessions is an in-memory RADIUSSessionStore for tests.
type testSessions struct {
	mu     sync.Mutex
	rows   []simguard.RADIUSSession
	fail   bool
	saves  int
	nextID int64
}

func (m *testSessions) find(nas, id string, live bool) (simguard.RADIUSSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.rows) - 1; i >= 0; i-- {
		r := m.rows[i]
		if r.NAS == nas && r.SessionID == id && (!live || r.Live()) {
			return r, nil
		}
	}
	return simguard.RADIUSSession{}, simguard.Errorf(simguard.ENOTFOUND, "no session")
}

func (m *testSessions) LiveSession(_ context.Context, nas, id string) (simguard.RADIUSSession, error) {
	return m.find(nas, id, true)
}

func (m *testSessions) LastSession(_ context.Context, nas, id string) (simguard.RADIUSSession, error) {
	return m.find(nas, id, false)
}

func (m *testSessions) SaveSession(_ context.Context, s *simguard.RADIUSSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return simguard.Errorf(simguard.EUNAVAILABLE, "disk full")
	}
	m.saves++
	if s.ID == 0 {
		for _, r := range m.rows {
			if s.Live() && r.Live() && r.NAS == s.NAS && r.SessionID == s.SessionID {
				return simguard.Errorf(simguard.ECONFLICT, "live session exists")
			}
		}
		m.nextID++
		s.ID, s.Version = m.nextID, 1
		m.rows = append(m.rows, *s)
		return nil
	}
	for i := range m.rows {
		if m.rows[i].ID == s.ID {
			if m.rows[i].Version != s.Version {
				return simguard.Errorf(simguard.EPRECONDITION, "version")
			}
			s.Version++
			s.Disconnect = m.rows[i].Disconnect
			m.rows[i] = *s
			return nil
		}
	}
	return simguard.Errorf(simguard.ENOTFOUND, "no session %d", s.ID)
}

func (m *testSessions) SetSessionDisconnect(_ context.Context, id int64, d simguard.RADIUSDisconnect) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.rows {
		if m.rows[i].ID == id {
			m.rows[i].Disconnect = &d
			return nil
		}
	}
	return simguard.Errorf(simguard.ENOTFOUND, "no session %d", id)
}

func (m *testSessions) StopNASSessions(_ context.Context, nas string, t time.Time, cause string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.rows {
		if m.rows[i].NAS == nas && m.rows[i].Live() {
			m.rows[i].Stop, m.rows[i].TerminateCause = t, cause
			n++
		}
	}
	return n, nil
}

func (m *testSessions) ListSessions(_ context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []simguard.RADIUSSession
	for _, r := range m.rows {
		if r.ID > f.AfterID && (!f.LiveOnly || r.Live()) && (f.SIMID == 0 || r.SIMID == f.SIMID) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *testSessions) saveCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

func (m *testSessions) all() []simguard.RADIUSSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rows)
}

// testLeases is an in-memory IPLeaseStore for tests.
type testLeases struct {
	mu     sync.Mutex
	leases []simguard.IPLease
}

func (m *testLeases) ListLeases(_ context.Context, pool string) ([]simguard.IPLease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []simguard.IPLease
	for _, l := range m.leases {
		if l.Pool == pool {
			out = append(out, l)
		}
	}
	return out, nil
}

func (m *testLeases) GetLease(_ context.Context, pool string, simID int64) (simguard.IPLease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.leases {
		if l.Pool == pool && l.SIMID == simID {
			return l, nil
		}
	}
	return simguard.IPLease{}, simguard.Errorf(simguard.ENOTFOUND, "no lease")
}

func (m *testLeases) CreateLease(_ context.Context, l simguard.IPLease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.leases {
		if o.Pool == l.Pool && (o.IP == l.IP || o.SIMID == l.SIMID) {
			return simguard.Errorf(simguard.ECONFLICT, "taken")
		}
	}
	m.leases = append(m.leases, l)
	return nil
}

func (m *testLeases) ReleaseLeases(_ context.Context, simID int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.leases)
	m.leases = slices.DeleteFunc(m.leases, func(l simguard.IPLease) bool { return l.SIMID == simID })
	return int64(n - len(m.leases)), nil
}
