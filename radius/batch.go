package radius

import (
	"context"
	"errors"
	"net"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"layeh.com/radius"
)

// batchSize is how many datagrams one recvmmsg moves. Under load it
// divides the read system calls per request by up to this much; when idle
// a batch is one packet and nothing waits for it to fill.
const batchSize = 32

// Answers leave in small groups (one sendmmsg each): a request's answer
// never waits for the whole batch it was read with, only for at most
// flushEvery answers or maxHold of work on them, whichever comes first.
// Under load that keeps most of the saving in system calls while the
// first request of a full batch is not held for 31 decisions more.
const (
	flushEvery = 8
	maxHold    = 100 * time.Microsecond
)

type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(c *net.UDPConn) batchConn {
	if ua, ok := c.LocalAddr().(*net.UDPAddr); ok && ua.IP.To4() != nil {
		return ipv4.NewPacketConn(c)
	}
	return ipv6.NewPacketConn(c)
}

// batchLoop serves an authentication socket in batches: read what has
// arrived, decide each packet, send the answers together. Accounting
// sockets use readLoop instead, so that one slow store write does not
// hold back the answers read with it.
func (s *Server) batchLoop(ctx context.Context, l *listener) {
	bc := newBatchConn(l.conn)
	msgs := make([]ipv4.Message, batchSize)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, radius.MaxPacketLength+1)}
	}
	// Answers wait in out[:pending], each built in its own scratch.
	out := make([]ipv4.Message, flushEvery)
	var scs [flushEvery]*scratch
	for i := range out {
		scs[i] = newScratch()
		out[i].Buffers = make([][]byte, 1)
	}
	pending := 0
	var types [flushEvery]string
	for {
		n, err := bc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("radius: read", "err", err)
			continue
		}
		read := time.Now()
		held := read // when work on the answers in out began
		for i := range n {
			m := &msgs[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			resp, typ := s.process(ctx, l, m.Buffers[0][:m.N], ua.AddrPort(), scs[pending])
			if resp != nil {
				types[pending] = typ
				out[pending].Buffers[0], out[pending].Addr = resp, m.Addr
				pending++
			}
			if pending == flushEvery || pending > 0 && time.Since(held) >= maxHold {
				s.flush(bc, out[:pending], types[:pending], read)
				pending, held = 0, time.Now()
			}
		}
		if pending > 0 {
			s.flush(bc, out[:pending], types[:pending], read)
			pending = 0
		}
	}
}

// flush sends answers and observes their latency from when their batch
// was read.
func (s *Server) flush(bc batchConn, out []ipv4.Message, types []string, read time.Time) {
	for sent := 0; sent < len(out); {
		k, err := bc.WriteBatch(out[sent:], 0)
		if err != nil {
			s.log.Warn("radius: send", "err", err)
			break
		}
		sent += k
	}
	d := time.Since(read).Seconds()
	for _, t := range types {
		if t != "" {
			s.m.observe(t, d)
		}
	}
	for i := range out {
		out[i].Addr = nil // let the address go
	}
}
