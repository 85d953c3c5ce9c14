package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// AVP flags (RFC 6733 §4.1).
const (
	AVPVendor       uint8 = 0x80 // V: a Vendor-ID field is present
	AVPMandatory    uint8 = 0x40 // M: the receiver must understand it
	AVPProtected    uint8 = 0x20 // P: end-to-end security (deprecated)
	avpFlagReserved uint8 = 0x1f
)

// AVP is one attribute-value pair. Data is the value without padding; for
// a grouped AVP it holds the encoded inner AVPs (see Group).
type AVP struct {
	Code   uint32
	Flags  uint8
	Vendor uint32 // meaningful only with the V flag
	Data   []byte
}

func (a *AVP) headerLen() int {
	if a.Flags&AVPVendor != 0 {
		return 12
	}
	return 8
}

func (a *AVP) paddedLen() int { return (a.headerLen() + len(a.Data) + 3) &^ 3 }

// Append encodes a (with padding) onto dst.
func (a *AVP) Append(dst []byte) []byte {
	n := a.headerLen() + len(a.Data)
	dst = binary.BigEndian.AppendUint32(dst, a.Code)
	dst = append(dst, a.Flags, byte(n>>16), byte(n>>8), byte(n))
	if a.Flags&AVPVendor != 0 {
		dst = binary.BigEndian.AppendUint32(dst, a.Vendor)
	}
	dst = append(dst, a.Data...)
	for pad := (4 - n%4) % 4; pad > 0; pad-- {
		dst = append(dst, 0)
	}
	return dst
}

// decodeAVPs parses a sequence of AVPs that fills b exactly. It appends
// to dst, which it first grows to an upper bound of what b can hold, so a
// message costs at most one allocation for its AVPs.
func decodeAVPs(dst []AVP, b []byte) ([]AVP, error) {
	// Typical messages hold far fewer AVPs than the bound len(b)/8; cap
	// the first guess and let append grow past it.
	if want := min(len(b)/8, 32); cap(dst)-len(dst) < want {
		nd := make([]AVP, len(dst), len(dst)+want)
		copy(nd, dst)
		dst = nd
	}
	for len(b) > 0 {
		var a AVP
		rest, err := nextAVP(&a, b)
		if err != nil {
			return dst, err
		}
		dst = append(dst, a)
		b = rest
	}
	return dst, nil
}

// nextAVP decodes the first AVP of b into a and returns what follows it.
func nextAVP(a *AVP, b []byte) ([]byte, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes left, an AVP header needs 8", ErrAVPLength, len(b))
	}
	a.Code = binary.BigEndian.Uint32(b)
	a.Flags = b[4]
	a.Vendor = 0
	n := int(b[5])<<16 | int(b[6])<<8 | int(b[7])
	if a.Flags&avpFlagReserved != 0 {
		return nil, fmt.Errorf("%w: AVP %d flags 0x%02x", ErrAVPFlags, a.Code, a.Flags)
	}
	hl := 8
	if a.Flags&AVPVendor != 0 {
		hl = 12
	}
	if n < hl || n > len(b) {
		return nil, fmt.Errorf("%w: AVP %d says %d bytes, %d available", ErrAVPLength, a.Code, n, len(b))
	}
	if hl == 12 {
		a.Vendor = binary.BigEndian.Uint32(b[8:])
	}
	a.Data = b[hl:n:n]
	p := (n + 3) &^ 3
	if p > len(b) {
		return nil, fmt.Errorf("%w: AVP %d", ErrAVPPadding, a.Code)
	}
	return b[p:], nil
}

// Group decodes the inner AVPs of a grouped AVP.
func (a *AVP) Group() ([]AVP, error) { return decodeAVPs(nil, a.Data) }

// Uint32 reads an Unsigned32/Integer32/Enumerated value.
func (a *AVP) Uint32() (uint32, error) {
	if len(a.Data) != 4 {
		return 0, fmt.Errorf("%w: AVP %d is %d bytes, want 4", ErrAVPLength, a.Code, len(a.Data))
	}
	return binary.BigEndian.Uint32(a.Data), nil
}

