package smpp

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// TestBind: accounts bind with their password; failures get the
// documented status and an event, and cannot tell unknown accounts from
// wrong passwords.
func TestBind(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	tests := []struct {
		name     string
		systemID string
		password string
		bind     pdu.CommandID
		status   pdu.Status
		result   string
	}{
		{"transceiver", "meterapp", "pw1", pdu.BindTransceiver, pdu.ESME_ROK, bindOK},
		{"transmitter", "meterapp", "pw1", pdu.BindTransmitter, pdu.ESME_ROK, bindOK},
		{"receiver", "meterapp", "pw1", pdu.BindReceiver, pdu.ESME_ROK, bindOK},
		{"wrong password", "meterapp", "guess", pdu.BindTransceiver, pdu.ESME_RINVPASWD, bindBadPassword},
		{"unknown system_id", "nobody", "pw1", pdu.BindTransceiver, pdu.ESME_RINVPASWD, bindUnknown},
		{"disabled account", "off", "pw5", pdu.BindTransceiver, pdu.ESME_RBINDFAIL, bindDisabled},
		{"wrong password for a disabled account", "off", "x", pdu.BindTransceiver, pdu.ESME_RINVPASWD, bindBadPassword},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := smpptest.Dial(h.addr, smpptest.ClientOptions{Bind: tc.bind, SystemID: tc.systemID, Password: tc.password})
			st := pdu.ESME_ROK
			if err != nil {
				e, ok := errAs(err)
				if !ok {
					t.Fatalf("bind: %v", err)
				}
				st = e.Status
			} else {
				defer c.Close()
			}
			if st != tc.status {
				t.Errorf("status %s, want %s", st, tc.status)
			}
			ev := h.events.find("smpp.bind")
			if len(ev) != i+1 {
				t.Fatalf("%d bind events", len(ev))
			}
			e := ev[i]
			wantDecision := "allow"
			if tc.status != pdu.ESME_ROK {
				wantDecision = "deny"
			}
			if e.Decision != wantDecision || e.Attrs["result"] != tc.result || e.Attrs["system_id"] != tc.systemID {
				t.Errorf("event %+v", e)
			}
		})
	}
}

// TestMaxBinds: the second bind of an account limited to one is refused.
func TestMaxBinds(t *testing.T) {
	h := startProxy(t, []string{deadAddr(t)}, nil)
	h.dial("solo", "pw6", smpptest.ClientOptions{})
	_, err := smpptest.Dial(h.addr, smpptest.ClientOptions{SystemID: "solo", Password: "pw6"})
	if e, ok := errAs(err); !ok || e.Status != pdu.ESME_RBINDFAIL {
		t.Errorf("second bind: %v", err)
	}
}

// rawConn is an ESME written by hand, for what a well-behaved client
// would never send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) send(p *pdu.PDU) {
	c.t.Helper()
	b, err := p.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) read() *pdu.PDU {
	c.t.Helper()
	f, err := pdu.ReadFrame(c.r, nil, pdu.DefaultMaxLen)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	p, err := pdu.Decode(f)
	if err != nil {
		c.t.Fatalf("decode: %v", err)
	}
	return p
}

// expectClosed waits for the proxy to hang up.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	for {
		_, err := pdu.ReadFrame(c.r, nil, pdu.DefaultMaxLen)
		if err == io.EOF {
			return
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.t.Fatal("connection still open")
			}
			return
		}
	}
}

