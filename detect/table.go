package detect

import (
	"math"
	"strings"
	"unsafe"
)

// arena holds per-key states by value, in chunks, and slots name them by
// index: the garbage collector then sees a few objects per store instead
// of one per key and rule (millions), and the slots it would
// otherwise scan hold no pointers at all. Chunks of fixed size let the
// arena grow without copying what it holds: a few small ones, so that a
// rule with few keys stays small, then big ones, which are given huge
// pages where the system allows (see adviseHugePages).
type arena[S any] struct {
	chunks [][]S
	n      int // states handed out, live or free
	free   []uint32
}

const (
	smallChunkBits = 12
	smallChunks    = 8
	smallTotal     = smallChunks << smallChunkBits
	bigChunkBits   = 16
)

// at returns state i; the pointer stays valid until i is released.
func (a *arena[S]) at(i uint32) *S {
	if i < smallTotal {
		return &a.chunks[i>>smallChunkBits][i&(1<<smallChunkBits-1)]
	}
	i -= smallTotal
	return &a.chunks[smallChunks+i>>bigChunkBits][i&(1<<bigChunkBits-1)]
}

// grow adds a chunk.
func (a *arena[S]) grow() {
	if len(a.chunks) < smallChunks {
		a.chunks = append(a.chunks, make([]S, 1<<smallChunkBits))
		return
	}
	c := make([]S, 1<<bigChunkBits)
	adviseHugePages(unsafe.Pointer(&c[0]), uintptr(len(c))*unsafe.Sizeof(c[0]))
	a.chunks = append(a.chunks, c)
}

// alloc returns the index of a zero state.
func (a *arena[S]) alloc() uint32 {
	if n := len(a.free); n > 0 {
		i := a.free[n-1]
		a.free = a.free[:n-1]
		return i
	}
	if a.n == a.size() {
		a.grow()
	}
	a.n++
	return uint32(a.n - 1)
}

// release zeroes state i (letting go of what it points to) for reuse.
func (a *arena[S]) release(i uint32) {
	var zero S
	*a.at(i) = zero
	a.free = append(a.free, i)
}

// state returns the state in *ref, allocating it on first use (*ref == 0
// means none; a held state is its index + 1).
func (a *arena[S]) state(ref *uint32) *S {
	if *ref == 0 {
		*ref = a.alloc() + 1
	}
	return a.at(*ref - 1)
}

// prefetch starts loading state i's cache lines (see prefetch).
func (a *arena[S]) prefetch(i uint32) {
	prefetchRange(uintptr(unsafe.Pointer(a.at(i))), unsafe.Sizeof(*new(S)))
}

// live is how many states are held.
func (a *arena[S]) live() int { return a.n - len(a.free) }

// size is how many states the arena has room for.
func (a *arena[S]) size() int {
	if len(a.chunks) <= smallChunks {
		return len(a.chunks) << smallChunkBits
	}
	return smallTotal + (len(a.chunks)-smallChunks)<<bigChunkBits
}

// compact gives memory back after a flood of keys has drained, when at
// most a quarter of the arena is in use: it moves the live states to as
// few chunks as they need and returns where each went (remap[old] is the
// new reference, index + 1), or nil when it did nothing. The caller must
// rewrite every reference.
func (a *arena[S]) compact() (remap []uint32) {
	if len(a.chunks) <= 1 || a.live() >= a.size()/4 {
		return nil
	}
	free := make([]bool, a.n)
	for _, i := range a.free {
		free[i] = true
	}
	remap = make([]uint32, a.n)
	var b arena[S]
	for i := 0; i < a.n; i++ {
		if !free[i] {
			j := b.alloc()
			*b.at(j) = *a.at(uint32(i))
			remap[i] = j + 1
		}
	}
	*a = b
	return remap
}

