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
	spare  []simguard.Event
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

// take returns the queued events; the slice is valid until the next take.
func (b *inbox) take() []simguard.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.spare) // let the previous batch's attrs go
	b.buf, b.spare = b.spare[:0], b.buf
	return b.spare
}

// close stops put; take still returns what was queued.
func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}
