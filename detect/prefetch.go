package detect

import "github.com/simguard/simguard"

const cacheLine = 64

// prefetchRange starts loading the cache lines of [p, p+n).
func prefetchRange(p, n uintptr) {
	for l := p &^ (cacheLine - 1); l < p+n; l += cacheLine {
		prefetch(l)
	}
}

// ProcessAll runs Process over evs in order and calls fired with the
// index and the firings of each event that fired; the firings slice is
// reused once fired returns.
//
// Reaching the state of an event's SIM is a chain of cache misses, each
// 400–550 ns on the virtual machines measured: the index entry, the
// record, the record's further slots, and the rules' states. Each link
// can only be asked for once the one before has arrived. ProcessAll works
// on several events at once, each at another link: while the rules
// observe one event, it admits the next (key and condition) and asks for
// the states of the rules that passed, and asks for the earlier links of
// the events after that, so that the misses can overlap with work instead
// of following one another. (They do up to a few gigabytes of state; at
// 20 M states the translation of the addresses bounds them, and the gain
// is gone: see bench/detect/RESULTS.md.)
//
// Admitting an event before the one before it is observed changes
// nothing about what fires: admission reads only the event, and the
// rules observe the events in order.
func (d *Detector) ProcessAll(evs []simguard.Event, fired func(i int, fs []Firing)) {
	var prev *frame // admitted, not yet observed
	for i := range evs {
		for step := range chainAhead {
			if j := i + chainAhead - step; j < len(evs) {
				d.ahead(&evs[j], step)
			}
		}
		f := &d.frames[i&1]
		if d.begin(f, &evs[i]) {
			d.locate(f)
		} else {
			f = nil
		}
		if prev != nil {
			d.fire(prev, i-1, fired)
		}
		prev = f
	}
	if prev != nil {
		d.fire(prev, len(evs)-1, fired)
	}
	clear(d.out) // the firings hold events: not kept past the call
}

func (d *Detector) fire(f *frame, i int, fired func(int, []Firing)) {
	if d.out = d.finish(f, d.out[:0]); len(d.out) > 0 {
		fired(i, d.out)
	}
}

// chainAhead is how many events ahead ProcessAll starts on an event's
// SIM record, one link of the chain per event before the event is
// admitted.
const chainAhead = 3

// ahead asks for link step of ev's chain (0: the index entry, 1: the
// record, 2: the record's further slots). It reads only what the earlier
// links brought and changes nothing.
func (d *Detector) ahead(ev *simguard.Event, step int) {
	sp := d.simSpace
	if sp == nil || ev.SIMID == 0 {
		return
	}
	k := simKey{ev.TenantID, ev.SIMID}
	if d.shards > 1 && (&stateKey{tenant: k.tenant, n: k.sim}).shard(d.shards) != d.shard {
		return
	}
	if step == 0 {
		sp.sims.prefetch(k)
		return
	}
	i, ok := sp.sims.get(k)
	if !ok {
		return
	}
	if step == 1 {
		sp.recs.prefetch(uint32(i))
	} else if r := sp.recs.at(uint32(i)); r.nmore > 0 {
		sp.more.prefetch(r.more, int(r.nmore))
	}
}
