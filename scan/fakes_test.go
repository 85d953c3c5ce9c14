package scan

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// memStore is a test double of simguard.FindingStore.
type memStore struct {
	mu       sync.Mutex
	runs     []simguard.ScanRun
	findings map[int64][]simguard.Finding
	changes  []simguard.Change
	// nextFinding numbers findings as a store would.
	nextFinding int64
}

func newMemStore() *memStore { return &memStore{findings: map[int64][]simguard.Finding{}} }

func (m *memStore) CreateScanRun(_ context.Context, run simguard.ScanRun, ch simguard.Change) (simguard.ScanRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	run.ID = int64(len(m.runs) + 1)
	m.runs = append(m.runs, run)
	m.changes = append(m.changes, ch)
	return run, nil
}

func (m *memStore) StartScanRun(_ context.Context, tenantID, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.runs) || m.runs[id-1].TenantID != tenantID {
		return simguard.Errorf(simguard.ENOTFOUND, "no scan %d", id)
	}
	if m.runs[id-1].Status != simguard.ScanQueued {
		return simguard.Errorf(simguard.ECONFLICT, "scan %d is %s", id, m.runs[id-1].Status)
	}
	m.runs[id-1].Status, m.runs[id-1].StartedAt = simguard.ScanRunning, at
	return nil
}

func (m *memStore) FinishScanRun(_ context.Context, run simguard.ScanRun, fs []simguard.Finding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if run.ID < 1 || int(run.ID) > len(m.runs) {
		return simguard.Errorf(simguard.ENOTFOUND, "no scan %d", run.ID)
	}
	if st := m.runs[run.ID-1].Status; st != simguard.ScanRunning && st != simguard.ScanQueued {
		return simguard.Errorf(simguard.ECONFLICT, "scan %d is already %s", run.ID, st)
	}
	m.runs[run.ID-1] = run
	for i := range fs {
		m.nextFinding++
		fs[i].ID, fs[i].ScanID, fs[i].State = m.nextFinding, run.ID, simguard.FindingOpen
	}
	m.findings[run.ID] = slices.Clone(fs)
	return nil
}

func (m *memStore) AbandonScanRuns(context.Context, string) (int64, error) { return 0, nil }

func (m *memStore) GetScanRun(_ context.Context, tenantID, id int64) (simguard.ScanRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.runs) || m.runs[id-1].TenantID != tenantID {
		return simguard.ScanRun{}, simguard.Errorf(simguard.ENOTFOUND, "no scan %d", id)
	}
	return m.runs[id-1], nil
}

func (m *memStore) GetFinding(context.Context, int64, int64) (simguard.Finding, error) {
	return simguard.Finding{}, simguard.Errorf(simguard.ENOTFOUND, "not kept")
}

func (m *memStore) LastScanRun(_ context.Context, tenantID int64, scope string, beforeID int64) (simguard.ScanRun, []simguard.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.runs) - 1; i >= 0; i-- {
		r := m.runs[i]
		if beforeID > 0 && r.ID >= beforeID {
			continue
		}
		if r.TenantID == tenantID && r.Scope == scope && r.Status == simguard.ScanDone {
			return r, slices.Clone(m.findings[r.ID]), nil
		}
	}
	return simguard.ScanRun{}, nil, simguard.Errorf(simguard.ENOTFOUND, "no scan")
}

func (m *memStore) ListScanRuns(context.Context, int64, int) ([]simguard.ScanRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.runs), nil
}

func (m *memStore) FindFindings(_ context.Context, f simguard.FindingFilter) ([]simguard.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.findings[f.ScanID]), nil
}

func (m *memStore) run(id int64) simguard.ScanRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[id-1]
}

// sinkFunc collects events.
type eventLog struct {
	mu     sync.Mutex
	events []simguard.Event
}

func (l *eventLog) Emit(e simguard.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []simguard.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// loopbackDevice makes 127.0.0.1 a device of every tenant, so that a
// tenant's scan may reach it.
var loopbackDevice = inventory{devices: map[netip.Addr]Device{netip.MustParseAddr("127.0.0.1"): {SIMID: 1}}}

// inventory maps addresses to SIMs and names to groups.
type inventory struct {
	devices map[netip.Addr]Device
	groups  map[string]simguard.Group
}

func (i inventory) DeviceByIP(_ int64, a netip.Addr) (Device, bool) {
	d, ok := i.devices[a]
	return d, ok
}

func (i inventory) TenantAddrs(int64) []netip.Addr {
	var out []netip.Addr
	for a := range i.devices {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func (i inventory) Group(_ int64, name string) (simguard.Group, bool) {
	g, ok := i.groups[name]
	return g, ok
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
