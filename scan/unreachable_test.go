package scan

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// A device that answers nothing in one run (offline, every port
// filtered) neither closes its findings in that run nor "opens" them in
// the next; a port that stays silent on a device that answers is not
// closed either.
func TestUnreachableHostKeepsFindings(t *testing.T) {
	_, open := listenTCP(t)
	_, other := listenTCP(t)
	lo := netip.MustParseAddr("127.0.0.1")
	store, events := newMemStore(), &eventLog{}
	clk := &clock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	inv := inventory{devices: map[netip.Addr]Device{lo: {SIMID: 42, Group: "meters"}}}
	s := newTestScanner(t, Deps{Store: store, Events: events, Inventory: inv, Clock: clk.now})
	// silence decides which ports of the device give no answer at all.
	var silence atomic.Value
	silence.Store(func(uint16) bool { return false })
	connect := s.connectTCP
	s.connectTCP = func(ctx context.Context, ap netip.AddrPort, timeout time.Duration, spare *socket) (PortState, error) {
		if silence.Load().(func(uint16) bool)(ap.Port()) {
			return PortFiltered, nil
		}
		return connect(ctx, ap, timeout, spare)
	}
	req := Request{TenantID: 3, Scope: "group:meters", Actor: simguard.SystemActor(3, "scan:schedule"),
		Targets: []string{"127.0.0.1"}, Ports: fmt.Sprintf("%d,%d,1", open, other), PortsOnly: true}
	scan := func(step string) *Report {
		t.Helper()
		clk.advance(time.Hour)
		rep, err := s.Scan(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return rep
	}

	if rep := scan("baseline"); len(rep.Findings) != 2 || len(rep.Run.Unreachable) != 0 || rep.Run.Stats.Unreachable != 0 {
		t.Fatalf("baseline: %+v", rep)
	}

	// Offline: every port is silent.
	silence.Store(func(uint16) bool { return true })
	rep := scan("offline")
	if rep.Run.Status != simguard.ScanDone || !slices.Equal(rep.Run.Unreachable, []netip.Addr{lo}) || rep.Run.Stats.Unreachable != 1 ||
		rep.Run.Stats.Filtered != 3 || len(rep.Diff.Closed) != 0 || len(rep.Diff.Unverified) != 2 {
		t.Fatalf("offline run: %+v, diff %+v", rep.Run, rep.Diff)
	}
	for _, p := range []uint16{open, other} {
		if rep.Run.Covers(lo, "tcp", p) {
			t.Errorf("an unreachable device's port %d counts as covered", p)
		}
	}
	ev := events.all()
	if len(ev) != 1 || ev[0].Type != "scan.host_unreachable" || ev[0].SIMID != 42 || ev[0].Attrs["target"] != "127.0.0.1" || ev[0].Attrs["open_findings"] != "2" {
		t.Fatalf("events of the offline run: %+v", ev)
	}

	// Back: its ports are not "newly opened".
	silence.Store(func(uint16) bool { return false })
	if rep := scan("back"); len(rep.Findings) != 2 || len(rep.Diff.Opened) != 0 || len(rep.Diff.Closed) != 0 {
		t.Fatalf("back online: diff %+v", rep.Diff)
	}

	// One open port goes silent while the device answers on the others:
	// not closed, and the run lists it as inconclusive.
	silence.Store(func(p uint16) bool { return p == other })
	rep = scan("one port filtered")
	want := []simguard.HostPorts{{Target: lo, Proto: "tcp", Ports: []simguard.PortRange{{From: other, To: other}}}}
	if len(rep.Run.Unreachable) != 0 || !slices.EqualFunc(rep.Run.Inconclusive, want, func(a, b simguard.HostPorts) bool {
		return a.Target == b.Target && a.Proto == b.Proto && slices.Equal(a.Ports, b.Ports)
	}) || len(rep.Diff.Closed) != 0 || len(rep.Diff.Unverified) != 1 || rep.Diff.Unverified[0].Port != other {
		t.Fatalf("filtered port: run %+v, diff %+v", rep.Run, rep.Diff)
	}
	if len(events.all()) != 1 {
		t.Fatalf("a device that answered raised an event: %+v", events.all())
	}
}

// The ledger's port sets turn into ranges the same way whether they are
// small lists or bitmaps.
func TestLedgerRanges(t *testing.T) {
	a, b := netip.MustParseAddr("10.45.0.7"), netip.MustParseAddr("10.45.0.8")
	l := newLedger([]netip.Addr{a, b})
	l.record(0, "tcp", 22, PortOpen)
	for _, p := range []uint16{81, 80, 79, 443, 80} {
		l.record(0, "tcp", p, PortFiltered)
	}
	l.record(0, "udp", 161, PortUnknown)
	for p := 1; p <= 65535; p++ { // every port of b: a bitmap
		if p != 7 {
			l.record(1, "tcp", uint16(p), PortFiltered)
		}
	}
	l.record(1, "tcp", 7, PortClosed)
	var run simguard.ScanRun
	l.apply(&run)
	want := []simguard.HostPorts{
		{Target: a, Proto: "tcp", Ports: []simguard.PortRange{{From: 79, To: 81}, {From: 443, To: 443}}},
		{Target: a, Proto: "udp", Ports: []simguard.PortRange{{From: 161, To: 161}}},
		{Target: b, Proto: "tcp", Ports: []simguard.PortRange{{From: 1, To: 6}, {From: 8, To: 65535}}},
	}
	if len(run.Unreachable) != 0 || fmt.Sprint(run.Inconclusive) != fmt.Sprint(want) {
		t.Fatalf("unreachable %v, inconclusive %v; want none, %v", run.Unreachable, run.Inconclusive, want)
	}
	run.Targets = []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")}
	run.TCPPorts = []simguard.PortRange{{From: 1, To: 65535}}
	if run.Covers(b, "tcp", 9) || !run.Covers(b, "tcp", 7) || run.Covers(a, "tcp", 80) || !run.Covers(a, "tcp", 22) || !run.Covers(a, "tcp", 23) {
		t.Errorf("Covers: only the answered ports count")
	}
}

// movingInventory owns 127.0.0.1 for the first answer only: the address
// moves to another tenant's SIM while the scan waits.
type movingInventory struct {
	inventory
	calls atomic.Int32
}

func (m *movingInventory) TenantAddrs(int64) []netip.Addr {
	if m.calls.Add(1) == 1 {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	return nil
}

// A tenant's scan checks ownership again when it starts sending: an
// address that is no longer the tenant's is neither probed nor claimed as
// covered.
func TestConfinedScanRechecksAtStart(t *testing.T) {
	_, port := listenTCP(t)
	inv := &movingInventory{}
	s := newTestScanner(t, Deps{Inventory: inv})
	rep, err := s.Scan(context.Background(), Request{TenantID: 3, Actor: simguard.SystemActor(3, "test"),
		Targets: []string{"127.0.0.1"}, Ports: fmt.Sprint(port), PortsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Run.Stats.Hosts != 0 || rep.Run.Stats.Probes != 0 || len(rep.Run.Targets) != 0 {
		t.Fatalf("an address that moved away was scanned: run %+v, findings %+v", rep.Run, rep.Findings)
	}
}
