package pdu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Address is a TON, an NPI and the address itself.
type Address struct {
	TON  uint8
	NPI  uint8
	Addr string
}

// PDU is one decoded SMPP PDU. Only the fields of its command's layout are
// meaningful. Byte slices (ShortMessage, TLV values, Body) alias the frame
// passed to Decode: copy them to keep them beyond the frame's life.
type PDU struct {
	ID     CommandID
	Status Status
	Seq    uint32

	// bind_*, outbind; SystemID also in bind_*_resp.
	SystemID         string
	Password         string
	SystemType       string
	InterfaceVersion uint8
	AddrTON          uint8
	AddrNPI          uint8
	AddressRange     string

	// submit_sm, deliver_sm (all), data_sm (some).
	ServiceType          string
	Source               Address
	Dest                 Address
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   uint8
	ReplaceIfPresent     uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte

	// submit_sm_resp, deliver_sm_resp, data_sm_resp.
	MessageID string

	// TLVs in wire order, unknown tags included.
	TLVs []TLV

	// NoBody: a response came (or is to be sent) without any body, as
	// error responses may be.
	NoBody bool
	// Body is the raw body of a command without a layout (see HasLayout).
	Body []byte
}

// Error is a decode or encode fault. Status is the command_status the
// specification gives for it; Field names the parameter at fault.
type Error struct {
	Status Status
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("smpp: %s (%s)", e.Msg, e.Status)
	}
	return fmt.Sprintf("smpp: %s: %s (%s)", e.Field, e.Msg, e.Status)
}

func truncated(f string) *Error {
	return &Error{Status: ESME_RINVCMDLEN, Field: f, Msg: "body ends inside the field"}
}

// Decode parses one whole frame (header included) into p, overwriting it.
// On an error after the header, p.ID, p.Status and p.Seq are set so that
// the caller can answer the request. It never panics and allocates only
// the strings and the TLV slice.
func (p *PDU) Decode(frame []byte) error {
	tlvs := p.TLVs[:0]
	*p = PDU{TLVs: tlvs}
	h, err := ParseHeader(frame)
	if err != nil {
		return err
	}
	if int(h.Length) != len(frame) {
		return &Error{Status: ESME_RINVCMDLEN, Field: "command_length", Msg: fmt.Sprintf("%d, but the frame has %d octets", h.Length, len(frame))}
	}
	p.ID, p.Status, p.Seq = h.ID, h.Status, h.Seq
	body := frame[HeaderLen:]
	l, ok := layouts[p.ID]
	if !ok {
		p.Body = body
		return nil
	}
	if len(body) == 0 && l.optional {
		p.NoBody = true
		return nil
	}
	off := 0
	for _, f := range l.fields {
		n, err := p.decodeField(f, body[off:])
		if err != nil {
			return err
		}
		off += n
	}
	rest := body[off:]
	if len(rest) > 0 && !l.tlvs {
		return &Error{Status: ESME_RINVCMDLEN, Msg: fmt.Sprintf("%d octets after the last field of %s", len(rest), p.ID)}
	}
	for len(rest) > 0 {
		if len(rest) < 4 {
			return &Error{Status: ESME_RINVOPTPARSTREAM, Msg: "TLV header cut short"}
		}
		t := TLV{Tag: Tag(binary.BigEndian.Uint16(rest)), Value: nil}
		n := int(binary.BigEndian.Uint16(rest[2:]))
		if len(rest)-4 < n {
			return &Error{Status: ESME_RINVOPTPARSTREAM, Field: t.Tag.String(), Msg: fmt.Sprintf("length %d runs past the end of the PDU", n)}
		}
		t.Value = rest[4 : 4+n : 4+n]
		if err := t.check(); err != nil {
			return err
		}
		p.TLVs = append(p.TLVs, t)
		rest = rest[4+n:]
	}
	return nil
}

