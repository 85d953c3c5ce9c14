package wire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format writes m as text, one AVP a line, names from the dictionary. It
// is for logs, golden files and debugging; it never fails (values that do
// not fit their type are shown as hex).
func Format(m *Message) string {
	var b strings.Builder
	kind := "answer"
	if m.IsRequest() {
		kind = "request"
	}
	fmt.Fprintf(&b, "%s %s (%d) app=%d flags=%s hbh=0x%08x e2e=0x%08x\n",
		CommandAbbrev(m.Code, m.IsRequest()), kind, m.Code, m.AppID, flagText(m.Flags), m.HopByHop, m.EndToEnd)
	formatAVPs(&b, m.AVPs, 1)
	return b.String()
}

func flagText(f uint8) string {
	s := ""
	for _, x := range []struct {
		bit uint8
		c   string
	}{{FlagRequest, "R"}, {FlagProxiable, "P"}, {FlagError, "E"}, {FlagRetransmit, "T"}} {
		if f&x.bit != 0 {
			s += x.c
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

func avpFlagText(f uint8) string {
	s := ""
	if f&AVPVendor != 0 {
		s += "V"
	}
	if f&AVPMandatory != 0 {
		s += "M"
	}
	if f&AVPProtected != 0 {
		s += "P"
	}
	if s == "" {
		return "-"
	}
	return s
}

func formatAVPs(b *strings.Builder, avps []AVP, depth int) {
	for i := range avps {
		a := &avps[i]
		vendor := uint32(0)
		if a.Flags&AVPVendor != 0 {
			vendor = a.Vendor
		}
		d := LookupAVP(a.Code, vendor)
		name := fmt.Sprintf("AVP-%d", a.Code)
		if d != nil {
			name = d.Name
		}
		ind := strings.Repeat("  ", depth)
		fmt.Fprintf(b, "%s%s (%d", ind, name, a.Code)
		if vendor != 0 {
			fmt.Fprintf(b, "/%d", vendor)
		}
		fmt.Fprintf(b, ") %s", avpFlagText(a.Flags))
		if d != nil && d.Type == TypeGrouped && depth < maxDepth {
			if inner, err := a.Group(); err == nil {
				b.WriteString("\n")
				formatAVPs(b, inner, depth+1)
				continue
			}
		}
		b.WriteString(" = " + valueText(a, d) + "\n")
	}
}

func valueText(a *AVP, d *AVPDef) string {
	if d != nil {
		switch d.Type {
		case TypeUnsigned32, TypeEnumerated, TypeTime:
			if len(a.Data) == 4 {
				return strconv.FormatUint(uint64(binary.BigEndian.Uint32(a.Data)), 10)
			}
		case TypeInteger32:
			if len(a.Data) == 4 {
				return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(a.Data))), 10)
			}
		case TypeUnsigned64, TypeInteger64:
			if len(a.Data) == 8 {
				return strconv.FormatUint(binary.BigEndian.Uint64(a.Data), 10)
			}
		case TypeAddress:
			if ip, err := a.Address(); err == nil {
				return ip.String()
			}
		case TypeUTF8String, TypeIdentity, TypeURI:
			if utf8.Valid(a.Data) {
				return strconv.Quote(string(a.Data))
			}
		}
	}
	return "0x" + hex.EncodeToString(a.Data)
}
