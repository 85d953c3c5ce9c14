package uli

import (
	"encoding/binary"
	"fmt"
	"github.com/simguard/simguard"
)

// Append appends the attribute value of u (type octet first), the inverse
// of Decode. Test NAS clients and load generators use it; simguard itself
// only decodes.
func Append(dst []byte, u ULI) ([]byte, error) {
	dst = append(dst, byte(u.Type))
	switch u.Type {
	case TypeCGI, TypeSAI:
		dst = AppendPLMN(dst, u.PLMN)
		dst = binary.BigEndian.AppendUint16(dst, u.LAC)
		if u.Type == TypeCGI {
			return binary.BigEndian.AppendUint16(dst, u.CI), nil
		}
		return binary.BigEndian.AppendUint16(dst, u.SAC), nil
	case TypeRAI:
		dst = AppendPLMN(dst, u.PLMN)
		dst = binary.BigEndian.AppendUint16(dst, u.LAC)
		return append(dst, u.RAC, 0xff), nil
	case TypeTAI:
		return appendTAI(dst, u), nil
	case TypeECGI:
		return appendECGI(dst, u, u.PLMN), nil
	case TypeTAIECGI:
		return appendECGI(appendTAI(dst, u), u, u.cellPLMN()), nil
	case TypeENodeB, TypeExtENodeB:
		return appendENB(dst, u, u.PLMN)
	case TypeTAIENodeB, TypeTAIExtENodeB:
		return appendENB(appendTAI(dst, u), u, u.cellPLMN())
	case TypeNCGI:
		return appendNCGI(dst, u, u.PLMN), nil
	case Type5GSTAI:
		return append5GSTAI(dst, u), nil
	case Type5GSTAINCGI:
		return appendNCGI(append5GSTAI(dst, u), u, u.cellPLMN()), nil
	case TypeNGRANNode:
		return appendNode(dst, u, u.PLMN)
	case Type5GSTAINGRANNode:
		return appendNode(append5GSTAI(dst, u), u, u.cellPLMN())
	}
	return nil, fmt.Errorf("uli: cannot encode type %d", uint8(u.Type))
}

// cellPLMN is the PLMN of the second identity of a combined type. It is
// taken as set, even when zero: 000-00 is a PLMN a decoder can meet.
func (u ULI) cellPLMN() simguard.PLMN { return u.CellPLMN }

func appendTAI(dst []byte, u ULI) []byte {
	return binary.BigEndian.AppendUint16(AppendPLMN(dst, u.PLMN), uint16(u.TAC))
}

func append5GSTAI(dst []byte, u ULI) []byte {
	dst = AppendPLMN(dst, u.PLMN)
	return append(dst, byte(u.TAC>>16), byte(u.TAC>>8), byte(u.TAC))
}

func appendECGI(dst []byte, u ULI, p simguard.PLMN) []byte {
	return binary.BigEndian.AppendUint32(AppendPLMN(dst, p), u.ECI&0x0fffffff)
}

func appendNCGI(dst []byte, u ULI, p simguard.PLMN) []byte {
	dst = AppendPLMN(dst, p)
	dst = append(dst, byte(u.NCI>>32)&0x0f)
	return binary.BigEndian.AppendUint32(dst, uint32(u.NCI))
}

func appendENB(dst []byte, u ULI, p simguard.PLMN) ([]byte, error) {
	dst = AppendPLMN(dst, p)
	v := u.ENB
	switch u.ENBKind {
	case ENBMacro:
		v &= 0x0fffff
	case ENBShortMacro:
		v = v&0x03ffff | 0x800000
	case ENBLongMacro:
		v &= 0x1fffff
	default:
		return nil, fmt.Errorf("uli: %s without an eNodeB ID kind", u.Type)
	}
	return append(dst, byte(v>>16), byte(v>>8), byte(v)), nil
}

func appendNode(dst []byte, u ULI, p simguard.PLMN) ([]byte, error) {
	if len(u.NodeID) < 1 || len(u.NodeID) > 16 {
		return nil, fmt.Errorf("uli: %s needs a node ID of 1-16 octets", u.Type)
	}
	return append(AppendPLMN(dst, p), u.NodeID...), nil
}