// keySpace holds the state of every rule that groups by the same fields.
// Most rules group by SIM: sharing one map for them makes an event cost
// one lookup in a million-entry map instead of one per rule, and keeps
// the key once instead of once per rule. Records live by value in an
// arena (the index holds their place), which spares the garbage collector
// a million small objects and lets expiry walk the keys a slice at a time.
type keySpace struct {
	sig   string // the group-by fields, e.g. "sim" or "imei,nas"
	index map[stateKey]int32
	// sims replaces index for the space of the rules that group by SIM
	// alone, most of them: a 16-byte key hashes in a fraction of the time
	// of a stateKey with its three strings, and one probe usually reads
	// one cache line.
	sims *simIndex
	// recs holds the records by value; the index maps keys to their
	// place. Records are allocated and freed in place, so that a stream
	// of new keys never copies the millions already held. They hold no
	// pointer: the strings of a key live in strs, the slots beyond the
	// inline ones in more.
	recs arena[keyRecord]
	strs arena[[maxGroupBy]string]
	more blocks[slot]
	// stores hold the states of the space's rules, one per trigger kind
	// (see stateStore). They outlive the rules: a reload keeps the space
	// and its stores, and a removed rule's states in them go by expiry.
	stores  map[TriggerKind]stateStore
	cursor  int    // where the next incremental expiry resumes
	passes  uint64 // expiry passes completed over every record
	max     int
	dropped uint64
}

// keyRecord is the states of the rules that have seen a key. A key meets
// few rules, so a short list beats a slot per rule; its first slots are
// inline, in the record's first cache line, because reaching a separate
// list costs a cache miss per event.
type keyRecord struct {
	inl   [inlineSlots]slot // rule 0: free
	more  uint32            // the slots beyond inl: a block in keySpace.more
	nmore uint32
	strs  uint32 // the key's strings in keySpace.strs, + 1; 0: it has none
	// last is the time of the latest event any rule observed for the
	// key: no state of the record is newer.
	last      int64
	tenant, n int64
}

const inlineSlots = 8

type slot struct {
	rule uint32 // ruleState.id
	ref  uint32 // the state in the rule's store, + 1; 0 before the first
}

type simKey struct{ tenant, sim int64 }

func newKeySpace(sig string, max int) *keySpace {
	s := &keySpace{sig: sig, max: min(max, math.MaxInt32), stores: map[TriggerKind]stateStore{}}
	if sig == "sim" {
		s.sims = newSimIndex(0)
	} else {
		s.index = make(map[stateKey]int32)
	}
	return s
}

func (s *keySpace) lookup(k *stateKey) (int32, bool) {
	if s.sims != nil {
		return s.sims.get(simKey{k.tenant, k.n})
	}
	i, ok := s.index[*k]
	return i, ok
}

func (s *keySpace) put(k *stateKey, i int32) {
	if s.sims != nil {
		s.sims.put(simKey{k.tenant, k.n}, i)
		return
	}
	s.index[*k] = i
}

func (s *keySpace) remove(k *stateKey) {
	if s.sims != nil {
		s.sims.del(simKey{k.tenant, k.n})
		return
	}
	delete(s.index, *k)
}

func spaceSig(r *Rule) string {
	names := make([]string, len(r.keyFields))
	for i, f := range r.keyFields {
		names[i] = f.name
		if f.kind == fieldAttr {
			names[i] = "attrs." + f.attr
		}
	}
	return strings.Join(names, ",")
}

func (s *keySpace) size() int { return s.recs.live() }

// record returns k's record, making it when absent; nil when the space is
// full: a flood of distinct keys cannot exhaust memory, and new keys are
// tracked again once idle ones expire. The pointer is valid until the
// space expires some.
func (s *keySpace) record(k *stateKey) *keyRecord {
	if i, ok := s.lookup(k); ok {
		return s.recs.at(uint32(i))
	}
	if s.recs.live() >= s.max {
		s.dropped++
		return nil
	}
	i := s.recs.alloc()
	s.put(k, int32(i))
	r := s.recs.at(i)
	r.tenant, r.n = k.tenant, k.n
	if k.s != [maxGroupBy]string{} {
		r.strs = s.strs.alloc() + 1
		*s.strs.at(r.strs - 1) = k.s
	}
	return r
}

// key returns r's key.
func (s *keySpace) key(r *keyRecord) stateKey {
	k := stateKey{tenant: r.tenant, n: r.n}
	if r.strs != 0 {
		k.s = *s.strs.at(r.strs - 1)
	}
	return k
}

// free lets go of r, whose states are gone, and of its key.
func (s *keySpace) free(i uint32) {
	r := s.recs.at(i)
	k := s.key(r)
	s.remove(&k)
	if r.strs != 0 {
		s.strs.release(r.strs - 1)
	}
	s.more.release(r.more)
	s.recs.release(i)
}

