package detect

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// pointerPath returns where t holds a pointer ("" if nowhere): the
// garbage collector scans every chunk of a type that holds one.
func pointerPath(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface,
		reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return t.String()
	case reflect.Array:
		if t.Len() == 0 {
			return ""
		}
		if p := pointerPath(t.Elem()); p != "" {
			return "[]" + p
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if p := pointerPath(t.Field(i).Type); p != "" {
				return t.Field(i).Name + "." + p
			}
		}
	}
	return ""
}

// The per-key state, and the index of active alerts, hold no pointer, so
// that the garbage collector does not scan them: with millions of keys,
// marking them took seconds and the detectors fell behind.
func TestStatesHoldNoPointers(t *testing.T) {
	for _, v := range []any{keyRecord{}, slot{}, simSlot{}, slidingState{}, leakyState{}, distinctState{},
		seenVal{}, baselineState{}, firstSeenState{}, activeKey{}, activeAlert{}} {
		if p := pointerPath(reflect.TypeOf(v)); p != "" {
			t.Errorf("%T holds a pointer at %s", v, p)
		}
	}
}

// Every rule kind, with evidence inline and in rings, over many keys that
// fire now and then: once every key has expired, nothing is held (no
// event, no block, no record), and a reload that drops the rules, and so
// their key space, lets go of their evidence at once.
func TestStateIsLetGo(t *testing.T) {
	rules := ""
	for i, trig := range []string{
		"{kind: sliding_window, threshold: 4, window: 1m}\nevidence: 3",
		"{kind: sliding_window, threshold: 20, window: 1m}\nevidence: 12",
		"{kind: leaky_bucket, capacity: 6, leak_speed: 10s}\nevidence: 9",
		"{kind: distinct, field: dst, threshold: 12, window: 1m}",
		"{kind: first_seen, field: dst, max_values: 100}",
		"{kind: baseline, value: num(attrs.n), min_samples: 3}",
	} {
		if i > 0 {
			rules += "---\n"
		}
		rules += fmt.Sprintf("name: r%d\nseverity: low\nevents: [t.x]\ngroup_by: [sim, peer]\ntrigger: %s\n", i, trig)
	}
	rs := parseOne(t, rules)
	r := rand.New(rand.NewPCG(3, 4))
	feed := func(d *Detector) (fired int) {
		for i := 0; i < 30000; i++ {
			e := at(int64(r.IntN(300)+1), time.Duration(i)*10*time.Millisecond,
				"dst", fmt.Sprint(r.IntN(40)), "n", fmt.Sprint(r.IntN(1000)), "peer", fmt.Sprint(r.IntN(3)))
			fired += len(d.Process(&e, nil))
		}
		return fired
	}
	d := NewDetector(rs, DetectorOptions{}, nil)
	if n := feed(d); n < 100 {
		t.Fatalf("only %d firings: the events do not exercise the rules", n)
	}
	if d.evidence.live() == 0 {
		t.Fatal("no evidence held: the test checks nothing")
	}
	d.Expire(t0.Add(400 * 24 * time.Hour))
	if d.Keys() != 0 || d.records() != 0 {
		t.Fatalf("%d states, %d records left", d.Keys(), d.records())
	}
	if n, b := d.evidence.live(), d.evidence.rings.held(); n != 0 || b != 0 {
		t.Errorf("after expiry %d events and %d ring places held", n, b)
	}
	sp := d.spaces[0]
	if sp.strs.live() != 0 || sp.more.held() != 0 {
		t.Errorf("after expiry %d key strings and %d slots held", sp.strs.live(), sp.more.held())
	}
	for _, s := range d.rules {
		switch a := s.agg.(type) {
		case *slidingAgg:
			if a.times.held() != 0 {
				t.Errorf("%s: %d times held", s.rule.Name, a.times.held())
			}
		case *distinctAgg:
			if a.vals.held() != 0 {
				t.Errorf("%s: %d values held", s.rule.Name, a.vals.held())
			}
		case *firstSeenAgg:
			if a.vals.held() != 0 || a.sets.live() != 0 {
				t.Errorf("%s: %d values, %d sets held", s.rule.Name, a.vals.held(), a.sets.live())
			}
		}
	}

	feed(d)
	if d.evidence.live() == 0 {
		t.Fatal("no evidence held before the reload")
	}
	d = NewDetector(parseOne(t, "name: other\nseverity: low\nevents: [t.y]\ntrigger: {kind: each}\n"), DetectorOptions{}, d)
	if n := d.evidence.live(); n != 0 {
		t.Errorf("%d events held after the rules keeping them were removed", n)
	}
}

