package smpp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// esmeSession is one connection from an ESME.
type esmeSession struct {
	s      *Server
	l      *link
	remote string
	// bound and kind are set once, by the reader, when the bind succeeds;
	// other goroutines read them to route deliveries.
	bound    atomic.Pointer[boundAccount]
	kind     atomic.Uint32 // the bind command
	inflight atomic.Int32  // MT requests of this ESME outstanding upstream
	revoked  atomic.Bool   // its account changed: being unbound
	opened   int64
	req      simguard.Request // the reader's, reused for every message
	fs       flushSet         // what the reader queued (flush.go)
}

const outputLimit = 8 << 20 // bytes queued for a peer that does not read

func (s *Server) startESME(nc net.Conn) {
	now := s.clock().UnixNano()
	e := &esmeSession{s: s, remote: nc.RemoteAddr().String(), opened: now}
	e.l = newLink(nc, s.cfg.ESMEWindow, outputLimit, s.cfg.ResponseTimeout, now)
	s.mu.Lock()
	if s.drained {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.esmes[e] = struct{}{}
	s.mu.Unlock()
	s.goFunc(e.l.writeLoop)
	s.goFunc(func() { s.housekeep(e.l, "esme", e.failPending, e.checkBindTimeout) })
	s.goFunc(e.readLoop)
}

func (e *esmeSession) canReceive() bool {
	k := pdu.CommandID(e.kind.Load())
	return (k == pdu.BindReceiver || k == pdu.BindTransceiver) && !e.l.isClosed() && !e.revoked.Load()
}

func (e *esmeSession) canTransmit() bool {
	k := pdu.CommandID(e.kind.Load())
	return k == pdu.BindTransmitter || k == pdu.BindTransceiver
}

func (e *esmeSession) readLoop() {
	s := e.s
	r := bufio.NewReaderSize(e.l.nc, 64<<10)
	buf := make([]byte, 0, 1024)
	var p pdu.PDU
	for {
		frame, err := pdu.ReadFrame(r, buf, s.cfg.MaxPDU)
		if err != nil {
			if errors.Is(err, pdu.ErrFrameLength) {
				// The stream cannot be resynchronised: say why and hang up.
				nack := pdu.PDU{ID: pdu.GenericNack, Status: pdu.ESME_RINVCMDLEN}
				e.l.writePDU(&nack, nil)
			}
			if !errors.Is(err, io.EOF) && !e.l.isClosed() {
				s.log.Debug("esme read", "remote", e.remote, "err", err)
			}
			e.l.close(err)
			break
		}
		buf = frame
		e.l.seen.Store(true)
		id := pdu.IDOf(frame)
		s.m.countPDU(sideESME, dirIn, id)
		more := frameBuffered(r)
		if !e.handle(id, frame, !more, &p) {
			break
		}
		if !more {
			e.fs.flush()
		}
	}
	e.fs.flush()
	e.l.close(errClosed)
	s.unregister(e)
	if e.bound.Load() != nil {
		s.m.esmeBinds.WithLabelValues(bindTypeName(pdu.CommandID(e.kind.Load()))).Dec()
	}
	e.failPending(e.l.failAll(), "esme_lost")
}

// handle processes one frame and reports whether to keep reading.
func (e *esmeSession) handle(id pdu.CommandID, frame []byte, idle bool, p *pdu.PDU) bool {
	switch id {
	case pdu.BindTransmitter, pdu.BindReceiver, pdu.BindTransceiver:
		return e.handleBind(frame, p)
	case pdu.EnquireLink:
		e.answer(id, pdu.Seq(frame), pdu.ESME_ROK)
		return true
	case pdu.Unbind:
		e.handleUnbind(pdu.Seq(frame))
		return false
	}
	if e.bound.Load() == nil {
		// Section 4: anything but a bind before binding is refused.
		if !id.IsResponse() {
			e.answer(id, pdu.Seq(frame), pdu.ESME_RINVBNDSTS)
		}
		return true
	}
	switch id {
	case pdu.SubmitSM, pdu.DataSM:
		e.handleMT(frame, p)
	case pdu.DeliverSMResp, pdu.DataSMResp, pdu.GenericNack, pdu.EnquireLinkResp, pdu.UnbindResp:
		return e.handleResp(id, frame, idle)
	case pdu.DeliverSM:
		e.answer(id, pdu.Seq(frame), pdu.ESME_RINVBNDSTS)
	default:
		if !id.IsResponse() {
			// query_sm, replace_sm, cancel_sm, submit_multi and unknown
			// commands are not relayed: replace_sm and submit_multi would
			// need filtering this proxy does not do.
			e.answer(id, pdu.Seq(frame), pdu.ESME_RINVCMDID)
		} else {
			e.s.m.unmatched.WithLabelValues("esme").Inc()
		}
	}
	return true
}

// answer sends the response to a request of the ESME.
func (e *esmeSession) answer(id pdu.CommandID, seq uint32, status pdu.Status) {
	req := pdu.PDU{ID: id, Seq: seq}
	r := req.Resp(status)
	if e.l.writePDU(&r, &e.fs) {
		e.s.m.countPDU(sideESME, dirOut, r.ID)
	}
}

// handleResp relays an ESME's answer to a delivery back to the SMSC.
func (e *esmeSession) handleResp(id pdu.CommandID, frame []byte, idle bool) bool {
	s := e.s
	pr, ok := e.l.take(pdu.Seq(frame))
	if !ok {
		s.m.unmatched.WithLabelValues("esme").Inc()
		return true
	}
	if pr.from == nil { // the proxy's own enquire_link or unbind
		e.l.pinging.Store(false)
		return pr.cmd != pdu.Unbind
	}
	if pdu.StatusOf(frame) == pdu.ESME_ROK && pr.simID != 0 {
		exact := idle && s.quotaBlocks(pr.tenant, pr.group)
		if exact {
			e.fs.flush() // nothing queued waits with us
		}
		s.usage.record(pr.simID, exact, s.cfg.UsageWait)
	}
	pdu.SetSeq(frame, pr.fromSeq)
	if pr.from.write(frame, &e.fs) {
		s.m.countPDU(sideSMSC, dirOut, id)
	}
	s.m.moLatency.Observe(float64(s.clock().UnixNano()-pr.start) / 1e9)
	return true
}

// handleUnbind answers an unbind once the ESME's messages in flight are
// answered (or ResponseTimeout passed), then closes.
func (e *esmeSession) handleUnbind(seq uint32) {
	e.fs.flush()
	deadline := time.Now().Add(e.s.cfg.ResponseTimeout)
	for e.inflight.Load() > 0 && time.Now().Before(deadline) && !e.l.isClosed() {
		time.Sleep(5 * time.Millisecond)
	}
	e.answer(pdu.Unbind, seq, pdu.ESME_ROK)
	e.l.close(errors.New("unbound by the ESME"))
}

// shutdown unbinds the ESME when the proxy stops.
func (e *esmeSession) shutdown() {
	if e.bound.Load() != nil {
		e.l.sendLocal(&pdu.PDU{ID: pdu.Unbind}, e.s.clock().UnixNano())
	}
	e.l.close(errShutdown)
}

// failPending answers the SMSC for deliveries this ESME will not answer:
// ESME_RX_T_APPN, so that the SMSC tries again later.
func (e *esmeSession) failPending(prs []pendingReq, cause string) {
	for _, pr := range prs {
		if pr.from == nil {
			continue
		}
		req := pdu.PDU{ID: pr.cmd, Seq: pr.fromSeq}
		r := req.Resp(pdu.ESME_RX_T_APPN)
		if pr.from.writePDU(&r, nil) {
			e.s.m.countPDU(sideSMSC, dirOut, r.ID)
		}
		e.s.m.localAnswers.WithLabelValues(cause).Inc()
	}
}

// checkBindTimeout closes a connection that has not bound in time.
func (e *esmeSession) checkBindTimeout(now int64) {
	if e.bound.Load() == nil && now-e.opened > int64(e.s.cfg.BindTimeout) {
		e.l.close(errors.New("no bind within bind timeout"))
	}
}

func bindTypeName(id pdu.CommandID) string {
	switch id {
	case pdu.BindTransmitter:
		return "transmitter"
	case pdu.BindReceiver:
		return "receiver"
	case pdu.BindTransceiver:
		return "transceiver"
	}
	return "none"
}
