package detect

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// at makes a test event of type t.x for SIM sim at t0+d with attrs.
func at(sim int64, d time.Duration, attrs ...string) simguard.Event {
	return evt("t.x", sim, d, "", "", attrs...)
}

func secs(s ...float64) []simguard.Event {
	out := make([]simguard.Event, len(s))
	for i, x := range s {
		out[i] = at(1, time.Duration(x*float64(time.Second)))
	}
	return out
}

func TestTriggers(t *testing.T) {
	const head = "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\n"
	cases := []struct {
		name    string
		trigger string
		events  []simguard.Event
		want    []time.Duration // times of firings after t0
		detail  string
	}{
		{"sliding: 3 within 10s", "{kind: sliding_window, threshold: 3, window: 10s}",
			secs(0, 4, 9.9), []time.Duration{9900 * time.Millisecond}, "3 events within 10s"},
		{"sliding: the window excludes its start", "{kind: sliding_window, threshold: 3, window: 10s}",
			secs(0, 4, 10), nil, ""},
		{"sliding: restarts after firing", "{kind: sliding_window, threshold: 2, window: 10s}",
			secs(0, 1, 2, 3, 4), []time.Duration{time.Second, 3 * time.Second}, ""},
		{"sliding: late event counts as the latest", "{kind: sliding_window, threshold: 3, window: 10s}",
			secs(20, 5, 21), []time.Duration{21 * time.Second}, ""},
		{"leaky: overflow at capacity+1", "{kind: leaky_bucket, capacity: 3, leak_speed: 1s}",
			secs(0, 0.1, 0.2, 0.3), []time.Duration{300 * time.Millisecond}, "more than 3 events, leaking one per 1s"},
		{"leaky: leaks between events", "{kind: leaky_bucket, capacity: 3, leak_speed: 1s}",
			secs(0, 1, 2, 3, 4, 5, 6, 7), nil, ""},
		{"leaky: partial leak", "{kind: leaky_bucket, capacity: 2, leak_speed: 1s}",
			// levels: 1, 1.5, 2.0, 2.5 → overflow at 1.5s
			secs(0, 0.5, 1, 1.5), []time.Duration{1500 * time.Millisecond}, ""},
		{"baseline: skips until min samples", "{kind: baseline, value: num(attrs.v), min_samples: 3, factor: 4, alpha: 0.5}",
			[]simguard.Event{at(1, 0, "v", "100"), at(1, 1, "v", "100"), at(1, 2, "v", "100"), at(1, 3, "v", "401")},
			[]time.Duration{3}, "sample 401 is 4.0× the baseline 100 (moving average of 3 samples)"},
		{"baseline: exactly factor is not above", "{kind: baseline, value: num(attrs.v), min_samples: 3, factor: 4}",
			[]simguard.Event{at(1, 0, "v", "100"), at(1, 1, "v", "100"), at(1, 2, "v", "100"), at(1, 3, "v", "400")}, nil, ""},
		{"baseline: min value", "{kind: baseline, value: num(attrs.v), min_samples: 1, min_value: 1000}",
			[]simguard.Event{at(1, 0, "v", "1"), at(1, 1, "v", "999")}, nil, ""},
		{"distinct: values within the window", "{kind: distinct, field: dst, threshold: 3, window: 10s}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Second, "dst", "a"), at(1, 2*time.Second, "dst", "b"), at(1, 10500*time.Millisecond, "dst", "c")},
			[]time.Duration{10500 * time.Millisecond}, "3 distinct dst within 10s"},
		{"distinct: old values drop out", "{kind: distinct, field: dst, threshold: 3, window: 10s}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Second, "dst", "b"), at(1, 12*time.Second, "dst", "c")}, nil, ""},
		{"distinct: events without the field do not count", "{kind: distinct, field: dst, threshold: 2, window: 10s}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Second), at(1, 2*time.Second, "dst", "")}, nil, ""},
		{"first seen: learning period", "{kind: first_seen, field: dst, learn_for: 1h}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, 30*time.Minute, "dst", "b"), at(1, 2*time.Hour, "dst", "b"), at(1, 3*time.Hour, "dst", "c")},
			[]time.Duration{3 * time.Hour}, "first dst c for this key"},
		{"first seen: forgets after forget_after", "{kind: first_seen, field: dst, forget_after: 1h}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Minute, "dst", "b"), at(1, 2*time.Hour, "dst", "a")},
			[]time.Duration{time.Minute, 2 * time.Hour}, ""},
		{"first seen: past the two values held inline", "{kind: first_seen, field: dst, learn_for: 1s}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Minute, "dst", "b"), at(1, 2*time.Minute, "dst", "c"),
				at(1, 3*time.Minute, "dst", "a"), at(1, 4*time.Minute, "dst", "b"), at(1, 5*time.Minute, "dst", "d"), at(1, 6*time.Minute, "dst", "c")},
			[]time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute}, ""},
		{"first seen: max_values forgets the least recently seen", "{kind: first_seen, field: dst, learn_for: 1s, max_values: 2}",
			[]simguard.Event{at(1, 0, "dst", "a"), at(1, time.Minute, "dst", "b"), at(1, 2*time.Minute, "dst", "b"),
				at(1, 3*time.Minute, "dst", "c"), at(1, 4*time.Minute, "dst", "b"), at(1, 5*time.Minute, "dst", "a")},
			[]time.Duration{time.Minute, 3 * time.Minute, 5 * time.Minute}, ""},
		{"each", "{kind: each}", secs(0, 1), []time.Duration{0, time.Second}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := parseOne(t, head+"trigger: "+c.trigger+"\n")
			got := run(rs, c.events)
			var times []time.Duration
			for _, f := range got {
				times = append(times, f.At.Sub(t0))
			}
			if len(times) != len(c.want) {
				t.Fatalf("fired at %v, want %v", times, c.want)
			}
			for i := range times {
				if times[i] != c.want[i] {
					t.Fatalf("fired at %v, want %v", times, c.want)
				}
			}
			if c.detail != "" && got[0].Detail != c.detail {
				t.Errorf("detail %q, want %q", got[0].Detail, c.detail)
			}
		})
	}
}

