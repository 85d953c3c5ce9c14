package detect

import "github.com/simguard/simguard"

// table holds one rule's state per key. It is bounded: at most max keys;
// a new key beyond that is not tracked (and counted) until expiry frees
// room, so that a flood of distinct keys cannot exhaust memory.
type table[S any] struct {
	m       map[stateKey]*S
	max     int
	dropped uint64
	last    func(*S) int64 // the time of the state's last event
}

func newTable[S any](max int, last func(*S) int64) *table[S] {
	return &table[S]{m: make(map[stateKey]*S), max: max, last: last}
}

// get returns k's state, making it when absent; nil when the table is
// full.
func (t *table[S]) get(k stateKey) *S {
	if s, ok := t.m[k]; ok {
		return s
	}
	if len(t.m) >= t.max {
		t.dropped++
		return nil
	}
	s := new(S)
	t.m[k] = s
	return s
}

// expire removes the states whose last event is before cutoff.
func (t *table[S]) expire(cutoff int64) int {
	n := 0
	for k, s := range t.m {
		if t.last(s) < cutoff {
			delete(t.m, k)
			n++
		}
	}
	if len(t.m) == 0 && n > 0 {
		// A map never shrinks its buckets; a fresh one gives the memory
		// of a drained flood back.
		t.m = make(map[stateKey]*S)
	}
	return n
}

func (t *table[S]) size() int { return len(t.m) }

func (t *table[S]) droppedKeys() uint64 { return t.dropped }

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
