package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// Notifier delivers alert notices (webhooks, syslog, JSON lines). Notify
// must not block for long: deliverers queue and retry on their own.
type Notifier interface {
	Notify(ctx context.Context, n simguard.AlertNotice) error
}

// Config tunes the Engine. Zero fields take their defaults.
type Config struct {
	// QueueSize is how many events wait between Emit and the rules;
	// beyond it Emit drops (and counts) events. Default 65,536.
	QueueSize int
	// SweepEvery is how long one pass of expiry over all keys takes (a
	// slice of the keys is checked every second). Default 1m: state
	// becomes expirable only after its window anyway.
	SweepEvery time.Duration
	// MaxKeys bounds the keys of each group-by key space (all rules that
	// group by sim share one). Default 2,000,000.
	MaxKeys int
	// MaxEventsPerAlert caps the events an alert carries. Default 100.
	MaxEventsPerAlert int
	// FlushEvery is how often firings folded into open alerts are
	// written. Default 1s.
	FlushEvery time.Duration
	// SuspensionsPerHour caps automatic suspend_sim and quarantine actions
	// over all rules in any hour; beyond it they are recorded as capped.
	// Default 100; -1 allows none.
	SuspensionsPerHour int
	// ActionTimeout bounds one call to the Responder. Default 10s.
	ActionTimeout time.Duration
	// Shards is how many detectors run the rules in parallel, each owning
	// a share of the keys (MaxKeys is split between them). Default
	// GOMAXPROCS, at most 64; 1 runs one detector.
	Shards int
}

// maxShards bounds Config.Shards: every shard looks at every event, so
// shards beyond the cores only add that cost.
const maxShards = 64

func (c *Config) setDefaults() error {
	checks := []struct {
		field string
		bad   bool
	}{
		{"queue_size", c.QueueSize < 0},
		{"sweep_every", c.SweepEvery < 0},
		{"max_keys", c.MaxKeys < 0},
		{"max_events_per_alert", c.MaxEventsPerAlert < 0},
		{"flush_every", c.FlushEvery < 0},
		{"suspensions_per_hour", c.SuspensionsPerHour < -1},
		{"action_timeout", c.ActionTimeout < 0},
		{"shards", c.Shards < 0},
	}
	for _, ch := range checks {
		if ch.bad {
			return simguard.FieldError("detect."+ch.field, "must not be negative (0 takes the default)")
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.QueueSize, 65536)
	def(&c.MaxKeys, 2_000_000)
	def(&c.MaxEventsPerAlert, 100)
	def(&c.SuspensionsPerHour, 100)
	def(&c.Shards, min(runtime.GOMAXPROCS(0), maxShards))
	c.Shards = min(c.Shards, maxShards)
	defDur(&c.SweepEvery, time.Minute)
	defDur(&c.FlushEvery, time.Second)
	defDur(&c.ActionTimeout, 10*time.Second)
	return nil
}

// Deps are what the Engine works with.
type Deps struct {
	Rules  *RuleSet            // required
	Alerts simguard.AlertStore // required
	// Responder runs actions; without one every action fails (and is
	// recorded so).
	Responder  simguard.Responder
	Notifiers  []Notifier
	Logger     *slog.Logger
	Clock      func() time.Time
	Registerer prometheus.Registerer
}

// Engine is live detection: it implements simguard.EventSink, runs the
// rules in Config.Shards detectors in parallel (each owns a share of the
// keys and sees every event), and hands firings to the alert manager,
// which stores alerts, runs actions and notifies.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	clock   func() time.Time
	m       *metrics
	alerts  *alertManager
	rules   *RuleSet
	in      *inbox
	firings chan Firing
	reload  chan *RuleSet
	running atomic.Bool
}

var _ simguard.EventSink = (*Engine)(nil)

