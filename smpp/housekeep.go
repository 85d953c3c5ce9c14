package smpp

import (
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

// housekeep runs beside a link's reader until the link closes: it answers
// requests the peer left unanswered for ResponseTimeout (through fail),
// sends enquire_link on an idle link, and drops a link silent for
// EnquireLinkInterval plus ResponseTimeout.
func (s *Server) housekeep(l *link, side string, fail func([]pendingReq, string), extra func(now int64)) {
	interval, timeout := int64(s.cfg.EnquireLinkInterval), int64(s.cfg.ResponseTimeout)
	tick := min(s.cfg.EnquireLinkInterval, s.cfg.ResponseTimeout) / 4
	tick = max(10*time.Millisecond, min(tick, time.Second))
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		now := s.clock().UnixNano()
		if extra != nil {
			extra(now)
		}
		if exp := l.expire(now - timeout); len(exp) > 0 {
			for _, pr := range exp {
				if pr.from == nil && pr.cmd == pdu.EnquireLink {
					l.pinging.Store(false)
				}
			}
			fail(exp, side+"_timeout")
		}
		if l.seen.Swap(false) {
			l.lastRead.Store(now)
		}
		idle := now - l.lastRead.Load()
		if idle > interval+timeout {
			l.close(errDead)
			return
		}
		if idle > interval && l.bound.Load() && l.pinging.CompareAndSwap(false, true) {
			l.sendLocal(&pdu.PDU{ID: pdu.EnquireLink}, now)
			s.m.countPDU(sideIndex(side), dirOut, pdu.EnquireLink)
		}
	}
}

func sideIndex(side string) int {
	if side == "esme" {
		return sideESME
	}
	return sideSMSC
}
