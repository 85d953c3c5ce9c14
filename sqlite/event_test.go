package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// TestAppendEventsChunks: IDs handed back for a batch spanning several
// multi-row statements are the IDs the rows were stored under.
func TestAppendEventsChunks(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	// Rows from an earlier batch, so IDs do not start at 1.
	if err := db.AppendEvents(ctx, []simguard.Event{{TenantID: 1, Source: "api", Type: "api.login"}}); err != nil {
		t.Fatal(err)
	}
	const n = 2*eventChunk + 37
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	evs := make([]simguard.Event, n)
	for i := range evs {
		evs[i] = simguard.Event{Time: t0.Add(time.Duration(i) * time.Second), TenantID: 1, SIMID: int64(i),
			Source: "radius", Type: "radius.access", Attrs: map[string]string{"n": fmt.Sprint(i)}}
	}
	if err := db.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindEvents(ctx, simguard.EventFilter{Types: []string{"radius."}, Limit: 10000})
	if err != nil || len(got) != n {
		t.Fatalf("FindEvents: %d events, %v", len(got), err)
	}
	for i, e := range got {
		if e.ID != evs[i].ID || e.Attrs["n"] != fmt.Sprint(i) || e.SIMID != int64(i) {
			t.Fatalf("event %d stored as ID %d attrs %v, but AppendEvents said ID %d", i, e.ID, e.Attrs, evs[i].ID)
		}
	}
}

// TestDeleteEventsBatches: retention deletes in bounded transactions and
// still removes everything older than the cut.
func TestDeleteEventsBatches(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const old, recent = 2*deleteBatch + 123, 50
	evs := make([]simguard.Event, 0, old+recent)
	for i := range old + recent {
		evs = append(evs, simguard.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), TenantID: 1, Source: "radius", Type: "radius.access"})
	}
	if err := db.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	n, err := db.DeleteEventsBefore(ctx, t0.Add(old*time.Millisecond))
	if err != nil || n != old {
		t.Fatalf("DeleteEventsBefore = %d, %v; want %d", n, err, old)
	}
	left, err := db.FindEvents(ctx, simguard.EventFilter{Limit: 10000})
	if err != nil || len(left) != recent {
		t.Fatalf("%d events left, %v; want %d", len(left), err, recent)
	}
}
