package detect

import (
	"fmt"
	"math"

	"github.com/simguard/simguard"
)

// input is what the detector tells an aggregator about one matching event.
type input struct {
	t   int64  // event time, Unix nanoseconds, never before the key's last event
	val string // the tracked field's value (distinct, first_seen)
	h   uint64 // hash of val, or of the session (baseline)
	v   float64
	ev  *simguard.Event
}

// hit is a firing as an aggregator sees it.
type hit struct {
	first  int64 // time of the first offending event
	detail string
	evs    []simguard.Event
}

// aggregator is a rule's trigger. It keeps its per-key states in its
// arena; the detector hands it the key's reference to its state (0 for a
// new key). Only the detector's goroutine calls it.
//
// States hold no pointers (lists are blocks named by handle, evidence is
// events named by reference in heldEvents): the garbage collector does not
// scan them, however many keys there are.
type aggregator interface {
	observe(ref *uint32, in *input, d *Detector) (hit, bool)
	// prefetch starts loading state i into the cache (see prefetch).
	prefetch(i uint32)
	// release lets go of state i and of what it holds.
	release(i uint32)
	// compact moves the states to fewer chunks when most are free (see
	// arena.compact).
	compact() (remap []uint32)
	// dispose lets go of what the states hold outside the aggregator
	// (their evidence), when the rule is gone.
	dispose()
	// remapEvidence rewrites the states' evidence after heldEvents
	// compacted.
	remapEvidence(m []uint32)
}

func newAggregator(r *Rule, held *heldEvents) aggregator {
	switch r.Trigger.Kind {
	case TriggerSlidingWindow:
		return &slidingAgg{rule: r, held: held}
	case TriggerLeakyBucket:
		return &leakyAgg{rule: r, held: held}
	case TriggerDistinct:
		return &distinctAgg{rule: r, held: held}
	case TriggerBaseline:
		return &baselineAgg{rule: r}
	case TriggerFirstSeen:
		return &firstSeenAgg{rule: r}
	}
	return nil // each: no state
}

// keepEvidence keeps the current event when it can still be among the
// last max events of a firing that needs at least more further events. An
// event that enough later events are bound to push out is not copied at
// all: most events of a high-threshold rule never are.
func keepEvidence(e *evidence, d *Detector, max, more int) {
	if more < max {
		e.add(d.evidence, d.hold(), max)
	}
}

// slidingState holds the times of the key's events within the window, at
// most threshold of them: exact, and bounded by the threshold.
type slidingState struct {
	ts   tsRing
	ev   evidence
	last int64
}

type slidingAgg struct {
	rule *Rule
	arena[slidingState]
	times blocks[int64]
	held  *heldEvents
}

func (a *slidingAgg) observe(ref *uint32, in *input, d *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	s.last = t
	cut := t - int64(tr.Window)
	for s.ts.n > 0 && s.ts.front(&a.times) <= cut {
		s.ts.pop(&a.times)
	}
	s.ts.push(&a.times, t, tr.Threshold)
	keepEvidence(&s.ev, d, a.rule.Evidence, tr.Threshold-int(s.ts.n))
	if int(s.ts.n) < tr.Threshold {
		return hit{}, false
	}
	first := s.ts.front(&a.times)
	s.ts.reset()
	return hit{
		first:  first,
		detail: fmt.Sprintf("%d events within %s", tr.Threshold, tr.Window),
		evs:    s.ev.take(a.held, first),
	}, true
}

func (a *slidingAgg) release(i uint32) {
	s := a.at(i)
	s.ts.drop(&a.times)
	s.ev.drop(a.held)
	a.arena.release(i)
}

func (a *slidingAgg) compact() []uint32 {
	return compactWithBlocks(&a.arena, &a.times, func(s *slidingState) *uint32 { return &s.ts.buf })
}

var slidingEvidence = evidenceOf[slidingState](func(s *slidingState) *evidence { return &s.ev })

func (a *slidingAgg) dispose() { slidingEvidence.dispose(&a.arena, a.held) }

func (a *slidingAgg) remapEvidence(m []uint32) { slidingEvidence.remap(&a.arena, a.held, m) }

