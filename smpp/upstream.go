package smpp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// route is one configured upstream SMSC route: Binds independent binds,
// each with its own connection loop.
type route struct {
	s     *Server
	cfg   simguard.SMPPUpstream
	binds []*upstream
	rr    atomic.Uint32
	up    prometheus.Gauge
	load  prometheus.Gauge
}

// upstream is one bind of a route. cur holds its link while bound.
type upstream struct {
	r   *route
	idx int
	cur atomic.Pointer[link]
	req simguard.Request // the reader's, reused for every message
	fs  flushSet         // what the reader queued (flush.go)
}

func newRoute(s *Server, cfg simguard.SMPPUpstream) *route {
	r := &route{
		s:    s,
		cfg:  cfg,
		up:   s.m.upstreamBinds.WithLabelValues(cfg.Name),
		load: s.m.inflight.WithLabelValues("smsc", cfg.Name),
	}
	for i := range cfg.Binds {
		r.binds = append(r.binds, &upstream{r: r, idx: i})
	}
	return r
}

// pick returns a bound link with a free window slot, or any bound link
// (send then waits for a slot), or nil when the route is down.
func (r *route) pick() *link {
	n := len(r.binds)
	start := int(r.rr.Add(1))
	var any *link
	for i := range n {
		l := r.binds[(start+i)%n].cur.Load()
		if l == nil || l.isClosed() {
			continue
		}
		if !l.full() {
			return l
		}
		any = l
	}
	return any
}

// run keeps the bind up until ctx ends: connect (trying the route's
// addresses in order), serve, and after a failure wait with exponential
// backoff and jitter before the next attempt.
func (u *upstream) run(ctx context.Context) {
	s := u.r.s
	backoff := s.cfg.ReconnectMin
	for ctx.Err() == nil {
		l, r, addr, err := u.connect(ctx)
		if err != nil {
			s.log.Warn("upstream connect", "upstream", u.r.cfg.Name, "bind", u.idx, "err", err, "retry_in", backoff)
			jitter := time.Duration(rand.Int64N(int64(backoff)/5 + 1))
			t := time.NewTimer(backoff + jitter)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, s.cfg.ReconnectMax)
			continue
		}
		backoff = s.cfg.ReconnectMin
		u.serve(ctx, l, r, addr)
	}
}

// connect dials the route's addresses in order and binds as transceiver
// on the first that answers.
func (u *upstream) connect(ctx context.Context) (*link, *bufio.Reader, string, error) {
	s, cfg := u.r.s, u.r.cfg
	var errs []error
	for _, addr := range cfg.Addrs {
		d := net.Dialer{Timeout: s.cfg.BindTimeout}
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			s.m.connects.WithLabelValues(cfg.Name, "dial_error").Inc()
			errs = append(errs, err)
			continue
		}
		r, err := u.bind(nc)
		if err != nil {
			nc.Close()
			s.m.connects.WithLabelValues(cfg.Name, "bind_error").Inc()
			errs = append(errs, fmt.Errorf("bind to %s: %w", addr, err))
			continue
		}
		s.m.connects.WithLabelValues(cfg.Name, "bound").Inc()
		l := newLink(nc, cfg.Window, outputLimit, s.cfg.ResponseTimeout, s.clock().UnixNano())
		l.seq.Store(1) // the bind used 1
		l.bound.Store(true)
		return l, r, addr, nil
	}
	return nil, nil, "", errors.Join(errs...)
}

// bind sends bind_transceiver and waits for its answer.
func (u *upstream) bind(nc net.Conn) (*bufio.Reader, error) {
	s, cfg := u.r.s, u.r.cfg
	nc.SetDeadline(time.Now().Add(s.cfg.BindTimeout))
	defer nc.SetDeadline(time.Time{})
	req := pdu.PDU{ID: pdu.BindTransceiver, Seq: 1, SystemID: cfg.SystemID, Password: cfg.Password,
		SystemType: cfg.SystemType, InterfaceVersion: 0x34}
	b, err := req.Encode()
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(b); err != nil {
		return nil, err
	}
	s.m.countPDU(sideSMSC, dirOut, req.ID)
	r := bufio.NewReaderSize(nc, 64<<10)
	for range 8 { // an SMSC may send enquire_link before answering
		frame, err := pdu.ReadFrame(r, nil, s.cfg.MaxPDU)
		if err != nil {
			return nil, err
		}
		s.m.countPDU(sideSMSC, dirIn, pdu.IDOf(frame))
		switch pdu.IDOf(frame) {
		case pdu.BindTransceiverResp, pdu.GenericNack:
			if st := pdu.StatusOf(frame); st != pdu.ESME_ROK {
				return nil, fmt.Errorf("refused with %s", st)
			}
			return r, nil
		case pdu.EnquireLink:
			resp := pdu.PDU{ID: pdu.EnquireLinkResp, Seq: pdu.Seq(frame)}
			out, _ := resp.Encode()
			if _, err := nc.Write(out); err != nil {
				return nil, err
			}
		}
	}
	return nil, errors.New("no bind_transceiver_resp")
}

