package scan_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/scan"
)

// sessions is a fake of what RADIUS knows about live sessions.
type sessions map[int64]netip.Addr

func (s sessions) SessionAddr(id int64) (netip.Addr, bool) { a, ok := s[id]; return a, ok }

func (s sessions) SessionSIM(a netip.Addr) (int64, bool) {
	for id, x := range s {
		if x == a {
			return id, true
		}
	}
	return 0, false
}

func inventoryFleet(t *testing.T) *policy.Snapshot {
	t.Helper()
	groups := []simguard.Group{
		{TenantID: 1, Name: "meters", Version: 4, Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 1, Name: "cameras", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 1, Name: "spare", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
		{TenantID: 2, Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}},
	}
	sim := func(id, tenant int64, group string, state simguard.SIMState, ip string) simguard.SIM {
		s := simguard.SIM{ID: id, TenantID: tenant, ICCID: demo.ICCID(int(id)), IMSI: demo.IMSI(int(id)), State: state, Group: group}
		if ip != "" {
			s.StaticIP = netip.MustParseAddr(ip)
		}
		return s
	}
	sims := []simguard.SIM{
		sim(1, 1, "meters", simguard.SIMActive, "10.45.0.9"),
		sim(2, 1, "meters", simguard.SIMActive, "10.45.0.3"),
		sim(3, 1, "meters", simguard.SIMSuspended, "10.45.0.4"), // no data service: not scanned
		sim(4, 1, "meters", simguard.SIMActive, ""),             // dynamic address from its session
		sim(5, 1, "meters", simguard.SIMActive, ""),             // no session, no static IP
		sim(6, 1, "cameras", simguard.SIMActive, "10.45.1.1"),
		sim(7, 2, "meters", simguard.SIMActive, "10.99.0.1"),
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestPolicyInventory(t *testing.T) {
	snap := inventoryFleet(t)
	live := sessions{4: netip.MustParseAddr("10.46.0.20"), 2: netip.MustParseAddr("10.46.0.2")}
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, live)
	devices := []struct {
		name   string
		tenant int64
		addr   string
		want   scan.Device
		ok     bool
	}{
		{"static IP", 1, "10.45.0.9", scan.Device{SIMID: 1, Group: "meters"}, true},
		{"session address", 1, "10.46.0.20", scan.Device{SIMID: 4, Group: "meters"}, true},
		{"IPv4-mapped", 1, "::ffff:10.45.0.9", scan.Device{SIMID: 1, Group: "meters"}, true},
		{"another tenant's SIM", 1, "10.99.0.1", scan.Device{}, false},
		{"unknown", 1, "10.45.7.7", scan.Device{}, false},
	}
	for _, tt := range devices {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := inv.DeviceByIP(tt.tenant, netip.MustParseAddr(tt.addr))
			if d != tt.want || ok != tt.ok {
				t.Fatalf("DeviceByIP(%d, %s) = %+v, %v; want %+v, %v", tt.tenant, tt.addr, d, ok, tt.want, tt.ok)
			}
		})
	}
	if g, ok := inv.Group(1, "meters"); !ok || g.Version != 4 {
		t.Errorf("Group(1, meters) = %+v, %v", g, ok)
	}
	if _, ok := inv.Group(2, "cameras"); ok {
		t.Error("Group found another tenant's group")
	}
	got, err := inv.GroupAddrs(context.Background(), 1, "meters")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("10.45.0.9"), netip.MustParseAddr("10.46.0.2"), netip.MustParseAddr("10.46.0.20")}
	if !slices.Equal(got, want) {
		t.Errorf("GroupAddrs(meters) = %v, want %v (active SIMs, sessions before static IPs, sorted)", got, want)
	}
	noSessions := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, nil)
	got, _ = noSessions.GroupAddrs(context.Background(), 1, "meters")
	if want := []netip.Addr{netip.MustParseAddr("10.45.0.3"), netip.MustParseAddr("10.45.0.9")}; !slices.Equal(got, want) {
		t.Errorf("GroupAddrs without sessions = %v, want %v", got, want)
	}
}

