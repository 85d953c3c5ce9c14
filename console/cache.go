package console

import (
	"sync"
	"time"
)

// cache keeps one value per key for a short time, so that many viewers of
// the same tenant share one computation of an expensive report.
type cache[V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[int64]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v  V
	at time.Time
}

func newCache[V any](ttl time.Duration, now func() time.Time) *cache[V] {
	return &cache[V]{ttl: ttl, now: now, m: map[int64]cacheEntry[V]{}}
}

// get returns the cached value for key or computes it. Concurrent misses
// may compute twice; that is cheaper than holding a lock over a query.
func (c *cache[V]) get(key int64, compute func() (V, error)) (V, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) > 10_000 { // tenants come and go; do not grow without end
		clear(c.m)
	}
	c.m[key] = cacheEntry[V]{v: v, at: now}
	c.mu.Unlock()
	return v, nil
}