// A removed rule's states are in stores that the rules still loaded
// share: expiry lets go of them and of their evidence within two passes
// (the first may have begun before the reload), also when it sweeps a few
// keys at a time, and the rules still loaded keep theirs.
func TestRemovedRuleStatesGo(t *testing.T) {
	const keep = "name: keep\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\nevidence: 7\n" +
		"trigger: {kind: sliding_window, threshold: 8, window: 1h}\n"
	const drop = "name: drop\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\nevidence: 9\n" +
		"trigger: {kind: sliding_window, threshold: 10, window: 1h}\n---\n" +
		"name: dropdst\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\nevidence: 3\n" +
		"trigger: {kind: distinct, field: dst, threshold: 6, window: 1h}\n"
	feed := func(d *Detector) {
		for i := 0; i < 5; i++ {
			for sim := int64(1); sim <= 1000; sim++ {
				e := at(sim, time.Duration(i)*time.Second, "dst", fmt.Sprint(i))
				if f := d.Process(&e, nil); len(f) != 0 {
					t.Fatalf("%s fired: the test wants state held, not fired", f[0].Rule.Name)
				}
			}
		}
	}
	only := NewDetector(parseOne(t, keep), DetectorOptions{}, nil)
	feed(only)
	d := NewDetector(parseOne(t, keep+"---\n"+drop), DetectorOptions{}, nil)
	feed(d)
	d.ExpireSome(t0.Add(time.Minute), 300) // a pass begins
	d = NewDetector(parseOne(t, keep), DetectorOptions{}, d)
	win := d.rules[0].agg.(*slidingAgg)
	dst := d.spaces[0].stores[TriggerDistinct].(*distinctStore)
	if win.live() != 2000 || dst.live() != 1000 {
		t.Fatalf("before expiry %d sliding and %d distinct states, want 2000 and 1000", win.live(), dst.live())
	}
	for n := 0; len(d.gone) > 0; n++ {
		if n == 100 {
			t.Fatal("the removed rules are still waiting for expiry after 100 sweeps")
		}
		d.ExpireSome(t0.Add(time.Minute), 300)
	}
	if win.live() != 1000 || dst.live() != 0 || dst.vals.held() != 0 {
		t.Errorf("after expiry %d sliding states (want 1000), %d distinct states and %d values (want none)",
			win.live(), dst.live(), dst.vals.held())
	}
	if n, w := d.evidence.live(), only.evidence.live(); n != w {
		t.Errorf("%d events held, want %d as without the removed rules", n, w)
	}
	if n, w := d.evidence.rings.held(), only.evidence.rings.held(); n != w {
		t.Errorf("%d evidence ring places held, want %d as without the removed rules", n, w)
	}
	if n := d.Stats()[0].Keys; n != 1000 {
		t.Errorf("keep holds state for %d keys, want 1000", n)
	}
	var got []Firing
	for i := 5; i < 8; i++ {
		e := at(1, time.Duration(i)*time.Second, "dst", fmt.Sprint(i), "n", fmt.Sprint(i))
		got = d.Process(&e, got)
	}
	if len(got) != 1 || got[0].Rule.Name != "keep" || len(got[0].Events) != 7 {
		t.Fatalf("firings %+v, want keep with 7 events", got)
	}
}

// After a flood of keys drains, the blocks of the keys still active move
// (times, values, evidence); what the keys count must move with them.
func TestCompactionKeepsBlocks(t *testing.T) {
	rules := "name: win\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 12, window: 10m}\nevidence: 7\n---\n" +
		"name: dst\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: distinct, field: dst, threshold: 12, window: 10m}\n"
	d := NewDetector(parseOne(t, rules), DetectorOptions{}, nil)
	// 5,000 keys with 10 events each: rings and value lists in blocks.
	for i := 0; i < 10; i++ {
		for sim := int64(1); sim <= 5000; sim++ {
			e := at(sim, time.Duration(i)*time.Millisecond, "dst", fmt.Sprint(i))
			d.Process(&e, nil)
		}
	}
	// SIMs 9001-9010 stay active: 10 events each, later.
	for sim := int64(9001); sim <= 9010; sim++ {
		for i := 0; i < 10; i++ {
			e := at(sim, 8*time.Minute+time.Duration(i)*time.Second, "dst", fmt.Sprint(i), "n", fmt.Sprint(i))
			d.Process(&e, nil)
		}
	}
	win := d.rules[0].agg.(*slidingAgg)
	heldBefore := d.evidence.evs.size()
	if n := d.Expire(t0.Add(14 * time.Minute)); n != 10000 {
		t.Fatalf("expired %d states, want 10000", n)
	}
	if d.evidence.evs.size() >= heldBefore/4 || win.times.held() != 10*16 {
		t.Fatalf("held events room %d (was %d), %d times held: not compacted", d.evidence.evs.size(), heldBefore, win.times.held())
	}
	for sim := int64(9001); sim <= 9010; sim++ {
		var got []Firing
		for i := 10; i < 12; i++ {
			e := at(sim, 15*time.Minute+time.Duration(i)*time.Second, "dst", fmt.Sprint(i), "n", fmt.Sprint(i))
			got = d.Process(&e, got)
		}
		if len(got) != 2 {
			t.Fatalf("SIM %d: %d firings on its 12th event after compaction, want 2", sim, len(got))
		}
		for _, f := range got {
			if f.Rule.Name != "win" {
				continue
			}
			// The last 7 events: 5 from before the compaction, in order.
			if len(f.Events) != 7 || f.Events[0].Attrs["n"] != "5" || f.Events[6].Attrs["n"] != "11" {
				t.Fatalf("SIM %d: evidence %v", sim, attrsOf(f.Events, "n"))
			}
		}
	}
}

func attrsOf(evs []simguard.Event, name string) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].Attrs[name]
	}
	return out
}
