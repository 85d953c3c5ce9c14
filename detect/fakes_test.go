package detect

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// memAlerts is a test double of simguard.AlertStore.
type memAlerts struct {
	mu     sync.Mutex
	alerts []simguard.Alert
	audit  []simguard.Change
	fail   error // every write fails with it when set
}

var _ simguard.AlertStore = (*memAlerts)(nil)

func (s *memAlerts) CreateAlert(_ context.Context, a simguard.Alert) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return simguard.Alert{}, s.fail
	}
	a.ID = int64(len(s.alerts) + 1)
	a.Events = append([]simguard.Event(nil), a.Events...)
	s.alerts = append(s.alerts, a)
	return a, nil
}

func (s *memAlerts) find(id int64) (*simguard.Alert, error) {
	if id < 1 || int(id) > len(s.alerts) {
		return nil, simguard.Errorf(simguard.ENOTFOUND, "alert %d not found", id)
	}
	return &s.alerts[id-1], nil
}

func (s *memAlerts) AddAlertFiring(_ context.Context, id int64, f simguard.AlertFiring) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.find(id)
	if err != nil {
		return simguard.Alert{}, err
	}
	if !a.State.Active() {
		return simguard.Alert{}, simguard.Errorf(simguard.ECONFLICT, "alert %d is resolved", id)
	}
	a.Count += f.Count
	a.LastSeenAt = f.LastSeenAt
	for _, e := range f.Events {
		if len(a.Events) < f.MaxEvents {
			a.Events = append(a.Events, e)
		}
	}
	return *a, nil
}

func (s *memAlerts) AddAlertActions(_ context.Context, id int64, actions []simguard.AlertAction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.find(id)
	if err != nil {
		return err
	}
	a.Actions = append(a.Actions, actions...)
	return nil
}

func (s *memAlerts) GetAlert(_ context.Context, tenantID, id int64) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.find(id)
	if err != nil || a.TenantID != tenantID {
		return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "alert %d not found", id)
	}
	return *a, nil
}

func (s *memAlerts) ListAlerts(_ context.Context, f simguard.AlertFilter) ([]simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []simguard.Alert
	for _, a := range s.alerts {
		if a.ID <= f.AfterID || f.TenantID != 0 && a.TenantID != f.TenantID {
			continue
		}
		ok := len(f.States) == 0
		for _, st := range f.States {
			ok = ok || a.State == st
		}
		if ok && len(out) < f.Limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *memAlerts) SetAlertState(_ context.Context, tenantID, id int64, state simguard.AlertState, note string, ch simguard.Change) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.find(id)
	if err != nil || a.TenantID != tenantID {
		return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "alert %d not found", id)
	}
	if !a.State.Active() || a.State == state {
		return simguard.Alert{}, simguard.Errorf(simguard.ECONFLICT, "alert %d is %s", id, a.State)
	}
	a.State, a.Note = state, note
	s.audit = append(s.audit, ch)
	return *a, nil
}

func (s *memAlerts) snapshot() []simguard.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simguard.Alert, len(s.alerts))
	copy(out, s.alerts)
	return out
}

// resolveBehindBack resolves an alert without telling the engine, like
// another node would.
func (s *memAlerts) resolveBehindBack(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts[id-1].State = simguard.AlertResolved
}

// fakeResponder records calls.
type fakeResponder struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (r *fakeResponder) record(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	return r.err
}

func (r *fakeResponder) SuspendSIM(_ context.Context, simID int64, actor simguard.Actor, reason string) error {
	return r.record(fmt.Sprintf("suspend %d by %s tenant %d: %s", simID, actor.Name, actor.TenantID, reason))
}

func (r *fakeResponder) MoveSIMToGroup(_ context.Context, simID int64, group string, actor simguard.Actor) error {
	return r.record(fmt.Sprintf("move %d to %s by %s", simID, group, actor.Name))
}

func (r *fakeResponder) BlockDestination(_ context.Context, tenantID int64, group string, cidr netip.Prefix, actor simguard.Actor) error {
	return r.record(fmt.Sprintf("block %s for %d/%s by %s", cidr, tenantID, group, actor.Name))
}

func (r *fakeResponder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// fakeNotifier records notices.
type fakeNotifier struct {
	mu      sync.Mutex
	notices []simguard.AlertNotice
}

func (n *fakeNotifier) Notify(_ context.Context, x simguard.AlertNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notices = append(n.notices, x)
	return nil
}

func (n *fakeNotifier) list() []simguard.AlertNotice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]simguard.AlertNotice(nil), n.notices...)
}

// eventually polls cond for up to 10 seconds: generous, so that a slow
// machine does not fail the test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
