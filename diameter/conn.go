package diameter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

type role uint8

const (
	roleMME role = iota + 1 // a client that connected to us
	roleHSS                 // the HSS we connected to
)

func (r role) String() string {
	if r == roleHSS {
		return "hss"
	}
	return "mme"
}

// Peer states (RFC 6733 §5.6, reduced to what a responder and a single
// initiator need).
type state int32

const (
	stWaitCER state = iota // accepted, waiting for the CER
	stWaitCEA              // connected to the HSS, CER sent
	stOpen                 // capabilities exchanged
	stClosing              // DPR sent or received
	stClosed
)

var stateNames = [...]string{"wait_cer", "wait_cea", "open", "closing", "closed"}

func (s state) String() string { return stateNames[s] }

// Disconnect-Cause values (RFC 6733 §5.4.3).
const (
	discRebooting       = 0
	discBusy            = 1
	discDoNotWantToTalk = 2
)

// conn is one Diameter transport connection with its peer state machine.
// One goroutine reads and dispatches, one writes (batching flushes so
// pipelined answers share system calls), one runs the watchdog.
type conn struct {
	s      *Server
	nc     net.Conn
	role   role
	remote netip.Addr

	state atomic.Int32
	// hostp is the peer's Origin-Host, set by the reader once the CER/CEA
	// is read; close (any goroutine) reads it too.
	hostp atomic.Pointer[string]
	realm string                                // written by the reader before openMME, read under Server.mu
	peer  atomic.Pointer[simguard.DiameterPeer] // MMEs: the configured peer
	// unauth: counted in Server.unauth until the CER is accepted or the
	// connection closes.
	unauth atomic.Bool
	apps   uint8 // negotiated: appS13 | appS6a

	// Writes go straight to the socket through w, under wmu. Answers the
	// reader goroutine writes to its own connection are not flushed while
	// the next request is already buffered, so a pipelining peer gets its
	// answers in few system calls; everything else is flushed at once.
	wmu       sync.Mutex
	w         *bufio.Writer
	done      chan struct{}
	closeOnce sync.Once
	why       atomic.Pointer[string]

	lastRecv  atomic.Int64  // unix nanoseconds
	dwrSent   atomic.Int64  // unix nanoseconds of an unanswered DWR; 0 none
	hssReady  chan struct{} // HSS: closed once the CEA said success
	readyOnce sync.Once
}

const (
	appS13 uint8 = 1 << iota
	appS6a
)

func appBit(id uint32) uint8 {
	switch id {
	case wire.AppS13:
		return appS13
	case wire.AppS6a:
		return appS6a
	}
	return 0
}

func (s *Server) newConn(nc net.Conn, r role) *conn {
	c := &conn{s: s, nc: nc, role: r, w: bufio.NewWriterSize(nc, 32<<10), done: make(chan struct{}), hssReady: make(chan struct{})}
	c.remote = remoteAddr(nc)
	if r == roleMME {
		c.state.Store(int32(stWaitCER))
	} else {
		c.state.Store(int32(stWaitCEA))
	}
	c.lastRecv.Store(s.now().UnixNano())
	return c
}

// start runs the connection's goroutines, tracked by the server.
func (s *Server) start(c *conn) {
	s.register(c)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		c.watchdog()
	}()
	go func() {
		defer s.wg.Done()
		defer s.unregister(c)
		err := c.readLoop()
		c.close(closeReason(err))
	}()
}

func closeReason(err error) string {
	switch {
	case err == nil:
		return "closed"
	case errors.Is(err, io.EOF):
		return "peer closed the connection"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	}
	return err.Error()
}

func (c *conn) hostName() string {
	if p := c.hostp.Load(); p != nil {
		return *p
	}
	return ""
}

func (c *conn) setHost(h string) { c.hostp.Store(&h) }

// authenticated takes c out of the count of connections without a CER.
func (c *conn) authenticated() {
	if c.unauth.CompareAndSwap(true, false) {
		c.s.unauth.Add(-1)
	}
}

