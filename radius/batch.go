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

// batchSize is how many datagrams one recvmmsg/sendmmsg moves. Under load
// it divides the system calls per request by up to this much; when idle a
// batch is one packet and nothing waits for it to fill.
const batchSize = 32

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
	out := make([]ipv4.Message, 0, batchSize)
	var types [batchSize]string
	for {
		n, err := bc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("radius: read", "err", err)
			continue
		}
		start := time.Now()
		out = out[:0]
		for i := range n {
			m := &msgs[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			resp, typ := s.process(ctx, l, m.Buffers[0][:m.N], ua.AddrPort())
			if resp != nil {
				types[len(out)] = typ
				out = append(out, ipv4.Message{Buffers: [][]byte{resp}, Addr: m.Addr})
			}
		}
		for sent := 0; sent < len(out); {
			k, err := bc.WriteBatch(out[sent:], 0)
			if err != nil {
				s.log.Warn("radius: send", "err", err)
				break
			}
			sent += k
		}
		d := time.Since(start).Seconds()
		for i := range out {
			if types[i] != "" {
				s.m.latency.WithLabelValues(types[i]).Observe(d)
			}
		}
	}
}
