package detect

import (
	"hash/maphash"
	"time"

	"github.com/simguard/simguard"
)

// Firing is one rule firing for one key.
type Firing struct {
	Rule     *Rule
	TenantID int64
	Key      string // the group-by values, "sim=42"
	SIMID    int64  // the SIM of the event that fired
	// At is the time of the event that fired the rule and FirstAt the
	// time of the first offending event.
	At      time.Time
	FirstAt time.Time
	Detail  string // what was counted, in words
	// Events are the offending events, oldest first, at most
	// Rule.Evidence of them.
	Events []simguard.Event
}

// DetectorOptions tune a Detector.
type DetectorOptions struct {
	// MaxKeysPerRule bounds each rule's state; new keys beyond it are not
	// tracked until idle keys expire. Default 2,000,000.
	MaxKeysPerRule int
}

// Detector runs rules over events. It is the pure core of detection: time
// comes only from the events (and from Expire's argument), so that the
// same events always give the same firings. It is not safe for concurrent
// use; the Engine runs one in a single goroutine.
type Detector struct {
	rules   []*ruleState
	byType  map[string][]*ruleState
	act     activation
	seed    maphash.Seed
	now     int64 // the latest event time seen
	maxKeys int
	cur     *simguard.Event
	held    *simguard.Event
	events  uint64
}

type ruleState struct {
	rule    *Rule
	agg     aggregator
	fires   uint64
	errors  uint64
	lastErr error
}

// maxTypeCache bounds the per-type rule index: event types are a small,
// fixed set, but they come from outside.
const maxTypeCache = 1024

// NewDetector makes a detector for the enabled rules of rs. With prev
// given, rules whose definition did not change keep prev's state (a
// reload does not reset counters).
func NewDetector(rs *RuleSet, opts DetectorOptions, prev *Detector) *Detector {
	if opts.MaxKeysPerRule <= 0 {
		opts.MaxKeysPerRule = 2_000_000
	}
	d := &Detector{
		byType:  make(map[string][]*ruleState),
		seed:    maphash.MakeSeed(),
		maxKeys: opts.MaxKeysPerRule,
	}
	old := map[string]*ruleState{}
	if prev != nil {
		d.seed, d.now = prev.seed, prev.now
		for _, s := range prev.rules {
			old[s.rule.Name+"\x00"+s.rule.fingerprint] = s
		}
	}
	for _, r := range rs.rules {
		if !r.Enabled {
			continue
		}
		s := &ruleState{rule: r}
		if o, ok := old[r.Name+"\x00"+r.fingerprint]; ok {
			s.agg, s.fires, s.errors = o.agg, o.fires, o.errors
		} else {
			s.agg = newAggregator(r, opts.MaxKeysPerRule)
		}
		d.rules = append(d.rules, s)
	}
	return d
}

// Process runs ev through the rules of its type and appends the firings
// to out. ev's Attrs may be kept (as evidence) after Process returns: the
// caller must not change them afterwards.
func (d *Detector) Process(ev *simguard.Event, out []Firing) []Firing {
	d.events++
	t := d.now
	if !ev.Time.IsZero() {
		t = ev.Time.UnixNano()
	}
	d.now = max(d.now, t)
	list := d.rulesFor(ev.Type)
	if len(list) == 0 {
		return out
	}
	d.cur, d.held = ev, nil
	d.act.set(ev)
	for _, s := range list {
		if f, ok := d.apply(s, ev, t); ok {
			out = append(out, f)
		}
	}
	d.cur, d.held = nil, nil
	d.act.ev, d.act.attrs.m = nil, nil
	return out
}

func (d *Detector) apply(s *ruleState, ev *simguard.Event, t int64) (Firing, bool) {
	r := s.rule
	if r.cond != nil {
		ok, err := evalBool(r.cond, &d.act)
		if err != nil {
			s.errors++
			s.lastErr = err
			return Firing{}, false
		}
		if !ok {
			return Firing{}, false
		}
	}
	k, ok := r.key(ev)
	if !ok {
		return Firing{}, false
	}
	in := input{t: t, ev: ev}
	switch r.Trigger.Kind {
	case TriggerDistinct, TriggerFirstSeen:
		in.val = r.field.str(ev)
		if in.val == "" {
			return Firing{}, false
		}
		in.h = maphash.String(d.seed, in.val)
	case TriggerBaseline:
		v, err := evalNumber(r.value, &d.act)
		if err != nil {
			s.errors++
			s.lastErr = err
			return Firing{}, false
		}
		in.v = v
		if r.Trigger.CounterBy != "" {
			sess := r.counterBy.str(ev)
			if sess == "" {
				return Firing{}, false
			}
			in.h = maphash.String(d.seed, sess)
		}
	}
	h, fired := s.agg.observe(k, &in, d)
	if !fired {
		return Firing{}, false
	}
	s.fires++
	if h.evs == nil {
		h.evs = []simguard.Event{*ev}
	}
	return Firing{
		Rule:     r,
		TenantID: ev.TenantID,
		Key:      r.render(k),
		SIMID:    ev.SIMID,
		At:       time.Unix(0, t).UTC(),
		FirstAt:  time.Unix(0, h.first).UTC(),
		Detail:   h.detail,
		Events:   h.evs,
	}, true
}

// hold returns a copy of the current event that may outlive Process. It
// is made once per event, and only when some rule keeps it as evidence.
func (d *Detector) hold() *simguard.Event {
	if d.held == nil {
		c := *d.cur
		d.held = &c
	}
	return d.held
}

func (d *Detector) rulesFor(typ string) []*ruleState {
	if l, ok := d.byType[typ]; ok {
		return l
	}
	var l []*ruleState
	for _, s := range d.rules {
		if s.rule.matchesType(typ) {
			l = append(l, s)
		}
	}
	if len(d.byType) < maxTypeCache {
		d.byType[typ] = l
	}
	return l
}

// Expire drops the state of keys that have been idle longer than their
// rule keeps it, measured at now or at the latest event time, whichever
// is later. It returns how many keys it dropped. Dropping only state that
// has run out (an empty window, a drained bucket) never changes what
// fires; baseline and first_seen state is forgotten after forget_after.
func (d *Detector) Expire(now time.Time) int {
	at := d.now
	if !now.IsZero() {
		at = max(at, now.UnixNano())
	}
	n := 0
	for _, s := range d.rules {
		if idle := s.rule.idleAfter(); idle > 0 {
			n += s.agg.expire(at - int64(idle))
		}
	}
	return n
}

// RuleStats is what a rule did since the detector started.
type RuleStats struct {
	Rule        string
	Keys        int    // keys with state now
	Fires       uint64 // firings
	Errors      uint64 // condition or value evaluation errors
	LastError   error
	DroppedKeys uint64 // new keys not tracked because the rule was full
}

// Stats reports per-rule counters, in rule order.
func (d *Detector) Stats() []RuleStats {
	out := make([]RuleStats, len(d.rules))
	for i, s := range d.rules {
		out[i] = RuleStats{Rule: s.rule.Name, Keys: s.agg.size(), Fires: s.fires, Errors: s.errors,
			LastError: s.lastErr, DroppedKeys: s.agg.dropped()}
	}
	return out
}

// Keys is the number of keys holding state, over all rules.
func (d *Detector) Keys() int {
	n := 0
	for _, s := range d.rules {
		n += s.agg.size()
	}
	return n
}

// Events is the number of events processed.
func (d *Detector) Events() uint64 { return d.events }
