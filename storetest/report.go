package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// testReports checks the ReportStore queries.
func testReports(t *testing.T, open func(t *testing.T) simguard.Store) {
	t.Run("Decisions", func(t *testing.T) { testReportDecisions(t, open) })
	t.Run("TopDenied", func(t *testing.T) { testReportTopDenied(t, open) })
	t.Run("Recent", func(t *testing.T) { testReportRecent(t, open) })
}

// reportEvents writes a mix of decisions and other events for two
// tenants around t0 and returns them with their IDs set.
func reportEvents(t *testing.T, f *fixture, t0 time.Time) []simguard.Event {
	t.Helper()
	a, b := f.alpha.ID, f.beta.ID
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	deny := func(sec int, tenant, sim int64, r simguard.Reason, dst string) simguard.Event {
		e := simguard.Event{Time: at(sec), TenantID: tenant, SIMID: sim, Source: "gateway", Type: "flow.denied", Decision: "deny", Reason: r}
		if dst != "" {
			e.Attrs = map[string]string{"dst": dst}
		}
		return e
	}
	allow := func(sec int, tenant, sim int64) simguard.Event {
		return simguard.Event{Time: at(sec), TenantID: tenant, SIMID: sim, Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed}
	}
	in := []simguard.Event{
		allow(-1, a, 1), // before the range
		allow(0, a, 1),
		allow(30, a, 2),
		deny(59, a, 1, simguard.ReasonDestinationDenied, "203.0.113.9"),
		{Time: at(60), TenantID: a, SIMID: 1, Source: "radius", Type: "radius.accounting"}, // no decision
		deny(61, a, 2, simguard.ReasonDestinationDenied, "203.0.113.9"),
		deny(62, a, 2, simguard.ReasonSIMSuspended, ""),
		deny(63, a, 0, simguard.ReasonSIMUnknown, "198.51.100.1"), // no SIM
		deny(125, a, 3, simguard.ReasonDestinationDenied, "198.51.100.1"),
		deny(126, a, 3, simguard.ReasonDestinationDenied, "198.51.100.7"),
		deny(127, a, 2, simguard.ReasonDestinationDenied, "203.0.113.9"),
		deny(61, b, 7, simguard.ReasonDestinationDenied, "203.0.113.9"), // other tenant
		deny(180, a, 1, simguard.ReasonDestinationDenied, "192.0.2.1"),  // at the end: excluded
		deny(100, a, 1, simguard.ReasonIMEIMismatch, ""),                // written late, in range
	}
	must(t, "AppendEvents", f.s.AppendEvents(f.ctx, in))
	return in
}

func testReportDecisions(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	reportEvents(t, f, t0)
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	base := simguard.DecisionFilter{TenantID: f.alpha.ID, Since: t0, Until: minute(3), Bucket: time.Minute}
	line := func(c simguard.DecisionCount) string {
		return fmt.Sprintf("%s %s %s %d", c.Start.Format("15:04:05"), c.Decision, c.Reason, c.Count)
	}
	cases := []struct {
		name string
		f    func(simguard.DecisionFilter) simguard.DecisionFilter
		want []string
	}{
		{"per minute", func(f simguard.DecisionFilter) simguard.DecisionFilter { return f }, []string{
			"10:00:00 allow allowed 2",
			"10:00:00 deny destination_denied 1",
			"10:01:00 deny destination_denied 1",
			"10:01:00 deny imei_mismatch 1",
			"10:01:00 deny sim_suspended 1",
			"10:01:00 deny sim_unknown 1",
			"10:02:00 deny destination_denied 3",
		}},
		{"one SIM", func(f simguard.DecisionFilter) simguard.DecisionFilter { f.SIMID = 2; return f }, []string{
			"10:00:00 allow allowed 1",
			"10:01:00 deny destination_denied 1",
			"10:01:00 deny sim_suspended 1",
			"10:02:00 deny destination_denied 1",
		}},
		{"wide buckets align to the epoch", func(f simguard.DecisionFilter) simguard.DecisionFilter {
			f.Since, f.Bucket = t0.Add(30*time.Second), time.Hour
			return f
		}, []string{
			"10:00:00 allow allowed 1",
			"10:00:00 deny destination_denied 5",
			"10:00:00 deny imei_mismatch 1",
			"10:00:00 deny sim_suspended 1",
			"10:00:00 deny sim_unknown 1",
		}},
		{"other tenant", func(f simguard.DecisionFilter) simguard.DecisionFilter { f.TenantID = 0; f.SIMID = 7; return f }, []string{
			"10:01:00 deny destination_denied 1",
		}},
		{"nothing in range", func(f simguard.DecisionFilter) simguard.DecisionFilter {
			f.Since, f.Until = minute(10), minute(20)
			return f
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.s.CountDecisions(f.ctx, c.f(base))
			must(t, "CountDecisions", err)
			var lines []string
			for _, g := range got {
				lines = append(lines, line(g))
			}
			if !slices.Equal(lines, c.want) {
				t.Errorf("CountDecisions =\n%q\nwant\n%q", lines, c.want)
			}
		})
	}

	bad := []struct {
		name  string
		f     simguard.DecisionFilter
		field string
	}{
		{"no start", simguard.DecisionFilter{Bucket: time.Minute}, "since"},
		{"bucket under a second", simguard.DecisionFilter{Since: t0, Bucket: time.Millisecond}, "bucket"},
		{"too many buckets", simguard.DecisionFilter{Since: t0, Until: t0.Add(365 * 24 * time.Hour), Bucket: time.Second}, "bucket"},
		{"end before start", simguard.DecisionFilter{Since: t0, Until: t0.Add(-time.Minute), Bucket: time.Minute}, "until"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.CountDecisions(f.ctx, c.f)
			if e := wantCode(t, "CountDecisions", err, simguard.EINVALID); e.Field != c.field {
				t.Errorf("field %q, want %q", e.Field, c.field)
			}
		})
	}
}