// inUse says whether r holds any state: a record with none is free.
func (r *keyRecord) inUse() bool {
	for i := range r.inl {
		if r.inl[i].rule != 0 {
			return true
		}
	}
	return r.nmore > 0
}

// state returns where rule id keeps the reference to its state in r (0
// at first). The pointer is valid until the next call on the space.
func (s *keySpace) state(r *keyRecord, id uint32) *uint32 {
	if sl := s.find(r, id); sl != nil {
		return &sl.ref
	}
	for i := range r.inl {
		if r.inl[i].rule == 0 {
			r.inl[i] = slot{rule: id}
			return &r.inl[i].ref
		}
	}
	if r.more == 0 || int(r.nmore) == len(s.more.get(r.more)) {
		r.more = s.more.grow(r.more, int(r.nmore), max(2*int(r.nmore), inlineSlots))
	}
	sl := &s.more.get(r.more)[r.nmore]
	r.nmore++
	*sl = slot{rule: id}
	return &sl.ref
}

// ref returns rule id's reference to its state in r, without adding a
// slot: 0 when it has none.
func (s *keySpace) ref(r *keyRecord, id uint32) uint32 {
	if sl := s.find(r, id); sl != nil {
		return sl.ref
	}
	return 0
}

// find returns rule id's slot in r, nil when it has none. The pointer is
// valid until the next call on the space.
func (s *keySpace) find(r *keyRecord, id uint32) *slot {
	for i := range r.inl {
		if r.inl[i].rule == id {
			return &r.inl[i]
		}
	}
	if r.nmore > 0 {
		more := s.more.get(r.more)[:r.nmore]
		for i := range more {
			if more[i].rule == id {
				return &more[i]
			}
		}
	}
	return nil
}

// slots calls f with each of r's slots in use.
func (s *keySpace) slots(r *keyRecord, f func(*slot)) {
	for i := range r.inl {
		if r.inl[i].rule != 0 {
			f(&r.inl[i])
		}
	}
	if r.nmore > 0 {
		more := s.more.get(r.more)[:r.nmore]
		for i := range more {
			f(&more[i])
		}
	}
}

// expiry is what keySpace.expire needs of a rule.
type expiry struct {
	cutoff int64 // states whose last event is older go
	agg    aggregator
	space  *keySpace // where the rule's keys are
	// gone: the rule was removed, and its states go whatever their age;
	// they are in a store that other rules share (see goneRule).
	gone bool
}

// expire checks up to budget records from where the last call stopped
// (budget <= 0: all of them). It drops states older than their rule's
// cutoff (rules[id]), the states of rules gone, and records left empty,
// counting dropped states by rule id. A slot of a rule without an entry
// (there should be none: a removed rule stays in rules until its slots
// are gone, see goneRule) goes without releasing its state. It reports
// whether it went through every record since the pass began.
func (s *keySpace) expire(rules []expiry, dropped []int, budget int) bool {
	if budget <= 0 {
		budget, s.cursor = s.recs.n, 0
	}
	for n := 0; n < budget && s.cursor < s.recs.n; n++ {
		i := uint32(s.cursor)
		s.cursor++
		r := s.recs.at(i)
		if !r.inUse() {
			continue // free
		}
		keep := func(sl slot) bool {
			var x expiry
			if int(sl.rule) < len(rules) {
				x = rules[sl.rule]
			}
			live := x.agg != nil && !x.gone
			// The record's time bounds its states': all of them are
			// past the cutoff when it is, and none is read then. A
			// state that ran out in a key still in use for other
			// rules stays until the key goes quiet (bounded, and
			// state that ran out changes no firing); a sweep never
			// reaches into the states, which would be a cache miss
			// each.
			if live && (sl.ref == 0 || r.last >= x.cutoff) {
				return true
			}
			if x.agg != nil && sl.ref != 0 {
				x.agg.store().release(sl.ref - 1)
			}
			dropped[sl.rule]++
			return false
		}
		held := 0
		for i := range r.inl {
			if r.inl[i].rule != 0 {
				if keep(r.inl[i]) {
					held++
				} else {
					r.inl[i] = slot{}
				}
			}
		}
		if r.nmore > 0 {
			more := s.more.get(r.more)[:r.nmore]
			kept := more[:0]
			for _, sl := range more {
				if keep(sl) {
					kept = append(kept, sl)
				}
			}
			clear(more[len(kept):])
			r.nmore = uint32(len(kept))
			if r.nmore == 0 {
				s.more.release(r.more)
				r.more = 0
			}
		}
		if held+int(r.nmore) == 0 {
			s.free(i)
		}
	}
	done := s.cursor >= s.recs.n
	if done {
		s.cursor = 0
		s.passes++
		s.shrink()
		s.compact(rules)
	}
	return done
}

