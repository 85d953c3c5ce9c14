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
// written. Under load that lags by a batch, a quarter of a second or so
// (like the messages already in flight when a quota runs out). For a
// sender that waits for each answer the relay waits for the batch (see
// record), so that such a sender meets its quota exactly.
type usageMeter struct {
	fb       simguard.Feedback
	log      *slog.Logger
	errs     prometheus.Counter
	coalesce time.Duration       // the pause between batches under load (usageCoalesce)
	free     map[int64]int64     // the last batch, emptied, for reuse (run's goroutine only)
	list     []simguard.SIMUsage // the batch as a slice, for BatchFeedback (same)

	mu       sync.Mutex
	next     map[int64]int64 // SIM ID → messages not yet reported
	nextDone chan struct{}   // closed when the batch of next is written
	wake     chan struct{}
	urgent   chan struct{} // a sender waits: write the next batch without a pause
	stop     chan struct{}
	stopped  chan struct{}
}

func newUsageMeter(fb simguard.Feedback, log *slog.Logger, errs prometheus.Counter) *usageMeter {
	return &usageMeter{
		fb: fb, log: log, errs: errs, coalesce: usageCoalesce,
		next:     map[int64]int64{},
		nextDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		urgent:   make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
}

// usageSmallBatch is the most SIMs a batch may have for an answer to wait
// for it: a handful is a sender waiting for each answer, more is load.
const usageSmallBatch = 8

// add counts one message of simID. It returns a channel closed once the
// message is reported, and whether the batch it joins is small.
func (m *usageMeter) add(simID int64) (<-chan struct{}, bool) {
	m.mu.Lock()
	m.next[simID]++
	small := len(m.next) <= usageSmallBatch
	done := m.nextDone
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return done, small
}

// record meters a delivered message from a relay path. exact says that
// nothing more is buffered to read on the link and that the SIM's group
// blocks when its SMS quota runs out. Then, if the batch is small too (a
// sender that waits for each answer), the answer waits, up to max, for the
// batch to be written, which happens at once, so that such a sender meets
// its quota exactly. Under load the link is busy or the batch large, and
// answers are not held for the store.
func (m *usageMeter) record(simID int64, exact bool, max time.Duration) {
	done, small := m.add(simID)
	if !exact || !small {
		return
	}
	select {
	case m.urgent <- struct{}{}:
	default:
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
// next, unless a sender waits for it.
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
		pause.Reset(m.coalesce)
		select {
		case <-pause.C:
		case <-m.urgent:
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
