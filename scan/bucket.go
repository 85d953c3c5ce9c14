package scan

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst saved up.
// Take may run the balance below zero and then sleeps off the debt, so one
// lock acquisition per probe is all it costs at high rates.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(rate int, now func() time.Time) *bucket {
	// A burst of 1/100 s of tokens (at least one) keeps the pace even while
	// allowing sleeps long enough for the timer to honor.
	burst := max(1, float64(rate)/100)
	return &bucket{rate: float64(rate), burst: burst, tokens: burst, last: now(), now: now}
}

// Take spends one token, waiting until the bucket allows it or ctx ends.
func (b *bucket) Take(ctx context.Context) error {
	b.mu.Lock()
	t := b.now()
	b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	b.tokens--
	debt := b.tokens
	b.mu.Unlock()
	if debt >= 0 {
		return ctx.Err()
	}
	wait := time.Duration(-debt / b.rate * float64(time.Second))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
