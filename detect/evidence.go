package detect

import "github.com/simguard/simguard"

// heldEvents keeps the events that rule states hold as evidence, counted
// by reference: an event kept by several rules is copied once, and it goes
// when the last state lets go of it. States name events by reference
// (index + 1) rather than by pointer, which keeps the states free of
// pointers; only the held events themselves, a small part of the state,
// are for the garbage collector to trace.
type heldEvents struct {
	evs   arena[heldEvent]
	rings blocks[uint32] // evidence rings longer than evidenceInline
}

type heldEvent struct {
	ev   simguard.Event
	refs int32
}

// add copies ev and returns its reference, held once (by the caller,
// who lets go of it with unref).
func (h *heldEvents) add(ev *simguard.Event) uint32 {
	i := h.evs.alloc()
	e := h.evs.at(i)
	e.ev, e.refs = *ev, 1
	return i + 1
}

func (h *heldEvents) get(ref uint32) *simguard.Event { return &h.evs.at(ref - 1).ev }

func (h *heldEvents) ref(ref uint32) { h.evs.at(ref-1).refs++ }

// unref lets go of one reference; 0 is none.
func (h *heldEvents) unref(ref uint32) {
	if ref == 0 {
		return
	}
	e := h.evs.at(ref - 1)
	if e.refs--; e.refs <= 0 {
		h.evs.release(ref - 1)
	}
}

// live is how many events are held.
func (h *heldEvents) live() int { return h.evs.live() }

// evidence keeps the latest events of a key, to attach to the alert. Up
// to evidenceInline of them (the default keeps at most five) are named
// inline in the rule state; a longer ring is a block of heldEvents.rings.
type evidence struct {
	small   [evidenceInline]uint32
	more    uint32 // the ring when max > evidenceInline
	n, next int32  // events held; where the next goes once full
}

const evidenceInline = 5

func (e *evidence) ring(h *heldEvents, max int) []uint32 {
	if max <= evidenceInline {
		return e.small[:max]
	}
	if e.more == 0 {
		e.more = h.rings.alloc(max)
	}
	return h.rings.get(e.more)[:max]
}

// add keeps the event ref (from heldEvents.add) as the latest.
func (e *evidence) add(h *heldEvents, ref uint32, max int) {
	r := e.ring(h, max)
	h.ref(ref)
	if int(e.n) < max {
		r[e.n] = ref
		e.n++
		return
	}
	h.unref(r[e.next])
	r[e.next] = ref
	e.next = (e.next + 1) % int32(max)
}

// take returns the kept events from first on, oldest first, as copies, and
// empties the ring.
func (e *evidence) take(h *heldEvents, first int64) []simguard.Event {
	r := e.kept(h)
	out := make([]simguard.Event, 0, len(r))
	for i := range r {
		ref := r[(int(e.next)+i)%len(r)]
		if ev := h.get(ref); ev.Time.UnixNano() >= first {
			out = append(out, *ev)
		}
	}
	e.drop(h)
	return out
}

// kept is the references held, by slot: once the ring is full, the oldest
// is at next.
func (e *evidence) kept(h *heldEvents) []uint32 {
	if e.more != 0 {
		return h.rings.get(e.more)[:e.n]
	}
	return e.small[:e.n]
}

// drop lets go of the kept events, and of the ring.
func (e *evidence) drop(h *heldEvents) {
	for _, ref := range e.kept(h) {
		h.unref(ref)
	}
	h.rings.release(e.more)
	*e = evidence{}
}

// remap rewrites the references after heldEvents compacted (m[old] is the
// new reference).
func (e *evidence) remap(h *heldEvents, m []uint32) {
	r := e.kept(h)
	for i, ref := range r {
		r[i] = m[ref-1]
	}
}

// evidenceOf lets a generic walk reach the evidence of each state.
type evidenceOf[S any] func(*S) *evidence

// dispose lets go of the evidence of every state of a.
func (ev evidenceOf[S]) dispose(a *arena[S], h *heldEvents) {
	for i := 0; i < a.n; i++ {
		ev(a.at(uint32(i))).drop(h)
	}
}

// remap rewrites the evidence of every state of a after h compacted.
func (ev evidenceOf[S]) remap(a *arena[S], h *heldEvents, m []uint32) {
	for i := 0; i < a.n; i++ {
		ev(a.at(uint32(i))).remap(h, m)
	}
}