func testReportTopDenied(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	reportEvents(t, f, t0)
	base := simguard.DecisionFilter{TenantID: f.alpha.ID, Since: t0, Until: t0.Add(3 * time.Minute), Bucket: time.Minute}
	show := func(cs []simguard.DeniedCount) []string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%d %s %d", c.SIMID, c.Dst, c.Count))
		}
		return out
	}
	cases := []struct {
		name  string
		dst   bool
		f     simguard.DecisionFilter
		limit int
		want  []string
	}{
		{"SIMs, most first, ties by ID, no unknown SIM", false, base, 10, []string{"2  3", "1  2", "3  2"}},
		{"SIMs, limited", false, base, 1, []string{"2  3"}},
		{"destinations, ties by name", true, base, 10, []string{"0 203.0.113.9 3", "0 198.51.100.1 2", "0 198.51.100.7 1"}},
		{"destinations of one SIM", true, func() simguard.DecisionFilter { x := base; x.SIMID = 3; return x }(), 10,
			[]string{"0 198.51.100.1 1", "0 198.51.100.7 1"}},
		{"other tenant", true, func() simguard.DecisionFilter { x := base; x.TenantID = f.beta.ID; return x }(), 10,
			[]string{"0 203.0.113.9 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []simguard.DeniedCount
			var err error
			if c.dst {
				got, err = f.s.TopDeniedDestinations(f.ctx, c.f, c.limit)
			} else {
				got, err = f.s.TopDeniedSIMs(f.ctx, c.f, c.limit)
			}
			must(t, "TopDenied", err)
			if s := show(got); !slices.Equal(s, c.want) {
				t.Errorf("got %q, want %q", s, c.want)
			}
		})
	}
	for _, limit := range []int{0, -1, 1001} {
		_, err := f.s.TopDeniedSIMs(f.ctx, base, limit)
		wantCode(t, fmt.Sprintf("TopDeniedSIMs(limit %d)", limit), err, simguard.EINVALID)
	}
}

func testReportRecent(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	in := reportEvents(t, f, t0)
	id := func(i int) int64 { return in[i].ID }
	a := f.alpha.ID
	cases := []struct {
		name   string
		f      simguard.EventFilter
		before int64
		want   []int64
	}{
		{"newest first", simguard.EventFilter{TenantID: a, Limit: 3}, 0, []int64{id(13), id(12), id(10)}},
		{"page back", simguard.EventFilter{TenantID: a, Limit: 3}, id(9), []int64{id(8), id(7), id(6)}},
		{"one SIM", simguard.EventFilter{SIMID: 3}, 0, []int64{id(9), id(8)}},
		{"type prefix", simguard.EventFilter{TenantID: a, Types: []string{"radius."}}, 0, []int64{id(4), id(2), id(1), id(0)}},
		{"since and until", simguard.EventFilter{TenantID: a, Since: t0.Add(62 * time.Second), Until: t0.Add(126 * time.Second)}, 0,
			[]int64{id(13), id(8), id(7), id(6)}},
		{"after and before", simguard.EventFilter{AfterID: id(2)}, id(5), []int64{id(4), id(3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.s.RecentEvents(f.ctx, c.f, c.before)
			must(t, "RecentEvents", err)
			if ids := eventIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("RecentEvents(%+v, %d) = %v, want %v", c.f, c.before, ids, c.want)
			}
		})
	}
	got, err := f.s.RecentEvents(f.ctx, simguard.EventFilter{SIMID: 1, Limit: 1}, id(4))
	must(t, "RecentEvents", err)
	if len(got) != 1 || got[0].Reason != simguard.ReasonDestinationDenied || got[0].Attrs["dst"] != "203.0.113.9" || !got[0].Time.Equal(in[3].Time) {
		t.Errorf("event read back as %+v, want %+v", got, in[3])
	}
	_, err = f.s.RecentEvents(f.ctx, simguard.EventFilter{Types: []string{"."}}, 0)
	wantCode(t, "RecentEvents(type .)", err, simguard.EINVALID)

	// Audit: 5 records from the fixture, then the changes of changeAll.
	changeAll(t, f)
	head := f.head(t)
	recs, err := f.s.RecentAudit(f.ctx, simguard.AuditFilter{TenantID: a, Limit: 2}, 0)
	must(t, "RecentAudit", err)
	if len(recs) != 2 || recs[0].Seq != head || recs[1].Seq != head-1 || recs[0].Action != "token.delete" {
		t.Fatalf("RecentAudit newest = %+v", recs)
	}
	recs, err = f.s.RecentAudit(f.ctx, simguard.AuditFilter{TenantID: a, Object: "group:cameras"}, 0)
	must(t, "RecentAudit", err)
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if want := []string{"group.delete", "group.update", "group.create"}; !slices.Equal(actions, want) {
		t.Errorf("RecentAudit(object) actions = %v, want %v", actions, want)
	}
	recs, err = f.s.RecentAudit(f.ctx, simguard.AuditFilter{TenantID: f.beta.ID}, 0)
	must(t, "RecentAudit", err)
	for _, r := range recs {
		if r.TenantID != f.beta.ID {
			t.Errorf("RecentAudit(beta) returned %+v", r)
		}
	}
	recs, err = f.s.RecentAudit(f.ctx, simguard.AuditFilter{AfterSeq: 2}, 5)
	must(t, "RecentAudit", err)
	if len(recs) != 2 || recs[0].Seq != 4 || recs[1].Seq != 3 || recs[0].ComputeHash() != recs[0].Hash {
		t.Errorf("RecentAudit(after 2, before 5) = %+v", recs)
	}
}
