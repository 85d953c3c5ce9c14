package radius

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// genMap is a map whose entries live between ttl and 2·ttl: two
// generations, the older dropped whole when the newer is ttl old. No
// per-entry timers or sweeps; sharded to keep workers off one lock.
type genMap[K comparable, V any] struct {
	ttl    time.Duration
	max    int // per shard and generation; reaching it starts a new generation early
	now    func() time.Time
	seed   maphash.Seed
	shards [32]genShard[K, V]
}

type genShard[K comparable, V any] struct {
	mu        sync.Mutex
	cur, prev map[K]V
	since     time.Time
}

// newGenMap keeps at most about 2·maxEntries entries: under a load that
// would keep more, entries live shorter than ttl instead.
func newGenMap[K comparable, V any](ttl time.Duration, maxEntries int, now func() time.Time) *genMap[K, V] {
	m := &genMap[K, V]{ttl: ttl, now: now, seed: maphash.MakeSeed(), max: max(1, maxEntries/32)}
	for i := range m.shards {
		m.shards[i].cur = map[K]V{}
	}
	return m
}

// update runs fn on the entry of k under its shard's lock. fn gets the
// value and whether it exists, and returns the new value and whether to
// keep it.
func (m *genMap[K, V]) update(k K, fn func(v V, ok bool) (V, bool)) {
	s := &m.shards[maphash.Comparable(m.seed, k)%uint64(len(m.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := m.now(); now.Sub(s.since) >= 2*m.ttl {
		// Both generations are older than ttl: nothing in them counts.
		s.prev, s.cur, s.since = nil, make(map[K]V), now
	} else if now.Sub(s.since) >= m.ttl || len(s.cur) >= m.max {
		s.prev, s.cur, s.since = s.cur, make(map[K]V, len(s.cur)), now
	}
	v, ok := s.cur[k]
	if !ok {
		v, ok = s.prev[k]
	}
	nv, keep := fn(v, ok)
	delete(s.prev, k)
	if keep {
		s.cur[k] = nv
	} else {
		delete(s.cur, k)
	}
}

func (m *genMap[K, V]) get(k K) (V, bool) {
	var out V
	var found bool
	m.update(k, func(v V, ok bool) (V, bool) {
		out, found = v, ok
		return v, ok
	})
	return out, found
}

func (m *genMap[K, V]) put(k K, v V) {
	m.update(k, func(V, bool) (V, bool) { return v, true })
}

// dupKey identifies a request for duplicate detection (RFC 5080 §2.2.2):
// same source, code, identifier and authenticator. It holds no pointers,
// nor does dupEntry, so the garbage collector never scans the cache.
type dupKey struct {
	addr [16]byte
	port uint16
	code byte
	id   byte
	auth [16]byte
}

func newDupKey(from netip.AddrPort, code, id byte, auth [16]byte) dupKey {
	return dupKey{addr: from.Addr().As16(), port: from.Port(), code: code, id: id, auth: auth}
}

// dupRespMax is the largest answer kept for retransmissions; it keeps an
// entry small enough for the map to store inline (128 bytes). Typical
// answers are 20-90 bytes; a larger one is not cached, and its
// retransmission is decided again.
const dupRespMax = 120

// dupEntry is the answer to a request, once it has one.
type dupEntry struct {
	n        uint8
	answered bool
	resp     [dupRespMax]byte
}

// dedup answers retransmissions from the answer to the original.
type dedup struct{ m *genMap[dupKey, dupEntry] }

type dupState int

const (
	dupNew dupState = iota
	dupInFlight
	dupAnswered
)

// begin claims k. A new request is marked in flight; a duplicate gets the
// cached answer (dupAnswered) or nothing yet (dupInFlight).
func (d dedup) begin(k dupKey) (dupState, []byte) {
	state, resp := dupNew, []byte(nil)
	d.m.update(k, func(e dupEntry, ok bool) (dupEntry, bool) {
		switch {
		case !ok:
			return dupEntry{}, true
		case !e.answered:
			state = dupInFlight
		default:
			state, resp = dupAnswered, append([]byte(nil), e.resp[:e.n]...)
		}
		return e, true
	})
	return state, resp
}

// finish stores the answer to k; a nil answer forgets k, so that a
// retransmission is handled afresh (nothing was answered).
func (d dedup) finish(k dupKey, resp []byte) {
	d.m.update(k, func(dupEntry, bool) (dupEntry, bool) {
		e := dupEntry{n: uint8(len(resp)), answered: true}
		copy(e.resp[:], resp)
		return e, resp != nil && len(resp) <= dupRespMax
	})
}
