package smpp

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	const sec = int64(time.Second)
	l := newLimiter(64)
	tests := []struct {
		name string
		at   int64
		key  uint64
		rate int32
		want bool
	}{
		{"first of 2", 0, 1, 2, true},
		{"second of 2", 0, 1, 2, true},
		{"third refused", 0, 1, 2, false},
		{"refusal takes no token", 10 * sec, 1, 2, false},
		{"half a minute refills one", 30 * sec, 1, 2, true},
		{"and no more", 30 * sec, 1, 2, false},
		{"other key unaffected", 30 * sec, 2, 2, true},
		{"no limit", 30 * sec, 1, 0, true},
		{"limit lowered by policy", 100 * sec, 1, 1, true},
		{"at the lower limit", 100 * sec, 1, 1, false},
	}
	for _, tc := range tests {
		if got := l.allow(tc.key, tc.rate, tc.at); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
	if n := l.sweep(130 * sec); n != 1 {
		t.Errorf("sweep kept %d buckets, want the one used at 100s", n)
	}
	if n := l.sweep(161 * sec); n != 0 {
		t.Errorf("sweep kept %d", n)
	}
}

func TestLimiterBounded(t *testing.T) {
	l := newLimiter(limiterShards * 4)
	for k := range uint64(10_000) {
		l.allow(k, 10, 0)
	}
	if n := l.sweep(0); n > limiterShards*4 {
		t.Errorf("%d buckets kept, bound %d", n, limiterShards*4)
	}
}

func TestReceiptRoutes(t *testing.T) {
	r := newReceiptRoutes(3, 100)
	r.put("main", "a", "acct1", 0)
	r.put("main", "b", "acct2", 10)
	r.put("other", "a", "acct3", 20)
	tests := []struct {
		name, route, id string
		now             int64
		want            string
	}{
		{"found", "main", "a", 50, "acct1"},
		{"per route", "other", "a", 50, "acct3"},
		{"unknown", "main", "zz", 50, ""},
		{"expired", "main", "a", 100, ""},
		{"not yet expired", "main", "b", 100, "acct2"},
	}
	for _, tc := range tests {
		got, _ := r.get(tc.route, tc.id, tc.now)
		if got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
	r.put("main", "c", "acct4", 30) // evicts the oldest (main/a)
	if n := len(r.m); n != 3 {
		t.Errorf("%d entries, bound 3", n)
	}
	if got, _ := r.get("main", "c", 40); got != "acct4" {
		t.Errorf("newest lost: %q", got)
	}
	if n := r.sweep(125); n != 1 {
		t.Errorf("after sweep %d entries, want main/c", n)
	}
}