// serve runs a bound link until it fails or ctx ends, then answers every
// message left outstanding on it.
func (u *upstream) serve(ctx context.Context, l *link, r *bufio.Reader, addr string) {
	s, cfg := u.r.s, u.r.cfg
	s.goFunc(l.writeLoop)
	s.goFunc(func() { s.housekeep(l, "upstream", u.failPending, nil) })
	stop := context.AfterFunc(ctx, func() {
		l.sendLocal(&pdu.PDU{ID: pdu.Unbind}, s.clock().UnixNano())
		l.close(errShutdown)
	})
	defer stop()
	u.cur.Store(l)
	u.r.up.Inc()
	s.log.Info("upstream bound", "upstream", cfg.Name, "bind", u.idx, "addr", addr)
	s.upstreamEvent(cfg.Name, addr, "up")

	buf := make([]byte, 0, 1024)
	var p, resp pdu.PDU
	for {
		frame, err := pdu.ReadFrame(r, buf, s.cfg.MaxPDU)
		if err != nil {
			if errors.Is(err, pdu.ErrFrameLength) {
				nack := pdu.PDU{ID: pdu.GenericNack, Status: pdu.ESME_RINVCMDLEN}
				l.writePDU(&nack, nil)
			}
			l.close(err)
			break
		}
		buf = frame
		l.seen.Store(true)
		id := pdu.IDOf(frame)
		s.m.countPDU(sideSMSC, dirIn, id)
		more := frameBuffered(r)
		if !u.handle(l, id, frame, !more, &p, &resp) {
			u.fs.flush()
			l.close(errors.New("unbound by the SMSC"))
			break
		}
		if !more {
			u.fs.flush()
		}
	}
	u.fs.flush()
	u.cur.CompareAndSwap(l, nil)
	u.r.up.Dec()
	cause := l.closeCause()
	if !errors.Is(cause, errShutdown) {
		s.log.Warn("upstream link lost", "upstream", cfg.Name, "bind", u.idx, "addr", addr, "err", cause)
	}
	s.upstreamEvent(cfg.Name, addr, "down")
	u.failPending(l.failAll(), "upstream_lost")
}

// handle processes one frame from the SMSC and reports whether to keep
// reading.
func (u *upstream) handle(l *link, id pdu.CommandID, frame []byte, idle bool, p, resp *pdu.PDU) bool {
	switch id {
	case pdu.SubmitSMResp, pdu.DataSMResp, pdu.GenericNack, pdu.EnquireLinkResp, pdu.UnbindResp:
		u.handleResp(l, id, frame, idle, resp)
	case pdu.DeliverSM, pdu.DataSM:
		u.handleDeliver(l, frame, p)
	case pdu.EnquireLink:
		u.answer(l, id, pdu.Seq(frame), pdu.ESME_ROK)
	case pdu.Unbind:
		u.answer(l, id, pdu.Seq(frame), pdu.ESME_ROK)
		return false
	default:
		if id.IsResponse() {
			u.r.s.m.unmatched.WithLabelValues("smsc").Inc()
		} else {
			u.answer(l, id, pdu.Seq(frame), pdu.ESME_RINVCMDID)
		}
	}
	return true
}

func (u *upstream) answer(l *link, id pdu.CommandID, seq uint32, status pdu.Status) {
	req := pdu.PDU{ID: id, Seq: seq}
	r := req.Resp(status)
	if l.writePDU(&r, &u.fs) {
		u.r.s.m.countPDU(sideSMSC, dirOut, r.ID)
	}
}

// handleResp relays the SMSC's answer to an ESME's message, with the
// ESME's sequence number and everything else unchanged. idle says that
// nothing more is buffered on the link (see usageMeter).
func (u *upstream) handleResp(l *link, id pdu.CommandID, frame []byte, idle bool, resp *pdu.PDU) {
	s := u.r.s
	pr, ok := l.take(pdu.Seq(frame))
	if !ok {
		s.m.unmatched.WithLabelValues("smsc").Inc()
		return
	}
	if pr.from == nil {
		l.pinging.Store(false)
		return
	}
	now := s.clock().UnixNano()
	if pdu.StatusOf(frame) == pdu.ESME_ROK {
		if pr.simID != 0 {
			exact := idle && s.quotaBlocks(pr.tenant, pr.group)
			if exact {
				u.fs.flush() // nothing queued waits with us
			}
			s.usage.record(pr.simID, exact, s.cfg.UsageWait)
		}
		if pr.receipt != nil && resp.Decode(frame) == nil && resp.MessageID != "" {
			s.receipts.put(u.r.cfg.Name, resp.MessageID, pr.receipt.acct.SystemID, now)
		}
	}
	pdu.SetSeq(frame, pr.fromSeq)
	if pr.from.write(frame, &u.fs) {
		s.m.countPDU(sideESME, dirOut, id)
	}
	pr.esme.inflight.Add(-1)
	s.m.mtLatency.Observe(float64(now-pr.start) / 1e9)
}

// failPending answers ESMEs for messages the SMSC will not answer on this
// link: ESME_RSYSERR, since the SMSC may or may not have taken them.
func (u *upstream) failPending(prs []pendingReq, cause string) {
	s := u.r.s
	for _, pr := range prs {
		if pr.from == nil {
			continue
		}
		req := pdu.PDU{ID: pr.cmd, Seq: pr.fromSeq}
		r := req.Resp(pdu.ESME_RSYSERR)
		if pr.from.writePDU(&r, nil) {
			s.m.countPDU(sideESME, dirOut, r.ID)
		}
		pr.esme.inflight.Add(-1)
		s.m.localAnswers.WithLabelValues(cause).Inc()
	}
}

func (s *Server) upstreamEvent(name, addr, state string) {
	s.events.Emit(simguard.Event{
		Time:     s.clock(),
		TenantID: simguard.ProviderTenantID,
		Source:   "smpp",
		Type:     "smpp.upstream",
		Attrs:    map[string]string{"upstream": name, "addr": addr, "state": state},
	})
}
