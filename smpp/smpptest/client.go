package smpptest

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

// Client is an ESME: it binds, sends requests with up to Window of them
// outstanding, and answers deliveries.
type Client struct {
	c        *conn
	window   chan struct{}
	deliver  func(*pdu.PDU) pdu.Status
	readDone chan struct{}
}

// ClientOptions configure Dial.
type ClientOptions struct {
	Bind     pdu.CommandID // bind_transmitter, bind_receiver or bind_transceiver (default)
	SystemID string
	Password string
	Window   int // outstanding requests (default 1)
	// OnDeliver answers a deliver_sm or data_sm; nil answers ESME_ROK.
	// It runs on the reader goroutine; the PDU is valid during the call.
	OnDeliver func(*pdu.PDU) pdu.Status
	Timeout   time.Duration // dial and bind (default 5s)
}

// Dial connects and binds. A refused bind returns the status as a
// *pdu.Error.
func Dial(addr string, o ClientOptions) (*Client, error) {
	if o.Bind == 0 {
		o.Bind = pdu.BindTransceiver
	}
	if o.Window <= 0 {
		o.Window = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	nc, err := net.DialTimeout("tcp", addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	c := newConn(nc)
	bind := pdu.PDU{ID: o.Bind, Seq: c.seq.Add(1), SystemID: o.SystemID, Password: o.Password, InterfaceVersion: 0x34}
	if err := c.writePDU(&bind); err != nil {
		c.close()
		return nil, err
	}
	nc.SetReadDeadline(time.Now().Add(o.Timeout))
	frame, err := pdu.ReadFrame(c.r, nil, pdu.DefaultMaxLen)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("read bind response: %w", err)
	}
	nc.SetReadDeadline(time.Time{})
	if pdu.IDOf(frame) != o.Bind.Resp() && pdu.IDOf(frame) != pdu.GenericNack {
		c.close()
		return nil, fmt.Errorf("bind answered with %s", pdu.IDOf(frame))
	}
	if st := pdu.StatusOf(frame); st != pdu.ESME_ROK {
		c.close()
		return nil, &pdu.Error{Status: st, Msg: "bind refused"}
	}
	cl := &Client{c: c, window: make(chan struct{}, o.Window), deliver: o.OnDeliver, readDone: make(chan struct{})}
	go cl.readLoop()
	return cl, nil
}

func (cl *Client) readLoop() {
	defer close(cl.readDone)
	defer cl.c.failAll()
	defer cl.c.close()
	for {
		frame, err := pdu.ReadFrame(cl.c.r, nil, pdu.DefaultMaxLen)
		if err != nil {
			return
		}
		p := new(pdu.PDU)
		if err := p.Decode(frame); err != nil {
			continue
		}
		switch {
		case p.ID.IsResponse():
			cl.c.resolve(p)
		case p.ID == pdu.DeliverSM || p.ID == pdu.DataSM:
			st := pdu.ESME_ROK
			if cl.deliver != nil {
				st = cl.deliver(p)
			}
			r := p.Resp(st)
			cl.c.writePDU(&r)
		case p.ID == pdu.Unbind:
			r := p.Resp(pdu.ESME_ROK)
			cl.c.writePDU(&r)
			return
		default:
			r := p.Resp(pdu.ESME_ROK)
			cl.c.writePDU(&r)
		}
	}
}

// Send sends a request, waiting for a window slot; done runs with the
// response (valid during the call) or an error once the link is gone.
func (cl *Client) Send(p *pdu.PDU, done func(*pdu.PDU, error)) error {
	select {
	case cl.window <- struct{}{}:
	case <-cl.readDone:
		return ErrClosed
	}
	err := cl.c.request(p, func(r *pdu.PDU, err error) {
		<-cl.window
		done(r, err)
	})
	if err != nil {
		<-cl.window
	}
	return err
}

// Do sends a request and waits for its response.
func (cl *Client) Do(p *pdu.PDU, timeout time.Duration) (*pdu.PDU, error) {
	ch := make(chan *pdu.PDU, 1)
	errc := make(chan error, 1)
	if err := cl.Send(p, func(r *pdu.PDU, err error) {
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
		return nil, errors.New("smpptest: no response in time")
	}
}

// Close unbinds (waiting up to a second for the answer) and closes.
func (cl *Client) Close() {
	u := pdu.PDU{ID: pdu.Unbind}
	done := make(chan struct{})
	if cl.c.request(&u, func(*pdu.PDU, error) { close(done) }) == nil {
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	cl.c.close()
	<-cl.readDone
}

// Abort drops the connection without unbinding.
func (cl *Client) Abort() {
	cl.c.close()
	<-cl.readDone
}

// Done is closed when the connection is gone.
func (cl *Client) Done() <-chan struct{} { return cl.readDone }
