package smpp

import (
	"context"
	"errors"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// Bind results, as metric label values and event attributes.
const (
	bindOK          = "bound"
	bindUnknown     = "unknown_system_id"
	bindBadPassword = "bad_password"
	bindDisabled    = "disabled"
	bindNoRoute     = "no_route"
	bindMaxBinds    = "max_binds"
	bindStoreError  = "store_error"
	bindMalformed   = "malformed"
	bindAgain       = "already_bound"
)

// bindStatus answers each failed bind. Unknown system_id and wrong password
// get the same answer so that system_ids cannot be enumerated.
var bindStatus = map[string]pdu.Status{
	bindUnknown:     pdu.ESME_RINVPASWD,
	bindBadPassword: pdu.ESME_RINVPASWD,
	bindDisabled:    pdu.ESME_RBINDFAIL,
	bindNoRoute:     pdu.ESME_RBINDFAIL,
	bindMaxBinds:    pdu.ESME_RBINDFAIL,
	bindStoreError:  pdu.ESME_RBINDFAIL,
}

// handleBind authenticates a bind_* request and reports whether to keep
// reading; a failed bind is answered after BindFailDelay and hung up.
func (e *esmeSession) handleBind(frame []byte, p *pdu.PDU) bool {
	s := e.s
	if e.bound.Load() != nil {
		e.answer(pdu.IDOf(frame), pdu.Seq(frame), pdu.ESME_RALYBND)
		s.m.bindAttempts.WithLabelValues(bindAgain).Inc()
		return true
	}
	if err := p.Decode(frame); err != nil {
		var perr *pdu.Error
		status := pdu.ESME_RBINDFAIL
		if errors.As(err, &perr) {
			status = perr.Status
		}
		s.m.bindAttempts.WithLabelValues(bindMalformed).Inc()
		e.answer(p.ID, p.Seq, status)
		e.l.close(err)
		return false
	}
	e.fs.flush() // the check takes a while: what is queued goes first
	acct, result := s.authenticate(p.SystemID, p.Password)
	var ba *boundAccount
	if result == bindOK {
		name := acct.Upstream
		r, ok := s.routeByName[name]
		if name == "" {
			r, ok = s.routes[0], true
		}
		if !ok {
			result = bindNoRoute
			s.log.Error("smpp account names an upstream that is not configured", "system_id", acct.SystemID, "upstream", name)
		} else {
			ba = &boundAccount{acct: acct, route: r}
			if !s.register(e, ba) {
				result = bindMaxBinds
			}
		}
	}
	s.m.bindAttempts.WithLabelValues(result).Inc()
	e.bindEvent(p, acct, result)
	if result != bindOK {
		t := time.NewTimer(s.cfg.BindFailDelay)
		select {
		case <-t.C:
		case <-e.l.done:
			t.Stop()
		}
		e.answer(p.ID, p.Seq, bindStatus[result])
		e.l.close(errors.New("bind refused: " + result))
		return false
	}
	e.kind.Store(uint32(p.ID))
	e.bound.Store(ba)
	s.m.esmeBinds.WithLabelValues(bindTypeName(p.ID)).Inc()
	r := p.Resp(pdu.ESME_ROK)
	r.SystemID = s.cfg.SystemID
	if p.InterfaceVersion >= 0x34 {
		r.TLVs = []pdu.TLV{pdu.Uint8TLV(pdu.TagSCInterfaceVersion, 0x34)}
	}
	if e.l.writePDU(&r, &e.fs) {
		s.m.countPDU(sideESME, dirOut, r.ID)
	}
	e.l.bound.Store(true) // after the answer is queued: keepalives come after it
	s.log.Info("esme bound", "system_id", acct.SystemID, "remote", e.remote, "bind", bindTypeName(p.ID))
	return true
}

// authenticate checks the credentials with the control plane. At most a
// few checks run at once (each costs a bcrypt comparison there), so that a
// bind flood cannot take every CPU.
func (s *Server) authenticate(systemID, password string) (simguard.SMPPAccount, string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.BindTimeout)
	defer cancel()
	select {
	case s.bindSem <- struct{}{}:
	case <-ctx.Done():
		return simguard.SMPPAccount{}, bindStoreError
	}
	acct, err := s.auth.AuthenticateSMPP(ctx, systemID, password)
	<-s.bindSem
	var e *simguard.Error
	switch {
	case err == nil && acct.Disabled:
		return acct, bindDisabled
	case err == nil:
		return acct, bindOK
	case errors.As(err, &e) && e.Code == simguard.EUNAUTHORIZED && e.Field == "system_id":
		return simguard.SMPPAccount{}, bindUnknown
	case errors.As(err, &e) && e.Code == simguard.EUNAUTHORIZED:
		return simguard.SMPPAccount{}, bindBadPassword
	}
	s.log.Error("smpp bind check failed", "system_id", systemID, "err", err)
	return simguard.SMPPAccount{}, bindStoreError
}

func (e *esmeSession) bindEvent(p *pdu.PDU, acct simguard.SMPPAccount, result string) {
	decision, reason := "allow", simguard.ReasonAllowed
	switch result {
	case bindOK:
	case bindUnknown, bindBadPassword:
		decision, reason = "deny", simguard.ReasonAuthFailed
	default:
		decision, reason = "deny", ""
	}
	tenant := acct.TenantID
	if tenant == 0 {
		tenant = simguard.ProviderTenantID
	}
	e.s.events.Emit(simguard.Event{
		Time:     e.s.clock(),
		TenantID: tenant,
		Source:   "smpp",
		Type:     "smpp.bind",
		Decision: decision,
		Reason:   reason,
		Attrs: map[string]string{
			"system_id": p.SystemID,
			"bind_type": bindTypeName(p.ID),
			"remote":    e.remote,
			"result":    result,
		},
	})
}