func (c *conn) st() state { return state(c.state.Load()) }

// close ends the connection once; the first reason is kept for the event.
func (c *conn) close(why string) {
	c.closeOnce.Do(func() {
		c.authenticated()
		c.why.Store(&why)
		c.state.Store(int32(stClosed))
		close(c.done)
		c.nc.Close()
		c.s.log.Info("diameter: connection closed", "role", c.role.String(), "peer", c.hostName(), "remote", c.remote.String(), "why", why)
		c.s.emitPeer(c, "disconnected", why)
	})
}

// write puts b on the connection, flushing when flush is set. A failed
// write closes the connection; false means b was not sent.
func (c *conn) write(b []byte, flush bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	if flush || c.w.Available() < len(b) {
		c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.Watchdog))
	}
	_, err := c.w.Write(b)
	if err == nil && flush {
		err = c.w.Flush()
	}
	if err != nil {
		c.close("write: " + err.Error())
		return false
	}
	return true
}

// send writes an encoded message and flushes: for any goroutine (relays,
// the watchdog, shutdown).
func (c *conn) send(b []byte) bool { return c.write(b, true) }

func (c *conn) sendMsg(m *wire.Message) bool { return c.send(m.Append(nil)) }

// reply writes an answer of the reader goroutine to its own connection;
// readLoop flushes it before it waits for more input.
func (c *conn) reply(m *wire.Message) bool { return c.write(m.Append(nil), false) }

// flushPending flushes what reply left buffered.
func (c *conn) flushPending() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.w.Buffered() == 0 {
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.Watchdog))
	if err := c.w.Flush(); err != nil {
		c.close("write: " + err.Error())
	}
}

// nextBuffered reports whether r already holds the whole next message.
func nextBuffered(r *bufio.Reader) bool {
	n := r.Buffered()
	if n < wire.HeaderLen {
		return false
	}
	hdr, err := r.Peek(4)
	if err != nil {
		return false
	}
	l, err := wire.PeekLength(hdr)
	return err == nil && n >= l
}

// readLoop reads messages and dispatches them until the connection fails.
// A message that cannot be framed (bad version, bad length, too large)
// ends the connection: the byte stream cannot be trusted any more.
func (c *conn) readLoop() error {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	buf := make([]byte, 4096)
	var m wire.Message
	for {
		wait := 3 * c.s.cfg.Watchdog
		if c.st() == stWaitCER || c.st() == stWaitCEA {
			wait = c.s.cfg.CERTimeout
		}
		c.nc.SetReadDeadline(time.Now().Add(wait))
		if _, err := io.ReadFull(r, buf[:wire.HeaderLen]); err != nil {
			return c.readErr(err)
		}
		n, err := wire.PeekLength(buf[:4])
		if err != nil {
			c.s.dropped(c, "malformed", err)
			return err
		}
		if n > c.s.cfg.MaxMessageSize {
			err := fmt.Errorf("message of %d bytes exceeds max_message_size %d", n, c.s.cfg.MaxMessageSize)
			c.s.dropped(c, "too_large", err)
			return err
		}
		if n > cap(buf) {
			nb := make([]byte, n)
			copy(nb, buf[:wire.HeaderLen])
			buf = nb
		}
		buf = buf[:cap(buf)]
		if _, err := io.ReadFull(r, buf[wire.HeaderLen:n]); err != nil {
			return c.readErr(err)
		}
		if err := m.Decode(buf[:n]); err != nil {
			c.s.dropped(c, "malformed", err)
			return err
		}
		c.lastRecv.Store(c.s.now().UnixNano())
		if err := c.dispatch(&m, buf[:n]); err != nil {
			c.flushPending()
			return err
		}
		if !nextBuffered(r) {
			c.flushPending()
		}
	}
}

func (c *conn) readErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if c.st() == stWaitCER {
			c.s.dropped(c, "no_cer", errors.New("no CER in time"))
			return errors.New("no CER within cer_timeout")
		}
		return errors.New("read timeout")
	}
	return err
}

