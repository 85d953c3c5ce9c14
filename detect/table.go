package detect

import (
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
// the key once instead of once per rule.
type keySpace struct {
	sig     string // the group-by fields, e.g. "sim" or "imei,nas"
	m       map[stateKey]*keyRecord
	max     int
	dropped uint64
}

// keyRecord is the states of the rules that have seen a key. A key meets
// few rules, so a short list beats a slot per rule.
type keyRecord struct {
	slots []slot
}

type slot struct {
	rule uint32 // ruleState.id
	st   keyState
}

func newKeySpace(sig string, max int) *keySpace {
	return &keySpace{sig: sig, m: make(map[stateKey]*keyRecord), max: max}
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

// record returns k's record, making it when absent; nil when the space is
// full: a flood of distinct keys cannot exhaust memory, and new keys are
// tracked again once idle ones expire.
func (s *keySpace) record(k stateKey) *keyRecord {
	if r, ok := s.m[k]; ok {
		return r
	}
	if len(s.m) >= s.max {
		s.dropped++
		return nil
	}
	r := &keyRecord{}
	s.m[k] = r
	return r
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

// expire drops states older than their rule's cutoff (cutoff[id]; a rule
// without an entry is gone and its states go too) and records left empty.
// It returns how many states it dropped, by rule id.
func (s *keySpace) expire(cutoff map[uint32]int64, dropped map[uint32]int) {
	for k, r := range s.m {
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
		if len(kept) == 0 {
			delete(s.m, k)
		}
	}
	if len(s.m) == 0 {
		// A map never shrinks its buckets; a fresh one gives the memory
		// of a drained flood back.
		s.m = make(map[stateKey]*keyRecord)
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
