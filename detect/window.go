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
type aggregator interface {
	observe(ref *uint32, in *input, d *Detector) (hit, bool)
	release(i uint32)
	compact() (remap []uint32)
}

func newAggregator(r *Rule) aggregator {
	switch r.Trigger.Kind {
	case TriggerSlidingWindow:
		return &slidingAgg{rule: r}
	case TriggerLeakyBucket:
		return &leakyAgg{rule: r}
	case TriggerDistinct:
		return &distinctAgg{rule: r}
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
		e.add(d.hold(), max)
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
}

func (a *slidingAgg) observe(ref *uint32, in *input, d *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	s.last = t
	cut := t - int64(tr.Window)
	for s.ts.n > 0 && s.ts.front() <= cut {
		s.ts.pop()
	}
	s.ts.push(t, tr.Threshold)
	keepEvidence(&s.ev, d, a.rule.Evidence, tr.Threshold-int(s.ts.n))
	if int(s.ts.n) < tr.Threshold {
		return hit{}, false
	}
	first := s.ts.front()
	s.ts.reset()
	return hit{
		first:  first,
		detail: fmt.Sprintf("%d events within %s", tr.Threshold, tr.Window),
		evs:    s.ev.take(first, a.rule.Evidence),
	}, true
}

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
}

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
		evs:    s.ev.take(first, a.rule.Evidence),
	}, true
}

// distinctState keeps the distinct values seen within the window (hash
// and last sighting), at most threshold of them.
type distinctState struct {
	vals []seenVal
	ev   evidence
	last int64
}

type seenVal struct {
	h     uint64
	first int64 // first sighting within the window
	t     int64 // last sighting
}

type distinctAgg struct {
	rule *Rule
	arena[distinctState]
}

func (a *distinctAgg) observe(ref *uint32, in *input, d *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	s.last = t
	cut := t - int64(tr.Window)
	kept, found := s.vals[:0], false
	for _, v := range s.vals {
		if v.h == in.h {
			v.t, found = t, true
		}
		if v.t > cut {
			kept = append(kept, v)
		}
	}
	s.vals = kept
	if !found {
		s.vals = append(s.vals, seenVal{h: in.h, first: t, t: t})
	}
	keepEvidence(&s.ev, d, a.rule.Evidence, tr.Threshold-len(s.vals))
	if len(s.vals) < tr.Threshold {
		return hit{}, false
	}
	first := t
	for _, v := range s.vals {
		first = min(first, v.first)
	}
	s.vals = s.vals[:0]
	return hit{
		first:  first,
		detail: fmt.Sprintf("%d distinct %s within %s", tr.Threshold, tr.Field, tr.Window),
		evs:    s.ev.take(first, a.rule.Evidence),
	}, true
}