func TestFirstSeenBounded(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: first_seen, field: dst, max_values: 100}\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	fires := 0
	for i := 0; i < 1000; i++ {
		e := at(1, time.Duration(i)*time.Second, "dst", "v"+itoa(i))
		fires += len(d.Process(&e, nil))
	}
	if fires != 999 {
		t.Errorf("%d new values fired, want 999 (all but the first)", fires)
	}
	agg := d.rules[0].agg.(*firstSeenAgg)
	s := agg.at(d.spaces[0].record(&stateKey{tenant: 1, n: 1}).inl[0].ref - 1)
	n := len(agg.list(s))
	if s.sets != 0 {
		sets := agg.sets.at(s.sets - 1)
		n += len(sets.cur) + len(sets.prev)
	}
	if n > 100 {
		t.Errorf("remembers %d values, cap 100", n)
	}
	// Recent values are still known.
	e := at(1, 1001*time.Second, "dst", "v999")
	if len(d.Process(&e, nil)) != 0 {
		t.Error("a value seen a second ago fired as new")
	}
}

func TestKeysAndTenants(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [imei, nas]\ntrigger: {kind: sliding_window, threshold: 2, window: 1m}\n")
	a := at(1, 0, "imei", "1", "nas", "n")
	b := at(1, time.Second, "imei", "1", "nas", "n")
	b.TenantID = 2
	c := at(1, 2*time.Second, "imei", "1") // no nas: does not count
	if got := run(rs, []simguard.Event{a, b, c}); len(got) != 0 {
		t.Fatalf("tenants share counters: %+v", got)
	}
	got := run(rs, []simguard.Event{a, at(9, time.Second, "imei", "1", "nas", "n")})
	if len(got) != 1 || got[0].Key != "imei=1,nas=n" || got[0].SIMID != 9 {
		t.Fatalf("firings %+v", got)
	}
}

func TestConditionErrorsCount(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.]\ncondition: 10 / num(attrs.d) > 1\ntrigger: {kind: each}\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	e := at(1, 0) // num("") is 0: division by zero
	if len(d.Process(&e, nil)) != 0 {
		t.Error("an erroring condition fired")
	}
	st := d.Stats()[0]
	if st.Errors != 1 || st.LastError == nil || !strings.Contains(st.LastError.Error(), "division by zero") {
		t.Errorf("stats %+v", st)
	}
}

func TestMaxKeys(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 2, window: 1m}\n")
	d := NewDetector(rs, DetectorOptions{MaxKeys: 10}, nil)
	for i := 0; i < 20; i++ {
		e := at(int64(i+1), 0)
		d.Process(&e, nil)
	}
	if st := d.Stats()[0]; st.Keys != 10 || st.DroppedKeys != 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestExpireKeepsResults(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: leaky_bucket, capacity: 2, leak_speed: 10s}\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	e := at(1, 0)
	d.Process(&e, nil)
	if n := d.Expire(t0.Add(29 * time.Second)); n != 0 {
		t.Fatalf("expired %d keys whose bucket is not empty", n)
	}
	if n := d.Expire(t0.Add(31 * time.Second)); n != 1 {
		t.Fatalf("expired %d keys, want the drained one", n)
	}
	if d.Keys() != 0 {
		t.Fatal("keys left")
	}
}

