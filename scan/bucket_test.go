package scan

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The bucket holds probes to rate per second, shared by every caller;
// only lower bounds on time are asserted, so a slow machine cannot fail
// the test.
func TestBucketLimitsRate(t *testing.T) {
	const rate, n = 200, 101
	b := newBucket(rate, time.Now)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				if err := b.Take(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The burst (rate/100, at least 1) goes at once; every other probe
	// waits its turn: (n - burst) / rate seconds at the least.
	burst := max(1, rate/100)
	if took, least := time.Since(start), time.Duration(n-burst)*time.Second/rate; took < least-5*time.Millisecond {
		t.Fatalf("%d probes at %d/s took %s, want at least %s", n, rate, took, least)
	}
}

// Idle time does not save up more than the burst: a quiet bucket does not
// release a flood afterwards.
func TestBucketBurstIsCapped(t *testing.T) {
	const rate = 100
	b := newBucket(rate, time.Now)
	time.Sleep(300 * time.Millisecond) // 30 tokens' worth, but the burst is 1
	start := time.Now()
	for range 11 {
		if err := b.Take(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Fatalf("11 probes at %d/s after idling took %s, want at least 100ms", rate, took)
	}
}

// The debt is computed from the injected clock: with time standing still,
// each probe beyond the burst adds 1/rate to the wait; a canceled context
// ends the wait with its error.
func TestBucketDebtAndCancel(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	b := newBucket(1, func() time.Time { return now })
	if err := b.Take(context.Background()); err != nil {
		t.Fatalf("the first token: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Take(ctx) }() // owes a second at 1/s
	select {
	case err := <-done:
		t.Fatalf("a probe beyond the budget went at once: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Take after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Take did not return after cancel")
	}
	b.mu.Lock()
	tokens := b.tokens
	b.mu.Unlock()
	if tokens != -1 {
		t.Errorf("tokens = %v after two takes at a standing clock, want -1 (one owed)", tokens)
	}
}
