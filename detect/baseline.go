package detect

import (
	"fmt"
)

// baselineState is a key's own baseline: an exponentially weighted moving
// average of its samples, and for counters the last value of the current
// session.
type baselineState struct {
	mean    float64
	n       uint32
	session uint64
	counter float64
	last    int64
}

type baselineStore struct {
	arena[baselineState]
}

type baselineAgg struct {
	rule *Rule
	*baselineStore
}

func (a *baselineAgg) store() stateStore { return a.baselineStore }

func (st *baselineStore) compact() []uint32 { return st.arena.compact() }

// The states keep no evidence: a baseline alert carries the event that fired.
func (st *baselineStore) dispose()               {}
func (st *baselineStore) remapEvidence([]uint32) {}

func (a *baselineAgg) observe(ref *uint32, in *input, _ *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	s.last = max(in.t, s.last)
	x := in.v
	if tr.CounterBy != "" {
		// Accounting counters grow within a session; the sample is the
		// growth since the session's previous event. The first event of
		// a session we did not see start, and a counter that went down
		// (a wrap or a restart), only set the reference.
		if in.h != s.session || x < s.counter {
			s.session, s.counter = in.h, in.v
			return hit{}, false
		}
		x -= s.counter
		s.counter = in.v
	}
	if x < 0 {
		x = 0
	}
	fire := s.n >= uint32(tr.MinSamples) && x >= tr.MinValue && x > tr.Factor*s.mean
	mean, n := s.mean, s.n
	// The sample joins the average clipped to the alarm level: a lasting
	// change of behaviour is learned slowly, one spike is not learned.
	switch {
	case s.n == 0:
		s.mean = x
	case fire:
		s.mean += tr.Alpha * (tr.Factor*s.mean - s.mean)
	default:
		s.mean += tr.Alpha * (x - s.mean)
	}
	if s.n < ^uint32(0) {
		s.n++
	}
	if !fire {
		return hit{}, false
	}
	ratio := "∞"
	if mean > 0 {
		ratio = fmt.Sprintf("%.1f×", x/mean)
	}
	return hit{
		first:  in.t,
		detail: fmt.Sprintf("sample %.0f is %s the baseline %.0f (moving average of %d samples)", x, ratio, mean, n),
		evs:    nil, // the detector attaches the event that fired
	}, true
}

// firstSeenState remembers the values a key has met. The first lives
// inline, a few more in a block of the store's values; beyond smallSet
// they move to two generations of sets: lookups read both, inserts go to
// the current one, and when it holds half of max_values (or half of
// forget_after has passed) it becomes the previous one and the old
// previous is dropped. Memory stays within max_values and a value unseen
// for about forget_after is forgotten, without an LRU list.
type firstSeenState struct {
	few     [1]seenVal // the value while there is only one
	nfew    uint8
	small   uint32 // the values once there are more (until the sets): a block in firstSeenStore.vals
	nsmall  uint32
	sets    uint32 // the sets, in firstSeenStore.sets, + 1; 0 until there are more than smallSet values
	created int64
	rotated int64
	last    int64
}

// seenSets are the two generations of a key's values. Only keys with
// many values have them, few enough for the garbage collector to trace.
type seenSets struct {
	cur, prev map[uint64]struct{}
}

const smallSet = 16

type firstSeenStore struct {
	arena[firstSeenState]
	vals blocks[seenVal]
	sets arena[seenSets]
}

type firstSeenAgg struct {
	rule *Rule
	*firstSeenStore
}

func (a *firstSeenAgg) store() stateStore { return a.firstSeenStore }

func (a *firstSeenAgg) observe(ref *uint32, in *input, _ *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	fresh := s.last == 0
	if fresh {
		s.created, s.rotated = t, t
	}
	s.last = t
	if a.seen(s, in.h, t, tr) {
		return hit{}, false
	}
	// The first value of a key has nothing to be compared with; so has
	// every value during the learning period.
	learning := fresh || t-s.created < int64(tr.LearnFor)
	a.add(s, in.h, t, tr)
	if learning {
		return hit{}, false
	}
	return hit{first: in.t, detail: fmt.Sprintf("first %s %s for this key", tr.Field, clip(in.val))}, true
}