// TestIdleMemory: state for a million distinct keys is given back once
// they are idle.
func TestIdleMemory(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [imei]\ntrigger: {kind: sliding_window, threshold: 5, window: 1m}\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	base := heap()
	const keys = 1_000_000
	attrs := make([]map[string]string, 1024)
	for i := range attrs {
		attrs[i] = map[string]string{}
	}
	for i := 0; i < keys; i++ {
		e := simguard.Event{Time: t0.Add(time.Duration(i) * time.Microsecond), TenantID: 1, Type: "t.x",
			Attrs: attrs[i%len(attrs)]}
		e.Attrs["imei"] = "35" + itoa(100000000000+i)
		d.Process(&e, nil)
	}
	full := heap()
	if d.Keys() != keys {
		t.Fatalf("%d keys", d.Keys())
	}
	if n := d.Expire(t0.Add(2 * time.Minute)); n != keys {
		t.Fatalf("expired %d", n)
	}
	idle := heap()
	t.Logf("heap: %d MB before, %d MB with %d keys, %d MB idle", base>>20, full>>20, keys, idle>>20)
	if full-base < 100<<20 {
		t.Fatalf("a million keys took only %d MB: the test measures nothing", (full-base)>>20)
	}
	if idle > base+(full-base)/10 {
		t.Errorf("idle heap %d MB did not drop back near %d MB", idle>>20, base>>20)
	}
	runtime.KeepAlive(d)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestExpireSomeAndReload(t *testing.T) {
	a := parseOne(t, "name: a\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 9, window: 1m}\n---\n"+
		"name: b\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: first_seen, field: dst, forget_after: 1h}\n")
	d := NewDetector(a, DetectorOptions{}, nil)
	for i := 0; i < 1000; i++ {
		e := at(int64(i+1), 0, "dst", "x")
		d.Process(&e, nil)
	}
	if d.Keys() != 2000 || d.records() != 1000 {
		t.Fatalf("keys %d, records %d: rules of one key space must share records", d.Keys(), d.records())
	}
	// Two minutes on: the windows are empty, first_seen remembers.
	later := t0.Add(2 * time.Minute)
	total := 0
	for i := 0; i < 20; i++ {
		total += d.ExpireSome(later, 100)
	}
	if total != 1000 || d.Keys() != 1000 || d.records() != 1000 {
		t.Fatalf("dropped %d, keys %d, records %d", total, d.Keys(), d.records())
	}
	// Reload without rule b: its state goes at the next sweep, a's stays.
	only := parseOne(t, "name: a\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 9, window: 1m}\n")
	d2 := NewDetector(only, DetectorOptions{}, d)
	if n := d2.Expire(later); n != 1000 || d2.records() != 0 {
		t.Fatalf("after reload: dropped %d, records %d", n, d2.records())
	}
}

func TestEvidenceKeepsOnlyWhatCanBeShown(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 10, window: 1m}\nevidence: 3\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	var got []Firing
	for i := 0; i < 10; i++ {
		e := at(1, time.Duration(i)*time.Second, "n", itoa(i))
		got = d.Process(&e, got)
		if i == 6 {
			st := d.rules[0].agg.(*slidingAgg).at(d.spaces[0].record(&stateKey{tenant: 1, n: 1}).inl[0].ref - 1)
			if st.ev.n != 0 {
				t.Fatalf("after 7 of 10 events %d are kept; none can be among the last 3", st.ev.n)
			}
		}
	}
	if len(got) != 1 || len(got[0].Events) != 3 || got[0].Events[0].Attrs["n"] != "7" || got[0].Events[2].Attrs["n"] != "9" {
		t.Fatalf("firing %+v", got)
	}
	if !got[0].FirstAt.Equal(t0) {
		t.Errorf("first offending event %v, want the window's first", got[0].FirstAt)
	}
}

// After a flood of keys drains, the store shrinks and the states still
// live move; their counts must move with them, for each of the rules that
// share the store.
func TestArenaCompactionKeepsLiveStates(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 3, window: 10m}\n---\n"+
		"name: s\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 4, window: 10m}\n")
	d := NewDetector(rs, DetectorOptions{}, nil)
	for sim := int64(1); sim <= 20000; sim++ {
		e := at(sim, 0)
		d.Process(&e, nil)
	}
	// SIMs 30001-30010 stay active: two events each.
	for sim := int64(30001); sim <= 30010; sim++ {
		for _, m := range []time.Duration{8, 9} {
			e := at(sim, m*time.Minute)
			d.Process(&e, nil)
		}
	}
	agg := d.rules[0].agg.(*slidingAgg)
	if d.rules[1].agg.store() != agg.store() {
		t.Fatal("two sliding windows over the same key have a store each")
	}
	before := agg.size()
	if n := d.Expire(t0.Add(14 * time.Minute)); n != 40000 {
		t.Fatalf("expired %d states, want 40000", n)
	}
	if agg.size() >= before/4 || agg.live() != 20 {
		t.Fatalf("store room %d (was %d), %d live: not compacted", agg.size(), before, agg.live())
	}
	for sim := int64(30001); sim <= 30010; sim++ {
		var names []string
		for i, m := range []time.Duration{15, 16} {
			e := at(sim, m*time.Minute)
			f := d.Process(&e, nil)
			if len(f) != 1 {
				t.Fatalf("SIM %d: %d firings on its event %d after compaction, want 1", sim, len(f), i+3)
			}
			names = append(names, f[0].Rule.Name)
		}
		if names[0] != "r" || names[1] != "s" {
			t.Fatalf("SIM %d: fired %v, want r then s", sim, names)
		}
	}
	e := at(1, 15*time.Minute)
	if f := d.Process(&e, nil); len(f) != 0 {
		t.Fatalf("an expired SIM fired")
	}
}

