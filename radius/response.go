package radius

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"layeh.com/radius"
)

// response builds the answer to a request in place, in the buffer the
// request came with (request.dst), so that answering allocates nothing.
// Access-Accept and Access-Reject carry Message-Authenticator as their
// first attribute (Blast-RADIUS mitigation: the HMAC covers the whole
// packet before any attacker-chosen prefix); Accounting-Responses carry
// none (RFC 2866 does not call for it, and implementations disagree on
// which authenticator it covers). The request's Proxy-State attributes
// are echoed in order (RFC 2865 §5.33).
type response struct {
	b      []byte
	auth   [16]byte // the request's authenticator
	secret []byte
	ma     bool
	long   bool // an attribute was too long for RADIUS
}

var errResponseTooLong = errors.New("answer longer than RADIUS allows")

func (p *request) respond(code radius.Code) response {
	var b []byte
	if p.sc != nil {
		b = p.sc.dst[:0]
	}
	b = append(b, byte(code), p.id, 0, 0)
	b = append(b, p.auth[:]...)
	r := response{auth: p.auth, secret: p.secret, ma: code == radius.CodeAccessAccept || code == radius.CodeAccessReject}
	if r.ma {
		b = append(b, attrMessageAuth, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	r.b = b
	for rest := p.raw[20:]; len(rest) > 0; {
		var typ byte
		var v []byte
		typ, v, rest = next(rest)
		if typ == attrProxyState {
			r.add(typ, v)
		}
	}
	return r
}

func (r *response) add(typ byte, v []byte) {
	if len(v) > 253 {
		r.long = true
		return
	}
	r.b = append(r.b, typ, byte(2+len(v)))
	r.b = append(r.b, v...)
}

func (r *response) addString(typ byte, v string) {
	if len(v) > 253 {
		r.long = true
		return
	}
	r.b = append(r.b, typ, byte(2+len(v)))
	r.b = append(r.b, v...)
}

func (r *response) addUint32(typ byte, v uint32) {
	r.b = append(r.b, typ, 6)
	r.b = binary.BigEndian.AppendUint32(r.b, v)
}

// addFramedIP adds Framed-IP-Address or Framed-IPv6-Address.
func (r *response) addFramedIP(ip netip.Addr) {
	switch {
	case ip.Is4():
		a := ip.As4()
		r.add(attrFramedIPAddress, a[:])
	case ip.Is6():
		a := ip.As16()
		r.add(attrFramedIPv6Address, a[:])
	}
}

// addClass adds Class = prefix + seq in decimal.
func (r *response) addClass(prefix string, seq uint64) {
	start := len(r.b)
	r.b = append(r.b, attrClass, 0)
	r.b = append(r.b, prefix...)
	r.b = strconv.AppendUint(r.b, seq, 10)
	if len(r.b)-start > 255 {
		r.long = true
		r.b = r.b[:start]
		return
	}
	r.b[start+1] = byte(len(r.b) - start)
}

// bytes sets the length and the authenticators and returns the answer.
func (r *response) bytes() ([]byte, error) {
	if r.long || len(r.b) > radius.MaxPacketLength {
		return nil, errResponseTooLong
	}
	b := r.b
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	if r.ma {
		ma := messageAuthenticator(b, 22, r.auth[:], r.secret)
		copy(b[22:38], ma[:])
	}
	ra := responseAuthenticator(b, r.auth[:], r.secret)
	copy(b[4:20], ra[:])
	return b, nil
}
