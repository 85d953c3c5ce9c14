package smpp

import "sync"

// receiptRoutes remembers which account submitted a message, by the
// message ID the SMSC gave it, so that its delivery receipt goes back to
// that account. Bounded in entries (oldest dropped first) and in time.
type receiptRoutes struct {
	mu   sync.Mutex
	m    map[string]receiptRoute
	ring []receiptKey // insertion order, for eviction
	head int
	n    int
	ttl  int64
}

type receiptRoute struct {
	account string
	expires int64
}

type receiptKey struct {
	key     string
	expires int64
}

func newReceiptRoutes(max int, ttl int64) *receiptRoutes {
	return &receiptRoutes{m: make(map[string]receiptRoute), ring: make([]receiptKey, max), ttl: ttl}
}

func receiptMapKey(route, messageID string) string { return route + "\x00" + messageID }

func (r *receiptRoutes) put(route, messageID, account string, now int64) {
	k := receiptKey{key: receiptMapKey(route, messageID), expires: now + r.ttl}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == len(r.ring) {
		r.popLocked()
	}
	r.ring[(r.head+r.n)%len(r.ring)] = k
	r.n++
	r.m[k.key] = receiptRoute{account: account, expires: k.expires}
}

// popLocked drops the oldest entry, unless the map holds a newer one under
// the same key (the same message ID submitted again).
func (r *receiptRoutes) popLocked() {
	old := r.ring[r.head]
	r.ring[r.head] = receiptKey{}
	r.head = (r.head + 1) % len(r.ring)
	r.n--
	if cur, ok := r.m[old.key]; ok && cur.expires == old.expires {
		delete(r.m, old.key)
	}
}

func (r *receiptRoutes) get(route, messageID string, now int64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[receiptMapKey(route, messageID)]
	if !ok || e.expires <= now {
		return "", false
	}
	return e.account, true
}

// sweep drops expired entries and returns how many remain.
func (r *receiptRoutes) sweep(now int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.n > 0 && r.ring[r.head].expires <= now {
		r.popLocked()
	}
	return len(r.m)
}
