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

type baselineAgg struct {
	rule *Rule
	arena[baselineState]
}

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
// inline, a few more in a slice; beyond smallSet they move to two
// generations of sets: lookups read both, inserts go to the current one, and when it holds half of
// max_values (or half of forget_after has passed) it becomes the previous
// one and the old previous is dropped. Memory stays within max_values and
// a value unseen for about forget_after is forgotten, without an LRU list.
type firstSeenState struct {
	few       [1]seenVal // the value while there is only one
	nfew      uint8
	small     []seenVal // the values, once there are more (until the sets)
	cur, prev map[uint64]struct{}
	created   int64
	rotated   int64
	last      int64
}

const smallSet = 16

type firstSeenAgg struct {
	rule *Rule
	arena[firstSeenState]
}

func (a *firstSeenAgg) observe(ref *uint32, in *input, _ *Detector) (hit, bool) {
	s := a.state(ref)
	tr := a.rule.Trigger
	t := max(in.t, s.last)
	fresh := s.last == 0
	if fresh {
		s.created, s.rotated = t, t
	}
	s.last = t
	if s.seen(in.h, t, tr) {
		return hit{}, false
	}
	// The first value of a key has nothing to be compared with; so has
	// every value during the learning period.
	learning := fresh || t-s.created < int64(tr.LearnFor)
	s.add(in.h, t, tr)
	if learning {
		return hit{}, false
	}
	return hit{first: in.t, detail: fmt.Sprintf("first %s %s for this key", tr.Field, clip(in.val))}, true
}

// list is the values while they fit a list. Most keys meet one value
// (a SIM's home network, a device's usual server), which lives inline,
// without a slice to allocate and to reach.
func (s *firstSeenState) list() []seenVal {
	if s.small != nil {
		return s.small
	}
	return s.few[:s.nfew]
}

func (s *firstSeenState) seen(h uint64, t int64, tr Trigger) bool {
	if s.cur == nil {
		vals := s.list()
		for i := range vals {
			if vals[i].h == h && t-vals[i].t < int64(tr.ForgetAfter) {
				vals[i].t = t
				return true
			}
		}
		return false
	}
	if _, ok := s.cur[h]; ok {
		return true
	}
	if _, ok := s.prev[h]; ok {
		s.cur[h] = struct{}{} // still in use: keep it through the next rotation
		s.rotate(t, tr)
		return true
	}
	return false
}

func (s *firstSeenState) add(h uint64, t int64, tr Trigger) {
	if s.cur != nil {
		s.cur[h] = struct{}{}
		s.rotate(t, tr)
		return
	}
	vals := s.list()
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
	kept = append(kept, seenVal{h: h, first: t, t: t})
	if s.small == nil && len(kept) <= len(s.few) {
		copy(s.few[:], kept)
		s.nfew = uint8(len(kept))
		return
	}
	s.small, s.nfew = kept, 0
	if len(s.small) <= smallSet || tr.MaxValues <= 2*smallSet {
		return
	}
	s.cur = make(map[uint64]struct{}, 2*smallSet)
	for _, v := range s.small {
		s.cur[v.h] = struct{}{}
	}
	s.small, s.rotated = nil, t
}

func (s *firstSeenState) rotate(t int64, tr Trigger) {
	if len(s.cur) >= max(tr.MaxValues/2, 1) || t-s.rotated >= int64(tr.ForgetAfter)/2 {
		s.prev, s.cur, s.rotated = s.cur, make(map[uint64]struct{}, len(s.cur)/2+1), t
	}
}
