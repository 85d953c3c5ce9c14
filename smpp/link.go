package smpp

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

var (
	errClosed     = errors.New("link closed")
	errWindowFull = errors.New("window full")
	errSlowPeer   = errors.New("peer does not read: output buffer full")
	errDead       = errors.New("peer silent beyond enquire_link interval and response timeout")
	errShutdown   = errors.New("proxy shutting down")
)

// pendingReq is a request sent on a link and not yet answered. For a
// relayed request, from and fromSeq say where the answer goes; the proxy's
// own requests (enquire_link, unbind) have from == nil.
type pendingReq struct {
	from    *link
	fromSeq uint32
	cmd     pdu.CommandID
	simID   int64 // the SIM to meter the message against once answered OK
	tenant  int64 // and its tenant and group, for Deps.QuotaBlocks
	group   string
	start   int64 // unix nanoseconds
	// esme is the ESME end of a relayed exchange: the sender of an MT
	// message, the receiver of an MO message or receipt.
	esme *esmeSession
	// receipt is set on MT messages that asked for a receipt: the message
	// ID of the answer is remembered for this account.
	receipt *boundAccount
}

// link is one SMPP connection, to an ESME or to an SMSC. Its owner runs the
// read loop; writes are queued and written in batches (see flush.go); the
// link numbers outgoing requests and keeps the table of requests
// outstanding on it.
type link struct {
	nc     net.Conn
	maxBuf int
	wait   time.Duration // write deadline

	wmu    sync.Mutex
	wbuf   []byte // queued, not yet taken for writing
	closed bool
	cause  error
	wake   chan struct{}
	done   chan struct{}

	// io is held while out is written, by flush or the writer goroutine;
	// off is how much of out is written. rc writes without blocking (nil
	// when the connection does not offer it: everything goes through the
	// writer goroutine).
	io  sync.Mutex
	out []byte
	off int
	rc  syscall.RawConn

	seq atomic.Uint32
	// seen is set by the reader on every frame; housekeep turns it into
	// lastRead once per tick, which spares a clock read per frame.
	seen     atomic.Bool
	lastRead atomic.Int64
	pinging  atomic.Bool
	// bound: the link may be sent enquire_link (an ESME only once it has
	// bound: before, it might not expect requests).
	bound atomic.Bool

	pmu     sync.Mutex
	pending map[uint32]pendingReq
	pclosed bool

	// The window: used counts relayed requests outstanding, up to window
	// (0: unbounded). Senders that find it full wait on freed, which
	// releases signal only while someone waits, so that the common case
	// costs two atomic adds per request and no channel operation.
	window  int32
	used    atomic.Int32
	waiting atomic.Int32
	freed   chan struct{}
}

func newLink(nc net.Conn, window int, maxBuf int, writeWait time.Duration, now int64) *link {
	l := &link{
		nc:      nc,
		maxBuf:  maxBuf,
		wait:    writeWait,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		pending: make(map[uint32]pendingReq),
		window:  int32(max(window, 0)),
		freed:   make(chan struct{}, 1),
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			l.rc = rc
		}
	}
	l.lastRead.Store(now)
	return l
}

// write queues a whole frame; false if the link is closed. With a flush
// set the reader that owns it flushes; without, the writer goroutine is
// woken.
func (l *link) write(frame []byte, f *flushSet) bool {
	l.wmu.Lock()
	if l.closed {
		l.wmu.Unlock()
		return false
	}
	if len(l.wbuf)+len(frame) > l.maxBuf {
		l.wmu.Unlock()
		l.close(errSlowPeer)
		return false
	}
	l.wbuf = append(l.wbuf, frame...)
	l.wmu.Unlock()
	l.queuedFor(f)
	return true
}

func (l *link) queuedFor(f *flushSet) {
	if f != nil {
		f.add(l)
	} else {
		l.kick()
	}
}

