package smpp

import (
	"errors"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// handleMT filters a submit_sm or data_sm from the ESME and relays it
// upstream, or answers it with the status of the denial.
func (e *esmeSession) handleMT(frame []byte, p *pdu.PDU) {
	s := e.s
	ba := e.bound.Load()
	err := p.Decode(frame)
	if !e.canTransmit() {
		e.answer(p.ID, p.Seq, pdu.ESME_RINVBNDSTS)
		return
	}
	if err != nil {
		status := pdu.ESME_RSYSERR
		var perr *pdu.Error
		if errors.As(err, &perr) {
			status = perr.Status
		}
		e.answer(p.ID, p.Seq, status)
		s.m.localAnswers.WithLabelValues("malformed").Inc()
		return
	}
	if s.draining() {
		e.local(p, pdu.ESME_RTHROTTLED, "shutdown")
		return
	}
	if e.revoked.Load() {
		e.local(p, pdu.ESME_RINVBNDSTS, "revoked")
		return
	}
	if int(e.inflight.Load()) >= s.cfg.ESMEWindow {
		e.local(p, pdu.ESME_RTHROTTLED, "esme_window")
		return
	}
	cls := Classify(p)
	if cls.Cause == CauseConflict {
		e.local(p, pdu.ESME_ROPTPARNOTALLWD, "malformed")
		return
	}
	now := s.clock()
	ns := now.UnixNano()
	// The session's own Request: passed to Evaluate through an interface,
	// a fresh one would escape to the heap for every message.
	req := &e.req
	*req = simguard.Request{
		Kind:   simguard.KindSMSMT,
		Time:   now,
		MSISDN: address(p.Dest.Addr),
		Peer:   address(p.Source.Addr),
		SMS:    cls.Info(),
	}
	dec := ba.scope(s.eval.Evaluate(req))
	dec = s.limit(dec, req.Peer, ns)
	status := pdu.ESME_ROK
	if !dec.Allow {
		status = StatusFor(simguard.KindSMSMT, dec.Reason)
	}
	s.emit(decisionEvent{kind: simguard.KindSMSMT, dec: dec, status: status, p: p, cls: cls, account: ba, route: ba.route, now: now})
	if !dec.Allow {
		e.answer(p.ID, p.Seq, status)
		return
	}
	up := ba.route.pick()
	if up == nil {
		e.local(p, pdu.ESME_RTHROTTLED, "upstream_down")
		return
	}
	pr := pendingReq{from: e.l, fromSeq: p.Seq, cmd: p.ID, simID: dec.SIMID, tenant: dec.TenantID, group: dec.Group, start: ns, esme: e}
	if p.RegisteredDelivery != 0 {
		pr.receipt = ba
	}
	e.inflight.Add(1)
	if err := up.send(frame, pr, s.cfg.WindowWait, &e.fs); err != nil {
		e.inflight.Add(-1)
		cause := "upstream_down"
		if errors.Is(err, errWindowFull) {
			cause = "window_full"
		}
		e.local(p, pdu.ESME_RTHROTTLED, cause)
		return
	}
	s.m.countPDU(sideSMSC, dirOut, p.ID)
}

// local answers a request the proxy cannot relay.
func (e *esmeSession) local(p *pdu.PDU, status pdu.Status, cause string) {
	e.answer(p.ID, p.Seq, status)
	e.s.m.localAnswers.WithLabelValues(cause).Inc()
}
