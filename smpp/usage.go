package smpp

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// usageMeter reports delivered messages to Feedback.AddUsage (or, when
// the Feedback has it, simguard.BatchFeedback.AddUsageBatch) from a
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
	free map[int64]int64     // the last batch, emptied, for reuse (run's goroutine only)
	list []simguard.SIMUsage // the batch as a slice, for BatchFeedback (same)

	mu       sync.Mutex
	next     map[int64]int64 // SIM ID → messages not yet reported
	nextDone chan struct{}   // closed when the batch of next is written
	writing  bool            // a batch is being written
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

// add counts one message of simID. It returns a channel closed once the
// message is reported, and whether the meter was idle (nothing pending,
// nothing being written): then the report is the next write.
func (m *usageMeter) add(simID int64) (<-chan struct{}, bool) {
	m.mu.Lock()
	idle := !m.writing && len(m.next) == 0
	m.next[simID]++
	done := m.nextDone
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return done, idle
}

// record meters a delivered message from a relay path; linkIdle says that
// nothing more is buffered to read on the link. When both the link and the
// meter are idle (a sender that waits for each answer) the answer waits,
// up to max, for the report, so that such a sender meets its quota
// exactly. Under load one of the two is busy and nothing waits: answers
// are not held for the store.
func (m *usageMeter) record(simID int64, linkIdle bool, max time.Duration) {
	done, meterIdle := m.add(simID)
	if !linkIdle || !meterIdle {
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

// usageCoalesce is the pause between batches under load: a batch writes
// one row per SIM, so the longer the pause the more messages share a row.
// A quarter of a second of lag is nothing next to the messages in flight.
const usageCoalesce = 250 * time.Millisecond

// run writes batches until close; ctx is used for the writes and should
// outlive the proxy's shutdown, so that no message goes unmetered. When
// more has come in by the end of a batch (load), it pauses before the
// next.
func (m *usageMeter) run(ctx context.Context) {
	defer close(m.stopped)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-m.wake:
		case <-m.stop:
			m.flush(ctx) // what was added since the last wake
			return
		}
		m.flush(ctx)
		m.mu.Lock()
		busy := len(m.next) > 0
		m.mu.Unlock()
		if !busy {
			continue
		}
		pause.Reset(usageCoalesce)
		select {
		case <-pause.C:
		case <-m.stop:
			m.flush(ctx)
			return
		}
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
	m.writing = true
	m.mu.Unlock()
	// One deadline for the batch: a store that hangs must not hold the
	// meter (and shutdown) forever.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if bf, ok := m.fb.(simguard.BatchFeedback); ok {
		m.list = m.list[:0]
		for sim, n := range batch {
			m.list = append(m.list, simguard.SIMUsage{SIMID: sim, SMSCount: n})
		}
		if err := bf.AddUsageBatch(wctx, m.list); err != nil {
			m.errs.Inc()
			m.log.Warn("sms usage not (all) recorded", "sims", len(m.list), "err", err)
		}
	} else {
		for sim, n := range batch {
			if err := m.fb.AddUsage(wctx, sim, 0, n); err != nil {
				m.errs.Inc()
				m.log.Warn("sms usage not recorded", "sim_id", sim, "messages", n, "err", err)
			}
		}
	}
	clear(batch)
	m.free = batch
	// Idle again before the waiters hear of it: a sender that waits for
	// each answer must find the meter idle with its next message.
	m.mu.Lock()
	m.writing = false
	m.mu.Unlock()
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
