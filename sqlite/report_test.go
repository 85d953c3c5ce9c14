package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/storetest"
)

// TestReportPlans checks that the reports read only the time range asked
// for, through the time index: an overview of the last hour must not
// walk a tenant's whole event history.
func TestReportPlans(t *testing.T) {
	db := openTest(t, Options{})
	now := time.Now()
	f := simguard.DecisionFilter{TenantID: 1, Since: now.Add(-time.Hour), Bucket: time.Minute}
	withSIM := f
	withSIM.SIMID = 7
	queries := []struct {
		name string
		q    func() (string, []any, error)
	}{
		{"count decisions", func() (string, []any, error) { return db.countDecisionsQuery(f) }},
		{"count decisions of a SIM", func() (string, []any, error) { return db.countDecisionsQuery(withSIM) }},
		{"top denied SIMs", func() (string, []any, error) { return topDeniedQuery(f, 10, topSIM, "sim_id <> 0") }},
		{"top denied destinations", func() (string, []any, error) { return topDeniedQuery(f, 10, topDst, "attrs IS NOT NULL") }},
	}
	for _, c := range queries {
		t.Run(c.name, func(t *testing.T) {
			q, args, err := c.q()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, "USING INDEX events_time (time>?)") {
				t.Errorf("plan does not range over the time index: %s", joined)
			}
		})
	}
}

// BenchmarkReports measures the overview's queries over an hour holding
// 100,000 decisions of 1,000 SIMs (about 28 per second, all day long).
func BenchmarkReports(b *testing.B) {
	db := benchStore(b, Options{relaxedSync: true})
	ctx := context.Background()
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const n = 100_000
	reasons := []simguard.Reason{simguard.ReasonDestinationDenied, simguard.ReasonIMEIMismatch, simguard.ReasonLocationDenied}
	batch := make([]simguard.Event, 0, 10_000)
	for i := range n {
		e := simguard.Event{Time: end.Add(-time.Duration(i) * 36 * time.Millisecond), TenantID: 1, SIMID: int64(i%1000 + 1),
			Source: "gateway", Type: "flow.denied", Decision: "allow", Reason: simguard.ReasonAllowed}
		if i%5 == 0 {
			e.Decision, e.Reason = "deny", reasons[i%3]
			e.Attrs = map[string]string{"dst": fmt.Sprintf("203.0.113.%d", i%200), "imsi": storetest.IMSI(i % 1000)}
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if err := db.AppendEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	f := simguard.DecisionFilter{TenantID: 1, Since: end.Add(-time.Hour), Until: end, Bucket: time.Minute}
	run := func(name string, fn func() (int, error)) {
		b.Run(name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				rows, err := fn()
				if err != nil || rows == 0 {
					b.Fatalf("%d rows, %v", rows, err)
				}
			}
			reportCPU(b, cpuTime()-cpu)
		})
	}
	run("CountDecisions/hour-by-minute", func() (int, error) { r, err := db.CountDecisions(ctx, f); return len(r), err })
	run("TopDeniedSIMs/hour", func() (int, error) { r, err := db.TopDeniedSIMs(ctx, f, 10); return len(r), err })
	run("TopDeniedDestinations/hour", func() (int, error) { r, err := db.TopDeniedDestinations(ctx, f, 10); return len(r), err })
	run("RecentEvents/newest-50", func() (int, error) {
		r, err := db.RecentEvents(ctx, simguard.EventFilter{TenantID: 1, Limit: 50}, 0)
		return len(r), err
	})
}