// compact compacts the space's stores that are mostly free and rewrites
// the references to their states. It runs when a pass has just ended: the
// slots left are those of rules with an entry in rules.
func (s *keySpace) compact(rules []expiry) {
	var remaps map[stateStore][]uint32
	for _, st := range s.stores {
		if m := st.compact(); m != nil {
			if remaps == nil {
				remaps = map[stateStore][]uint32{}
			}
			remaps[st] = m
		}
	}
	if remaps == nil {
		return
	}
	byRule := make([][]uint32, len(rules))
	for id, x := range rules {
		if x.agg != nil && x.space == s {
			byRule[id] = remaps[x.agg.store()]
		}
	}
	for i := 0; i < s.recs.n; i++ {
		s.slots(s.recs.at(uint32(i)), func(sl *slot) {
			if int(sl.rule) < len(byRule) && byRule[sl.rule] != nil && sl.ref != 0 {
				sl.ref = byRule[sl.rule][sl.ref-1]
			}
		})
	}
}

// shrink gives memory back after a flood of keys has drained: neither a
// map nor a slice shrinks by itself. When the records compact, the index
// is made anew.
func (s *keySpace) shrink() {
	if m := s.more.compact(); m != nil {
		for i := 0; i < s.recs.n; i++ {
			r := s.recs.at(uint32(i))
			r.more = m(r.more)
		}
	}
	if s.recs.compact() == nil {
		return
	}
	if m := s.strs.compact(); m != nil {
		for i := 0; i < s.recs.n; i++ {
			if r := s.recs.at(uint32(i)); r.strs != 0 {
				r.strs = m[r.strs-1]
			}
		}
	}
	if s.sims != nil {
		s.sims = newSimIndex(s.recs.n)
	} else {
		s.index = make(map[stateKey]int32, s.recs.n)
	}
	for i := 0; i < s.recs.n; i++ {
		k := s.key(s.recs.at(uint32(i)))
		s.put(&k, int32(i))
	}
}

// tsRing is a queue of event times that grows up to a limit; with a limit
// of at most tsInline it lives inline in the rule state, beyond that in a
// block of the store's times (a handle, not a slice: see blocks).
type tsRing struct {
	small   [tsInline]int64
	buf     uint32 // the block, when limit > tsInline
	head, n int32
	limit   int32 // set by the first push; a rule's limit does not change
}

const tsInline = 8

// ring is where the times are: its length is the ring's capacity.
func (r *tsRing) ring(b *blocks[int64]) []int64 {
	if r.limit <= tsInline {
		return r.small[:r.limit]
	}
	if r.buf == 0 {
		return nil
	}
	return b.get(r.buf)
}

func (r *tsRing) push(b *blocks[int64], t int64, limit int) {
	if r.limit == 0 {
		r.limit = int32(limit)
	}
	if int(r.n) >= limit {
		r.pop(b) // full at the limit: drop the oldest
	}
	ring := r.ring(b)
	if int(r.n) == len(ring) {
		// A block twice as big, up to the limit (blocks come in powers
		// of two, so the last may hold up to twice the limit).
		nh := b.alloc(min(max(2*len(ring), 2), limit))
		nb := b.get(nh)
		for i := 0; i < int(r.n); i++ {
			nb[i] = ring[(int(r.head)+i)%len(ring)]
		}
		b.release(r.buf)
		r.buf, r.head = nh, 0
		ring = nb
	}
	ring[(int(r.head)+int(r.n))%len(ring)] = t
	r.n++
}

func (r *tsRing) front(b *blocks[int64]) int64 { return r.ring(b)[r.head] }

func (r *tsRing) pop(b *blocks[int64]) {
	r.head = (r.head + 1) % int32(len(r.ring(b)))
	r.n--
}

func (r *tsRing) reset() { r.head, r.n = 0, 0 }

// drop lets go of the ring's block.
func (r *tsRing) drop(b *blocks[int64]) {
	b.release(r.buf)
	*r = tsRing{}
}
