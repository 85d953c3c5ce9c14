package smpp

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// usageMeter reports delivered messages to Feedback.AddUsage from a
// goroutine of its own. A report is a store write (or, on a node, an API
// call) of a millisecond or so; made from the relay path it would cap a
// link at about a thousand messages a second. Messages that arrive while
// a batch is being written are summed per SIM into the next batch, so the
// writes follow the number of busy SIMs, not the number of messages.
//
// The quota is enforced by the policy from the usage the control plane
// holds, so a message is counted against it only once its batch is
// written. Under load that lags by a batch (the same as messages already
// in flight when the quota runs out). For a sender that waits for each
// answer the relay waits for the batch on an idle link (see waitIdle), so
// that such a sender meets its quota exactly.
type usageMeter struct {
	fb   simguard.Feedback
	log  *slog.Logger
	errs prometheus.Counter
	free map[int64]int64 // the last batch, emptied, for reuse (run's goroutine only)

	mu       sync.Mutex
	next     map[int64]int64 // SIM ID → messages not yet reported
	nextDone chan struct{}   // closed when the batch of next is written
	wake     chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
}

func newUsageMeter(fb simguard.Feedback, log *slog.Logger, errs prometheus.Counter) *usageMeter {
	return &usageMeter{
		fb: fb, log: log, errs: errs,
		next:     map[int64]int64{},
		nextDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
}

// add counts one message of simID and returns a channel closed once it is
// reported.
func (m *usageMeter) add(simID int64) <-chan struct{} {
	m.mu.Lock()
	m.next[simID]++
	done := m.nextDone
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return done
}

// waitIdle waits up to max for done, but only when the link it serves is
// idle (idle: nothing more is buffered to read). Under load the relay
// never waits here: it has other answers to pass on.
func waitIdle(done <-chan struct{}, idle bool, max time.Duration) {
	if !idle {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// run writes batches until close; ctx is used for the writes and should
// outlive the proxy's shutdown, so that no message goes unmetered.
func (m *usageMeter) run(ctx context.Context) {
	defer close(m.stopped)
	for {
		select {
		case <-m.wake:
		case <-m.stop:
			m.flush(ctx) // what was added since the last wake
			return
		}
		m.flush(ctx)
	}
}

func (m *usageMeter) flush(ctx context.Context) {
	m.mu.Lock()
	batch, done := m.next, m.nextDone
	if len(batch) == 0 {
		m.mu.Unlock()
		return
	}
	m.next, m.nextDone = m.spare(), make(chan struct{})
	m.mu.Unlock()
	for sim, n := range batch {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := m.fb.AddUsage(wctx, sim, 0, n)
		cancel()
		if err != nil {
			m.errs.Inc()
			m.log.Warn("sms usage not recorded", "sim_id", sim, "messages", n, "err", err)
		}
	}
	clear(batch)
	m.free = batch
	close(done)
}

// spare returns the map of the batch written before, emptied, to spare an
// allocation per batch.
func (m *usageMeter) spare() map[int64]int64 {
	if f := m.free; f != nil {
		m.free = nil
		return f
	}
	return map[int64]int64{}
}

// close writes what is left and stops the meter.
func (m *usageMeter) close() {
	close(m.stop)
	<-m.stopped
}
