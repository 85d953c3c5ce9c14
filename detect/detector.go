package detect

import (
	"hash/maphash"
	"slices"
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

	rulePos int // the rule's place in the rule set: the order of one event's firings
}

// DetectorOptions tune a Detector.
type DetectorOptions struct {
	// MaxKeys bounds the keys of each key space (the rules that group by
	// the same fields share one); new keys beyond it are not tracked
	// until idle keys expire. Default 2,000,000.
	MaxKeys int
	// Shards and Shard split the keys between detectors that run in
	// parallel over the same events: this one applies a rule to an event
	// only when the event's key for the rule falls in shard Shard of
	// Shards, so that every key has exactly one owner and sees its events
	// in order. Shards <= 1: all keys.
	Shards, Shard int
}

// Detector runs rules over events. It is the pure core of detection: time
// comes only from the events (and from Expire's argument), so that the
// same events always give the same firings. It is not safe for concurrent
// use; the Engine runs one per shard, each in its own goroutine.
type Detector struct {
	rules  []*ruleState
	byType map[string][]*ruleState
	spaces []*keySpace
	seed   maphash.Seed
	shards uint64
	shard  uint64
	now    int64 // the latest event time seen
	nextID uint32
	// evidence holds the events that rule states keep; it goes from a
	// detector to the next with the states.
	evidence *heldEvents
	events   uint64
	// frames are the events in progress: ProcessAll admits one while
	// the one before is observed (see ProcessAll); Process uses the
	// first.
	frames [2]frame
	// observing is the frame whose rules are observing it, for hold.
	observing *frame
	out       []Firing // ProcessAll's, reused
	// simSpace is the key space of the rules that group by SIM alone,
	// whose records ProcessAll fetches ahead; nil if there are none.
	simSpace *keySpace
	// gone are the rules removed whose states expiry has yet to let go.
	gone []goneRule
}

// goneRule is a removed rule whose states are still in the stores of its
// key space, which rules still loaded share. Expiry lets go of them (and
// of their evidence) as it passes over the space's records: once the
// space has completed two passes since the removal (the first may have
// begun before it), none is left.
type goneRule struct {
	id    uint32
	agg   aggregator
	space *keySpace
	until uint64 // the space's passes when its states are all gone
}

// letGo hands the states of the rules of prev that d does not keep (old)
// to expiry, and lets go at once of the key spaces d does not keep, with
// the evidence their states hold.
func (d *Detector) letGo(prev *Detector, prevSpaces []*keySpace, old map[string]*ruleState) {
	kept := map[*keySpace]bool{}
	for _, sp := range d.spaces {
		kept[sp] = true
	}
	if prev != nil {
		for _, g := range prev.gone {
			if kept[g.space] {
				d.gone = append(d.gone, g)
			}
		}
	}
	for _, o := range old {
		if sp := prevSpaces[o.space]; o.agg != nil && kept[sp] {
			d.gone = append(d.gone, goneRule{id: o.id, agg: o.agg, space: sp, until: sp.passes + 2})
		}
	}
	for _, sp := range prevSpaces {
		if !kept[sp] {
			for _, st := range sp.stores {
				st.dispose()
			}
		}
	}
}

// frame is one event on its way through the rules.
type frame struct {
	ev    *simguard.Event
	t     int64  // its time, Unix nanoseconds
	gen   uint64 // Detector.events when it began
	act   activation
	cache []spaceCache // per space
	pend  []pending    // the rules the event passed
	held  uint32       // the event in evidence, once a rule keeps it
}

// spaceCache holds a space's key and record for a frame's event, so that
// rules sharing a key space look it up once.
type spaceCache struct {
	gen uint64 // the event it is for (frame.gen)
	ok  bool
	k   stateKey
	rec *keyRecord
}

type ruleState struct {
	id      uint32
	pos     int // in Detector.rules
	rule    *Rule
	agg     aggregator // nil: each, no state
	space   int
	fires   uint64
	errors  uint64
	lastErr error
	keys    int // keys holding state
	dropped uint64
}

// maxTypeCache bounds the per-type rule index: event types are a small,
// fixed set, but they come from outside.
const maxTypeCache = 1024

