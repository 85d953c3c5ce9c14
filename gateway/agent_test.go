//go:build linux

package gateway

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// startAgent runs an agent on pol programming a fresh namespace.
func startAgent(t *testing.T, pol *enforce.Policy, opt Options) (*Agent, string, *prometheus.Registry, func() error) {
	t.Helper()
	ns, fd := newNetns(t, "sgwag")
	reg := prometheus.NewRegistry()
	a, err := New(fixtureConfig(), opt, Deps{Policy: pol, Reg: reg, NetNS: fd, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop := func() error { cancel(); return <-done }
	t.Cleanup(func() { cancel() })
	waitSynced(t, a)
	return a, ns, reg, stop
}

func waitSynced(t *testing.T, a *Agent) {
	t.Helper()
	select {
	case <-a.Synced():
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not sync within 20s")
	}
}

func TestAgentFollowsPolicy(t *testing.T) {
	requireNetns(t)
	pol := enforce.NewPolicy(fixture(t), nil)
	a, ns, reg, stop := startAgent(t, pol, Options{Resync: time.Hour, NoNFLog: true})

	if got := testutil.ToFloat64(a.m.installs); got != 1 {
		t.Fatalf("installs after start: %v, want 1", got)
	}
	// Suspending one SIM changes one element, no install.
	s1 := sim(1, "meters", simguard.SIMSuspended, "10.64.0.1")
	if err := pol.UpdateSIMs([]int64{1}, func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithSIM(&s1) }); err != nil {
		t.Fatal(err)
	}
	waitSynced(t, a)
	if got := inNS(t, ns, "nft", "list", "set", "inet", "simguard", "blocked4"); !strings.Contains(got, "10.64.0.1") {
		t.Fatalf("10.64.0.1 not blocked:\n%s", got)
	}
	if i, e := testutil.ToFloat64(a.m.installs), testutil.ToFloat64(a.m.elements); i != 1 || e != 1 {
		t.Errorf("after one suspension: installs %v (want 1), element updates %v (want 1)", i, e)
	}
	// A pool address heard of (RADIUS Access-Accept) opens at once, as
	// elements.
	a.NoteAddr(9, netip.MustParseAddr("10.64.1.9"))
	waitSynced(t, a)
	if got := inNS(t, ns, "nft", "list", "map", "inet", "simguard", "sim4_out"); !strings.Contains(got, "10.64.1.9 : goto g2") {
		t.Fatalf("noted address not in the map:\n%s", got)
	}
	if i := testutil.ToFloat64(a.m.installs); i != 1 {
		t.Errorf("a noted address reinstalled the table (%v installs)", i)
	}
	// A group change replaces the table whole.
	g := group(2, "cameras", data, rules("192.0.2.0/24 tcp 443"), nil)
	if err := pol.Update(func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithGroup(&g) }); err != nil {
		t.Fatal(err)
	}
	waitSynced(t, a)
	if got := testutil.ToFloat64(a.m.installs); got != 2 {
		t.Errorf("installs after a group change: %v, want 2", got)
	}
	if got := inNS(t, ns, "nft", "list", "set", "inet", "simguard", "g2_e4"); !strings.Contains(got, "192.0.2.0/24 . tcp . 443") {
		t.Errorf("group change not installed:\n%s", got)
	}
	st, err := a.Status(true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Generation != 2 || st.Groups != 3 || st.Blocked != 6 || st.SIMs != 3 || !strings.Contains(st.Ruleset, "table inet simguard") || len(st.Counters) != 5+2*3 {
		t.Errorf("status %+v", st)
	}
	// Metrics read the kernel's counters.
	n, err := testutil.GatherAndCount(reg, "simguard_gateway_group_packets_total", "simguard_gateway_denied_packets_total", "simguard_gateway_addresses")
	if err != nil || n != 6+5+3 {
		t.Errorf("gateway metrics: %d series, %v", n, err)
	}
	// By default the table stays after exit (fail closed).
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := inNS(t, ns, "nft", "list", "tables"); !strings.Contains(got, "inet simguard") {
		t.Errorf("the table is gone after exit:\n%s", got)
	}
}

func TestAgentRemoveOnExit(t *testing.T) {
	requireNetns(t)
	pol := enforce.NewPolicy(fixture(t), nil)
	_, ns, _, stop := startAgent(t, pol, Options{Resync: time.Hour, RemoveOnExit: true, NoNFLog: true})
	if got := inNS(t, ns, "nft", "list", "tables"); !strings.Contains(got, "inet simguard") {
		t.Fatalf("no table while running:\n%s", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := inNS(t, ns, "nft", "list", "tables"); strings.Contains(got, "simguard") {
		t.Errorf("table left after exit with RemoveOnExit:\n%s", got)
	}
}

// waitFor polls cond (bounded) and fails with what when it never holds.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAgentRepairsFlushedTable: a table removed by hand (nft flush
// ruleset) is noticed by the next resync, reported by Status and
// installed again whole, and a table emptied of its blocked elements
// (nft flush set) is too: the gateway never stays open while it reports
// itself healthy.
func TestAgentRepairsFlushedTable(t *testing.T) {
	requireNetns(t)
	pol := enforce.NewPolicy(fixture(t), nil)
	a, ns, _, _ := startAgent(t, pol, Options{Resync: 500 * time.Millisecond, NoNFLog: true})
	hasTable := func() bool {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "tables").CombinedOutput()
		return strings.Contains(string(out), "inet simguard")
	}
	inNS(t, ns, "nft", "flush", "ruleset")
	waitFor(t, 20*time.Second, "the flushed table is installed again", hasTable)
	waitFor(t, 20*time.Second, "the blocked set is filled again", func() bool {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "simguard", "blocked4").CombinedOutput()
		return strings.Contains(string(out), "10.64.0.2")
	})
	if r := testutil.ToFloat64(a.m.repairs); r < 1 {
		t.Errorf("repairs %v after a flush, want at least 1", r)
	}
	// A flushed blocked set (suspended SIMs let through) is drift too.
	inNS(t, ns, "nft", "flush", "set", "inet", "simguard", "blocked4")
	waitFor(t, 20*time.Second, "the flushed blocked set is filled again", func() bool {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "simguard", "blocked4").CombinedOutput()
		return strings.Contains(string(out), "10.64.0.2")
	})
	waitFor(t, 20*time.Second, "status healthy again", func() bool {
		st, _ := a.Status(false)
		return st.Healthy && st.Error == ""
	})
}

