//go:build linux

package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// TestNetlinkMatchesNftText is the oracle for the two renderings: the
// nft text that --dry-run prints is loaded by nft itself into one
// namespace, the netlink program installs the same ruleset into another,
// and nft must list both tables the same.
func TestNetlinkMatchesNftText(t *testing.T) {
	requireNetns(t)
	rs := Compile(fixture(t), fixtureConfig(), t0, fixtureLeases)
	nsText, _ := newNetns(t, "sgwtxt")
	nsNL, fd := newNetns(t, "sgwnl")

	file := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(file, []byte(rs.Text()), 0o644); err != nil {
		t.Fatal(err)
	}
	inNS(t, nsText, "nft", "-f", file)
	nl := NewNetlink(fd)
	if err := nl.Install(rs); err != nil {
		t.Fatal(err)
	}
	want := listTable(t, nsText, "simguard")
	got := listTable(t, nsNL, "simguard")
	if got != want {
		t.Fatalf("netlink install lists differently from nft -f of the dry-run text\n--- nft -f:\n%s\n--- netlink:\n%s", want, got)
	}
	if err := nl.Verify(rs, true); err != nil {
		t.Fatalf("Verify right after Install: %v", err)
	}

	// A second install replaces the table whole (no duplicates), and
	// leaves other tables alone.
	inNS(t, nsNL, "nft", "add table inet other; add chain inet other c; add rule inet other c counter")
	if err := nl.Install(rs); err != nil {
		t.Fatal(err)
	}
	if again := listTable(t, nsNL, "simguard"); again != want {
		t.Fatalf("second install differs:\n%s", again)
	}
	if other := inNS(t, nsNL, "nft", "list", "table", "inet", "other"); !strings.Contains(other, "counter") {
		t.Fatalf("the other table was touched:\n%s", other)
	}

	// Element updates: suspend SIM 1 in the snapshot, apply only the
	// delta, and the kernel must list what a fresh install would.
	snap := fixture(t)
	s1 := sim(1, "meters", simguard.SIMSuspended, "10.64.0.1")
	snap2, err := snap.WithSIM(&s1)
	if err != nil {
		t.Fatal(err)
	}
	d := rs.UpdateSIMs(snap2, []int64{1}, t0, fixtureLeases)
	// A state change touches the blocked set only (no verdict element).
	if d.Len() != 1 || d.Add[0].Set != "blocked4" {
		t.Fatalf("delta %+v, want 10.64.0.1 into blocked4 only", d)
	}
	if err := nl.Apply(rs, d); err != nil {
		t.Fatal(err)
	}
	fresh := Compile(snap2, fixtureConfig(), t0, fixtureLeases)
	os.WriteFile(file, []byte("table inet simguard; delete table inet simguard;\n"+fresh.Text()), 0o644)
	inNS(t, nsText, "nft", "-f", file)
	want = listTable(t, nsText, "simguard")
	got = listTable(t, nsNL, "simguard")
	if got != want {
		t.Fatalf("after the delta the kernel lists\n%s\nwant\n%s", got, want)
	}

	// A group change of one SIM moves its verdict map elements.
	s3 := sim(3, "meters", simguard.SIMActive, "10.64.0.3")
	snap3, err := snap2.WithSIM(&s3)
	if err != nil {
		t.Fatal(err)
	}
	d = rs.UpdateSIMs(snap3, []int64{3}, t0, fixtureLeases)
	if d.Len() != 4 {
		t.Fatalf("group move: delta %+v, want sim4_out and sim4_in replaced", d)
	}
	if err := nl.Apply(rs, d); err != nil {
		t.Fatal(err)
	}
	fresh = Compile(snap3, fixtureConfig(), t0, fixtureLeases)
	os.WriteFile(file, []byte("table inet simguard; delete table inet simguard;\n"+fresh.Text()), 0o644)
	inNS(t, nsText, "nft", "-f", file)
	if got, want := listTable(t, nsNL, "simguard"), listTable(t, nsText, "simguard"); got != want {
		t.Fatalf("after the group move the kernel lists\n%s\nwant\n%s", got, want)
	}

	// Re-activating SIM 1 unblocks it: its blocked element expires at
	// once (a timeout update, not a delete) and the kernel lists what a
	// fresh install would.
	s1.State = simguard.SIMActive
	snap4, err := snap3.WithSIM(&s1)
	if err != nil {
		t.Fatal(err)
	}
	d = rs.UpdateSIMs(snap4, []int64{1}, t0, fixtureLeases)
	if d.Len() != 1 || len(d.Del) != 1 || d.Del[0].Set != "blocked4" {
		t.Fatalf("re-activation: delta %+v, want 10.64.0.1 out of blocked4 only", d)
	}
	if err := nl.Apply(rs, d); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := nl.Verify(rs, true); err != nil {
		t.Fatalf("Verify after element updates: %v", err)
	}
	fresh = Compile(snap4, fixtureConfig(), t0, fixtureLeases)
	os.WriteFile(file, []byte("table inet simguard; delete table inet simguard;\n"+fresh.Text()), 0o644)
	inNS(t, nsText, "nft", "-f", file)
	if got, want := listTable(t, nsNL, "simguard"), listTable(t, nsText, "simguard"); got != want {
		t.Fatalf("after the re-activation the kernel lists\n%s\nwant\n%s", got, want)
	}

	if err := nl.Remove("simguard"); err != nil {
		t.Fatal(err)
	}
	if out := inNS(t, nsNL, "nft", "list", "tables"); strings.Contains(out, "simguard") || !strings.Contains(out, "other") {
		t.Fatalf("after Remove: %s", out)
	}
}
