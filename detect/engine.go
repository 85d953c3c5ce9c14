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
	// beyond it Emit drops (and counts) events. Default 262,144: about
	// a second at 200,000 events/s, enough to ride out a garbage
	// collection of a few GB of rule state without losing events.
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
	def(&c.QueueSize, 262144)
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

// shard is one detector and the goroutine that runs it. Shards do not
// wait for each other: each takes the batches (and the reloads and
// expiry passes between them) from its own queue, in the same order, and
// the collector hands the firings of a batch on once every shard is done
// with it.
type shard struct {
	idx  int
	d    *Detector
	opts DetectorOptions
	jobs chan shardJob
}

// shardJob is a batch to run, or else something to do to the detector
// between batches.
type shardJob struct {
	batch *batch
	do    func(*shard)
}

// batch is events taken from the inbox on their way through the shards.
type batch struct {
	evs   []simguard.Event
	fired [][]batchFiring // by shard
	done  sync.WaitGroup
}

type batchFiring struct {
	event int
	f     Firing
}

// shardQueue is how many jobs a shard may lag behind the others: enough
// to ride out one shard's pause (a garbage collection assist, an expiry
// pass), few enough that events wait in the inbox, where they are
// counted and dropped when it is full.
const shardQueue = 4

func (s *shard) run() {
	for j := range s.jobs {
		if j.do != nil {
			j.do(s)
			continue
		}
		b := j.batch
		fired := b.fired[s.idx][:0]
		s.d.ProcessAll(b.evs, func(i int, fs []Firing) {
			for _, f := range fs {
				fired = append(fired, batchFiring{i, f})
			}
		})
		b.fired[s.idx] = fired
		b.done.Done()
	}
}

// shardStats is what the shards last reported after an expiry pass.
type shardStats struct {
	mu    sync.Mutex
	rules [][]RuleStats // by shard
}

// sum adds up the shards' rule counters (the rules are the same in every
// shard); nil until every shard has reported.
func (st *shardStats) sum() []RuleStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []RuleStats
	for i, rs := range st.rules {
		if rs == nil || i > 0 && len(rs) != len(out) {
			return nil // not yet reported, or a reload half-way through
		}
		if i == 0 {
			out = slices.Clone(rs)
			continue
		}
		for j := range out {
			if rs[j].Rule != out[j].Rule {
				return nil // a reload half-way through
			}
			out[j].Keys += rs[j].Keys
			out[j].Fires += rs[j].Fires
			out[j].Errors += rs[j].Errors
			out[j].DroppedKeys += rs[j].DroppedKeys
			if rs[j].LastError != nil {
				out[j].LastError = rs[j].LastError
			}
		}
	}
	return out
}

// detect takes batches from the inbox and hands each to every shard,
// with the reloads and expiry passes in between; collect hands on the
// firings.
func (e *Engine) detect(ctx context.Context) {
	n := e.cfg.Shards
	shards := make([]*shard, n)
	var running sync.WaitGroup
	for i := range shards {
		opts := DetectorOptions{MaxKeys: (e.cfg.MaxKeys + n - 1) / n, Shards: n, Shard: i}
		s := &shard{idx: i, d: NewDetector(e.rules, opts, nil), opts: opts, jobs: make(chan shardJob, shardQueue)}
		shards[i] = s
		running.Go(s.run)
	}
	e.m.rules.Set(float64(len(shards[0].d.rules)))
	collect := make(chan *batch, shardQueue+2)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		e.collect(collect)
	}()
	defer func() {
		for _, s := range shards {
			close(s.jobs)
		}
		close(collect)
		running.Wait()
		<-collected
	}()
	send := func(j shardJob) {
		for _, s := range shards {
			s.jobs <- j
		}
	}
	runBatch := func() {
		evs := e.in.take()
		if len(evs) == 0 {
			return
		}
		b := &batch{evs: evs, fired: make([][]batchFiring, n)}
		b.done.Add(n)
		collect <- b
		send(shardJob{batch: b})
	}
	stats := &shardStats{rules: make([][]RuleStats, n)}
	errs := map[string]uint64{}
	housekeep := func() {
		// A slice of the keys every tick, so that a full pass takes about
		// SweepEvery and never stalls detection for long.
		now := e.clock()
		send(shardJob{do: func(s *shard) {
			budget := s.d.records()/int(max(e.cfg.SweepEvery/time.Second, 1)) + 1000
			if k := s.d.ExpireSome(now, budget); k > 0 {
				e.log.Debug("detect: expired idle keys", "shard", s.idx, "states", k)
			}
			st := s.d.Stats()
			stats.mu.Lock()
			stats.rules[s.idx] = st
			stats.mu.Unlock()
		}})
		// The counters the shards reported after the previous pass.
		sum := stats.sum()
		if sum == nil {
			return
		}
		keys := 0
		for _, s := range sum {
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
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			e.in.close()
			// What was emitted before the stop is still detected.
			runBatch()
			return
		case <-e.in.ready:
			runBatch()
		case rs := <-e.reload:
			send(shardJob{do: func(s *shard) { s.d = NewDetector(rs, s.opts, s.d) }})
			n := rs.enabled()
			e.m.rules.Set(float64(n))
			e.log.Info("detect: rules reloaded", "rules", n)
		case <-tick.C:
			housekeep()
		}
	}
}

// collect hands on the firings of each batch, in the order of the
// batches, once every shard is done with it, in the order one detector
// would give them: which firing meets a cap first does not depend on the
// shard count.
func (e *Engine) collect(batches <-chan *batch) {
	var fired []batchFiring
	for b := range batches {
		b.done.Wait()
		fired = fired[:0]
		for _, f := range b.fired {
			fired = append(fired, f...)
		}
		if len(b.fired) > 1 {
			slices.SortFunc(fired, func(x, y batchFiring) int {
				return cmp.Or(cmp.Compare(x.event, y.event), cmp.Compare(x.f.rulePos, y.f.rulePos))
			})
		}
		for _, bf := range fired {
			e.firings <- bf.f
		}
		clear(fired) // the firings' evidence belongs to the alert manager now
		e.m.events.Add(float64(len(b.evs)))
		e.in.recycle(b.evs)
	}
}