// NewDetector makes a detector for the enabled rules of rs. With prev
// given, rules whose definition did not change keep prev's state (a
// reload does not reset counters); the state moves, so prev must not be
// used afterwards.
func NewDetector(rs *RuleSet, opts DetectorOptions, prev *Detector) *Detector {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 2_000_000
	}
	d := &Detector{
		byType: make(map[string][]*ruleState),
		seed:   maphash.MakeSeed(),
		nextID: 1,
		shards: 1,
	}
	d.evidence = &heldEvents{}
	if opts.Shards > 1 {
		d.shards, d.shard = uint64(opts.Shards), uint64(opts.Shard)%uint64(opts.Shards)
	}
	old := map[string]*ruleState{}
	oldSpaces := map[string]*keySpace{}
	var prevSpaces []*keySpace
	if prev != nil {
		d.seed, d.now, d.nextID, d.evidence = prev.seed, prev.now, prev.nextID, prev.evidence
		for _, s := range prev.rules {
			old[s.rule.Name+"\x00"+s.rule.fingerprint] = s
		}
		for _, sp := range prev.spaces {
			oldSpaces[sp.sig] = sp
		}
		prevSpaces = prev.spaces
	}
	spaceIdx := map[string]int{}
	for _, r := range rs.rules {
		if !r.Enabled {
			continue
		}
		sig := spaceSig(r)
		i, ok := spaceIdx[sig]
		if !ok {
			sp := oldSpaces[sig]
			if sp == nil {
				sp = newKeySpace(sig, opts.MaxKeys)
			}
			sp.max = opts.MaxKeys
			i = len(d.spaces)
			spaceIdx[sig] = i
			d.spaces = append(d.spaces, sp)
		}
		s := &ruleState{rule: r, space: i, pos: len(d.rules)}
		if o, ok := old[r.Name+"\x00"+r.fingerprint]; ok {
			s.id, s.agg, s.fires, s.errors, s.keys, s.dropped = o.id, o.agg, o.fires, o.errors, o.keys, o.dropped
			delete(old, r.Name+"\x00"+r.fingerprint)
		} else {
			s.id, s.agg = d.nextID, newAggregator(r, d.spaces[i], d.evidence)
			d.nextID++
		}
		d.rules = append(d.rules, s)
	}
	d.letGo(prev, prevSpaces, old)
	for i := range d.frames {
		d.frames[i].cache = make([]spaceCache, len(d.spaces))
	}
	for _, sp := range d.spaces {
		if sp.sims != nil {
			d.simSpace = sp
		}
	}
	return d
}

// Process runs ev through the rules of its type and appends the firings
// to out. ev's Attrs may be kept (as evidence) after Process returns: the
// caller must not change them afterwards.
//
// An event goes through three passes: which rules it passes (key and
// condition), where their states are (records found or made, and each
// state's cache lines asked for), and then the states themselves. With a
// million keys nearly every state is a cache miss; asking for them all
// before reading the first lets the misses overlap, which one rule after
// another would not. The passes change nothing about what fires: a rule's
// state is its own, and rules observe the event in their order.
func (d *Detector) Process(ev *simguard.Event, out []Firing) []Firing {
	f := &d.frames[0]
	if !d.begin(f, ev) {
		return out
	}
	d.locate(f)
	return d.finish(f, out)
}

// begin admits f's event, ev: it reports whether any rule passed it.
func (d *Detector) begin(f *frame, ev *simguard.Event) bool {
	d.events++
	t := d.now
	if !ev.Time.IsZero() {
		t = ev.Time.UnixNano()
	}
	d.now = max(d.now, t)
	list := d.rulesFor(ev.Type)
	if len(list) == 0 {
		return false
	}
	f.ev, f.t, f.gen, f.held = ev, t, d.events, 0
	f.act.set(ev)
	f.pend = f.pend[:0]
	for _, s := range list {
		if sc := &f.cache[s.space]; sc.gen == f.gen && !sc.ok {
			continue // the key is absent, or another shard's
		}
		d.admit(f, s)
	}
	if len(f.pend) == 0 {
		f.end()
		return false
	}
	return true
}

// finish has the rules f's event passed observe it, appends their
// firings to out and lets go of the event.
func (d *Detector) finish(f *frame, out []Firing) []Firing {
	d.observing = f
	for i := range f.pend {
		if fi, ok := d.observe(f, &f.pend[i]); ok {
			out = append(out, fi)
		}
	}
	d.observing = nil
	d.evidence.unref(f.held)
	f.end()
	return out
}

// end lets go of the frame's event: it is not kept past the call.
func (f *frame) end() {
	clear(f.pend)
	f.ev, f.held = nil, 0
	f.act.reset()
}

// pending is a rule the current event passed, with what its trigger is
// given.
type pending struct {
	s  *ruleState
	in input
}

// admit adds s to f.pend when f's event is s's to apply (its key is
// present and in this shard) and passes s's condition.
func (d *Detector) admit(f *frame, s *ruleState) {
	r := s.rule
	// The key comes first: it is cheap, and with shards it says whether
	// the rule is this detector's to apply.
	sc := &f.cache[s.space]
	if sc.gen != f.gen {
		sc.gen, sc.rec = f.gen, nil
		sc.k, sc.ok = r.key(&f.act)
		if sc.ok && d.shards > 1 {
			sc.ok = sc.k.shard(d.shards) == d.shard
		}
	}
	if !sc.ok {
		return
	}
	if r.cond != nil {
		ok, err := evalBool(r.cond, &f.act)
		if err != nil {
			s.errors++
			s.lastErr = err
			return
		}
		if !ok {
			return
		}
	}
	in := input{t: f.t, ev: f.ev}
	switch r.Trigger.Kind {
	case TriggerDistinct, TriggerFirstSeen:
		in.val = f.act.field(r.field)
		if in.val == "" {
			return
		}
		in.h = maphash.String(d.seed, in.val)
	case TriggerBaseline:
		v, err := evalNumber(r.value, &f.act)
		if err != nil {
			s.errors++
			s.lastErr = err
			return
		}
		in.v = v
		if r.Trigger.CounterBy != "" {
			sess := f.act.field(r.counterBy)
			if sess == "" {
				return
			}
			in.h = maphash.String(d.seed, sess)
		}
	}
	f.pend = append(f.pend, pending{s: s, in: in})
}

