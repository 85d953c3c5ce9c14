package smpp

import (
	"errors"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// handleDeliver filters a deliver_sm or data_sm from the SMSC: receipts go
// to the account that submitted the message, device messages are checked
// against the SIM's policy and delivered to an account of its tenant.
func (u *upstream) handleDeliver(l *link, frame []byte, p *pdu.PDU) {
	s := u.r.s
	if err := p.Decode(frame); err != nil {
		status := pdu.ESME_RSYSERR
		var perr *pdu.Error
		if errors.As(err, &perr) {
			status = perr.Status
		}
		u.answer(l, p.ID, p.Seq, status)
		s.m.localAnswers.WithLabelValues("malformed").Inc()
		return
	}
	now := s.clock()
	ns := now.UnixNano()
	if p.IsReceipt() {
		account := ""
		if id, ok := p.ReceiptedMessageID(); ok {
			account, _ = s.receipts.get(u.r.cfg.Name, id, ns)
		}
		u.deliver(l, frame, p, s.receiptTargets(u.r, account, address(p.Dest.Addr)), simguard.Decision{}, ns)
		return
	}
	cls := Classify(p)
	if cls.Cause == CauseConflict {
		u.answer(l, p.ID, p.Seq, pdu.ESME_ROPTPARNOTALLWD)
		s.m.localAnswers.WithLabelValues("malformed").Inc()
		return
	}
	req := &u.req // the reader's own: see handleMT
	*req = simguard.Request{
		Kind:   simguard.KindSMSMO,
		Time:   now,
		MSISDN: address(p.Source.Addr),
		Peer:   address(p.Dest.Addr),
		SMS:    cls.Info(),
	}
	dec := s.limit(s.eval.Evaluate(req), "", ns)
	status := pdu.ESME_ROK
	if !dec.Allow {
		status = StatusFor(simguard.KindSMSMO, dec.Reason)
	}
	s.emit(decisionEvent{kind: simguard.KindSMSMO, dec: dec, status: status, p: p, cls: cls, route: u.r, now: now})
	if !dec.Allow {
		u.answer(l, p.ID, p.Seq, status)
		return
	}
	u.deliver(l, frame, p, s.moTargets(u.r, req.Peer, dec.TenantID), dec, ns)
}

// deliver relays a deliver_sm or data_sm to the first target bind with
// room in its window; with none, the SMSC gets ESME_RX_T_APPN and retries
// later.
// dec is the decision on a device message, whose SIM is metered once the
// ESME takes it (zero for receipts, which are not metered).
func (u *upstream) deliver(l *link, frame []byte, p *pdu.PDU, targets []*esmeSession, dec simguard.Decision, ns int64) {
	s := u.r.s
	for _, e := range targets {
		pr := pendingReq{from: l, fromSeq: p.Seq, cmd: p.ID, simID: dec.SIMID, tenant: dec.TenantID, group: dec.Group, start: ns, esme: e}
		if e.l.send(frame, pr, 0, &u.fs) == nil {
			s.m.countPDU(sideESME, dirOut, p.ID)
			return
		}
		pdu.SetSeq(frame, p.Seq) // send may have renumbered it before failing
	}
	u.answer(l, p.ID, p.Seq, pdu.ESME_RX_T_APPN)
	s.m.localAnswers.WithLabelValues("no_receiver").Inc()
}
