package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
}

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
// rules in one goroutine, and hands firings to the alert manager, which
// stores alerts, runs actions and notifies.
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

// detect is the detector's goroutine: it owns the Detector.
func (e *Engine) detect(ctx context.Context) {
	d := NewDetector(e.rules, DetectorOptions{MaxKeys: e.cfg.MaxKeys}, nil)
	e.m.rules.Set(float64(len(d.rules)))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	errs := map[string]uint64{}
	var out []Firing
	var n uint64
	process := func(ev *simguard.Event) {
		out = d.Process(ev, out[:0])
		for _, f := range out {
			e.firings <- f
		}
		if n++; n == 1024 {
			e.m.events.Add(float64(n))
			n = 0
		}
	}
	housekeep := func() {
		e.m.events.Add(float64(n))
		n = 0
		// A slice of the keys every tick, so that a full pass takes about
		// SweepEvery and never stalls detection for long.
		budget := d.records()/int(max(e.cfg.SweepEvery/time.Second, 1)) + 1000
		if k := d.ExpireSome(e.clock(), budget); k > 0 {
			e.log.Debug("detect: expired idle keys", "states", k)
		}
		for _, s := range d.Stats() {
			if s.Errors > errs[s.Rule] {
				e.m.ruleErrors.WithLabelValues(s.Rule).Add(float64(s.Errors - errs[s.Rule]))
				if errs[s.Rule] == 0 {
					e.log.Warn("detect: rule condition fails to evaluate; the events count as not matching",
						"rule", s.Rule, "err", s.LastError)
				}
				errs[s.Rule] = s.Errors
			}
		}
		e.m.keys.Set(float64(d.Keys()))
	}
	for {
		select {
		case <-ctx.Done():
			e.in.close()
			// What was emitted before the stop is still detected.
			batch := e.in.take()
			for i := range batch {
				process(&batch[i])
			}
			housekeep()
			return
		case <-e.in.ready:
			batch := e.in.take()
			for i := range batch {
				process(&batch[i])
			}
		case rs := <-e.reload:
			d = NewDetector(rs, DetectorOptions{MaxKeys: e.cfg.MaxKeys}, d)
			e.m.rules.Set(float64(len(d.rules)))
			e.log.Info("detect: rules reloaded", "rules", len(d.rules))
		case <-tick.C:
			housekeep()
		}
	}
}
