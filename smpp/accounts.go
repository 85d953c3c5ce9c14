package smpp

import (
	"context"
	"errors"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// AccountsChanged re-checks the account of every bound ESME; call it when
// the control plane says accounts changed (topic "smpp.accounts"). Binds
// of an account that was deleted or disabled, or whose password or
// settings changed, are unbound once their messages in flight are
// answered: the ESME binds again, with what is now its account. Without
// Deps.Accounts it does nothing. If the store cannot be read, binds stay.
func (s *Server) AccountsChanged(ctx context.Context) {
	if s.accounts == nil {
		return
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.bound))
	for id := range s.bound {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		acct, err := s.accounts.SMPPAccountBySystemID(ctx, id)
		cause := ""
		switch {
		case simguard.ErrorCode(err) == simguard.ENOTFOUND:
			cause = "account_deleted"
		case err != nil:
			s.log.Warn("smpp: cannot re-check an account; its binds stay", "system_id", id, "err", err)
			continue
		case acct.Disabled:
			cause = "account_disabled"
		}
		s.mu.Lock()
		for _, e := range s.bound[id] {
			c, old := cause, e.bound.Load().acct
			if c == "" && (old.ID != acct.ID || old.Version != acct.Version) {
				c = "account_changed"
			}
			if c != "" && !s.drained {
				e.revoke(c)
			}
		}
		s.mu.Unlock()
	}
}

var errRevoked = errors.New("account changed: bind revoked")

// revoke unbinds the session for cause: new messages are refused with
// ESME_RINVBNDSTS and no deliveries are routed to it; once the messages it
// has in flight are answered (or ResponseTimeout passed) it gets an
// unbind, and the link closes when the ESME answers (or after a second).
// The caller holds s.mu, so that Serve has not begun to wait for its
// goroutines.
func (e *esmeSession) revoke(cause string) {
	if !e.revoked.CompareAndSwap(false, true) {
		return
	}
	s := e.s
	ba := e.bound.Load()
	s.log.Info("esme bind revoked", "system_id", ba.acct.SystemID, "remote", e.remote, "cause", cause)
	s.goFunc(func() {
		// Emit may wait for room in the event buffer: not under s.mu.
		s.events.Emit(simguard.Event{
			Time: s.clock(), TenantID: ba.acct.TenantID, Source: "smpp", Type: "smpp.unbind",
			Attrs: map[string]string{"system_id": ba.acct.SystemID, "remote": e.remote, "cause": cause},
		})
		deadline := time.Now().Add(s.cfg.ResponseTimeout)
		for e.inflight.Load() > 0 && time.Now().Before(deadline) && !e.l.isClosed() {
			time.Sleep(5 * time.Millisecond)
		}
		e.l.sendLocal(&pdu.PDU{ID: pdu.Unbind}, s.clock().UnixNano())
		s.m.countPDU(sideESME, dirOut, pdu.Unbind)
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-e.l.done:
		case <-t.C:
		}
		e.l.close(errRevoked)
	})
}
