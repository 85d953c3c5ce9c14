package detect

import (
	"math"
	"strings"

	"github.com/simguard/simguard"
)

// keyState is one rule's state for one key.
type keyState interface {
	lastEvent() int64 // time of the key's last event for the rule
}

// keySpace holds the state of every rule that groups by the same fields.
// Most rules group by SIM: sharing one map for them makes an event cost
// one lookup in a million-entry map instead of one per rule, and keeps
// the key once instead of once per rule. Records live by value in one
// slice (the map holds their index), which spares the garbage collector a
// million small objects and lets expiry walk the keys a slice at a time.
type keySpace struct {
	sig     string // the group-by fields, e.g. "sim" or "imei,nas"
	index   map[stateKey]int32
	recs    []keyRecord
	cursor  int // where the next incremental expiry resumes
	max     int
	dropped uint64
}

// keyRecord is the states of the rules that have seen a key. A key meets
// few rules, so a short list beats a slot per rule.
type keyRecord struct {
	key   stateKey
	slots []slot
}

type slot struct {
	rule uint32 // ruleState.id
	st   keyState
}

func newKeySpace(sig string, max int) *keySpace {
	return &keySpace{sig: sig, index: make(map[stateKey]int32), max: min(max, math.MaxInt32)}
}

func spaceSig(r *Rule) string {
	names := make([]string, len(r.keyFields))
	for i, f := range r.keyFields {
		names[i] = f.name
		if f.kind == fieldAttr {
			names[i] = "attrs." + f.attr
		}
	}
	return strings.Join(names, ",")
}

func (s *keySpace) size() int { return len(s.recs) }

// record returns k's record, making it when absent; nil when the space is
// full: a flood of distinct keys cannot exhaust memory, and new keys are
// tracked again once idle ones expire. The pointer is valid until the
// space gets a new record or expires some.
func (s *keySpace) record(k stateKey) *keyRecord {
	if i, ok := s.index[k]; ok {
		return &s.recs[i]
	}
	if len(s.recs) >= s.max {
		s.dropped++
		return nil
	}
	s.index[k] = int32(len(s.recs))
	s.recs = append(s.recs, keyRecord{key: k})
	return &s.recs[len(s.recs)-1]
}

// state returns where rule id keeps its state in r (nil state at first).
// The pointer is valid until the next call on r.
func (r *keyRecord) state(id uint32) *keyState {
	for i := range r.slots {
		if r.slots[i].rule == id {
			return &r.slots[i].st
		}
	}
	r.slots = append(r.slots, slot{rule: id})
	return &r.slots[len(r.slots)-1].st
}

// expire checks up to budget records from where the last call stopped
// (budget <= 0: all of them). It drops states older than their rule's
// cutoff (cutoff[id]; a rule without an entry is gone and its states go
// too) and records left empty, counting dropped states by rule id. It
// reports whether it went through every record since the pass began.
func (s *keySpace) expire(cutoff map[uint32]int64, dropped map[uint32]int, budget int) bool {
	if budget <= 0 {
		budget, s.cursor = len(s.recs), 0
	}
	for n := 0; n < budget && s.cursor < len(s.recs); n++ {
		r := &s.recs[s.cursor]
		kept := r.slots[:0]
		for _, sl := range r.slots {
			c, live := cutoff[sl.rule]
			if live && (sl.st == nil || sl.st.lastEvent() >= c) {
				kept = append(kept, sl)
				continue
			}
			dropped[sl.rule]++
		}
		clear(r.slots[len(kept):])
		r.slots = kept
		if len(kept) > 0 {
			s.cursor++
			continue
		}
		// Swap the last record into this place and look at it next.
		delete(s.index, r.key)
		last := len(s.recs) - 1
		if s.cursor != last {
			s.recs[s.cursor] = s.recs[last]
			s.index[s.recs[s.cursor].key] = int32(s.cursor)
		}
		s.recs[last] = keyRecord{}
		s.recs = s.recs[:last]
	}
	done := s.cursor >= len(s.recs)
	if done {
		s.cursor = 0
		s.shrink()
	}
	return done
}

// shrink gives memory back after a flood of keys has drained: neither a
// map nor a slice shrinks by itself.
func (s *keySpace) shrink() {
	if cap(s.recs) > 1024 && len(s.recs) < cap(s.recs)/4 {
		recs := make([]keyRecord, len(s.recs), 2*len(s.recs))
		copy(recs, s.recs)
		s.recs = recs
		index := make(map[stateKey]int32, len(s.recs))
		for i := range s.recs {
			index[s.recs[i].key] = int32(i)
		}
		s.index = index
	}
}

// evidence keeps the latest events of a key, to attach to the alert.
type evidence struct {
	evs  []*simguard.Event
	next int // where the next event goes once the ring is full
}

func (e *evidence) add(ev *simguard.Event, max int) {
	if len(e.evs) < max {
		e.evs = append(e.evs, ev)
		return
	}
	e.evs[e.next] = ev
	e.next = (e.next + 1) % max
}

// take returns the kept events from first on, oldest first, as copies, and
// empties the ring.
func (e *evidence) take(first int64) []simguard.Event {
	out := make([]simguard.Event, 0, len(e.evs))
	for i := range e.evs {
		ev := e.evs[(e.next+i)%len(e.evs)]
		if ev.Time.UnixNano() >= first {
			out = append(out, *ev)
		}
	}
	clear(e.evs)
	e.evs, e.next = e.evs[:0], 0
	return out
}

// tsRing is a queue of event times that grows up to a limit.
type tsRing struct {
	buf  []int64
	head int
	n    int
}

func (r *tsRing) push(t int64, limit int) {
	if r.n == len(r.buf) {
		size := min(max(2*len(r.buf), 2), limit)
		if size <= r.n {
			// Full at the limit: drop the oldest.
			r.pop()
		} else {
			nb := make([]int64, size)
			for i := 0; i < r.n; i++ {
				nb[i] = r.buf[(r.head+i)%len(r.buf)]
			}
			r.buf, r.head = nb, 0
		}
	}
	r.buf[(r.head+r.n)%len(r.buf)] = t
	r.n++
}

func (r *tsRing) front() int64 { return r.buf[r.head] }

func (r *tsRing) pop() {
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

func (r *tsRing) reset() { r.head, r.n = 0, 0 }
