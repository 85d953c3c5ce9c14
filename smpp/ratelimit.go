package smpp

import (
	"sync"
)

// limiter is a set of token buckets, one per key, each holding up to
// perMinute tokens and refilled at perMinute per minute. Memory is bounded:
// at most maxKeys buckets; a bucket idle for a minute is full again, which
// is what a missing bucket means, so sweep drops it without changing any
// answer. When a shard is full anyway, an arbitrary bucket of it is
// dropped: that can only let its key send early, never block anyone.
type limiter struct {
	shards   [limiterShards]limShard
	perShard int
}

const limiterShards = 16

type limShard struct {
	mu sync.Mutex
	m  map[uint64]bucket
}

type bucket struct {
	tokens float64
	last   int64 // unix nanoseconds of the last refill
}

const minute = int64(60e9)

func newLimiter(maxKeys int) *limiter {
	l := &limiter{perShard: max(1, maxKeys/limiterShards)}
	for i := range l.shards {
		l.shards[i].m = make(map[uint64]bucket)
	}
	return l
}

// allow takes a token from key's bucket and reports whether there was one.
// perMinute <= 0 means no limit. A refused message takes no token.
func (l *limiter) allow(key uint64, perMinute int32, now int64) bool {
	if perMinute <= 0 {
		return true
	}
	capacity := float64(perMinute)
	sh := &l.shards[(key^key>>29)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.m[key]
	if !ok {
		if len(sh.m) >= l.perShard {
			for k := range sh.m {
				delete(sh.m, k)
				break
			}
		}
		b = bucket{tokens: capacity, last: now}
	} else if now > b.last {
		b.tokens += float64(now-b.last) * capacity / float64(minute)
		b.last = now
	}
	// A lower limit from a new policy applies at once.
	b.tokens = min(b.tokens, capacity)
	if b.tokens < 1 {
		sh.m[key] = b
		return false
	}
	b.tokens--
	sh.m[key] = b
	return true
}

// sweep drops buckets idle for a minute or more and returns how many
// buckets remain.
func (l *limiter) sweep(now int64) int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, b := range sh.m {
			if now-b.last >= minute {
				delete(sh.m, k)
			}
		}
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
