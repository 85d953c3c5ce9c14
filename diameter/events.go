package diameter

import (
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// Event types this package emits.
const (
	EventECR     = "diameter.ecr"     // an ME-Identity-Check answered (attrs: equipment_status)
	EventULR     = "diameter.ulr"     // an Update-Location decided (relayed or answered)
	EventPeer    = "diameter.peer"    // a peer connected, was rejected or disconnected (attrs: state, why)
	EventDropped = "diameter.dropped" // a malformed message closed a connection (attrs: cause)
)

func (s *Server) emit(typ, decision string, reason simguard.Reason, simID, tenantID int64, attrs map[string]string) {
	s.events.Emit(simguard.Event{Time: s.now(), TenantID: tenantID, SIMID: simID, Source: "diameter",
		Type: typ, Decision: decision, Reason: reason, Attrs: attrs})
}

func (c *conn) tenant() int64 {
	if p := c.peer.Load(); p != nil {
		return p.TenantID
	}
	return simguard.ProviderTenantID
}

func (s *Server) emitPeer(c *conn, st, why string) {
	attrs := map[string]string{"role": c.role.String(), "state": st, "remote": c.remote.String()}
	if h := c.hostName(); h != "" {
		attrs["peer"] = h
	}
	if why != "" {
		attrs["why"] = why
	}
	s.emit(EventPeer, "", "", 0, c.tenant(), attrs)
}

// dropped records a message that could not be handled.
func (s *Server) dropped(c *conn, cause string, err error) {
	s.m.dropped.WithLabelValues(cause).Inc()
	s.log.Warn("diameter: dropped", "cause", cause, "peer", c.hostName(), "remote", c.remote.String(), "err", err)
	attrs := map[string]string{"cause": cause, "remote": c.remote.String(), "error": err.Error()}
	if h := c.hostName(); h != "" {
		attrs["peer"] = h
	}
	s.emit(EventDropped, "", "", 0, c.tenant(), attrs)
}

// mismatchCache remembers which SIM/IMEI mismatches were reported in the
// last minute, so that a device retrying attach does not write each time.
type mismatchCache struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (c *mismatchCache) first(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[key]; ok && now.Sub(t) < time.Minute {
		return false
	}
	if len(c.m) > 100_000 {
		c.m = map[string]time.Time{} // bounded: forget all rather than grow
	}
	c.m[key] = now
	return true
}