// TestAgentRecoversFromFailedApply: an element update that fails (here:
// the table was deleted under the agent) must not leave the agent
// believing the change is in the kernel. It reports the error and
// installs the whole table, with the change, on its own retry — no
// resync tick, no further policy change needed.
func TestAgentRecoversFromFailedApply(t *testing.T) {
	requireNetns(t)
	pol := enforce.NewPolicy(fixture(t), nil)
	a, ns, _, _ := startAgent(t, pol, Options{Resync: time.Hour, NoNFLog: true})
	inNS(t, ns, "nft", "delete", "table", "inet", "simguard")
	st, _ := a.Status(false)
	if st.Healthy || !strings.Contains(st.Error, "cannot be read") {
		t.Errorf("status with the table gone: healthy %v, error %q", st.Healthy, st.Error)
	}
	s1 := sim(1, "meters", simguard.SIMSuspended, "10.64.0.1")
	if err := pol.UpdateSIMs([]int64{1}, func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithSIM(&s1) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the suspension reaches the kernel after the failed update", func() bool {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "simguard", "blocked4").CombinedOutput()
		return strings.Contains(string(out), "10.64.0.1")
	})
	waitFor(t, 20*time.Second, "status healthy again", func() bool {
		st, _ := a.Status(false)
		return st.Healthy
	})
	if e := testutil.ToFloat64(a.m.errors.WithLabelValues("update")); e < 1 {
		t.Errorf("update errors %v, want the failed update counted", e)
	}
}

// TestNFLogGroupHeld: with CAP_NET_ADMIN, a group another socket holds
// is reported as held, not as a missing privilege.
func TestNFLogGroupHeld(t *testing.T) {
	requireNetns(t)
	_, fd := newNetns(t, "sgwnfl")
	first, err := OpenNFLog(fd, 33)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := OpenNFLog(fd, 33)
	if err == nil {
		second.Close()
		t.Fatal("a second listener bound the same nflog group")
	}
	if errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "held by another listener") {
		t.Errorf("second bind: %v", err)
	}
}
