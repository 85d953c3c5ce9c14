package diameter

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/simguard/simguard/diameter/wire"
)

// keepHSS keeps one connection to the HSS up, reconnecting with backoff.
func (s *Server) keepHSS(ctx context.Context) {
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		d := net.Dialer{Timeout: s.cfg.CERTimeout}
		nc, err := d.DialContext(ctx, "tcp", s.cfg.HSS.Addr)
		if err != nil {
			s.m.hssConnects.WithLabelValues("dial_failed").Inc()
			s.log.Warn("diameter: HSS unreachable", "addr", s.cfg.HSS.Addr, "err", err, "retry_in", backoff)
		} else {
			c := s.newConn(nc, roleHSS)
			s.start(c)
			c.sendMsg(s.newRequest(wire.CmdCapabilitiesExchange, wire.AppCommon, false, s.capabilities(localAddr(c), []uint32{wire.AppS6a})...))
			select {
			case <-c.hssReady:
				s.m.hssConnects.WithLabelValues("success").Inc()
				backoff = 500 * time.Millisecond
			case <-c.done:
				s.m.hssConnects.WithLabelValues("cer_failed").Inc()
			case <-ctx.Done():
				c.disconnect(discRebooting)
				return
			}
			select {
			case <-c.done:
			case <-ctx.Done():
				c.disconnect(discRebooting)
				return
			}
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// pending is a relayed request waiting for its answer.
type pending struct {
	from     *conn  // who sent the request
	to       *conn  // where it went
	hbh      uint32 // the sender's hop-by-hop id, restored in the answer
	cmd      string // e.g. "ULR", for metrics
	start    time.Time
	deadline time.Time
	req      *wire.Message // header and Session-Id, to answer on timeout
}

// pendingTable maps our hop-by-hop ids to relayed requests, bounded in
// all and per sender: a peer that never gets (or never sends) answers
// must not grow it without end.
type pendingTable struct {
	mu     sync.Mutex
	m      map[uint32]*pending
	byFrom map[*conn]int // waiting requests per sender
}

// put records p unless the table or p's sender is full; the result is ""
// or the cause of the refusal (a metric label).
func (t *pendingTable) put(id uint32, p *pending, max, perPeer int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case len(t.m) >= max:
		return "too_busy"
	case t.byFrom[p.from] >= perPeer:
		return "peer_too_busy"
	}
	t.m[id] = p
	t.byFrom[p.from]++
	return ""
}

// delLocked forgets id; t.mu is held.
func (t *pendingTable) delLocked(id uint32, p *pending) {
	delete(t.m, id)
	if n := t.byFrom[p.from] - 1; n > 0 {
		t.byFrom[p.from] = n
	} else {
		delete(t.byFrom, p.from)
	}
}

func (t *pendingTable) take(id uint32, from *conn) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.m[id]
	if p == nil || p.to != from {
		return nil
	}
	t.delLocked(id, p)
	return p
}

// failConn answers every request relayed through c (now closed) with
// DIAMETER_UNABLE_TO_DELIVER, and forgets those c sent.
func (t *pendingTable) failConn(s *Server, c *conn) {
	t.mu.Lock()
	var fail []*pending
	for id, p := range t.m {
		if p.to == c || p.from == c {
			t.delLocked(id, p)
			if p.to == c {
				fail = append(fail, p)
			}
		}
	}
	t.mu.Unlock()
	for _, p := range fail {
		s.undeliverable(p, "the connection closed before the answer")
	}
}

func (s *Server) sweepPending(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := s.now()
		s.pend.mu.Lock()
		var late []*pending
		for id, p := range s.pend.m {
			if now.After(p.deadline) {
				s.pend.delLocked(id, p)
				late = append(late, p)
			}
		}
		s.pend.mu.Unlock()
		for _, p := range late {
			s.undeliverable(p, "no answer within relay_timeout")
		}
	}
}

func (s *Server) undeliverable(p *pending, why string) {
	s.m.relayed.WithLabelValues(p.cmd, "unable_to_deliver").Inc()
	a := s.errorAnswer(p.req, wire.ResultUnableToDeliver, why, nil)
	a.HopByHop = p.hbh
	p.from.sendMsg(a)
}

// maxSessionID bounds the Session-Id of a relayed request (RFC 6733 §8.8
// puts no limit; real ones are well under 200 bytes).
const maxSessionID = 1024

