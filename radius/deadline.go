package radius

import (
	"container/heap"
	"context"
	"time"
)

// deadlines are the times at which live sessions must be evaluated again
// because the decision that let them in said it holds only until then
// (Decision.ValidUntil). Guarded by the liveIndex's mutex.
type deadlines struct {
	at   map[sessKey]time.Time // the current deadline of each session
	heap deadlineHeap          // may hold outdated entries; at is the truth
	wake chan struct{}         // a sooner deadline arrived
}

type deadline struct {
	at  time.Time
	key sessKey
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// setDeadline records that the live session k must be rechecked at t; a
// zero t means its answer has no end.
func (x *liveIndex) setDeadline(k sessKey, t time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.byKey[k]; !ok {
		return
	}
	d := &x.ends
	if t.IsZero() {
		delete(d.at, k)
		return
	}
	if old, ok := d.at[k]; ok && old.Equal(t) {
		return // an Interim-Update with the same answer: nothing new
	}
	d.at[k] = t
	heap.Push(&d.heap, deadline{at: t, key: k})
	if d.heap[0].key == k && d.heap[0].at.Equal(t) {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// due removes and returns the sessions whose deadline is not after now,
// and says when the next one is (zero: none).
func (x *liveIndex) due(now time.Time) (list []liveSession, next time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	d := &x.ends
	for d.heap.Len() > 0 {
		top := d.heap[0]
		if cur, ok := d.at[top.key]; !ok || !cur.Equal(top.at) {
			heap.Pop(&d.heap) // outdated, or the session is gone
			continue
		}
		if top.at.After(now) {
			return list, top.at
		}
		heap.Pop(&d.heap)
		delete(d.at, top.key)
		if ls, ok := x.byKey[top.key]; ok && !ls.discInFlight && !ls.discAcked {
			list = append(list, *ls)
		}
	}
	return list, time.Time{}
}

// deadlineLoop rechecks sessions when their deadline passes. The timer
// runs on the real clock; what is due is judged by the server's clock.
func (s *Server) deadlineLoop(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		list, next := s.live.due(s.now())
		if len(list) > 0 {
			s.recheck(ctx, s.eval, list)
		}
		wait := time.Hour
		if !next.IsZero() {
			// At least a little: an injected clock that stands still must
			// not turn this into a busy loop.
			wait = max(next.Sub(s.now()), 10*time.Millisecond)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.live.ends.wake:
		case <-t.C:
		}
	}
}
