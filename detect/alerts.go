package detect

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// alertKey is what deduplicates alerts: one active alert per rule, tenant
// and key.
type alertKey struct {
	rule   string
	tenant int64
	key    string
}

// activeKey is an alertKey hashed to 128 bits (two independent 64-bit
// hashes): with it the map of active alerts holds no pointer, and a
// million alerts nobody resolved cost the garbage collector nothing to
// mark, where their keys and records were millions of objects to trace
// while the detectors waited. Two of a million keys collide with a chance
// of about 2^-88.
type activeKey [2]uint64

// activeAlert is an open or acknowledged alert.
type activeAlert struct {
	id     int64
	events int  // events the stored alert holds
	rank   int8 // its severity's Rank
}

type pendingFirings struct {
	f     Firing // the latest firing; Events collects all of them
	count int64
	first time.Time
}

// alertManager turns firings into alerts. It runs in its own goroutine so
// that store writes, actions and notifications never hold up the rules;
// setState is called from API goroutines, hence the mutex.
type alertManager struct {
	cfg       Config
	store     simguard.AlertStore
	responder simguard.Responder
	notifiers []Notifier
	log       *slog.Logger
	clock     func() time.Time
	m         *metrics

	seeds [2]maphash.Seed // for activeKey

	mu     sync.Mutex
	active map[activeKey]activeAlert
	counts map[int8]int // active alerts by severity rank
	// pending are the firings folded into active alerts since the last
	// flush, and folded lists their alerts in the order they took the
	// first: a flush visits them, not every active alert (there may be a
	// million nobody resolves).
	pending map[activeKey]*pendingFirings
	folded  []activeKey

	suspensions []time.Time // automatic suspensions in the last hour; manager goroutine only
}

func newAlertManager(cfg Config, deps Deps, m *metrics) *alertManager {
	return &alertManager{
		cfg: cfg, store: deps.Alerts, responder: deps.Responder, notifiers: deps.Notifiers,
		log: deps.Logger, clock: deps.Clock, m: m,
		seeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		active:  make(map[activeKey]activeAlert),
		pending: make(map[activeKey]*pendingFirings),
		counts:  make(map[int8]int),
	}
}

func (a *alertManager) keyOf(k alertKey) activeKey {
	return activeKey{maphash.Comparable(a.seeds[0], k), maphash.Comparable(a.seeds[1], k)}
}

// load reads the active alerts, so that firings after a restart fold into
// them instead of opening duplicates.
func (a *alertManager) load(ctx context.Context) error {
	f := simguard.AlertFilter{States: []simguard.AlertState{simguard.AlertOpen, simguard.AlertAcknowledged}, Limit: 10_000}
	for {
		list, err := a.store.ListAlerts(ctx, f)
		if err != nil {
			return err
		}
		a.mu.Lock()
		for _, al := range list {
			a.setActive(a.keyOf(alertKey{al.Rule, al.TenantID, al.Key}), activeAlert{id: al.ID, rank: int8(al.Severity.Rank()), events: len(al.Events)})
			f.AfterID = al.ID
		}
		a.mu.Unlock()
		if len(list) < f.Limit {
			break
		}
	}
	a.updateGauge()
	return nil
}

// run handles firings until the channel closes, then writes what is
// pending.
func (a *alertManager) run(firings <-chan Firing) {
	tick := time.NewTicker(a.cfg.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case f, ok := <-firings:
			if !ok {
				a.flush()
				return
			}
			a.handle(f)
		case <-tick.C:
			a.flush()
		}
	}
}

// opCtx bounds one store or responder call. The manager is stopped by the
// closing of its channel, not by a context, so that the last firings are
// still written on shutdown.
func (a *alertManager) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.cfg.ActionTimeout)
}

