package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Command flags (RFC 6733 §3).
const (
	FlagRequest     uint8 = 0x80 // R: a request, not an answer
	FlagProxiable   uint8 = 0x40 // P: may be proxied, relayed or redirected
	FlagError       uint8 = 0x20 // E: an answer with a protocol error
	FlagRetransmit  uint8 = 0x10 // T: possibly a retransmission
	flagCmdReserved uint8 = 0x0f
)

// HeaderLen is the length of a Diameter header.
const HeaderLen = 20

// MaxLen is the largest message the 24-bit length field can describe.
const MaxLen = 1<<24 - 1

// maxDepth bounds grouped AVP nesting so that a crafted message cannot
// make validation recurse without end.
const maxDepth = 8

// Header is the fixed part of every message.
type Header struct {
	Version  uint8
	Flags    uint8
	Code     uint32 // 24 bits
	AppID    uint32
	HopByHop uint32
	EndToEnd uint32
}

// IsRequest reports whether the R bit is set.
func (h *Header) IsRequest() bool { return h.Flags&FlagRequest != 0 }

// Message is a decoded Diameter message.
type Message struct {
	Header
	AVPs []AVP
}

// Errors the decoder returns, wrapped with the offending detail.
var (
	ErrShort      = errors.New("diameter: message shorter than its header")
	ErrVersion    = errors.New("diameter: unsupported version")
	ErrLength     = errors.New("diameter: bad message length")
	ErrFlags      = errors.New("diameter: reserved command flags set")
	ErrAVPLength  = errors.New("diameter: bad AVP length")
	ErrAVPFlags   = errors.New("diameter: reserved AVP flags set")
	ErrAVPPadding = errors.New("diameter: AVP padding missing")
	ErrTooDeep    = errors.New("diameter: grouped AVPs nested too deep")
)

// PeekLength reads the message length from the first 4 bytes of a header,
// so that a reader knows how much to read before it decodes. It checks the
// version and the minimum length.
func PeekLength(hdr []byte) (int, error) {
	if len(hdr) < 4 {
		return 0, ErrShort
	}
	if hdr[0] != 1 {
		return 0, fmt.Errorf("%w %d", ErrVersion, hdr[0])
	}
	n := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
	if n < HeaderLen || n%4 != 0 {
		return 0, fmt.Errorf("%w %d", ErrLength, n)
	}
	return n, nil
}

// Decode parses one whole message. b must hold exactly the message (its
// length field must equal len(b)). The AVPs alias b.
func Decode(b []byte) (*Message, error) {
	m := new(Message)
	if err := m.Decode(b); err != nil {
		return nil, err
	}
	return m, nil
}

// Decode parses b into m, reusing m's AVP slice.
func (m *Message) Decode(b []byte) error {
	if len(b) < HeaderLen {
		return ErrShort
	}
	n, err := PeekLength(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: header says %d bytes, have %d", ErrLength, n, len(b))
	}
	m.Version = b[0]
	m.Flags = b[4]
	if m.Flags&flagCmdReserved != 0 {
		return fmt.Errorf("%w: 0x%02x", ErrFlags, m.Flags)
	}
	if m.Flags&FlagRequest != 0 && m.Flags&FlagError != 0 {
		return fmt.Errorf("%w: E bit on a request", ErrFlags)
	}
	m.Code = uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	m.AppID = binary.BigEndian.Uint32(b[8:])
	m.HopByHop = binary.BigEndian.Uint32(b[12:])
	m.EndToEnd = binary.BigEndian.Uint32(b[16:])
	m.AVPs, err = decodeAVPs(m.AVPs[:0], b[HeaderLen:])
	return err
}

// Len is the encoded length of m.
func (m *Message) Len() int {
	n := HeaderLen
	for i := range m.AVPs {
		n += m.AVPs[i].paddedLen()
	}
	return n
}

// Append encodes m onto dst. The length field is computed; Version is
// always 1.
func (m *Message) Append(dst []byte) []byte {
	n := m.Len()
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	dst = append(dst, 1, byte(n>>16), byte(n>>8), byte(n),
		m.Flags, byte(m.Code>>16), byte(m.Code>>8), byte(m.Code))
	dst = binary.BigEndian.AppendUint32(dst, m.AppID)
	dst = binary.BigEndian.AppendUint32(dst, m.HopByHop)
	dst = binary.BigEndian.AppendUint32(dst, m.EndToEnd)
	for i := range m.AVPs {
		dst = m.AVPs[i].Append(dst)
	}
	return dst
}

// Find returns the first top-level AVP with code and vendor, or nil.
func (m *Message) Find(code, vendor uint32) *AVP {
	return find(m.AVPs, code, vendor)
}

// Add appends AVPs and returns m.
func (m *Message) Add(avps ...AVP) *Message {
	m.AVPs = append(m.AVPs, avps...)
	return m
}

// Answer makes an answer header to m: same command, application and ids,
// R and T cleared, P kept (RFC 6733 §6.2).
func (m *Message) Answer() *Message {
	return &Message{Header: Header{
		Version: 1, Flags: m.Flags & FlagProxiable, Code: m.Code, AppID: m.AppID,
		HopByHop: m.HopByHop, EndToEnd: m.EndToEnd,
	}, AVPs: make([]AVP, 0, 8)}
}
