package scan

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// SessionLister is the part of the RADIUS session store LiveSessions
// reads.
type SessionLister interface {
	ListSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error)
}

// LiveSessions is Sessions over the stored live RADIUS sessions (their
// Framed-IP-Address from accounting). Lookups must be cheap while a scan
// names its findings, so it answers from a table of every live session's
// address, loaded when first needed and again when older than maxAge; a
// failed load keeps the previous table (and is logged).
type LiveSessions struct {
	store  SessionLister
	maxAge time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu     sync.Mutex
	loaded time.Time
	byAddr map[netip.Addr]int64
	bySIM  map[int64]netip.Addr
}

var _ Sessions = (*LiveSessions)(nil)

// NewLiveSessions reads store's live sessions; maxAge ≤ 0 means 30s. now
// and log may be nil.
func NewLiveSessions(store SessionLister, maxAge time.Duration, now func() time.Time, log *slog.Logger) *LiveSessions {
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LiveSessions{store: store, maxAge: maxAge, now: now, log: log}
}

// SessionAddr returns the address of the SIM's live session.
func (l *LiveSessions) SessionAddr(simID int64) (netip.Addr, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refreshLocked()
	a, ok := l.bySIM[simID]
	return a, ok
}

// SessionSIM returns the SIM whose live session has addr.
func (l *LiveSessions) SessionSIM(addr netip.Addr) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refreshLocked()
	id, ok := l.byAddr[addr.Unmap()]
	return id, ok
}

func (l *LiveSessions) refreshLocked() {
	now := l.now()
	if !l.loaded.IsZero() && now.Sub(l.loaded) < l.maxAge {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	byAddr, bySIM := map[netip.Addr]int64{}, map[int64]netip.Addr{}
	f := simguard.RADIUSSessionFilter{LiveOnly: true, Limit: 10_000}
	for {
		page, err := l.store.ListSessions(ctx, f)
		if err != nil {
			l.log.Error("scan: load live session addresses; devices keep the addresses loaded before", "err", err)
			l.loaded = now // not again at once: a broken store must not be hammered per lookup
			return
		}
		for _, s := range page {
			if s.SIMID != 0 && s.IP.IsValid() {
				a := s.IP.Unmap()
				byAddr[a], bySIM[s.SIMID] = s.SIMID, a
			}
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	l.byAddr, l.bySIM, l.loaded = byAddr, bySIM, now
}