func (st *firstSeenStore) release(i uint32) {
	s := st.at(i)
	st.vals.release(s.small)
	if s.sets != 0 {
		st.sets.release(s.sets - 1)
	}
	st.arena.release(i)
}

func (st *firstSeenStore) compact() []uint32 {
	remap := compactWithBlocks(&st.arena, &st.vals, func(s *firstSeenState) *uint32 { return &s.small })
	if m := st.sets.compact(); m != nil {
		for i := 0; i < st.n; i++ {
			if s := st.at(uint32(i)); s.sets != 0 {
				s.sets = m[s.sets-1]
			}
		}
	}
	return remap
}

// The states keep no evidence: a first_seen alert carries the event that fired.
func (st *firstSeenStore) dispose()               {}
func (st *firstSeenStore) remapEvidence([]uint32) {}

// list is the values while they fit a list. Most keys meet one value
// (a SIM's home network, a device's usual server), which lives inline,
// without a block to allocate and to reach.
func (a *firstSeenAgg) list(s *firstSeenState) []seenVal {
	if s.small != 0 {
		return a.vals.get(s.small)[:s.nsmall]
	}
	return s.few[:s.nfew]
}

func (a *firstSeenAgg) seen(s *firstSeenState, h uint64, t int64, tr Trigger) bool {
	if s.sets == 0 {
		vals := a.list(s)
		for i := range vals {
			if vals[i].h == h && t-vals[i].t < int64(tr.ForgetAfter) {
				vals[i].t = t
				return true
			}
		}
		return false
	}
	sets := a.sets.at(s.sets - 1)
	if _, ok := sets.cur[h]; ok {
		return true
	}
	if _, ok := sets.prev[h]; ok {
		sets.cur[h] = struct{}{} // still in use: keep it through the next rotation
		sets.rotate(s, t, tr)
		return true
	}
	return false
}

func (a *firstSeenAgg) add(s *firstSeenState, h uint64, t int64, tr Trigger) {
	if s.sets != 0 {
		sets := a.sets.at(s.sets - 1)
		sets.cur[h] = struct{}{}
		sets.rotate(s, t, tr)
		return
	}
	vals := a.list(s)
	kept := vals[:0]
	for _, v := range vals {
		if t-v.t < int64(tr.ForgetAfter) && v.h != h {
			kept = append(kept, v)
		}
	}
	if len(kept) >= tr.MaxValues {
		// Full: forget the value seen least recently.
		oldest := 0
		for i := range kept {
			if kept[i].t < kept[oldest].t {
				oldest = i
			}
		}
		kept = append(kept[:oldest], kept[oldest+1:]...)
	}
	n := len(kept)
	if s.small == 0 && n < len(s.few) {
		s.few[n] = seenVal{h: h, first: t, t: t}
		s.nfew = uint8(n + 1)
		return
	}
	if s.small == 0 {
		// From the inline value to a block.
		s.small = a.vals.alloc(2 * len(s.few))
		copy(a.vals.get(s.small), kept)
		s.nfew = 0
	} else if n == len(a.vals.get(s.small)) {
		s.small = a.vals.grow(s.small, n, 2*n)
	}
	a.vals.get(s.small)[n] = seenVal{h: h, first: t, t: t}
	s.nsmall = uint32(n + 1)
	if s.nsmall <= smallSet || tr.MaxValues <= 2*smallSet {
		return
	}
	sets := seenSets{cur: make(map[uint64]struct{}, 2*smallSet)}
	for _, v := range a.vals.get(s.small)[:s.nsmall] {
		sets.cur[v.h] = struct{}{}
	}
	a.vals.release(s.small)
	s.small, s.nsmall, s.rotated = 0, 0, t
	s.sets = a.sets.alloc() + 1
	*a.sets.at(s.sets - 1) = sets
}

func (sets *seenSets) rotate(s *firstSeenState, t int64, tr Trigger) {
	if len(sets.cur) >= max(tr.MaxValues/2, 1) || t-s.rotated >= int64(tr.ForgetAfter)/2 {
		sets.prev, sets.cur, s.rotated = sets.cur, make(map[uint64]struct{}, len(sets.cur)/2+1), t
	}
}