// The rings hold the latest items up to their limit, inline or not, in
// order; a plain slice is the model.
func TestRingsKeepTheLatest(t *testing.T) {
	var b blocks[int64]
	for limit := 1; limit <= 20; limit++ {
		var r tsRing
		var model []int64
		for i := int64(1); i <= 50; i++ {
			r.push(&b, i, limit)
			model = append(model, i)
			if len(model) > limit {
				model = model[1:]
			}
			if i%7 == 0 && r.n > 0 { // pop some, as a window does
				r.pop(&b)
				model = model[1:]
			}
			if int(r.n) != len(model) || r.n > 0 && r.front(&b) != model[0] {
				t.Fatalf("limit %d after %d: %d held; want %v", limit, i, r.n, model)
			}
		}
		r.drop(&b)
	}
	if n := b.held(); n != 0 {
		t.Errorf("%d times held after every ring let go", n)
	}
	var h heldEvents
	for max := 1; max <= 12; max++ {
		var e evidence
		evs := make([]simguard.Event, 30)
		for i := range evs {
			evs[i] = at(1, time.Duration(i)*time.Second)
			ref := h.add(&evs[i])
			e.add(&h, ref, max)
			h.unref(ref)
			if i == 16 {
				got := e.take(&h, t0.UnixNano())
				if len(got) != min(max, 17) || !got[len(got)-1].Time.Equal(evs[16].Time) || !got[0].Time.Equal(evs[17-len(got)].Time) {
					t.Fatalf("max %d: took %d events, oldest %v", max, len(got), got[0].Time)
				}
				if e.n != 0 {
					t.Fatalf("max %d: %d left after take", max, e.n)
				}
			}
		}
		if got := e.take(&h, evs[25].Time.UnixNano()); len(got) != min(max, 5) {
			t.Fatalf("max %d: %d events from the 26th on", max, len(got))
		}
	}
	if h.live() != 0 || h.rings.held() != 0 {
		t.Errorf("%d events and %d ring places held after every ring was taken", h.live(), h.rings.held())
	}
}

// A rule's state that ran out stays while its key is busy with other
// rules (a sweep reads only the record), goes once the key is quiet, and
// the state of a rule no longer loaded goes at once.
func TestExpiryFollowsTheKey(t *testing.T) {
	rules := "name: win\nseverity: low\nevents: [t.a]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 9, window: 1m}\n---\n" +
		"name: seen\nseverity: low\nevents: [t.b]\ngroup_by: [sim]\ntrigger: {kind: first_seen, field: dst, forget_after: 1h}\n"
	d := NewDetector(parseOne(t, rules), DetectorOptions{}, nil)
	e := evt("t.a", 1, 0, "", "")
	d.Process(&e, nil)
	e = evt("t.b", 1, 10*time.Minute, "", "", "dst", "x") // the key stays busy
	d.Process(&e, nil)
	if n := d.Expire(t0.Add(10 * time.Minute)); n != 0 || d.Keys() != 2 {
		t.Fatalf("busy key: %d expired, %d states left", n, d.Keys())
	}
	if n := d.Expire(t0.Add(12 * time.Minute)); n != 1 || d.Keys() != 1 {
		t.Fatalf("quiet for 2m: %d expired, %d states left; want the window's state gone", n, d.Keys())
	}
	// Reloading without "seen" drops its state at the next sweep, busy
	// key or not.
	d = NewDetector(parseOne(t, "name: win\nseverity: low\nevents: [t.a]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 9, window: 1m}\n"), DetectorOptions{}, d)
	e = evt("t.a", 1, 13*time.Minute, "", "")
	d.Process(&e, nil)
	if n := d.Expire(t0.Add(13 * time.Minute)); n != 1 {
		t.Fatalf("removed rule: %d states expired, want 1", n)
	}
}
