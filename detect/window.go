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

// aggregator is a rule's trigger. It keeps its per-key states in a
// store it shares with the rules of its kind in its key space (see
// stateStore); the detector hands it the key's reference to its state (0
// for a new key). Only the detector's goroutine calls it.
//
// States hold no pointers (lists are blocks named by handle, evidence is
// events named by reference in heldEvents): the garbage collector does not
// scan them, however many keys there are.
type aggregator interface {
	observe(ref *uint32, in *input, d *Detector) (hit, bool)
	// prefetch starts loading state i into the cache (see prefetch).
	prefetch(i uint32)
	// store is where the states are.
	store() stateStore
}

// stateStore holds the states of every rule of one trigger kind in one
// key space, and the lists they keep. One event makes the states of the
// rules it passes one after another, so that a key's states sit side by
// side in one store instead of far apart in one array per rule: with tens
// of millions of states, the pages an event touches, not the instructions
// it runs, bound detection (see docs/detect.md). A store goes with its key
// space; a rule that goes leaves its states to expiry (see goneRule).
type stateStore interface {
	// release lets go of state i and of what it holds.
	release(i uint32)
	// compact moves the states to fewer chunks when most are free (see
	// arena.compact); the caller rewrites the references of every rule
	// of the store.
	compact() (remap []uint32)
	// dispose lets go of what all the states hold outside the store
	// (their evidence), when the key space is gone.
	dispose()
	// remapEvidence rewrites the states' evidence after heldEvents
	// compacted.
	remapEvidence(m []uint32)
}

func newAggregator(r *Rule, sp *keySpace, held *heldEvents) aggregator {
	k := r.Trigger.Kind
	switch k {
	case TriggerSlidingWindow:
		return &slidingAgg{rule: r, slidingStore: storeOf(sp, k, func() *slidingStore { return &slidingStore{held: held} })}
	case TriggerLeakyBucket:
		return &leakyAgg{rule: r, leakyStore: storeOf(sp, k, func() *leakyStore { return &leakyStore{held: held} })}
	case TriggerDistinct:
		return &distinctAgg{rule: r, distinctStore: storeOf(sp, k, func() *distinctStore { return &distinctStore{held: held} })}
	case TriggerBaseline:
		return &baselineAgg{rule: r, baselineStore: storeOf(sp, k, func() *baselineStore { return &baselineStore{} })}
	case TriggerFirstSeen:
		return &firstSeenAgg{rule: r, firstSeenStore: storeOf(sp, k, func() *firstSeenStore { return &firstSeenStore{} })}
	}
	return nil // each: no state
}

// storeOf returns sp's store for trigger kind k, making it when absent.
func storeOf[S stateStore](sp *keySpace, k TriggerKind, mk func() S) S {
	if st, ok := sp.stores[k].(S); ok {
		return st
	}
	st := mk()
	sp.stores[k] = st
	return st
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

type slidingStore struct {
	arena[slidingState]
	times blocks[int64]
	held  *heldEvents
}

type slidingAgg struct {
	rule *Rule
	*slidingStore
}

func (a *slidingAgg) store() stateStore { return a.slidingStore }

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

func (st *slidingStore) release(i uint32) {
	s := st.at(i)
	s.ts.drop(&st.times)
	s.ev.drop(st.held)
	st.arena.release(i)
}

func (st *slidingStore) compact() []uint32 {
	return compactWithBlocks(&st.arena, &st.times, func(s *slidingState) *uint32 { return &s.ts.buf })
}

var slidingEvidence = evidenceOf[slidingState](func(s *slidingState) *evidence { return &s.ev })

func (st *slidingStore) dispose() { slidingEvidence.dispose(&st.arena, st.held) }

func (st *slidingStore) remapEvidence(m []uint32) { slidingEvidence.remap(&st.arena, st.held, m) }

// leakyState is a CrowdSec leaky bucket: the level drains continuously at
// one event per leak_speed and each event adds one.
type leakyState struct {
	level float64
	last  int64
	first int64
	ev    evidence
}

type leakyStore struct {
	arena[leakyState]
	held *heldEvents
}

type leakyAgg struct {
	rule *Rule
	*leakyStore
}

func (a *leakyAgg) store() stateStore { return a.leakyStore }

func (st *leakyStore) release(i uint32) {
	st.at(i).ev.drop(st.held)
	st.arena.release(i)
}

func (st *leakyStore) compact() []uint32 { return st.arena.compact() }

var leakyEvidence = evidenceOf[leakyState](func(s *leakyState) *evidence { return &s.ev })

func (st *leakyStore) dispose() { leakyEvidence.dispose(&st.arena, st.held) }

func (st *leakyStore) remapEvidence(m []uint32) { leakyEvidence.remap(&st.arena, st.held, m) }

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
// and last sighting), at most threshold of them, in a block of the
// store's values.
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

type distinctStore struct {
	arena[distinctState]
	vals blocks[seenVal]
	held *heldEvents
}

type distinctAgg struct {
	rule *Rule
	*distinctStore
}

func (a *distinctAgg) store() stateStore { return a.distinctStore }

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

func (st *distinctStore) release(i uint32) {
	s := st.at(i)
	st.vals.release(s.vals)
	s.ev.drop(st.held)
	st.arena.release(i)
}

func (st *distinctStore) compact() []uint32 {
	return compactWithBlocks(&st.arena, &st.vals, func(s *distinctState) *uint32 { return &s.vals })
}

var distinctEvidence = evidenceOf[distinctState](func(s *distinctState) *evidence { return &s.ev })

func (st *distinctStore) dispose() { distinctEvidence.dispose(&st.arena, st.held) }

func (st *distinctStore) remapEvidence(m []uint32) { distinctEvidence.remap(&st.arena, st.held, m) }