func (a *alertManager) handle(f Firing) {
	a.m.fires.WithLabelValues(f.Rule.Name).Inc()
	k := a.keyOf(alertKey{f.Rule.Name, alertTenant(f.TenantID), f.Key})
	a.mu.Lock()
	if act, ok := a.active[k]; ok {
		p := a.pending[k]
		if p == nil {
			p = &pendingFirings{first: f.FirstAt}
			a.pending[k] = p
			a.folded = append(a.folded, k)
		}
		p.count++
		room := a.cfg.MaxEventsPerAlert - act.events - len(p.f.Events)
		evs := append(p.f.Events, f.Events[:max(0, min(room, len(f.Events)))]...)
		p.f = f
		p.f.Events = evs
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.open(f, 1)
}

// open stores a new alert for f, runs the rule's actions and notifies.
func (a *alertManager) open(f Firing, count int64) {
	evs := f.Events
	if len(evs) > a.cfg.MaxEventsPerAlert {
		evs = evs[:a.cfg.MaxEventsPerAlert]
	}
	summary := f.Rule.Description
	if f.Detail != "" {
		summary += ": " + f.Detail
	}
	al := simguard.Alert{
		TenantID: alertTenant(f.TenantID), Rule: f.Rule.Name, Severity: f.Rule.Severity, Key: f.Key, SIMID: f.SIMID,
		State: simguard.AlertOpen, Summary: summary, Count: count,
		FirstEventAt: f.FirstAt, CreatedAt: a.clock().UTC(), LastSeenAt: f.At,
		DryRun: f.Rule.DryRun && len(f.Rule.Actions) > 0, Events: evs,
	}
	ctx, cancel := a.opCtx()
	created, err := a.store.CreateAlert(ctx, al)
	cancel()
	if err != nil {
		a.m.storeErrs.Inc()
		a.log.Error("detect: cannot store alert", "rule", f.Rule.Name, "key", f.Key, "err", err)
		return
	}
	a.m.ttd.Observe(created.CreatedAt.Sub(f.FirstAt).Seconds())
	a.m.delay.Observe(created.CreatedAt.Sub(f.At).Seconds())
	a.mu.Lock()
	a.setActive(a.keyOf(alertKey{f.Rule.Name, alertTenant(f.TenantID), f.Key}),
		activeAlert{id: created.ID, rank: int8(created.Severity.Rank()), events: len(created.Events)})
	a.mu.Unlock()
	a.updateGauge()
	a.log.Info("detect: alert", "id", created.ID, "rule", f.Rule.Name, "severity", f.Rule.Severity,
		"key", f.Key, "tenant", f.TenantID, "time_to_detect", created.CreatedAt.Sub(f.FirstAt))

	if actions := a.runActions(f); len(actions) > 0 {
		ctx, cancel := a.opCtx()
		if err := a.store.AddAlertActions(ctx, created.ID, actions); err != nil {
			a.m.storeErrs.Inc()
			a.log.Error("detect: cannot store alert actions", "id", created.ID, "err", err)
		}
		cancel()
		created.Actions = append(created.Actions, actions...)
	}
	a.notify(simguard.NoticeOpened, created)
}

// alertTenant is who sees an alert: events about no tenant (a request
// from an unknown NAS) concern whoever runs the network, the provider.
func alertTenant(t int64) int64 {
	if t == 0 {
		return simguard.ProviderTenantID
	}
	return t
}

// flush writes the firings folded into active alerts since the last flush.
// An alert that was resolved meanwhile (by another node, or an API call
// that raced) cannot take them: they open a new alert.
func (a *alertManager) flush() {
	type job struct {
		k  activeKey
		id int64
		p  *pendingFirings
	}
	var jobs []job
	a.mu.Lock()
	for _, k := range a.folded {
		// An alert forgotten meanwhile has gone with its firings (and
		// one opened since under the same key has none yet, or is
		// listed again).
		act, ok := a.active[k]
		if p := a.pending[k]; ok && p != nil {
			jobs = append(jobs, job{k, act.id, p})
			act.events += len(p.f.Events)
			a.active[k] = act
			delete(a.pending, k)
		}
	}
	a.folded = a.folded[:0]
	a.mu.Unlock()
	for _, j := range jobs {
		ctx, cancel := a.opCtx()
		_, err := a.store.AddAlertFiring(ctx, j.id, simguard.AlertFiring{
			Count: j.p.count, LastSeenAt: j.p.f.At, Events: j.p.f.Events, MaxEvents: a.cfg.MaxEventsPerAlert,
		})
		cancel()
		switch code := simguard.ErrorCode(err); code {
		case "":
		case simguard.ECONFLICT, simguard.ENOTFOUND:
			a.forget(j.k, j.id)
			f := j.p.f
			f.FirstAt = j.p.first
			a.open(f, j.p.count)
		default:
			a.m.storeErrs.Inc()
			a.log.Error("detect: cannot update alert", "id", j.id, "err", err)
		}
	}
}

// forget drops the active alert k, and the firings folded into it, if
// it is still alert id.
func (a *alertManager) forget(k activeKey, id int64) {
	a.mu.Lock()
	if act, ok := a.active[k]; ok && act.id == id {
		a.counts[act.rank]--
		delete(a.active, k)
		delete(a.pending, k)
	}
	a.mu.Unlock()
	a.updateGauge()
}

func (a *alertManager) setState(ctx context.Context, tenantID, id int64, state simguard.AlertState, note string, actor simguard.Actor) (simguard.Alert, error) {
	action := "alert.acknowledge"
	kind := simguard.NoticeAcknowledged
	if state == simguard.AlertResolved {
		action, kind = "alert.resolve", simguard.NoticeResolved
	}
	al, err := a.store.SetAlertState(ctx, tenantID, id, state, note, simguard.Change{Actor: actor, Action: action})
	if err != nil {
		return simguard.Alert{}, err
	}
	if state == simguard.AlertResolved {
		// Firings folded in but not written yet belong to what the
		// operator just resolved.
		a.forget(a.keyOf(alertKey{al.Rule, al.TenantID, al.Key}), al.ID)
	}
	a.notify(kind, al)
	return al, nil
}

func (a *alertManager) notify(kind simguard.AlertNoticeKind, al simguard.Alert) {
	n := simguard.AlertNotice{Kind: kind, Time: a.clock().UTC(), Alert: al}
	for _, nt := range a.notifiers {
		ctx, cancel := a.opCtx()
		if err := nt.Notify(ctx, n); err != nil {
			a.log.Error("detect: cannot notify", "alert", al.ID, "kind", kind, "err", err)
		}
		cancel()
	}
}

// setActive records an active alert, which has no firings folded in yet;
// a.mu must be held.
func (a *alertManager) setActive(k activeKey, act activeAlert) {
	if old, ok := a.active[k]; ok {
		a.counts[old.rank]--
	}
	delete(a.pending, k)
	a.active[k] = act
	a.counts[act.rank]++
}

func (a *alertManager) updateGauge() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range simguard.Severities {
		a.m.open.WithLabelValues(string(s)).Set(float64(a.counts[int8(i+1)]))
	}
}