// New makes an Engine; Run starts it.
func New(cfg Config, deps Deps) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Rules == nil {
		return nil, errors.New("detect: no rules")
	}
	if deps.Alerts == nil {
		return nil, errors.New("detect: no alert store")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("detect: metrics: %w", err)
	}
	e := &Engine{
		cfg:     cfg,
		log:     deps.Logger,
		clock:   deps.Clock,
		m:       m,
		rules:   deps.Rules,
		in:      newInbox(cfg.QueueSize),
		firings: make(chan Firing, 1024),
		reload:  make(chan *RuleSet, 1),
	}
	e.alerts = newAlertManager(cfg, deps, m)
	return e, nil
}

// Emit queues ev for detection without blocking; when the queue is full
// the event is dropped and counted. ev's Attrs must not change afterwards.
func (e *Engine) Emit(ev simguard.Event) {
	if !e.in.put(ev) {
		e.m.dropped.Inc()
	}
}

// EmitBatch queues a batch of events under one lock; it fits
// enforce.EventWriter.Subscribe, which hands over each stored batch (with
// event IDs set). It does not keep evs; events that do not fit are
// dropped and counted.
func (e *Engine) EmitBatch(evs []simguard.Event) {
	if n := e.in.putAll(evs); n < len(evs) {
		e.m.dropped.Add(float64(len(evs) - n))
	}
}

// SetRules replaces the rules; rules that did not change keep their state.
func (e *Engine) SetRules(rs *RuleSet) {
	for {
		select {
		case e.reload <- rs:
			return
		default:
		}
		// Drop a reload that was not picked up yet: the latest wins.
		select {
		case <-e.reload:
		default:
		}
	}
}

// Acknowledge moves an alert to acknowledged, audited as actor.
func (e *Engine) Acknowledge(ctx context.Context, tenantID, id int64, note string, actor simguard.Actor) (simguard.Alert, error) {
	return e.alerts.setState(ctx, tenantID, id, simguard.AlertAcknowledged, note, actor)
}

// Resolve resolves an alert, audited as actor. The next firing of its rule
// for its key opens a new alert.
func (e *Engine) Resolve(ctx context.Context, tenantID, id int64, note string, actor simguard.Actor) (simguard.Alert, error) {
	return e.alerts.setState(ctx, tenantID, id, simguard.AlertResolved, note, actor)
}

// Run loads the active alerts, then detects until ctx is done. On stop it
// processes the events already queued and writes pending firings before
// it returns. It may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("detect: engine already ran")
	}
	if err := e.alerts.load(ctx); err != nil {
		e.in.close()
		return fmt.Errorf("detect: load active alerts: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.alerts.run(e.firings)
	}()
	e.detect(ctx)
	close(e.firings)
	<-done
	return nil
}

// shard is one detector and the goroutine that runs it; the engine's
// detect goroutine hands every shard the same work and waits for all.
type shard struct {
	d    *Detector
	opts DetectorOptions
	work chan func(*shard)
	out  []Firing
	// fired holds the batch's firings with the index of their event.
	fired []batchFiring
}

type batchFiring struct {
	event int
	f     Firing
}

// shards runs work on every shard at once and returns when all are done.
// With one shard the work runs on the caller's goroutine.
type shards struct {
	list []*shard
	wg   sync.WaitGroup
}

func (e *Engine) startShards(n int) *shards {
	ss := &shards{}
	for i := 0; i < n; i++ {
		opts := DetectorOptions{MaxKeys: (e.cfg.MaxKeys + n - 1) / n, Shards: n, Shard: i}
		s := &shard{d: NewDetector(e.rules, opts, nil), opts: opts}
		ss.list = append(ss.list, s)
		if n > 1 {
			s.work = make(chan func(*shard))
			go func() {
				for f := range s.work {
					f(s)
					ss.wg.Done()
				}
			}()
		}
	}
	return ss
}

func (ss *shards) run(f func(*shard)) {
	if len(ss.list) == 1 {
		f(ss.list[0])
		return
	}
	ss.wg.Add(len(ss.list))
	for _, s := range ss.list {
		s.work <- f
	}
	ss.wg.Wait()
}

