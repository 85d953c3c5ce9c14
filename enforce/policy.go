package enforce

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

// Policy holds the current snapshot. Readers call Evaluate (or Snapshot)
// without locks; writers replace the snapshot whole through Update, one at
// a time, and subscribers hear of every replacement in order.
type Policy struct {
	cur atomic.Pointer[policy.Snapshot]

	mu   sync.Mutex // serializes Update and guards subs
	subs map[int]Subscriber
	next int

	updates  prometheus.Counter
	duration prometheus.Histogram
	sims     prometheus.GaugeFunc
}

var _ simguard.Evaluator = (*Policy)(nil)

// NewPolicy starts from s. Metrics go to reg (nil: not registered).
func NewPolicy(s *policy.Snapshot, reg prometheus.Registerer) *Policy {
	p := &Policy{subs: map[int]Subscriber{}}
	p.cur.Store(s)
	p.updates = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "simguard_policy_updates_total",
		Help: "Snapshot replacements (one per change applied to the policy).",
	})
	p.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "simguard_policy_update_seconds",
		Help:    "Time to compute and publish a new snapshot after a change.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
	})
	p.sims = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "simguard_policy_sims",
		Help: "SIMs in the current snapshot.",
	}, func() float64 { return float64(p.cur.Load().Len()) })
	if reg != nil {
		reg.MustRegister(p.updates, p.duration, p.sims)
	}
	return p
}

// Snapshot returns the current snapshot. It never changes; hold it for as
// long as one consistent view is needed.
func (p *Policy) Snapshot() *policy.Snapshot { return p.cur.Load() }

// Evaluate answers r from the current snapshot.
func (p *Policy) Evaluate(r *simguard.Request) simguard.Decision {
	return p.cur.Load().Evaluate(r)
}

// Subscriber hears of every replacement: the old and the new snapshot, and
// the IDs of the SIMs that changed — nil when anything may have changed
// (a group changed, or the whole policy was reloaded).
type Subscriber func(old, new *policy.Snapshot, simIDs []int64)

// Update replaces the snapshot with what fn makes of the current one. If fn
// fails the snapshot stays as it was. Subscribers are called before Update
// returns, in order of changes; they must not call Update.
func (p *Policy) Update(fn func(*policy.Snapshot) (*policy.Snapshot, error)) error {
	return p.UpdateSIMs(nil, fn)
}

// UpdateSIMs is Update for a change that touches only the SIMs simIDs, so
// that subscribers can look at those alone.
func (p *Policy) UpdateSIMs(simIDs []int64, fn func(*policy.Snapshot) (*policy.Snapshot, error)) error {
	start := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.cur.Load()
	next, err := fn(old)
	if err != nil {
		return err
	}
	if next == nil || next == old {
		return nil
	}
	p.cur.Store(next)
	p.updates.Inc()
	p.duration.Observe(time.Since(start).Seconds())
	for _, s := range p.subs {
		s(old, next, simIDs)
	}
	return nil
}

// Subscribe calls fn after every replacement. fn runs while the update
// holds its lock: hand work to a goroutine if it is slow. The returned
// function unsubscribes.
func (p *Policy) Subscribe(fn Subscriber) (cancel func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.next
	p.next++
	p.subs[id] = fn
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.subs, id)
	}
}
