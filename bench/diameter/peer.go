package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simguard/simguard/diameter/wire"
)

// peer is a Diameter connection of the load generator or the HSS.
type peer struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
	mu sync.Mutex
}

func newPeer(nc net.Conn) *peer {
	return &peer{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}
}

func dialPeer(addr string) (*peer, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return newPeer(nc), nil
}

func (p *peer) read(buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(p.r, buf[:wire.HeaderLen]); err != nil {
		return nil, err
	}
	n, err := wire.PeekLength(buf[:4])
	if err != nil {
		return nil, err
	}
	if n > len(buf) {
		nb := make([]byte, n)
		copy(nb, buf[:wire.HeaderLen])
		buf = nb
	}
	_, err = io.ReadFull(p.r, buf[wire.HeaderLen:n])
	return buf[:n], err
}

func (p *peer) writeFlush(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(b); err != nil {
		return err
	}
	return p.w.Flush()
}

func origin(host string) []wire.AVP {
	return []wire.AVP{wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, host),
		wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "bench.example")}
}

func vsai(app uint32) wire.AVP {
	return wire.NewGroup(wire.AVPVendorSpecificApplicationID, 0, wire.AVPMandatory,
		wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, wire.Vendor3GPP),
		wire.NewUint32(wire.AVPAuthApplicationID, 0, wire.AVPMandatory, app))
}

// cer exchanges capabilities as an MME offering apps.
func (p *peer) cer(host string, apps ...uint32) error {
	m := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest, Code: wire.CmdCapabilitiesExchange, HopByHop: 1, EndToEnd: 1}}
	m.Add(origin(host)...)
	m.Add(wire.NewAddress(wire.AVPHostIPAddress, 0, wire.AVPMandatory, netip.MustParseAddr("127.0.0.1")))
	for _, a := range apps {
		m.Add(vsai(a))
	}
	if err := p.writeFlush(m.Append(nil)); err != nil {
		return err
	}
	b, err := p.read(make([]byte, 4096))
	if err != nil {
		return err
	}
	a, err := wire.Decode(b)
	if err != nil {
		return err
	}
	if rc := a.Find(wire.AVPResultCode, 0); rc == nil {
		return fmt.Errorf("CEA without Result-Code")
	} else if v, _ := rc.Uint32(); v != wire.ResultSuccess {
		return fmt.Errorf("CEA Result-Code %d", v)
	}
	return nil
}

// hss answers CER, DWR and every S6a request at once with success.
type hss struct {
	ln        net.Listener
	connected atomic.Bool
	wg        sync.WaitGroup
}

func startHSS() (*hss, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hss{ln: ln}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				h.serve(newPeer(nc))
			}()
		}
	}()
	return h, nil
}

func (h *hss) addr() string { return h.ln.Addr().String() }

func (h *hss) close() {
	h.ln.Close()
}

func (h *hss) serve(p *peer) {
	defer p.nc.Close()
	buf := make([]byte, 8192)
	var m wire.Message
	for {
		b, err := p.read(buf)
		if err != nil {
			return
		}
		if err := m.Decode(b); err != nil || !m.IsRequest() {
			continue
		}
		a := m.Answer()
		if sid := m.Find(wire.AVPSessionID, 0); sid != nil {
			a.Add(*sid)
		}
		a.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, wire.ResultSuccess))
		a.Add(origin(hssHost)...)
		switch m.Code {
		case wire.CmdCapabilitiesExchange:
			a.Add(vsai(wire.AppS6a))
			h.connected.Store(true)
		case wire.CmdUpdateLocation:
			a.Add(wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1),
				wire.NewUint32(wire.AVPULAFlags, wire.Vendor3GPP, wire.AVPMandatory, 1))
		}
		// Write without waiting for more: an HSS that answers at once.
		if err := p.writeFlush(a.Append(nil)); err != nil {
			return
		}
	}
}

func waitHSS(h *hss) {
	for i := 0; i < 1000 && !h.connected.Load(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the CEA reaches simguard
}