// watchdog sends a DWR after Tw of silence and closes the connection when
// the DWA does not come within another Tw (RFC 3539 §3.4, without
// failover: there is one path per peer).
func (c *conn) watchdog() {
	tw := c.s.cfg.Watchdog
	tick := time.NewTicker(max(tw/4, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		st := c.st()
		if st != stOpen && st != stClosing {
			continue
		}
		now := c.s.now().UnixNano()
		if sent := c.dwrSent.Load(); sent != 0 {
			if time.Duration(now-sent) > tw {
				if st == stClosing {
					c.close("no DPA within " + tw.String())
					return
				}
				c.s.m.watchdog.WithLabelValues("timeout").Inc()
				c.close("watchdog: no DWA within " + tw.String())
				return
			}
			continue
		}
		if st == stClosing {
			continue
		}
		if time.Duration(now-c.lastRecv.Load()) >= tw {
			c.dwrSent.Store(now)
			c.s.m.watchdog.WithLabelValues("dwr_sent").Inc()
			c.sendMsg(c.s.newRequest(wire.CmdDeviceWatchdog, wire.AppCommon, false,
				wire.NewUint32(wire.AVPOriginStateID, 0, wire.AVPMandatory, c.s.stateID)))
		}
	}
}

// disconnect sends a DPR; the peer's DPA (or its closing) ends the
// connection, and the watchdog bounds the wait.
func (c *conn) disconnect(cause uint32) {
	if !c.state.CompareAndSwap(int32(stOpen), int32(stClosing)) {
		if st := c.st(); st != stClosing && st != stClosed {
			c.close("disconnect") // before the capabilities exchange: nothing to say
		}
		return // a DPR is already out, or the connection is gone
	}
	c.dwrSent.Store(c.s.now().UnixNano()) // the watchdog closes if no DPA comes
	c.sendMsg(c.s.newRequest(wire.CmdDisconnectPeer, wire.AppCommon, false,
		wire.NewUint32(wire.AVPDisconnectCause, 0, wire.AVPMandatory, cause)))
}

// newRequest makes a request from simguard with Origin-Host/Realm.
func (s *Server) newRequest(code, app uint32, proxiable bool, avps ...wire.AVP) *wire.Message {
	flags := wire.FlagRequest
	if proxiable {
		flags |= wire.FlagProxiable
	}
	m := &wire.Message{Header: wire.Header{Version: 1, Flags: flags, Code: code, AppID: app,
		HopByHop: s.nextHopByHop(), EndToEnd: s.nextHopByHop() ^ s.stateID<<20}}
	m.Add(s.originAVPs()...)
	m.Add(avps...)
	return m
}

// originAVPs are Origin-Host and Origin-Realm, encoded once (callers
// copy the slice header, never the data, which nobody modifies).
func (s *Server) originAVPs() []wire.AVP { return s.origin[:] }

// answer makes an answer to req with Result-Code and our origin.
func (s *Server) answer(req *wire.Message, result uint32, avps ...wire.AVP) *wire.Message {
	a := req.Answer()
	if sid := req.Find(wire.AVPSessionID, 0); sid != nil {
		a.Add(wire.NewBytes(wire.AVPSessionID, 0, wire.AVPMandatory, append([]byte(nil), sid.Data...)))
	}
	a.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, result))
	a.Add(s.originAVPs()...)
	a.Add(avps...)
	return a
}

// errorAnswer is a protocol error answer (E bit, RFC 6733 §7.2).
func (s *Server) errorAnswer(req *wire.Message, result uint32, msg string, failed *wire.AVP) *wire.Message {
	var extra []wire.AVP
	if msg != "" {
		extra = append(extra, wire.NewString(wire.AVPErrorMessage, 0, 0, msg))
	}
	if failed != nil {
		cp := *failed
		cp.Data = append([]byte(nil), failed.Data...)
		extra = append(extra, wire.NewGroup(wire.AVPFailedAVP, 0, wire.AVPMandatory, cp))
	}
	a := s.answer(req, result, extra...)
	a.Flags |= wire.FlagError
	return a
}