// relayTo forwards request m from c to dst with a new hop-by-hop id and
// a Route-Record naming c (RFC 6733 §6.1.9). extra AVPs are appended.
func (s *Server) relayTo(c, dst *conn, m *wire.Message) {
	for i := range m.AVPs {
		a := &m.AVPs[i]
		if a.Code == wire.AVPRouteRecord && a.Flags&wire.AVPVendor == 0 && string(a.Data) == s.cfg.OriginHost {
			s.count(m, "loop_detected")
			c.reply(s.errorAnswer(m, 3005, "loop detected", nil)) // DIAMETER_LOOP_DETECTED
			return
		}
	}
	now := s.now()
	keep := &wire.Message{Header: m.Header}
	if sid := m.Find(wire.AVPSessionID, 0); sid != nil {
		if len(sid.Data) > maxSessionID {
			// It is kept until the answer comes; a peer must not park
			// megabytes per request in the pending table.
			s.m.relayRefused.WithLabelValues("session_id_too_long").Inc()
			c.reply(s.errorAnswer(m, wire.ResultInvalidAVPLength, fmt.Sprintf("Session-Id longer than %d bytes", maxSessionID), nil))
			return
		}
		keep.Add(wire.NewBytes(wire.AVPSessionID, 0, wire.AVPMandatory, append([]byte(nil), sid.Data...)))
	}
	id := s.nextHopByHop()
	orig := m.HopByHop
	m.HopByHop = id
	m.AVPs = append(m.AVPs, wire.NewString(wire.AVPRouteRecord, 0, wire.AVPMandatory, c.hostName()))
	enc := m.Append(nil)
	m.HopByHop = orig
	if why := s.pend.put(id, &pending{from: c, to: dst, hbh: orig, cmd: wire.CommandAbbrev(m.Code, true), start: now,
		deadline: now.Add(s.cfg.RelayTimeout), req: keep}, s.cfg.MaxPendingRelays, s.cfg.MaxPendingPerPeer); why != "" {
		m.AVPs = m.AVPs[:len(m.AVPs)-1] // the Route-Record: not in our answer
		s.m.relayRefused.WithLabelValues(why).Inc()
		c.reply(s.errorAnswer(m, wire.ResultTooBusy, "too many requests waiting for an answer", nil))
		return
	}
	if !dst.send(enc) {
		if p := s.pend.take(id, dst); p != nil {
			s.undeliverable(p, "the next hop closed")
		}
	}
}

// relayToHSS forwards an S6a request of an MME.
func (s *Server) relayToHSS(c *conn, m *wire.Message, _ []wire.AVP) {
	h := s.hssConn()
	if h == nil {
		s.count(m, "unable_to_deliver")
		c.reply(s.errorAnswer(m, wire.ResultUnableToDeliver, "the HSS is not connected", nil))
		return
	}
	// One configured HSS: whatever the MME named, the request is for it
	// (hss.host and hss.realm), so that the HSS does not answer
	// DIAMETER_REALM_NOT_SERVED or relay it further.
	setHost, setRealm := false, false
	for i := range m.AVPs {
		a := &m.AVPs[i]
		if a.Flags&wire.AVPVendor != 0 {
			continue
		}
		switch a.Code {
		case wire.AVPDestinationHost:
			*a, setHost = s.hssDest[0], true
		case wire.AVPDestinationRealm:
			*a, setRealm = s.hssDest[1], true
		}
	}
	if !setHost {
		m.AVPs = append(m.AVPs, s.hssDest[0])
	}
	if !setRealm {
		m.AVPs = append(m.AVPs, s.hssDest[1])
	}
	s.relayTo(c, h, m)
}

// relayToMME forwards a request of the HSS (CLR, IDR, DSR, RSR …) to the
// MME its Destination-Host names.
func (s *Server) relayToMME(h *conn, m *wire.Message) {
	dest := identity(m, wire.AVPDestinationHost)
	c := s.mmeByHost(dest)
	if c == nil || c.apps&appS6a == 0 {
		s.count(m, "unable_to_deliver")
		h.reply(s.errorAnswer(m, wire.ResultUnableToDeliver, "no connected MME "+dest, nil))
		return
	}
	if !s.ownsSIM(c.tenant(), m) {
		// Origin-Host names are first come, first served across tenants:
		// a tenant's peer named like another's MME must not get its
		// CLR/IDR (subscription data) for SIMs that are not the tenant's.
		s.count(m, "unable_to_deliver")
		h.reply(s.errorAnswer(m, wire.ResultUnableToDeliver, "MME "+dest+" does not serve that user", nil))
		return
	}
	s.m.requests.WithLabelValues(wire.CommandAbbrev(m.Code, true), "relayed").Inc()
	s.relayTo(h, c, m)
}

// relayAnswer returns an answer to whoever sent the request, with the
// sender's hop-by-hop id; answers nobody waits for are dropped (RFC 6733
// §6.2: a late or duplicate answer).
func (s *Server) relayAnswer(c *conn, m *wire.Message, raw []byte) {
	p := s.pend.take(m.HopByHop, c)
	if p == nil {
		s.m.dropped.WithLabelValues("unexpected_answer").Inc()
		return
	}
	out := append([]byte(nil), raw...)
	binary.BigEndian.PutUint32(out[12:], p.hbh)
	result := resultName(resultOf(m))
	s.m.relayed.WithLabelValues(p.cmd, result).Inc()
	s.m.relaySeconds.WithLabelValues(p.cmd).Observe(s.now().Sub(p.start).Seconds())
	p.from.send(out)
}
