// Package smpptest has a minimal SMSC and a windowed ESME client built on
// package pdu, for tests and load benchmarks of the SMS firewall. They are
// not production peers: the acceptance tests use Perl Net::SMPP for that.
package smpptest

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/simguard/simguard/smpp/pdu"
)

// ErrClosed is returned for requests on a closed connection.
var ErrClosed = errors.New("smpptest: connection closed")

// conn is a PDU connection with batched writes and a table of callbacks
// for outstanding requests.
type conn struct {
	nc net.Conn
	r  *bufio.Reader

	wmu    sync.Mutex
	wbuf   []byte
	wake   chan struct{}
	done   chan struct{}
	closed bool

	seq     atomic.Uint32
	pmu     sync.Mutex
	pending map[uint32]func(*pdu.PDU, error)
}

func newConn(nc net.Conn) *conn {
	c := &conn{
		nc:      nc,
		r:       bufio.NewReaderSize(nc, 64<<10),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		pending: map[uint32]func(*pdu.PDU, error){},
	}
	go c.writeLoop()
	return c
}

func (c *conn) writeLoop() {
	var out []byte
	for {
		var stop bool
		select {
		case <-c.wake:
		case <-c.done:
			stop = true
		}
		c.wmu.Lock()
		out, c.wbuf = c.wbuf, out[:0]
		c.wmu.Unlock()
		if len(out) > 0 {
			if _, err := c.nc.Write(out); err != nil {
				c.close()
				stop = true
			}
		}
		if stop {
			c.nc.Close()
			return
		}
	}
}

// writeFrame queues a whole frame.
func (c *conn) writeFrame(frame []byte) error {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return ErrClosed
	}
	c.wbuf = append(c.wbuf, frame...)
	c.wmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

func (c *conn) writePDU(p *pdu.PDU) error {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return ErrClosed
	}
	var err error
	c.wbuf, err = p.AppendTo(c.wbuf)
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// request sends p with a fresh sequence number; done runs on the reader
// goroutine with the response, or with ErrClosed.
func (c *conn) request(p *pdu.PDU, done func(*pdu.PDU, error)) error {
	p.Seq = c.seq.Add(1) & 0x7fffffff
	c.pmu.Lock()
	if c.pending == nil {
		c.pmu.Unlock()
		return ErrClosed
	}
	c.pending[p.Seq] = done
	c.pmu.Unlock()
	if err := c.writePDU(p); err != nil {
		c.pmu.Lock()
		delete(c.pending, p.Seq)
		c.pmu.Unlock()
		return err
	}
	return nil
}

// resolve hands a response to its request's callback.
func (c *conn) resolve(p *pdu.PDU) bool {
	c.pmu.Lock()
	done, ok := c.pending[p.Seq]
	delete(c.pending, p.Seq)
	c.pmu.Unlock()
	if ok {
		done(p, nil)
	}
	return ok
}

func (c *conn) close() {
	c.wmu.Lock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.wmu.Unlock()
}

// failAll runs every outstanding callback with ErrClosed.
func (c *conn) failAll() {
	c.pmu.Lock()
	p := c.pending
	c.pending = nil
	c.pmu.Unlock()
	for _, done := range p {
		done(nil, ErrClosed)
	}
}
