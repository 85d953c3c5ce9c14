package radius

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"layeh.com/radius"
)

// Attribute types used here (RFC 2865, 2866, 2869, 3579, 5176, 6911).
const (
	attrUserName           = 1
	attrNASIPAddress       = 4
	attrFramedIPAddress    = 8
	attrReplyMessage       = 18
	attrClass              = 25
	attrVendorSpecific     = 26
	attrSessionTimeout     = 27
	attrCalledStationID    = 30
	attrCallingStationID   = 31
	attrNASIdentifier      = 32
	attrProxyState         = 33
	attrAcctStatusType     = 40
	attrAcctDelayTime      = 41
	attrAcctInputOctets    = 42
	attrAcctOutputOctets   = 43
	attrAcctSessionID      = 44
	attrAcctSessionTime    = 46
	attrAcctInputPackets   = 47
	attrAcctOutputPackets  = 48
	attrAcctTerminateCause = 49
	attrAcctInputGiga      = 52
	attrAcctOutputGiga     = 53
	attrEventTimestamp     = 55
	attrMessageAuth        = 80
	attrAcctInterim        = 85
	attrErrorCause         = 101
	attrFramedIPv6Address  = 168
)

// 3GPP vendor attributes (TS 29.061 §16.4.7).
const (
	vendor3GPP         = 10415
	vsaIMSI            = 1
	vsaSGSNMCCMNC      = 18
	vsaIMEISV          = 20
	vsaRATType         = 21
	vsaUserLocationInf = 22
)

var errMalformed = errors.New("malformed attribute")

// request is an incoming packet. Attribute values taken from raw alias the
// read buffer: whatever outlives the handling of the packet is copied.
type request struct {
	code   radius.Code
	id     byte
	auth   [16]byte
	raw    []byte // header and attributes, cut at the Length field
	secret []byte
}

