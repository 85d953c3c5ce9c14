package radius

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

type sessKey struct{ nas, id string }

// liveSession is what a recheck needs of a live session: the request to
// evaluate again and where to send a Disconnect-Request.
type liveSession struct {
	id              int64 // RADIUSSession.ID
	simID, tenantID int64
	key             sessKey
	nasAddr         netip.Addr
	userName        string
	ip              netip.Addr
	req             simguard.Request

	// Disconnect state: in flight, or done (ACK), or retry after.
	discInFlight bool
	discAcked    bool
	discRetry    time.Time
}

// liveIndex holds this server's live sessions in memory so that a policy
// change is checked without reading the store.
type liveIndex struct {
	mu    sync.Mutex
	byKey map[sessKey]*liveSession
	bySIM map[int64]map[sessKey]bool
}

func newLiveIndex() *liveIndex {
	return &liveIndex{byKey: map[sessKey]*liveSession{}, bySIM: map[int64]map[sessKey]bool{}}
}

func (x *liveIndex) put(ls *liveSession) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.byKey[ls.key]; ok {
		x.unlinkLocked(old)
		// A restarted or updated session keeps its disconnect state.
		ls.discInFlight, ls.discAcked, ls.discRetry = old.discInFlight, old.discAcked, old.discRetry
	}
	x.byKey[ls.key] = ls
	if x.bySIM[ls.simID] == nil {
		x.bySIM[ls.simID] = map[sessKey]bool{}
	}
	x.bySIM[ls.simID][ls.key] = true
}

func (x *liveIndex) remove(k sessKey) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.byKey[k]; ok {
		x.unlinkLocked(old)
	}
}

func (x *liveIndex) removeNAS(nas string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, ls := range x.byKey {
		if k.nas == nas {
			x.unlinkLocked(ls)
		}
	}
}

func (x *liveIndex) unlinkLocked(ls *liveSession) {
	delete(x.byKey, ls.key)
	if m := x.bySIM[ls.simID]; m != nil {
		delete(m, ls.key)
		if len(m) == 0 {
			delete(x.bySIM, ls.simID)
		}
	}
}

func (x *liveIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.byKey)
}

// candidates returns copies of the sessions (of simIDs, or all when none
// is given) that may be sent a Disconnect-Request now.
func (x *liveIndex) candidates(simIDs []int64, now time.Time) []liveSession {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []liveSession
	add := func(ls *liveSession) {
		if !ls.discInFlight && !ls.discAcked && !now.Before(ls.discRetry) {
			out = append(out, *ls)
		}
	}
	if len(simIDs) == 0 {
		for _, ls := range x.byKey {
			add(ls)
		}
		return out
	}
	for _, id := range simIDs {
		for k := range x.bySIM[id] {
			add(x.byKey[k])
		}
	}
	return out
}

// claim marks a session's disconnect in flight; false if it already is,
// or the session is gone.
func (x *liveIndex) claim(k sessKey) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	ls, ok := x.byKey[k]
	if !ok || ls.discInFlight || ls.discAcked {
		return false
	}
	ls.discInFlight = true
	return true
}

// settle records how a disconnect ended.
func (x *liveIndex) settle(k sessKey, acked bool, retry time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if ls, ok := x.byKey[k]; ok {
		ls.discInFlight, ls.discAcked, ls.discRetry = false, acked, retry
	}
}

// liveFromSession indexes a stored session.
func liveFromSession(rs *simguard.RADIUSSession) *liveSession {
	return &liveSession{
		id: rs.ID, simID: rs.SIMID, tenantID: rs.TenantID,
		key: sessKey{rs.NAS, rs.SessionID}, nasAddr: rs.NASAddr, userName: rs.UserName, ip: rs.IP,
		req: simguard.Request{
			Kind: simguard.KindDataSession, IMSI: rs.IMSI, MSISDN: rs.MSISDN, IMEI: rs.IMEI,
			APN: rs.APN, RAT: rs.RAT, Location: rs.Location,
		},
		discAcked: rs.Disconnect != nil && rs.Disconnect.Outcome == simguard.DisconnectACK,
	}
}

// loadLive fills the index from the store at start, page by page.
func (s *Server) loadLive(ctx context.Context) error {
	var after int64
	for {
		page, err := s.sessions.ListSessions(ctx, simguard.RADIUSSessionFilter{LiveOnly: true, AfterID: after, Limit: 10000})
		if err != nil {
			return err
		}
		for i := range page {
			s.live.put(liveFromSession(&page[i]))
			after = page[i].ID
		}
		if len(page) < 10000 {
			s.m.live.Set(float64(s.live.len()))
			return nil
		}
	}
}