// Uint64 reads an Unsigned64/Integer64 value.
func (a *AVP) Uint64() (uint64, error) {
	if len(a.Data) != 8 {
		return 0, fmt.Errorf("%w: AVP %d is %d bytes, want 8", ErrAVPLength, a.Code, len(a.Data))
	}
	return binary.BigEndian.Uint64(a.Data), nil
}

// Address reads an Address value (RFC 6733 §4.3.1: 2-byte family, then
// the address); IPv4 and IPv6 only.
func (a *AVP) Address() (netip.Addr, error) {
	if len(a.Data) < 2 {
		return netip.Addr{}, fmt.Errorf("%w: Address AVP %d", ErrAVPLength, a.Code)
	}
	fam := binary.BigEndian.Uint16(a.Data)
	switch {
	case fam == 1 && len(a.Data) == 6:
		return netip.AddrFrom4([4]byte(a.Data[2:6])), nil
	case fam == 2 && len(a.Data) == 18:
		return netip.AddrFrom16([16]byte(a.Data[2:18])), nil
	}
	return netip.Addr{}, fmt.Errorf("diameter: Address AVP %d: family %d with %d bytes", a.Code, fam, len(a.Data)-2)
}

// find returns the first AVP with code and vendor (0: none) in avps.
func find(avps []AVP, code, vendor uint32) *AVP {
	for i := range avps {
		a := &avps[i]
		if a.Code == code && (vendor == 0 && a.Flags&AVPVendor == 0 || a.Flags&AVPVendor != 0 && a.Vendor == vendor) {
			return a
		}
	}
	return nil
}

// Find returns the first AVP with code and vendor in avps, or nil.
func Find(avps []AVP, code, vendor uint32) *AVP { return find(avps, code, vendor) }

// NewUint32 makes an Unsigned32 (or Integer32, Enumerated) AVP.
func NewUint32(code, vendor uint32, flags uint8, v uint32) AVP {
	return newAVP(code, vendor, flags, binary.BigEndian.AppendUint32(make([]byte, 0, 4), v))
}

// NewBytes makes an OctetString/UTF8String/DiameterIdentity AVP.
func NewBytes(code, vendor uint32, flags uint8, v []byte) AVP {
	return newAVP(code, vendor, flags, v)
}

// NewString makes a string-valued AVP.
func NewString(code, vendor uint32, flags uint8, v string) AVP {
	return newAVP(code, vendor, flags, []byte(v))
}

// NewAddress makes an Address AVP.
func NewAddress(code, vendor uint32, flags uint8, ip netip.Addr) AVP {
	var b []byte
	if ip.Is4() || ip.Is4In6() {
		a4 := ip.Unmap().As4()
		b = append([]byte{0, 1}, a4[:]...)
	} else {
		a16 := ip.As16()
		b = append([]byte{0, 2}, a16[:]...)
	}
	return newAVP(code, vendor, flags, b)
}

// NewGroup makes a grouped AVP from inner AVPs.
func NewGroup(code, vendor uint32, flags uint8, inner ...AVP) AVP {
	var b []byte
	for i := range inner {
		b = inner[i].Append(b)
	}
	return newAVP(code, vendor, flags, b)
}

func newAVP(code, vendor uint32, flags uint8, data []byte) AVP {
	if vendor != 0 {
		flags |= AVPVendor
	} else {
		flags &^= AVPVendor
	}
	return AVP{Code: code, Flags: flags, Vendor: vendor, Data: data}
}

// Child finds the first inner AVP with code and vendor (0: none) of a
// grouped AVP without allocating; ok is false when there is none or the
// group is malformed.
func (a *AVP) Child(code, vendor uint32) (AVP, bool) {
	var c AVP
	b := a.Data
	for len(b) > 0 {
		rest, err := nextAVP(&c, b)
		if err != nil {
			return AVP{}, false
		}
		if c.Code == code && (vendor == 0 && c.Flags&AVPVendor == 0 || c.Flags&AVPVendor != 0 && c.Vendor == vendor) {
			return c, true
		}
		b = rest
	}
	return AVP{}, false
}