// parseRequest checks the header and that the attributes tile the packet
// (RFC 2865 §3, §5), without copying anything.
func parseRequest(b []byte, secret []byte) (request, error) {
	if len(b) < 20 {
		return request{}, errMalformed
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < 20 || n > len(b) || n > radius.MaxPacketLength {
		return request{}, errMalformed
	}
	r := request{code: radius.Code(b[0]), id: b[1], raw: b[:n], secret: secret}
	copy(r.auth[:], b[4:20])
	for a := b[20:n]; len(a) > 0; {
		if len(a) < 2 || a[1] < 2 || int(a[1]) > len(a) {
			return request{}, errMalformed
		}
		a = a[a[1]:]
	}
	return r, nil
}

// next returns the first attribute of a (already validated by
// parseRequest) and the rest.
func next(a []byte) (typ byte, val, rest []byte) {
	return a[0], a[2:a[1]], a[a[1]:]
}

// findMessageAuthenticator returns the offset of the Message-Authenticator
// value in the raw packet b (already checked by parseRequest), or
// -1 when there is none; a second one or a wrong length is malformed.
func findMessageAuthenticator(b []byte) (int, error) {
	off := -1
	for i := 20; i+2 <= len(b); {
		t, l := b[i], int(b[i+1])
		if l < 2 || i+l > len(b) {
			return -1, errMalformed
		}
		if t == attrMessageAuth {
			if l != 18 || off >= 0 {
				return -1, errMalformed
			}
			off = i + 2
		}
		i += l
	}
	return off, nil
}

// messageAuthenticator computes HMAC-MD5 (RFC 3579 §3.2) over b with the
// Message-Authenticator value at off taken as zeros and auth in the
// authenticator field. b is not modified.
func messageAuthenticator(b []byte, off int, auth []byte, secret []byte) [16]byte {
	var c [radius.MaxPacketLength]byte
	n := copy(c[:], b)
	copy(c[4:20], auth)
	clear(c[off : off+16])
	return hmacMD5(secret, c[:n])
}

// hmacMD5 is HMAC-MD5 (RFC 2104) without allocating: crypto/hmac
// allocates its state on every call, and this runs twice per request.
func hmacMD5(key, msg []byte) [16]byte {
	var k [64]byte
	if len(key) > len(k) {
		h := md5.Sum(key)
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	var buf [64 + radius.MaxPacketLength]byte
	for i, v := range k {
		buf[i] = v ^ 0x36
	}
	n := copy(buf[64:], msg)
	inner := md5.Sum(buf[:64+n])
	var outer [64 + md5.Size]byte
	for i, v := range k {
		outer[i] = v ^ 0x5c
	}
	copy(outer[64:], inner[:])
	return md5.Sum(outer[:])
}

// responseAuthenticator is MD5(Code+ID+Length+RequestAuth+Attributes+Secret)
// (RFC 2865 §3) of the response b.
func responseAuthenticator(b []byte, reqAuth []byte, secret []byte) [16]byte {
	var c [radius.MaxPacketLength + 256]byte
	n := copy(c[:], b)
	copy(c[4:20], reqAuth)
	n += copy(c[n:], secret)
	return md5.Sum(c[:n])
}

// verifyMessageAuthenticator checks the Message-Authenticator of a request
// whose value is at off. Access-Request and Status-Server carry their own
// Request Authenticator; Accounting-, Disconnect- and CoA-Requests are
// computed with sixteen zero octets in its place.
func verifyMessageAuthenticator(b []byte, off int, secret []byte) bool {
	auth := b[4:20]
	var zero [16]byte
	switch radius.Code(b[0]) {
	case radius.CodeAccountingRequest, radius.CodeDisconnectRequest, radius.CodeCoARequest:
		auth = zero[:]
	}
	want := messageAuthenticator(b, off, auth, secret)
	return subtle.ConstantTimeCompare(want[:], b[off:off+16]) == 1
}

// encodeResponse turns a response packet into wire bytes. Access-Accept
// and Access-Reject get a Message-Authenticator as their first attribute
// (Blast-RADIUS mitigation: the HMAC covers the whole packet before any
// attacker-chosen prefix). Accounting-Responses get none: RFC 2866 does
// not call for it, and implementations disagree on which authenticator
// it covers (FreeRADIUS uses zeros, RFC 3579 the request's).
func encodeResponse(p *radius.Packet, reqAuth [16]byte) ([]byte, error) {
	withMA := p.Code == radius.CodeAccessAccept || p.Code == radius.CodeAccessReject
	attrs := make(radius.Attributes, 0, len(p.Attributes)+1)
	if withMA {
		attrs = append(attrs, &radius.AVP{Type: attrMessageAuth, Attribute: make([]byte, 16)})
	}
	attrs = append(attrs, p.Attributes...)
	q := *p
	q.Attributes = attrs
	q.Authenticator = reqAuth
	b, err := q.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if withMA {
		ma := messageAuthenticator(b, 22, reqAuth[:], p.Secret)
		copy(b[22:38], ma[:])
	}
	ra := responseAuthenticator(b, reqAuth[:], p.Secret)
	copy(b[4:20], ra[:])
	return b, nil
}

// encodeRequest encodes a Disconnect- or CoA-Request with a
// Message-Authenticator first, then its Request Authenticator (RFC 5176
// §3.5: MD5 over the packet with a zero authenticator).
func encodeRequest(p *radius.Packet) ([]byte, error) {
	attrs := make(radius.Attributes, 0, len(p.Attributes)+1)
	attrs = append(attrs, &radius.AVP{Type: attrMessageAuth, Attribute: make([]byte, 16)})
	attrs = append(attrs, p.Attributes...)
	q := *p
	q.Attributes = attrs
	q.Authenticator = [16]byte{}
	b, err := q.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var zero [16]byte
	ma := messageAuthenticator(b, 22, zero[:], p.Secret)
	copy(b[22:38], ma[:])
	ra := responseAuthenticator(b, zero[:], p.Secret)
	copy(b[4:20], ra[:])
	return b, nil
}

// vsa3GPP calls fn for every 3GPP sub-attribute in a Vendor-Specific
// value; other vendors are skipped. A 3GPP VSA that does not parse is
// malformed.
func vsa3GPP(v []byte, fn func(typ byte, val []byte)) error {
	if len(v) < 4 || binary.BigEndian.Uint32(v) != vendor3GPP {
		return nil
	}
	v = v[4:]
	for len(v) > 0 {
		if len(v) < 2 || int(v[1]) < 2 || int(v[1]) > len(v) {
			return errMalformed
		}
		fn(v[0], v[2:v[1]])
		v = v[v[1]:]
	}
	return nil
}

func u32(a radius.Attribute) (uint32, bool) {
	if len(a) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(a), true
}
