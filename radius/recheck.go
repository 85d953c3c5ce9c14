package radius

import (
	"context"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// OnPolicyChange re-evaluates live sessions against next (the new
// snapshot) and sends a Disconnect-Request for every session it now
// denies: a suspended or terminated SIM, data turned off, a window that
// ended, a quota used up, an IMEI binding that changed. With simIDs only
// those SIMs' sessions are checked; without, all of them. It returns how
// many disconnects it started; they run in the background until done or
// until the server stops.
func (s *Server) OnPolicyChange(ctx context.Context, next simguard.Evaluator, simIDs ...int64) int {
	return s.recheck(ctx, next, s.live.candidates(simIDs, s.now()))
}

func (s *Server) recheckLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RecheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.OnPolicyChange(ctx, s.eval)
		}
	}
}

// recheck evaluates each session as a new Access-Request now would be and
// starts a disconnect for each denied one.
func (s *Server) recheck(ctx context.Context, ev simguard.Evaluator, list []liveSession) int {
	now := s.now()
	started := 0
	for i := range list {
		ls := &list[i]
		req := ls.req
		req.Time = now
		dec := ev.Evaluate(&req)
		if dec.Allow || dec.Reason == simguard.ReasonBadRequest {
			// bad_request: the stored session lacks what the policy needs;
			// that is not a reason to cut it.
			continue
		}
		if s.startDisconnect(ls, dec.Reason) {
			started++
		}
	}
	return started
}

// startDisconnect queues a Disconnect-Request for a disconnect worker,
// which records its outcome on the session.
func (s *Server) startDisconnect(ls *liveSession, reason simguard.Reason) bool {
	c := s.clients.Load().byName[ls.key.nas]
	if c == nil || !s.live.claim(ls.key) {
		return false
	}
	addr := c.CoAAddr
	if !addr.IsValid() {
		addr = ls.nasAddr
	}
	job := discJob{ls: *ls, c: c, reason: reason, t: DisconnectTarget{
		Addr: netip.AddrPortFrom(addr, c.CoAPort), Secret: c.secret,
		SessionID: ls.key.id, UserName: ls.userName, FramedIP: ls.ip,
	}}
	select {
	case s.discQ <- job:
		return true
	default:
		// The queue is full (a mass suspension): the next recheck retries.
		s.live.settle(ls.key, false, time.Time{})
		s.m.disconnect.WithLabelValues("queue_full").Inc()
		return false
	}
}

// discQueueLen bounds the Disconnect-Requests waiting for a worker.
const discQueueLen = 1 << 16

type discJob struct {
	ls     liveSession
	c      *nasClient
	t      DisconnectTarget
	reason simguard.Reason
}

// disconnectLoop is one of Config.Disconnect.Concurrency workers. A
// Disconnect-Request in progress finishes when the server stops; queued
// ones are dropped (their sessions stay live and are rechecked after a
// restart).
func (s *Server) disconnectLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.discQ:
			res, err := s.disc.Disconnect(context.WithoutCancel(ctx), j.t, j.reason)
			if err != nil {
				s.log.Warn("radius: disconnect", "nas", j.c.Name, "session", j.ls.key.id, "err", err)
			}
			s.finishDisconnect(&j.ls, j.c, j.t, res)
		}
	}
}

func (s *Server) finishDisconnect(ls *liveSession, c *nasClient, t DisconnectTarget, res simguard.RADIUSDisconnect) {
	s.m.disconnect.WithLabelValues(string(res.Outcome)).Inc()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	if err := s.sessions.SetSessionDisconnect(ctx, ls.id, res); err != nil {
		s.log.Warn("radius: record disconnect", "session", ls.key.id, "err", err)
	}
	gone := res.Outcome == simguard.DisconnectNAK && res.ErrorCause == errorCauseSessionNotFound
	switch {
	case res.Outcome == simguard.DisconnectACK:
		s.live.settle(ls.key, true, time.Time{})
	case gone:
		// The NAS has no such session: close it so it stops counting as live.
		s.closeGone(ctx, ls)
	default:
		s.live.settle(ls.key, false, s.now().Add(s.cfg.Disconnect.RetryAfter))
	}
	attrs := map[string]string{
		"nas": c.Name, "session": ls.key.id, "outcome": string(res.Outcome),
		"attempts": itoa(uint64(res.Attempts)), "coa_addr": t.Addr.String(),
	}
	if res.ErrorCause != 0 {
		attrs["error_cause"] = itoa(uint64(res.ErrorCause))
	}
	if ls.req.IMSI != "" {
		attrs["imsi"] = ls.req.IMSI
	}
	s.emit(EventDisconnect, "", res.Reason, ls.simID, ls.tenantID, attrs)
}

func (s *Server) closeGone(ctx context.Context, ls *liveSession) {
	mu := s.sessionLock(ls.key)
	mu.Lock()
	defer mu.Unlock()
	rs, err := s.sessions.LiveSession(ctx, ls.key.nas, ls.key.id)
	if err == nil {
		rs.Stop, rs.TerminateCause = s.now(), "nas-session-not-found"
		err = s.sessions.SaveSession(ctx, &rs)
	}
	if err != nil && simguard.ErrorCode(err) != simguard.ENOTFOUND {
		s.log.Warn("radius: close session the NAS does not have", "session", ls.key.id, "err", err)
		s.live.settle(ls.key, false, s.now().Add(s.cfg.Disconnect.RetryAfter))
		return
	}
	s.live.remove(ls.key)
	s.m.live.Set(float64(s.live.len()))
}