func TestScanOfAGroup(t *testing.T) {
	snap := inventoryFleet(t)
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, nil)
	s, err := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16")}},
		scan.Deps{Inventory: inv, Fleet: inv})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name  string
		req   scan.Request
		code  string
		field string
	}{
		{"group in range", scan.Request{TenantID: 1, Group: "cameras"}, "", ""},
		{"unknown group", scan.Request{TenantID: 1, Group: "nope"}, simguard.EINVALID, "group"},
		{"another tenant's group", scan.Request{TenantID: 2, Group: "cameras"}, simguard.EINVALID, "group"},
		{"group and targets", scan.Request{TenantID: 1, Group: "meters", Targets: []string{"10.45.0.1"}}, simguard.EINVALID, "group"},
		{"group outside the audit ranges", scan.Request{TenantID: 2, Group: "meters"}, simguard.EINVALID, "targets[0]"},
		{"group without addresses", scan.Request{TenantID: 1, Group: "spare"}, simguard.EINVALID, "group"},
		{"bad name", scan.Request{TenantID: 1, Group: "-x"}, simguard.EINVALID, "group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(ctx, tt.req)
			var e *simguard.Error
			if tt.code == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.code != "" && (simguard.ErrorCode(err) != tt.code || !errors.As(err, &e) || e.Field != tt.field) {
				t.Fatalf("Validate = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
	noFleet, _ := scan.New(scan.Config{AuditRanges: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16")}}, scan.Deps{})
	if err := noFleet.Validate(ctx, scan.Request{TenantID: 1, Group: "meters"}); simguard.ErrorCode(err) != simguard.EUNAVAILABLE {
		t.Errorf("a group without a fleet: %v", err)
	}
}

// sessionStore is a fake RADIUS session store.
type sessionStore struct {
	sessions []simguard.RADIUSSession
	calls    int
	err      error
}

func (s *sessionStore) ListSessions(_ context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	var out []simguard.RADIUSSession
	for _, x := range s.sessions {
		if x.ID > f.AfterID && (!f.LiveOnly || x.Stop.IsZero()) && len(out) < f.Limit {
			out = append(out, x)
		}
	}
	return out, nil
}

func TestLiveSessions(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	now := t0
	store := &sessionStore{sessions: []simguard.RADIUSSession{
		{ID: 1, SIMID: 4, IP: netip.MustParseAddr("10.46.0.20")},
		{ID: 2, SIMID: 2, IP: netip.MustParseAddr("10.46.0.5"), Stop: t0.Add(-time.Hour)}, // ended
		{ID: 3, SIMID: 2, IP: netip.MustParseAddr("10.46.0.2")},
		{ID: 4, SIMID: 0, IP: netip.MustParseAddr("10.46.0.9")}, // unknown SIM
	}}
	live := scan.NewLiveSessions(store, time.Minute, func() time.Time { return now }, nil)
	if a, ok := live.SessionAddr(2); !ok || a != netip.MustParseAddr("10.46.0.2") {
		t.Errorf("SessionAddr(2) = %s, %v", a, ok)
	}
	if id, ok := live.SessionSIM(netip.MustParseAddr("10.46.0.20")); !ok || id != 4 {
		t.Errorf("SessionSIM(10.46.0.20) = %d, %v", id, ok)
	}
	for _, a := range []string{"10.46.0.5", "10.46.0.9"} {
		if id, ok := live.SessionSIM(netip.MustParseAddr(a)); ok {
			t.Errorf("SessionSIM(%s) = %d for an ended or unknown session", a, id)
		}
	}
	if store.calls != 1 {
		t.Errorf("%d loads for lookups within maxAge, want 1", store.calls)
	}
	// A session starts; the table sees it once it is older than maxAge.
	store.sessions = append(store.sessions, simguard.RADIUSSession{ID: 5, SIMID: 5, IP: netip.MustParseAddr("10.46.0.33")})
	if _, ok := live.SessionAddr(5); ok {
		t.Error("a fresh table was reloaded before maxAge")
	}
	now = now.Add(2 * time.Minute)
	if a, ok := live.SessionAddr(5); !ok || a != netip.MustParseAddr("10.46.0.33") {
		t.Errorf("after maxAge SessionAddr(5) = %s, %v", a, ok)
	}
	// A broken store keeps the last table and is not asked per lookup.
	store.err = errors.New("database is locked")
	now = now.Add(2 * time.Minute)
	calls := store.calls
	for range 3 {
		if _, ok := live.SessionAddr(5); !ok {
			t.Error("a failed reload dropped the known sessions")
		}
	}
	if store.calls != calls+1 {
		t.Errorf("%d loads after a failure, want 1", store.calls-calls)
	}

	// The inventory names the SIM behind a session address.
	snap := inventoryFleet(t)
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return snap }, live)
	if d, ok := inv.DeviceByIP(1, netip.MustParseAddr("10.46.0.20")); !ok || d.SIMID != 4 {
		t.Errorf("DeviceByIP of a session address = %+v, %v", d, ok)
	}
}
