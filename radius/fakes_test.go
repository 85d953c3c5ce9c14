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
)

// testSIM is one SIM of the test evaluator, with its group's policy
// flattened in. It stands in for policy.Snapshot until that lands in main.
type testSIM struct {
	ID, Tenant   int64
	IMSI, MSISDN string
	State        simguard.SIMState
	DataOn       bool
	APNs         []string
	RATs         []simguard.RAT
	PLMNs        []string // "MCC-MNC"
	Areas        []uint32 // TAC/LAC; empty: any
	LockMode     simguard.IMEILockMode
	IMEI         string // 14 digits when bound
	WindowEnd    time.Time
	QuotaUsed    bool
	StaticIP     netip.Addr
	TACs         []string // allowed device models (IMEI prefixes); empty: any
}

// testEvaluator decides in the documented reason order of request.go.
type testEvaluator struct {
	mu   sync.RWMutex
	sims map[string]*testSIM // by IMSI and by MSISDN
}

func newTestEvaluator(sims ...testSIM) *testEvaluator {
	e := &testEvaluator{sims: map[string]*testSIM{}}
	for i := range sims {
		e.add(sims[i])
	}
	return e
}

func (e *testEvaluator) add(s testSIM) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &s
	e.sims[s.IMSI] = p
	if s.MSISDN != "" {
		e.sims[s.MSISDN] = p
	}
}

func (e *testEvaluator) change(imsi string, fn func(*testSIM)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e.sims[imsi])
}

func (e *testEvaluator) Evaluate(r *simguard.Request) simguard.Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	key := r.IMSI
	if key == "" {
		key = r.MSISDN
	}
	if key == "" {
		return simguard.Decision{Reason: simguard.ReasonBadRequest}
	}
	s, ok := e.sims[key]
	if !ok {
		return simguard.Decision{Reason: simguard.ReasonSIMUnknown}
	}
	d := simguard.Decision{SIMID: s.ID, TenantID: s.Tenant, Group: "g", ValidUntil: s.WindowEnd, StaticIP: s.StaticIP}
	deny := func(r simguard.Reason) simguard.Decision {
		d.Reason, d.Rule, d.ValidUntil, d.StaticIP = r, "test:"+string(r), time.Time{}, netip.Addr{}
		return d
	}
	switch s.State {
	case simguard.SIMSuspended:
		return deny(simguard.ReasonSIMSuspended)
	case simguard.SIMTerminated:
		return deny(simguard.ReasonSIMTerminated)
	case simguard.SIMInventory:
		return deny(simguard.ReasonSIMInactive)
	}
	if !s.DataOn {
		return deny(simguard.ReasonServiceDisabled)
	}
	if !s.WindowEnd.IsZero() && !r.Time.Before(s.WindowEnd) {
		return deny(simguard.ReasonOutsideWindow)
	}
	if s.LockMode != "" && s.LockMode != simguard.IMEILockOff {
		if r.IMEI == "" {
			return deny(simguard.ReasonIMEIMissing)
		}
		imei, _ := simguard.NormalizeIMEI(r.IMEI)
		switch {
		case s.IMEI == "" && s.LockMode == simguard.IMEILockLearn:
			d.LearnIMEI = true
		case imei != s.IMEI:
			return deny(simguard.ReasonIMEIMismatch)
		}
	}
	if len(s.TACs) > 0 && !slices.ContainsFunc(s.TACs, func(p string) bool { return strings.HasPrefix(r.IMEI, p) }) {
		return deny(simguard.ReasonDeviceModelDenied)
	}
	if len(s.PLMNs) > 0 && !slices.Contains(s.PLMNs, r.Location.PLMN.String()) {
		return deny(simguard.ReasonLocationDenied)
	}
	if len(s.Areas) > 0 && (!r.Location.HasArea || !slices.Contains(s.Areas, r.Location.Area)) {
		return deny(simguard.ReasonLocationDenied)
	}
	if len(s.RATs) > 0 && !slices.Contains(s.RATs, r.RAT) {
		return deny(simguard.ReasonRATDenied)
	}
	if len(s.APNs) > 0 && !slices.Contains(s.APNs, r.APN) {
		return deny(simguard.ReasonAPNDenied)
	}
	if s.QuotaUsed {
		return deny(simguard.ReasonQuotaExceeded)
	}
	d.Allow, d.Reason, d.Rule = true, simguard.ReasonAllowed, "test:allow"
	return d
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
	f.eval.mu.Lock()
	defer f.eval.mu.Unlock()
	for _, s := range f.eval.sims {
		if s.ID == simID {
			if s.IMEI != "" && s.IMEI != n {
				return simguard.Errorf(simguard.ECONFLICT, "bound to another IMEI")
			}
			s.IMEI = n
		}
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
