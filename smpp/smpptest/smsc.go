package smpptest

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

// SMSCOptions configure NewSMSC.
type SMSCOptions struct {
	// SystemID and Password, when set, are required of binds.
	SystemID string
	Password string
	// Record keeps a copy of every submit_sm and data_sm frame received.
	Record bool
	// Respond decides the answer to a submit_sm or data_sm: a status, and
	// false to leave it unanswered. nil answers ESME_ROK.
	Respond func(*pdu.PDU) (pdu.Status, bool)
	// Delay holds every answer to a submit_sm or data_sm this long, as a
	// real SMSC that stores the message first does.
	Delay time.Duration
}

// SMSC accepts binds, answers messages with fresh message IDs, and sends
// deliver_sm on demand.
type SMSC struct {
	ln   net.Listener
	opt  SMSCOptions
	mu   sync.Mutex
	conn map[*conn]bool // true once bound
	recv [][]byte
	n    atomic.Int64
	ids  atomic.Uint64
	wg   sync.WaitGroup
}

// NewSMSC listens on addr ("127.0.0.1:0" for a free port).
func NewSMSC(addr string, opt SMSCOptions) (*SMSC, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &SMSC{ln: ln, opt: opt, conn: map[*conn]bool{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the listening address.
func (s *SMSC) Addr() string { return s.ln.Addr().String() }

func (s *SMSC) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := newConn(nc)
		s.mu.Lock()
		s.conn[c] = false
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *SMSC) serve(c *conn) {
	defer s.wg.Done()
	var delayed chan delayedFrame
	if s.opt.Delay > 0 {
		delayed = make(chan delayedFrame, 1<<16)
		defer close(delayed)
		s.wg.Add(1)
		go s.delayLoop(c, delayed)
	}
	defer func() {
		s.mu.Lock()
		delete(s.conn, c)
		s.mu.Unlock()
		c.close()
		c.failAll()
	}()
	var p pdu.PDU
	for {
		frame, err := pdu.ReadFrame(c.r, nil, pdu.DefaultMaxLen)
		if err != nil {
			return
		}
		if err := p.Decode(frame); err != nil {
			var perr *pdu.Error
			if errors.As(err, &perr) {
				r := p.Resp(perr.Status)
				c.writePDU(&r)
			}
			continue
		}
		switch {
		case p.ID.IsBind():
			st := pdu.ESME_ROK
			if s.opt.SystemID != "" && (p.SystemID != s.opt.SystemID || p.Password != s.opt.Password) {
				st = pdu.ESME_RINVPASWD
			}
			r := p.Resp(st)
			r.SystemID = "smpptest"
			c.writePDU(&r)
			if st == pdu.ESME_ROK {
				s.mu.Lock()
				s.conn[c] = true
				s.mu.Unlock()
			}
		case p.ID == pdu.SubmitSM || p.ID == pdu.DataSM:
			s.n.Add(1)
			if s.opt.Record {
				s.mu.Lock()
				s.recv = append(s.recv, bytes.Clone(frame))
				s.mu.Unlock()
			}
			st, answer := pdu.ESME_ROK, true
			if s.opt.Respond != nil {
				st, answer = s.opt.Respond(&p)
			}
			if !answer {
				continue
			}
			r := p.Resp(st)
			if st == pdu.ESME_ROK {
				r.MessageID = strconv.FormatUint(s.ids.Add(1), 16)
			}
			if delayed != nil {
				f, _ := r.Encode()
				delayed <- delayedFrame{due: time.Now().Add(s.opt.Delay), frame: f}
				continue
			}
			c.writePDU(&r)
		case p.ID.IsResponse():
			// A copy, since the callback may keep it beyond this frame.
			q := p
			q.TLVs = append([]pdu.TLV(nil), p.TLVs...)
			c.resolve(&q)
		case p.ID == pdu.Unbind:
			r := p.Resp(pdu.ESME_ROK)
			c.writePDU(&r)
			return
		default:
			r := p.Resp(pdu.ESME_ROK)
			c.writePDU(&r)
		}
	}
}

type delayedFrame struct {
	due   time.Time
	frame []byte
}

// delayLoop writes held answers when they are due; they are queued in the
// order they fall due, since the delay is the same for all.
func (s *SMSC) delayLoop(c *conn, q <-chan delayedFrame) {
	defer s.wg.Done()
	for d := range q {
		if w := time.Until(d.due); w > 0 {
			time.Sleep(w)
		}
		c.writeFrame(d.frame)
	}
}

// Submits counts the submit_sm and data_sm received.
func (s *SMSC) Submits() int64 { return s.n.Load() }

// Received returns copies of the recorded frames.
func (s *SMSC) Received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.recv...)
}

// Bound counts the bound connections.
func (s *SMSC) Bound() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.conn {
		if b {
			n++
		}
	}
	return n
}

// Deliver sends p (a deliver_sm or data_sm) on a bound connection and
// waits for the answer.
func (s *SMSC) Deliver(p *pdu.PDU, timeout time.Duration) (*pdu.PDU, error) {
	s.mu.Lock()
	var c *conn
	for x, b := range s.conn {
		if b {
			c = x
			break
		}
	}
	s.mu.Unlock()
	if c == nil {
		return nil, errors.New("smpptest: no bound connection")
	}
	ch := make(chan *pdu.PDU, 1)
	errc := make(chan error, 1)
	if err := c.request(p, func(r *pdu.PDU, err error) {
		if err != nil {
			errc <- err
			return
		}
		ch <- r
	}); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case err := <-errc:
		return nil, err
	case <-time.After(timeout):
		return nil, errors.New("smpptest: no answer to deliver_sm in time")
	}
}

// Close stops listening and drops every connection at once, as a crashed
// SMSC would.
func (s *SMSC) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conn {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
