package enforce

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
)

// EventWriterConfig tunes the event writer. Zero values take the defaults.
type EventWriterConfig struct {
	Buffer        int           // events waiting to be written; default 65,536
	BatchSize     int           // events per transaction; default 8,192
	FlushInterval time.Duration // longest wait before a partial batch is written; default 100ms
}

// EventWriter is the simguard.EventSink of every enforcement point. It
// batches events into the durable log and, once they are stored (and have
// their IDs), hands them to subscribers such as the detection engine.
//
// Emit never drops an event: when the buffer is full it waits, so a store
// that cannot keep up slows enforcement down instead of losing the record
// of what it decided. Store errors are retried with backoff.
type EventWriter struct {
	store simguard.EventStore
	log   *slog.Logger
	now   func() time.Time
	cfg   EventWriterConfig
	ch    chan simguard.Event
	done  chan struct{}

	mu   sync.RWMutex
	subs []func([]simguard.Event)

	written, blocked, failures, rejected prometheus.Counter
	batchSec                             prometheus.Histogram
}

var _ simguard.EventSink = (*EventWriter)(nil)

// NewEventWriter makes a writer; call Run to start it.
func NewEventWriter(store simguard.EventStore, cfg EventWriterConfig, log *slog.Logger, now func() time.Time, reg prometheus.Registerer) *EventWriter {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 65536
	}
	if cfg.BatchSize <= 0 {
		// Big batches: the event log's cost is per transaction and per
		// index page touched, so fewer, larger commits cost less per event.
		cfg.BatchSize = 8192
	}
	if cfg.FlushInterval <= 0 {
		// Bounds what batching adds to detection's time to detect.
		cfg.FlushInterval = 100 * time.Millisecond
	}
	w := &EventWriter{
		store: store, log: log, now: now, cfg: cfg,
		ch:   make(chan simguard.Event, cfg.Buffer),
		done: make(chan struct{}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_events_written_total", Help: "Events appended to the durable event log.",
		}),
		blocked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_events_emit_blocked_total", Help: "Emits that waited because the event buffer was full.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_events_write_failures_total", Help: "Failed event log writes (retried).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_events_rejected_total", Help: "Events the event log refused as invalid (set aside and logged).",
		}),
		batchSec: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "simguard_events_batch_seconds", Help: "Time to append one batch of events.",
			Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10),
		}),
	}
	buffered := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "simguard_events_buffered", Help: "Events waiting to be written.",
	}, func() float64 { return float64(len(w.ch)) })
	if reg != nil {
		reg.MustRegister(w.written, w.blocked, w.failures, w.rejected, w.batchSec, buffered)
	}
	return w
}

// Emit queues e. It sets Time when it is zero.
func (w *EventWriter) Emit(e simguard.Event) {
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	select {
	case w.ch <- e:
		return
	default:
	}
	w.blocked.Inc()
	select {
	case w.ch <- e:
	case <-w.done:
		w.log.Error("event dropped: the event writer has stopped", "type", e.Type, "sim_id", e.SIMID)
	}
}

// Subscribe calls fn with every stored batch, in order, from the writer's
// goroutine. fn must be quick or hand off; it must not keep the slice.
func (w *EventWriter) Subscribe(fn func([]simguard.Event)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subs = append(w.subs, fn)
}

// Run writes batches until ctx ends, then writes what is still buffered.
// A write in progress when ctx ends is not cut short: writes use their own
// context, bounded only at shutdown.
func (w *EventWriter) Run(ctx context.Context) error {
	batch := make([]simguard.Event, 0, w.cfg.BatchSize)
	tick := time.NewTicker(w.cfg.FlushInterval)
	defer tick.Stop()
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		// Writes retry while the writer lives; at shutdown they get 10 s more.
		<-ctx.Done()
		time.AfterFunc(10*time.Second, stop)
	}()
	for {
		select {
		case e := <-w.ch:
			batch = append(batch, e)
			if len(batch) < w.cfg.BatchSize {
				continue
			}
		case <-tick.C:
		case <-ctx.Done():
			close(w.done)
			w.drain(life, &batch)
			return nil
		}
		batch = w.flush(life, batch)
	}
}

func (w *EventWriter) drain(ctx context.Context, batch *[]simguard.Event) {
	for {
		select {
		case e := <-w.ch:
			*batch = append(*batch, e)
			if len(*batch) >= w.cfg.BatchSize {
				*batch = w.flush(ctx, *batch)
			}
		default:
			w.flush(ctx, *batch)
			return
		}
	}
}

// flush writes batch, retrying with backoff while ctx lives, and returns
// the emptied slice for reuse. A batch the store refuses as invalid is
// written event by event, so one bad event (a bug in its source) is set
// aside, logged and counted, instead of holding up every event behind it.
func (w *EventWriter) flush(ctx context.Context, batch []simguard.Event) []simguard.Event {
	if len(batch) == 0 {
		return batch
	}
	backoff := 50 * time.Millisecond
	for {
		start := time.Now()
		err := w.store.AppendEvents(ctx, batch)
		if err == nil {
			w.batchSec.Observe(time.Since(start).Seconds())
			w.written.Add(float64(len(batch)))
			w.publish(batch)
			clear(batch)
			return batch[:0]
		}
		if simguard.ErrorCode(err) == simguard.EINVALID {
			w.writeOneByOne(ctx, batch)
			clear(batch)
			return batch[:0]
		}
		w.failures.Inc()
		w.log.Error("writing events failed; retrying", "events", len(batch), "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			w.log.Error("events lost at shutdown: the event log could not be written", "events", len(batch), "err", err)
			clear(batch)
			return batch[:0]
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (w *EventWriter) writeOneByOne(ctx context.Context, batch []simguard.Event) {
	var stored []simguard.Event
	for i := range batch {
		one := batch[i : i+1]
		err := w.store.AppendEvents(ctx, one)
		for err != nil && simguard.ErrorCode(err) != simguard.EINVALID && ctx.Err() == nil {
			w.failures.Inc()
			time.Sleep(100 * time.Millisecond)
			err = w.store.AppendEvents(ctx, one)
		}
		if err != nil {
			w.rejected.Inc()
			w.log.Error("event refused by the event log; set aside", "type", one[0].Type, "source", one[0].Source, "sim_id", one[0].SIMID, "err", err)
			continue
		}
		w.written.Inc()
		stored = append(stored, one[0])
	}
	w.publish(stored)
}

func (w *EventWriter) publish(batch []simguard.Event) {
	if len(batch) == 0 {
		return
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, s := range w.subs {
		s(batch)
	}
}
