package http

import (
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &tokenBucket{rate: 20, burst: 40, now: func() time.Time { return now }}
	n := 0
	for b.take() {
		n++
		if n > 100 {
			break
		}
	}
	if n != 40 {
		t.Fatalf("burst let %d through, want 40", n)
	}
	now = now.Add(100 * time.Millisecond) // 2 tokens
	var got []bool
	for range 3 {
		got = append(got, b.take())
	}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("after 100ms at 20/s: %v, want exactly 2 more", got)
	}
	now = now.Add(time.Hour)
	n = 0
	for b.take() && n < 100 {
		n++
	}
	if n != 40 {
		t.Fatalf("after an idle hour %d, want the burst of 40, not more", n)
	}
}