// leakyState is a CrowdSec leaky bucket: the level drains continuously at
// one event per leak_speed and each event adds one.
type leakyState struct {
	level float64
	last  int64
	first int64
	ev    evidence
}

type leakyAgg struct {
	rule *Rule
	arena[leakyState]
	held *heldEvents
}

func (a *leakyAgg) release(i uint32) {
	a.at(i).ev.drop(a.held)
	a.arena.release(i)
}

var leakyEvidence = evidenceOf[leakyState](func(s *leakyState) *evidence { return &s.ev })

func (a *leakyAgg) dispose() { leakyEvidence.dispose(&a.arena, a.held) }

func (a *leakyAgg) remapEvidence(m []uint32) { leakyEvidence.remap(&a.arena, a.held, m) }

func (a *leakyAgg) observe(ref *uint32, in *input, d *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	s.level -= float64(t-s.last) / float64(tr.LeakSpeed)
	if s.level <= 0 || s.last == 0 {
		s.level, s.first = 0, t
	}
	s.last = t
	s.level++
	keepEvidence(&s.ev, d, a.rule.Evidence, int(math.Floor(float64(tr.Capacity)-s.level))+1)
	if s.level <= float64(tr.Capacity) {
		return hit{}, false
	}
	// Overflow: like CrowdSec, the bucket is emptied, so the next firing
	// needs another capacity+1 events.
	first := s.first
	s.level = 0
	return hit{
		first:  first,
		detail: fmt.Sprintf("more than %d events, leaking one per %s", tr.Capacity, tr.LeakSpeed),
		evs:    s.ev.take(a.held, first),
	}, true
}

// distinctState keeps the distinct values seen within the window (hash
// and last sighting), at most threshold of them, in a block of the rule's
// values.
type distinctState struct {
	vals  uint32 // block in distinctAgg.vals
	nvals int32
	ev    evidence
	last  int64
}

type seenVal struct {
	h     uint64
	first int64 // first sighting within the window
	t     int64 // last sighting
}

type distinctAgg struct {
	rule *Rule
	arena[distinctState]
	vals blocks[seenVal]
	held *heldEvents
}

func (a *distinctAgg) observe(ref *uint32, in *input, d *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	s.last = t
	cut := t - int64(tr.Window)
	var vals []seenVal
	if s.vals != 0 {
		vals = a.vals.get(s.vals)[:s.nvals]
	}
	kept, found := vals[:0], false
	for _, v := range vals {
		if v.h == in.h {
			v.t, found = t, true
		}
		if v.t > cut {
			kept = append(kept, v)
		}
	}
	n := len(kept)
	if !found {
		// At most threshold values are held: the state fires at the
		// threshold and empties.
		if s.vals == 0 || n == len(a.vals.get(s.vals)) {
			s.vals = a.vals.grow(s.vals, n, min(max(2*n, 2), tr.Threshold))
		}
		a.vals.get(s.vals)[n] = seenVal{h: in.h, first: t, t: t}
		n++
	}
	s.nvals = int32(n)
	keepEvidence(&s.ev, d, a.rule.Evidence, tr.Threshold-n)
	if n < tr.Threshold {
		return hit{}, false
	}
	first := t
	for _, v := range a.vals.get(s.vals)[:n] {
		first = min(first, v.first)
	}
	s.nvals = 0
	return hit{
		first:  first,
		detail: fmt.Sprintf("%d distinct %s within %s", tr.Threshold, tr.Field, tr.Window),
		evs:    s.ev.take(a.held, first),
	}, true
}

func (a *distinctAgg) release(i uint32) {
	s := a.at(i)
	a.vals.release(s.vals)
	s.ev.drop(a.held)
	a.arena.release(i)
}

func (a *distinctAgg) compact() []uint32 {
	return compactWithBlocks(&a.arena, &a.vals, func(s *distinctState) *uint32 { return &s.vals })
}

var distinctEvidence = evidenceOf[distinctState](func(s *distinctState) *evidence { return &s.ev })

func (a *distinctAgg) dispose() { distinctEvidence.dispose(&a.arena, a.held) }

func (a *distinctAgg) remapEvidence(m []uint32) { distinctEvidence.remap(&a.arena, a.held, m) }
