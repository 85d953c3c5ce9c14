package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func testEvents(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	a, b := f.alpha.ID, f.beta.ID
	in := []simguard.Event{
		{Time: at(0), TenantID: a, SIMID: 1, Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed,
			Attrs: map[string]string{"imsi": IMSI(1), "nas": "10.0.0.1"}},
		{Time: at(1), TenantID: a, SIMID: 2, Source: "radius", Type: "radius.accounting"},
		{Time: at(2), TenantID: b, SIMID: 3, Source: "smpp", Type: "sms.mt", Decision: "deny", Reason: simguard.ReasonSMSBinaryDenied},
		{Time: at(3), TenantID: a, SIMID: 1, Source: "gateway", Type: "flow.denied"},
		{Time: at(4), TenantID: a, Source: "radius", Type: "radiusx.other"},
		{Time: at(5), TenantID: 0, Source: "radius", Type: "radius.access", Attrs: map[string]string{"imsi": IMSI(99)}},
	}
	must(t, "AppendEvents", f.s.AppendEvents(f.ctx, in))
	for i := range in {
		if in[i].ID == 0 || i > 0 && in[i].ID <= in[i-1].ID {
			t.Fatalf("event IDs %v: want increasing IDs set", eventIDs(in))
		}
	}
	id := func(i int) int64 { return in[i].ID }
	cases := []struct {
		name   string
		filter simguard.EventFilter
		want   []int64
	}{
		{"all", simguard.EventFilter{}, []int64{id(0), id(1), id(2), id(3), id(4), id(5)}},
		{"type prefix", simguard.EventFilter{Types: []string{"radius."}}, []int64{id(0), id(1), id(5)}},
		{"exact type", simguard.EventFilter{Types: []string{"radius.access"}}, []int64{id(0), id(5)}},
		{"exact type is not a prefix", simguard.EventFilter{Types: []string{"radius"}}, nil},
		{"several types", simguard.EventFilter{Types: []string{"sms.", "flow.denied"}}, []int64{id(2), id(3)}},
		{"tenant", simguard.EventFilter{TenantID: a}, []int64{id(0), id(1), id(3), id(4)}},
		{"sim", simguard.EventFilter{SIMID: 1}, []int64{id(0), id(3)}},
		{"since inclusive", simguard.EventFilter{Since: at(3)}, []int64{id(3), id(4), id(5)}},
		{"until exclusive", simguard.EventFilter{Until: at(2)}, []int64{id(0), id(1)}},
		{"window and type", simguard.EventFilter{Since: at(1), Until: at(5), Types: []string{"radius."}}, []int64{id(1)}},
		{"after ID", simguard.EventFilter{AfterID: id(3)}, []int64{id(4), id(5)}},
		{"limit", simguard.EventFilter{Limit: 2}, []int64{id(0), id(1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.s.FindEvents(f.ctx, c.filter)
			must(t, "FindEvents", err)
			if ids := eventIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("FindEvents(%+v) = %v, want %v", c.filter, ids, c.want)
			}
		})
	}
	got, err := f.s.FindEvents(f.ctx, simguard.EventFilter{AfterID: id(0) - 1, Limit: 1})
	must(t, "FindEvents", err)
	e := got[0]
	if !e.Time.Equal(at(0)) || e.TenantID != a || e.SIMID != 1 || e.Source != "radius" || e.Decision != "allow" ||
		e.Reason != simguard.ReasonAllowed || e.Attrs["imsi"] != IMSI(1) || e.Attrs["nas"] != "10.0.0.1" {
		t.Errorf("event read back as %+v, want %+v", e, in[0])
	}
	// Paging through everything two at a time.
	var all []int64
	for after := int64(0); ; {
		page, err := f.s.FindEvents(f.ctx, simguard.EventFilter{AfterID: after, Limit: 2})
		must(t, "FindEvents", err)
		if len(page) == 0 || len(all) > 10 {
			break
		}
		all = append(all, eventIDs(page)...)
		after = page[len(page)-1].ID
	}
	if len(all) != len(in) {
		t.Errorf("paging saw %v", all)
	}

	noTime := []simguard.Event{{TenantID: a, Source: "api", Type: "api.login"}}
	must(t, "AppendEvents without time", f.s.AppendEvents(f.ctx, noTime))
	if noTime[0].Time.IsZero() || noTime[0].ID == 0 {
		t.Errorf("event without time stored as %+v: want the store's time and an ID", noTime[0])
	}
	err = f.s.AppendEvents(f.ctx, []simguard.Event{{TenantID: a, Source: "api"}})
	wantCode(t, "event without type", err, simguard.EINVALID)
	_, err = f.s.FindEvents(f.ctx, simguard.EventFilter{Types: []string{""}})
	wantCode(t, "empty type filter", err, simguard.EINVALID)
}

func eventIDs(evs []simguard.Event) []int64 {
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

func testEventRetention(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []simguard.Event
	for i := range 30 {
		evs = append(evs, simguard.Event{Time: t0.Add(time.Duration(i) * time.Hour), TenantID: f.alpha.ID, Source: "radius", Type: "radius.access"})
	}
	must(t, "AppendEvents", f.s.AppendEvents(f.ctx, evs))
	n, err := f.s.DeleteEventsBefore(f.ctx, t0.Add(12*time.Hour))
	must(t, "DeleteEventsBefore", err)
	if n != 12 {
		t.Errorf("DeleteEventsBefore removed %d, want 12", n)
	}
	left, err := f.s.FindEvents(f.ctx, simguard.EventFilter{Limit: 100})
	must(t, "FindEvents", err)
	if len(left) != 18 || !left[0].Time.Equal(t0.Add(12*time.Hour)) {
		t.Errorf("after retention %d events remain, first at %v", len(left), left[0].Time)
	}
	n, err = f.s.DeleteEventsBefore(f.ctx, t0)
	must(t, "DeleteEventsBefore", err)
	if n != 0 {
		t.Errorf("second DeleteEventsBefore removed %d, want 0", n)
	}
}