// writePDU encodes p straight into the output buffer; f as for write.
func (l *link) writePDU(p *pdu.PDU, f *flushSet) bool {
	l.wmu.Lock()
	if l.closed {
		l.wmu.Unlock()
		return false
	}
	var err error
	l.wbuf, err = p.AppendTo(l.wbuf)
	l.wmu.Unlock()
	if err != nil {
		// Only PDUs the proxy builds itself come here, so this is a bug;
		// the peer is better off reconnecting than waiting for an answer.
		l.close(fmt.Errorf("encode %s: %w", p.ID, err))
		return false
	}
	l.queuedFor(f)
	return true
}

func (l *link) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// close stops the link: no more writes are queued, the writer flushes and
// closes the connection, and the owner's blocked read returns. The first
// cause is kept.
func (l *link) close(cause error) {
	l.wmu.Lock()
	if l.closed {
		l.wmu.Unlock()
		return
	}
	l.closed, l.cause = true, cause
	close(l.done)
	l.wmu.Unlock()
	l.nc.SetReadDeadline(time.Now())
}

func (l *link) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *link) closeCause() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return l.cause
}

// nextSeq returns the next sequence number, 1 to 0x7FFFFFFF (the range
// section 5.1.4 allows), wrapping around.
func (l *link) nextSeq() uint32 {
	for {
		s := l.seq.Add(1) & 0x7fffffff
		if s != 0 {
			return s
		}
	}
}

// send relays a request: it takes a window slot (waiting up to wait),
// records e, rewrites the frame's sequence number to one of this link and
// queues it (f as for write; f is flushed before waiting for a slot).
// After a nil return the request will be answered through the pending
// table (by take, expire or failAll), exactly once.
func (l *link) send(frame []byte, e pendingReq, wait time.Duration, f *flushSet) error {
	if l.isClosed() {
		return errClosed
	}
	if err := l.acquire(wait, f); err != nil {
		return err
	}
	seq := l.nextSeq()
	l.pmu.Lock()
	if l.pclosed {
		l.pmu.Unlock()
		l.release(1)
		return errClosed
	}
	l.pending[seq] = e
	l.pmu.Unlock()
	pdu.SetSeq(frame, seq)
	l.write(frame, f) // if it fails, the link is closing and failAll answers e
	return nil
}

// sendLocal sends one of the proxy's own requests.
func (l *link) sendLocal(p *pdu.PDU, now int64) {
	p.Seq = l.nextSeq()
	l.pmu.Lock()
	if l.pclosed {
		l.pmu.Unlock()
		return
	}
	l.pending[p.Seq] = pendingReq{cmd: p.ID, start: now}
	l.pmu.Unlock()
	l.writePDU(p, nil)
}

// take removes the request a response answers.
func (l *link) take(seq uint32) (pendingReq, bool) {
	l.pmu.Lock()
	e, ok := l.pending[seq]
	if ok {
		delete(l.pending, seq)
	}
	l.pmu.Unlock()
	if ok && e.from != nil {
		l.release(1)
	}
	return e, ok
}

// expire removes the requests sent before the given time.
func (l *link) expire(before int64) []pendingReq {
	var out []pendingReq
	l.pmu.Lock()
	for seq, e := range l.pending {
		if e.start < before {
			delete(l.pending, seq)
			out = append(out, e)
		}
	}
	l.pmu.Unlock()
	l.settle(out)
	return out
}

// failAll closes the pending table and returns everything still in it.
// The owner calls it once its read loop has ended.
func (l *link) failAll() []pendingReq {
	l.pmu.Lock()
	l.pclosed = true
	out := make([]pendingReq, 0, len(l.pending))
	for _, e := range l.pending {
		out = append(out, e)
	}
	clear(l.pending)
	l.pmu.Unlock()
	l.settle(out)
	return out
}

func (l *link) settle(out []pendingReq) {
	n := 0
	for _, e := range out {
		if e.from != nil {
			n++
		}
	}
	if n > 0 {
		l.release(n)
	}
}

func (l *link) outstanding() int {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	return len(l.pending)
}