func (ss *shards) stop() {
	for _, s := range ss.list {
		if s.work != nil {
			close(s.work)
		}
	}
}

// stats sums the shards' rule counters (rules are the same in every
// shard). Call it only between runs.
func (ss *shards) stats() []RuleStats {
	var out []RuleStats
	for i, s := range ss.list {
		st := s.d.Stats()
		if i == 0 {
			out = st
			continue
		}
		for j := range out {
			out[j].Keys += st[j].Keys
			out[j].Fires += st[j].Fires
			out[j].Errors += st[j].Errors
			out[j].DroppedKeys += st[j].DroppedKeys
			if st[j].LastError != nil {
				out[j].LastError = st[j].LastError
			}
		}
	}
	return out
}

// detect owns the detectors: it takes batches from the inbox and runs
// them, and the reloads and expiry, on every shard.
func (e *Engine) detect(ctx context.Context) {
	ss := e.startShards(e.cfg.Shards)
	defer ss.stop()
	e.m.rules.Set(float64(len(ss.list[0].d.rules)))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	errs := map[string]uint64{}
	var batch []simguard.Event
	var fired []batchFiring
	process := func(s *shard) {
		for i := range batch {
			s.out = s.d.Process(&batch[i], s.out[:0])
			for _, f := range s.out {
				s.fired = append(s.fired, batchFiring{i, f})
			}
		}
		clear(s.out)
	}
	runBatch := func() {
		batch = e.in.take()
		if len(batch) == 0 {
			return
		}
		ss.run(process)
		e.m.events.Add(float64(len(batch)))
		// Firings leave in the order one detector would give them, so
		// that which firing meets a cap first does not depend on shards.
		fired = fired[:0]
		for _, s := range ss.list {
			fired = append(fired, s.fired...)
			clear(s.fired)
			s.fired = s.fired[:0]
		}
		if len(ss.list) > 1 {
			slices.SortFunc(fired, func(a, b batchFiring) int {
				return cmp.Or(cmp.Compare(a.event, b.event), cmp.Compare(a.f.rulePos, b.f.rulePos))
			})
		}
		for _, bf := range fired {
			e.firings <- bf.f
		}
		clear(fired) // the firings' evidence belongs to the alert manager now
	}
	housekeep := func() {
		// A slice of the keys every tick, so that a full pass takes about
		// SweepEvery and never stalls detection for long.
		now, expired := e.clock(), atomic.Int64{}
		ss.run(func(s *shard) {
			budget := s.d.records()/int(max(e.cfg.SweepEvery/time.Second, 1)) + 1000
			expired.Add(int64(s.d.ExpireSome(now, budget)))
		})
		if k := expired.Load(); k > 0 {
			e.log.Debug("detect: expired idle keys", "states", k)
		}
		keys := 0
		for _, s := range ss.stats() {
			keys += s.Keys
			if s.Errors > errs[s.Rule] {
				e.m.ruleErrors.WithLabelValues(s.Rule).Add(float64(s.Errors - errs[s.Rule]))
				if errs[s.Rule] == 0 {
					e.log.Warn("detect: rule condition fails to evaluate; the events count as not matching",
						"rule", s.Rule, "err", s.LastError)
				}
				errs[s.Rule] = s.Errors
			}
		}
		e.m.keys.Set(float64(keys))
	}
	for {
		select {
		case <-ctx.Done():
			e.in.close()
			// What was emitted before the stop is still detected.
			runBatch()
			housekeep()
			return
		case <-e.in.ready:
			runBatch()
		case rs := <-e.reload:
			ss.run(func(s *shard) { s.d = NewDetector(rs, s.opts, s.d) })
			n := len(ss.list[0].d.rules)
			e.m.rules.Set(float64(n))
			e.log.Info("detect: rules reloaded", "rules", n)
		case <-tick.C:
			housekeep()
		}
	}
}