// decodeField reads f from the start of b and returns how much it used.
func (p *PDU) decodeField(f field, b []byte) (int, error) {
	s := &fieldSpecs[f]
	switch s.kind {
	case kUint8:
		if len(b) < 1 {
			return 0, truncated(s.name)
		}
		*p.u8(f) = b[0]
		return 1, nil
	case kCString, kTime:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			if len(b) >= s.max {
				return 0, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("longer than %d characters", s.max-1)}
			}
			return 0, truncated(s.name)
		}
		if i >= s.max {
			return 0, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("%d characters, at most %d allowed", i, s.max-1)}
		}
		if s.kind == kTime && i != 0 && i != s.max-1 {
			return 0, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("%d characters, want 0 or %d", i, s.max-1)}
		}
		if i > 0 {
			*p.str(f) = string(b[:i])
		}
		return i + 1, nil
	case kSM:
		if len(b) < 1 {
			return 0, truncated("sm_length")
		}
		n := int(b[0])
		if n > s.max {
			return 0, &Error{Status: s.status, Field: "sm_length", Msg: fmt.Sprintf("%d, at most %d allowed", n, s.max)}
		}
		if len(b)-1 < n {
			return 0, &Error{Status: ESME_RINVMSGLEN, Field: "sm_length", Msg: fmt.Sprintf("%d, but only %d octets follow", n, len(b)-1)}
		}
		p.ShortMessage = b[1 : 1+n : 1+n]
		return 1 + n, nil
	}
	panic("pdu: unknown field kind") // a bug in fieldSpecs
}

// Decode parses a frame into a new PDU.
func Decode(frame []byte) (*PDU, error) {
	p := new(PDU)
	return p, p.Decode(frame)
}

// AppendTo encodes p as a whole frame appended to dst. It checks every
// field against the same limits Decode enforces, so what it writes decodes.
func (p *PDU) AppendTo(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0) // command_length, set below
	dst = binary.BigEndian.AppendUint32(dst, uint32(p.ID))
	dst = binary.BigEndian.AppendUint32(dst, uint32(p.Status))
	dst = binary.BigEndian.AppendUint32(dst, p.Seq)
	l, ok := layouts[p.ID]
	switch {
	case !ok:
		dst = append(dst, p.Body...)
	case p.NoBody && l.optional:
	case p.NoBody:
		return dst[:start], &Error{Status: ESME_RINVCMDLEN, Msg: p.ID.String() + " cannot go without a body"}
	default:
		var err error
		for _, f := range l.fields {
			if dst, err = p.encodeField(f, dst); err != nil {
				return dst[:start], err
			}
		}
		if len(p.TLVs) > 0 && !l.tlvs {
			return dst[:start], &Error{Status: ESME_ROPTPARNOTALLWD, Msg: p.ID.String() + " has no TLVs"}
		}
		for _, t := range p.TLVs {
			if len(t.Value) > math.MaxUint16 {
				return dst[:start], &Error{Status: ESME_RINVPARLEN, Field: t.Tag.String(), Msg: fmt.Sprintf("value of %d octets is too long", len(t.Value))}
			}
			if err := t.check(); err != nil {
				return dst[:start], err
			}
			dst = binary.BigEndian.AppendUint16(dst, uint16(t.Tag))
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Value)))
			dst = append(dst, t.Value...)
		}
	}
	n := len(dst) - start
	if uint64(n) > math.MaxUint32 {
		return dst[:start], &Error{Status: ESME_RINVCMDLEN, Msg: "PDU too long"}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

func (p *PDU) encodeField(f field, dst []byte) ([]byte, error) {
	s := &fieldSpecs[f]
	switch s.kind {
	case kUint8:
		return append(dst, *p.u8(f)), nil
	case kCString, kTime:
		v := *p.str(f)
		if len(v) >= s.max {
			return dst, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("%d characters, at most %d allowed", len(v), s.max-1)}
		}
		if s.kind == kTime && len(v) != 0 && len(v) != s.max-1 {
			return dst, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("%d characters, want 0 or %d", len(v), s.max-1)}
		}
		if strings.IndexByte(v, 0) >= 0 {
			return dst, &Error{Status: s.status, Field: s.name, Msg: "contains NUL"}
		}
		dst = append(dst, v...)
		return append(dst, 0), nil
	case kSM:
		if len(p.ShortMessage) > s.max {
			return dst, &Error{Status: s.status, Field: s.name, Msg: fmt.Sprintf("%d octets, at most %d allowed; use message_payload", len(p.ShortMessage), s.max)}
		}
		dst = append(dst, byte(len(p.ShortMessage)))
		return append(dst, p.ShortMessage...), nil
	}
	panic("pdu: unknown field kind") // a bug in fieldSpecs
}

// Encode returns p as a new frame.
func (p *PDU) Encode() ([]byte, error) {
	return p.AppendTo(make([]byte, 0, 64+len(p.ShortMessage)+len(p.Body)))
}
