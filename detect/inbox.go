package detect

import (
	"sync"

	"github.com/simguard/simguard"
)

// inbox is the queue between Emit and the detector. Emitters append under
// a mutex and the detector takes the whole batch at once: at hundreds of
// thousands of events per second a channel operation (and a wake-up) per
// event would cost more than detecting the event.
type inbox struct {
	mu     sync.Mutex
	buf    []simguard.Event
	spare  [][]simguard.Event // taken batches handed back, for reuse
	max    int
	closed bool
	ready  chan struct{} // a token when buf became non-empty
}

func newInbox(max int) *inbox {
	return &inbox{max: max, ready: make(chan struct{}, 1)}
}

// put adds ev; false when the inbox is full or closed.
func (b *inbox) put(ev simguard.Event) bool {
	b.mu.Lock()
	if b.closed || len(b.buf) >= b.max {
		b.mu.Unlock()
		return false
	}
	b.buf = append(b.buf, ev)
	first := len(b.buf) == 1
	b.mu.Unlock()
	if first {
		select {
		case b.ready <- struct{}{}:
		default:
		}
	}
	return true
}

// putAll adds as many of evs as fit and says how many.
func (b *inbox) putAll(evs []simguard.Event) int {
	b.mu.Lock()
	n := 0
	if !b.closed {
		n = min(len(evs), b.max-len(b.buf))
		b.buf = append(b.buf, evs[:n]...)
	}
	first := n > 0 && len(b.buf) == n
	b.mu.Unlock()
	if first {
		select {
		case b.ready <- struct{}{}:
		default:
		}
	}
	return n
}

// take returns the queued events. The caller owns the slice until it
// hands it back with recycle.
func (b *inbox) take() []simguard.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.buf
	if len(out) == 0 {
		return nil // keep the empty buffer: nothing to hand over
	}
	if n := len(b.spare); n > 0 {
		b.buf, b.spare = b.spare[n-1], b.spare[:n-1]
	} else {
		// Room for a batch like this one at once: growing from nothing
		// by doubling would copy each event several times.
		b.buf = make([]simguard.Event, 0, min(max(2*len(out), 1024), b.max))
	}
	return out
}

// recycle hands back a slice take returned, once its events are done
// with, so that the next batches reuse its memory.
func (b *inbox) recycle(evs []simguard.Event) {
	clear(evs) // let the events' attrs go
	b.mu.Lock()
	if len(b.spare) < maxSpareBatches && cap(evs) > 0 && cap(evs) <= maxSpareEvents {
		b.spare = append(b.spare, evs[:0])
	}
	b.mu.Unlock()
}

// maxSpareBatches bounds the slices kept for reuse: batches in flight
// between the inbox and the detectors are few. A slice that grew past
// maxSpareEvents (a backlog taken at once) is not kept: it would hold its
// memory long after the backlog.
const (
	maxSpareBatches = 8
	maxSpareEvents  = 1 << 16
)

// close stops put; take still returns what was queued.
func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}