func TestESMEProtocol(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	bind := &pdu.PDU{ID: pdu.BindTransceiver, Seq: 1, SystemID: "meterapp", Password: "pw1", InterfaceVersion: 0x34}

	t.Run("submit before bind", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(&pdu.PDU{ID: pdu.SubmitSM, Seq: 7, Dest: pdu.Address{Addr: simMeter}})
		if r := c.read(); r.ID != pdu.SubmitSMResp || r.Seq != 7 || r.Status != pdu.ESME_RINVBNDSTS {
			t.Errorf("got %s %d %s", r.ID, r.Seq, r.Status)
		}
	})
	t.Run("bind answer and enquire_link", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(bind)
		r := c.read()
		if r.ID != pdu.BindTransceiverResp || r.Status != pdu.ESME_ROK || r.SystemID != "simguard" {
			t.Fatalf("bind resp %+v", r)
		}
		if v, ok := r.TLVUint(pdu.TagSCInterfaceVersion); !ok || v != 0x34 {
			t.Errorf("sc_interface_version %v %v", v, ok)
		}
		c.send(&pdu.PDU{ID: pdu.BindTransceiver, Seq: 2, SystemID: "meterapp", Password: "pw1"})
		if r := c.read(); r.Status != pdu.ESME_RALYBND {
			t.Errorf("second bind: %s", r.Status)
		}
		c.send(&pdu.PDU{ID: pdu.EnquireLink, Seq: 3})
		if r := c.read(); r.ID != pdu.EnquireLinkResp || r.Seq != 3 {
			t.Errorf("enquire_link: %s %d", r.ID, r.Seq)
		}
		c.send(&pdu.PDU{ID: pdu.QuerySM, Seq: 4, Body: []byte("1\x00\x00\x00\x00")})
		if r := c.read(); r.ID != pdu.QuerySMResp || r.Status != pdu.ESME_RINVCMDID {
			t.Errorf("query_sm: %s %s", r.ID, r.Status)
		}
		c.send(&pdu.PDU{ID: 0x00000777, Seq: 5})
		if r := c.read(); r.ID != pdu.GenericNack || r.Seq != 5 || r.Status != pdu.ESME_RINVCMDID {
			t.Errorf("unknown command: %s %d %s", r.ID, r.Seq, r.Status)
		}
		c.send(&pdu.PDU{ID: pdu.Unbind, Seq: 6})
		if r := c.read(); r.ID != pdu.UnbindResp || r.Seq != 6 {
			t.Errorf("unbind: %s", r.ID)
		}
		c.expectClosed()
	})
	t.Run("receiver may not submit", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(&pdu.PDU{ID: pdu.BindReceiver, Seq: 1, SystemID: "meterapp", Password: "pw1"})
		c.read()
		c.send(submit("4930123456", simMeter, "x"))
		if r := c.read(); r.Status != pdu.ESME_RINVBNDSTS {
			t.Errorf("status %s", r.Status)
		}
	})
	t.Run("malformed submit", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(bind)
		c.read()
		p := submit("4930123456", simMeter, "x")
		p.Seq = 9
		f, _ := p.Encode()
		f[len(f)-2] = 9 // sm_length past the end
		c.nc.Write(f)
		if r := c.read(); r.ID != pdu.SubmitSMResp || r.Seq != 9 || r.Status != pdu.ESME_RINVMSGLEN {
			t.Errorf("got %s %d %s", r.ID, r.Seq, r.Status)
		}
		both := submit("4930123456", simMeter, "short")
		both.Seq = 10
		both.TLVs = []pdu.TLV{{Tag: pdu.TagMessagePayload, Value: []byte("payload")}}
		c.send(both)
		if r := c.read(); r.Status != pdu.ESME_ROPTPARNOTALLWD {
			t.Errorf("short_message and message_payload: %s", r.Status)
		}
	})
	t.Run("command_length over the maximum", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(bind)
		c.read()
		c.nc.Write([]byte{0x7f, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1})
		if r := c.read(); r.ID != pdu.GenericNack || r.Status != pdu.ESME_RINVCMDLEN {
			t.Errorf("got %s %s", r.ID, r.Status)
		}
		c.expectClosed()
	})
	if smsc.Submits() != 0 {
		t.Errorf("SMSC got %d", smsc.Submits())
	}
}

// TestKeepalive: an idle ESME gets enquire_link; one that stays silent is
// dropped; one that never binds is dropped after BindTimeout.
func TestKeepalive(t *testing.T) {
	h := startProxy(t, []string{deadAddr(t)}, func(c *Config, _ *Deps) {
		c.EnquireLinkInterval = 100 * time.Millisecond
		c.ResponseTimeout = 200 * time.Millisecond
		c.BindTimeout = 300 * time.Millisecond
	})
	t.Run("answering ESME stays", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(&pdu.PDU{ID: pdu.BindTransceiver, Seq: 1, SystemID: "meterapp", Password: "pw1"})
		c.read()
		for range 3 {
			r := c.read()
			if r.ID != pdu.EnquireLink {
				t.Fatalf("got %s, want enquire_link", r.ID)
			}
			c.send(&pdu.PDU{ID: pdu.EnquireLinkResp, Seq: r.Seq})
		}
	})
	t.Run("silent ESME dropped", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.send(&pdu.PDU{ID: pdu.BindTransceiver, Seq: 1, SystemID: "meterapp", Password: "pw1"})
		c.read()
		if r := c.read(); r.ID != pdu.EnquireLink {
			t.Fatalf("got %s", r.ID)
		}
		c.expectClosed()
	})
	t.Run("no bind", func(t *testing.T) {
		c := dialRaw(t, h.addr)
		c.expectClosed()
	})
}

// TestUpstreamKeepalive: the proxy pings an idle SMSC link.
func TestUpstreamKeepalive(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) {
		c.EnquireLinkInterval = 50 * time.Millisecond
		c.ResponseTimeout = time.Second
	})
	h.waitUp(1)
	eventually(t, 5*time.Second, func() bool {
		return counterValue(t, h.reg, "simguard_smpp_pdus_total",
			map[string]string{"side": "smsc", "direction": "in", "command": "enquire_link_resp"}) >= 2
	}, "enquire_link answered by the SMSC")
	if h.srv.UpstreamBinds("main") != 1 {
		t.Error("link dropped")
	}
}

// TestESMEWindow: an ESME over its window is throttled.
func TestESMEWindow(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{Respond: func(*pdu.PDU) (pdu.Status, bool) { return 0, false }})
	h := startProxy(t, []string{smsc.Addr()}, func(c *Config, _ *Deps) { c.ESMEWindow = 2 })
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{Window: 3})
	got := make(chan pdu.Status, 3)
	for range 3 {
		c.Send(submit("4930123456", simMeter, "x"), func(r *pdu.PDU, err error) {
			if err == nil {
				got <- r.Status
			}
		})
	}
	select {
	case st := <-got:
		if st != pdu.ESME_RTHROTTLED {
			t.Errorf("status %s", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
}
