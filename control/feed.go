package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// ChangeKind says what changed.
type ChangeKind string

const (
	ChangeSIM   ChangeKind = "sim"
	ChangeGroup ChangeKind = "group"
)

// Change is one entry of the feed: which object changed, not its content;
// a follower reads the current content (the latest state is what counts).
type Change struct {
	Rev      uint64     `json:"rev"`
	Kind     ChangeKind `json:"kind"`
	TenantID int64      `json:"tenant_id"`
	SIMID    int64      `json:"sim_id,omitempty"`
	Group    string     `json:"group,omitempty"`
	Deleted  bool       `json:"deleted,omitempty"`
}

// Feed remembers the last changes so that remote enforcement nodes can
// follow the snapshot without re-reading the world. A node that fell
// further behind than the feed remembers is told to start over.
type Feed struct {
	// Epoch changes with every start of the control plane, whose
	// revisions start again from zero: a follower with another epoch
	// must re-read the whole state.
	Epoch string

	mu     sync.Mutex
	ring   []Change
	size   int
	rev    uint64 // revision of the newest change
	notify chan struct{}
}

func newFeed(size int) *Feed {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Feed{Epoch: hex.EncodeToString(b[:]), ring: make([]Change, 0, min(size, 1024)), size: size, notify: make(chan struct{})}
}

func (f *Feed) add(c Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	c.Rev = f.rev
	if len(f.ring) < f.size {
		f.ring = append(f.ring, c)
	} else {
		f.ring[int((c.Rev-1)%uint64(f.size))] = c
	}
	close(f.notify)
	f.notify = make(chan struct{})
}

// Rev is the newest revision.
func (f *Feed) Rev() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev
}

// Since returns the changes after rev, up to limit, waiting until ctx ends
// for one to arrive if there is none yet. ok is false when rev is older
// than the feed remembers (or newer than it has: the control plane
// restarted) and the caller must re-read the whole state.
func (f *Feed) Since(ctx context.Context, rev uint64, limit int) (changes []Change, head uint64, ok bool) {
	for {
		f.mu.Lock()
		head = f.rev
		oldest := head - uint64(len(f.ring)) // changes after oldest are held
		if rev > head || rev < oldest {
			f.mu.Unlock()
			return nil, head, false
		}
		if rev < head {
			for r := rev + 1; r <= head && len(changes) < limit; r++ {
				changes = append(changes, f.at(r))
			}
			f.mu.Unlock()
			return changes, head, true
		}
		wait := f.notify
		f.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, head, true
		}
	}
}

func (f *Feed) at(rev uint64) Change {
	if len(f.ring) < f.size {
		return f.ring[rev-1]
	}
	return f.ring[int((rev-1)%uint64(f.size))]
}
