package radius

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"layeh.com/radius"
)

// errNoAnswer means: answer nothing, so that the NAS retransmits (a store
// or the control plane failed; RFC 2866 forbids acknowledging what was
// not recorded).
var errNoAnswer = errors.New("no answer")

var codeNames = map[radius.Code]string{
	radius.CodeAccessRequest:     "access_request",
	radius.CodeAccountingRequest: "accounting_request",
	radius.CodeStatusServer:      "status_server",
}

// handle answers one packet, if it deserves an answer. It never keeps b
// after it returns.
func (s *Server) handle(ctx context.Context, l *listener, b []byte, from netip.AddrPort) {
	start := time.Now()
	resp, typ := s.process(ctx, l, b, from)
	if resp != nil {
		s.send(l, resp, from)
		if typ != "" {
			s.m.latency.WithLabelValues(typ).Observe(time.Since(start).Seconds())
		}
	}
}

// process authenticates one packet, answers retransmissions from the
// cache, and dispatches the rest. It returns the answer (nil: none) and,
// for an answer decided now rather than replayed, the packet type.
func (s *Server) process(ctx context.Context, l *listener, b []byte, from netip.AddrPort) ([]byte, string) {
	c := s.clients.Load().lookup(from.Addr())
	if c == nil {
		s.drop(dropUnknownClient, from, "", nil)
		return nil, ""
	}
	if len(b) < 20 || len(b) > radius.MaxPacketLength || int(binary.BigEndian.Uint16(b[2:])) > len(b) {
		s.drop(dropMalformed, from, c.Name, nil)
		return nil, ""
	}
	code := radius.Code(b[0])
	switch {
	case code == radius.CodeStatusServer:
	case code == radius.CodeAccessRequest && !l.acct:
	case code == radius.CodeAccountingRequest && l.acct:
	default:
		s.drop(dropUnsupportedCode, from, c.Name, map[string]string{"code": itoa(uint64(code))})
		return nil, ""
	}
	p, err := parseRequest(b, c.secret)
	if err != nil {
		s.drop(dropMalformed, from, c.Name, nil)
		return nil, ""
	}
	b = p.raw
	if cause := s.authenticate(c, b); cause != "" {
		s.drop(cause, from, c.Name, nil)
		return nil, ""
	}
	typ := codeNames[code]
	s.m.requests.WithLabelValues(typ).Inc()

	key := newDupKey(from, b[0], b[1], p.auth)
	switch state, resp := s.dup.begin(key); state {
	case dupAnswered:
		s.m.duplicates.WithLabelValues("answered").Inc()
		return resp, ""
	case dupInFlight:
		s.m.duplicates.WithLabelValues("in_flight").Inc()
		return nil, ""
	}

	var resp []byte
	switch code {
	case radius.CodeStatusServer:
		resp, err = s.statusServer(l, &p)
	case radius.CodeAccessRequest:
		resp, err = s.access(ctx, c, &p)
	case radius.CodeAccountingRequest:
		resp, err = s.accounting(ctx, c, &p, from.Addr().Unmap())
	}
	if err != nil {
		if errors.Is(err, errNoAnswer) {
			s.drop(dropBackend, from, c.Name, nil)
		} else {
			s.drop(dropMalformed, from, c.Name, map[string]string{"error": err.Error()})
		}
		resp = nil
	}
	s.dup.finish(key, resp)
	if resp == nil {
		return nil, ""
	}
	return resp, typ
}

// authenticate returns the drop cause of a packet that fails its shared
// secret checks, or "".
func (s *Server) authenticate(c *nasClient, b []byte) string {
	off, err := findMessageAuthenticator(b)
	if err != nil {
		return dropMalformed
	}
	switch radius.Code(b[0]) {
	case radius.CodeAccountingRequest:
		if !radius.IsAuthenticRequest(b, c.secret) {
			return dropBadAuth
		}
	case radius.CodeStatusServer: // RFC 5997 §3: Message-Authenticator is mandatory
		if off < 0 {
			return dropMissingMsgAuth
		}
	case radius.CodeAccessRequest:
		if off < 0 && !c.AllowMissingMessageAuthenticator {
			return dropMissingMsgAuth
		}
	}
	if off >= 0 && !verifyMessageAuthenticator(b, off, c.secret) {
		return dropBadAuth
	}
	return ""
}

func (s *Server) send(l *listener, resp []byte, to netip.AddrPort) {
	if _, err := l.conn.WriteToUDPAddrPort(resp, to); err != nil {
		s.log.Warn("radius: send", "to", to, "err", err)
	}
}

// drop counts a dropped packet and emits a (sampled) event.
func (s *Server) drop(cause string, from netip.AddrPort, nas string, extra map[string]string) {
	s.m.drops.WithLabelValues(cause).Inc()
	if !s.drops.allow(cause, s.now()) {
		return
	}
	attrs := map[string]string{"cause": cause, "src": from.String()}
	if nas != "" {
		attrs["nas"] = nas
	}
	for k, v := range extra {
		attrs[k] = v
	}
	s.emit(EventDropped, "", "", 0, 0, attrs)
}

// statusServer answers RFC 5997 keepalives: Access-Accept on the auth
// port, Accounting-Response on the accounting port.
func (s *Server) statusServer(l *listener, p *request) ([]byte, error) {
	code := radius.CodeAccessAccept
	if l.acct {
		code = radius.CodeAccountingResponse
	}
	return encodeResponse(reply(p, code), p.auth)
}

// reply starts a response to p that echoes its Proxy-State attributes in
// order (RFC 2865 §5.33). It aliases p's buffer: encode it before p's
// handling ends.
func reply(p *request, code radius.Code) *radius.Packet {
	r := &radius.Packet{Code: code, Identifier: p.id, Secret: p.secret}
	for rest := p.raw[20:]; len(rest) > 0; {
		var typ byte
		var v []byte
		typ, v, rest = next(rest)
		if typ == attrProxyState {
			r.Attributes = append(r.Attributes, &radius.AVP{Type: attrProxyState, Attribute: v})
		}
	}
	return r
}