// locate finds (or makes) the records of the keys of f's pending rules
// and asks for the cache lines of their states.
func (d *Detector) locate(f *frame) {
	for i := range f.pend {
		s := f.pend[i].s
		if s.agg == nil {
			continue
		}
		sc := &f.cache[s.space]
		if sc.rec == nil {
			if sc.rec = d.spaces[s.space].record(&sc.k); sc.rec == nil {
				continue // the space is full: observe counts it
			}
		}
		sc.rec.last = max(sc.rec.last, f.t)
		if ref := d.spaces[s.space].ref(sc.rec, s.id); ref != 0 {
			s.agg.prefetch(ref - 1)
		}
	}
}

// observe hands f's event to p's trigger and returns its firing, if any.
func (d *Detector) observe(f *frame, p *pending) (Firing, bool) {
	s, in := p.s, &p.in
	r := s.rule
	sc := &f.cache[s.space]
	var h hit
	if s.agg == nil {
		h = hit{first: in.t}
	} else {
		if sc.rec == nil {
			s.dropped++
			return Firing{}, false
		}
		st := d.spaces[s.space].state(sc.rec, s.id)
		fresh := *st == 0
		var fired bool
		h, fired = s.agg.observe(st, in, d)
		if fresh {
			s.keys++
		}
		if !fired {
			return Firing{}, false
		}
	}
	s.fires++
	ev := in.ev
	if h.evs == nil {
		h.evs = []simguard.Event{*ev}
	}
	return Firing{
		Rule:     r,
		TenantID: ev.TenantID,
		Key:      r.render(sc.k),
		SIMID:    ev.SIMID,
		At:       time.Unix(0, in.t).UTC(),
		FirstAt:  time.Unix(0, h.first).UTC(),
		Detail:   h.detail,
		Events:   h.evs,
		rulePos:  s.pos,
	}, true
}

// hold returns the reference of a copy of the event being observed in
// d.evidence. It is made once per event, and only when some rule keeps it
// as evidence. The frame holds a reference of its own until the event is
// done: a rule that fires lets go of its evidence, which must not free
// the event while a later rule may still keep it.
func (d *Detector) hold() uint32 {
	f := d.observing
	if f.held == 0 {
		f.held = d.evidence.add(f.ev)
	}
	return f.held
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

// Expire drops a rule's state for a key once the key has been idle (no
// event for any of its rules) longer than the rule keeps state, measured
// at now or at the latest event time, whichever is later; the states of
// rules no longer loaded go at once. It returns how many states it
// dropped. Dropping only state that has run out (an empty window, a
// drained bucket) never changes what fires; baseline and first_seen state
// is forgotten after forget_after.
func (d *Detector) Expire(now time.Time) int {
	return d.expire(now, 0)
}

// ExpireSome is Expire over at most budget keys of each key space,
// resuming where the previous call stopped, so that a sweep over millions
// of keys does not stall detection: call it often with a small budget.
func (d *Detector) ExpireSome(now time.Time, budget int) int {
	return d.expire(now, max(budget, 1))
}

func (d *Detector) expire(now time.Time, budget int) int {
	at := d.now
	if !now.IsZero() {
		at = max(at, now.UnixNano())
	}
	// By rule ID (IDs are small and dense): a slot's rule is looked up
	// for every state checked.
	rules := make([]expiry, d.nextID)
	for _, s := range d.rules {
		if s.agg != nil {
			rules[s.id] = expiry{cutoff: at - int64(s.rule.idleAfter()), agg: s.agg, space: d.spaces[s.space]}
		}
	}
	for _, g := range d.gone {
		rules[g.id] = expiry{agg: g.agg, space: g.space, gone: true}
	}
	dropped := make([]int, d.nextID)
	for _, sp := range d.spaces {
		sp.expire(rules, dropped, budget)
	}
	d.gone = slices.DeleteFunc(d.gone, func(g goneRule) bool { return g.space.passes >= g.until })
	// Expired states let go of their evidence; once most held events
	// are gone, the rest move together and memory goes back.
	if m := d.evidence.evs.compact(); m != nil {
		for _, sp := range d.spaces {
			for _, st := range sp.stores {
				st.remapEvidence(m)
			}
		}
	}
	// Records moved or went away: no cached pointer may outlive that (it
	// would also keep a shrunk slice alive).
	for i := range d.frames {
		clear(d.frames[i].cache)
	}
	for _, s := range d.rules {
		s.keys -= dropped[s.id]
	}
	n := 0
	for _, k := range dropped {
		n += k
	}
	return n
}
