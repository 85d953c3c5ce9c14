package uli

import (
	"encoding/binary"
	"fmt"

	"github.com/simguard/simguard"
)

// Type is the Geographic Location Type, the first octet of the attribute.
type Type uint8

const (
	TypeCGI             Type = 0   // PLMN, LAC, CI
	TypeSAI             Type = 1   // PLMN, LAC, SAC
	TypeRAI             Type = 2   // PLMN, LAC, RAC
	TypeTAI             Type = 128 // PLMN, 16-bit TAC
	TypeECGI            Type = 129 // PLMN, 28-bit ECI
	TypeTAIECGI         Type = 130 // TAI then ECGI
	TypeENodeB          Type = 131 // PLMN, 20-bit macro eNodeB ID
	TypeTAIENodeB       Type = 132 // TAI then macro eNodeB ID
	TypeExtENodeB       Type = 133 // PLMN, SMeNB flag, 18- or 21-bit eNodeB ID
	TypeTAIExtENodeB    Type = 134 // TAI then extended macro eNodeB ID
	TypeNCGI            Type = 135 // PLMN, 36-bit NR cell identity
	Type5GSTAI          Type = 136 // PLMN, 24-bit TAC
	Type5GSTAINCGI      Type = 137 // 5GS TAI then NCGI
	TypeNGRANNode       Type = 138 // PLMN, NG-RAN node ID
	Type5GSTAINGRANNode Type = 139 // 5GS TAI then NG-RAN node ID
)

var typeNames = map[Type]string{
	TypeCGI: "cgi", TypeSAI: "sai", TypeRAI: "rai", TypeTAI: "tai", TypeECGI: "ecgi",
	TypeTAIECGI: "tai+ecgi", TypeENodeB: "enodeb", TypeTAIENodeB: "tai+enodeb",
	TypeExtENodeB: "ext-enodeb", TypeTAIExtENodeB: "tai+ext-enodeb", TypeNCGI: "ncgi",
	Type5GSTAI: "5gs-tai", Type5GSTAINCGI: "5gs-tai+ncgi", TypeNGRANNode: "ngran-node",
	Type5GSTAINGRANNode: "5gs-tai+ngran-node",
}

// String names the type as events show it ("tai+ecgi"), "type-N" if unknown.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// ENBKind says which eNodeB ID an eNodeB location carries.
type ENBKind uint8

const (
	ENBNone       ENBKind = iota
	ENBMacro              // 20 bits (type 131, 132)
	ENBShortMacro         // 18 bits: extended, SMeNB flag 1
	ENBLongMacro          // 21 bits: extended, SMeNB flag 0
)

// ULI is a decoded 3GPP-User-Location-Info. Only the fields of its Type are
// set.
type ULI struct {
	Type Type
	// PLMN is the network of the area (TAI, LAI) when there is one,
	// otherwise of the cell or node.
	PLMN simguard.PLMN
	// CellPLMN is the PLMN of the cell or node (ECGI, NCGI, eNodeB, NG-RAN
	// node) in the combined types; it differs from PLMN only in shared
	// networks. Append writes it as set for those types.
	CellPLMN simguard.PLMN

	LAC uint16 // CGI, SAI, RAI
	CI  uint16 // CGI
	SAC uint16 // SAI
	RAC uint8  // RAI

	TAC    uint32 // 16 bits (EPS) or 24 bits (5GS)
	HasTAC bool
	ECI    uint32 // 28 bits
	HasECI bool
	NCI    uint64 // 36 bits
	HasNCI bool

	ENB     uint32 // eNodeB ID
	ENBKind ENBKind
	// NodeID is the NG-RAN node identity octets after the PLMN, kept as
	// sent: policy locks areas and cells, not RAN nodes.
	NodeID []byte
}

// Decode reads the attribute value b (type octet first).
func Decode(b []byte) (ULI, error) {
	if len(b) == 0 {
		return ULI{}, fmt.Errorf("uli: empty")
	}
	u := ULI{Type: Type(b[0])}
	f := b[1:]
	var err error
	switch u.Type {
	case TypeCGI, TypeSAI:
		if err = wantLen(u.Type, f, 7); err != nil {
			break
		}
		if u.PLMN, err = plmn(f); err != nil {
			break
		}
		u.LAC = binary.BigEndian.Uint16(f[3:])
		if u.Type == TypeCGI {
			u.CI = binary.BigEndian.Uint16(f[5:])
		} else {
			u.SAC = binary.BigEndian.Uint16(f[5:])
		}
	case TypeRAI:
		// TS 29.060 codes the RAC in one octet, TS 29.274 in two (the
		// second all ones): accept both.
		if len(f) != 6 && len(f) != 7 {
			err = fmt.Errorf("uli: %s needs 6 or 7 octets after the type, got %d", u.Type, len(f))
			break
		}
		if u.PLMN, err = plmn(f); err != nil {
			break
		}
		u.LAC = binary.BigEndian.Uint16(f[3:])
		u.RAC = f[5]
	case TypeTAI:
		if err = wantLen(u.Type, f, 5); err == nil {
			err = u.tai(f)
		}
	case TypeECGI:
		if err = wantLen(u.Type, f, 7); err == nil {
			u.PLMN, err = u.ecgi(f)
		}
	case TypeTAIECGI:
		if err = wantLen(u.Type, f, 12); err == nil {
			if err = u.tai(f); err == nil {
				u.CellPLMN, err = u.ecgi(f[5:])
			}
		}
	case TypeENodeB, TypeExtENodeB:
		if err = wantLen(u.Type, f, 6); err == nil {
			u.PLMN, err = u.enb(f)
		}
	case TypeTAIENodeB, TypeTAIExtENodeB:
		if err = wantLen(u.Type, f, 11); err == nil {
			if err = u.tai(f); err == nil {
				u.CellPLMN, err = u.enb(f[5:])
			}
		}
	case TypeNCGI:
		if err = wantLen(u.Type, f, 8); err == nil {
			u.PLMN, err = u.ncgi(f)
		}
	case Type5GSTAI:
		if err = wantLen(u.Type, f, 6); err == nil {
			err = u.tai5gs(f)
		}
	case Type5GSTAINCGI:
		if err = wantLen(u.Type, f, 14); err == nil {
			if err = u.tai5gs(f); err == nil {
				u.CellPLMN, err = u.ncgi(f[6:])
			}
		}
	case TypeNGRANNode, Type5GSTAINGRANNode:
		err = u.node(f)
	default:
		err = fmt.Errorf("uli: unknown geographic location type %d", b[0])
	}
	if err != nil {
		return ULI{}, err
	}
	return u, nil
}

func wantLen(t Type, f []byte, n int) error {
	if len(f) != n {
		return fmt.Errorf("uli: %s needs %d octets after the type, got %d", t, n, len(f))
	}
	return nil
}

func plmn(f []byte) (simguard.PLMN, error) {
	p, err := DecodePLMN(f)
	if err != nil {
		return p, fmt.Errorf("uli: %w", err)
	}
	return p, nil
}

func (u *ULI) tai(f []byte) (err error) {
	if u.PLMN, err = plmn(f); err != nil {
		return err
	}
	u.TAC, u.HasTAC = uint32(binary.BigEndian.Uint16(f[3:])), true
	return nil
}

func (u *ULI) tai5gs(f []byte) (err error) {
	if u.PLMN, err = plmn(f); err != nil {
		return err
	}
	u.TAC, u.HasTAC = uint32(f[3])<<16|uint32(f[4])<<8|uint32(f[5]), true
	return nil
}

// ecgi reads PLMN and ECI; the 4 high bits of the ECI octets are spare.
func (u *ULI) ecgi(f []byte) (simguard.PLMN, error) {
	p, err := plmn(f)
	if err != nil {
		return p, err
	}
	u.ECI, u.HasECI = binary.BigEndian.Uint32(f[3:])&0x0fffffff, true
	return p, nil
}

// ncgi reads PLMN and the 36-bit NCI, whose first octet has 4 spare high
// bits like the ECGI's.
func (u *ULI) ncgi(f []byte) (simguard.PLMN, error) {
	p, err := plmn(f)
	if err != nil {
		return p, err
	}
	u.NCI = uint64(f[3]&0x0f)<<32 | uint64(binary.BigEndian.Uint32(f[4:]))
	u.HasNCI = true
	return p, nil
}

// enb reads a macro (TS 29.274 §8.21.7) or extended macro (§8.21.8)
// eNodeB ID; the type already says which.
func (u *ULI) enb(f []byte) (simguard.PLMN, error) {
	p, err := plmn(f)
	if err != nil {
		return p, err
	}
	v := uint32(f[3])<<16 | uint32(f[4])<<8 | uint32(f[5])
	switch {
	case u.Type == TypeENodeB || u.Type == TypeTAIENodeB:
		u.ENB, u.ENBKind = v&0x0fffff, ENBMacro
	case f[3]&0x80 != 0:
		u.ENB, u.ENBKind = v&0x03ffff, ENBShortMacro
	default:
		u.ENB, u.ENBKind = v&0x1fffff, ENBLongMacro
	}
	return p, nil
}

// node reads types 138 and 139: an optional 5GS TAI, then the PLMN of the
// NG-RAN node and its identity (1 to 16 octets).
func (u *ULI) node(f []byte) error {
	if u.Type == Type5GSTAINGRANNode {
		if len(f) < 6 {
			return fmt.Errorf("uli: %s needs a 6-octet 5GS TAI, got %d octets", u.Type, len(f))
		}
		if err := u.tai5gs(f); err != nil {
			return err
		}
		f = f[6:]
	}
	if len(f) < 4 || len(f) > 19 {
		return fmt.Errorf("uli: %s needs a PLMN and a 1-16 octet node ID, got %d octets", u.Type, len(f))
	}
	p, err := plmn(f)
	if err != nil {
		return err
	}
	if u.Type == TypeNGRANNode {
		u.PLMN = p
	} else {
		u.CellPLMN = p
	}
	u.NodeID = append([]byte(nil), f[3:]...)
	return nil
}

// Location maps u to what the policy locks: the PLMN, the tracking or
// location area, and the cell (ECI, NCI, or CGICell for CGI and SAI).
// eNodeB and NG-RAN node IDs name no single cell and add nothing.
func (u ULI) Location() simguard.Location {
	l := simguard.Location{PLMN: u.PLMN}
	switch u.Type {
	case TypeCGI:
		l.Area, l.HasArea = uint32(u.LAC), true
		l.Cell, l.HasCell = simguard.CGICell(u.LAC, u.CI), true
	case TypeSAI:
		l.Area, l.HasArea = uint32(u.LAC), true
		l.Cell, l.HasCell = simguard.CGICell(u.LAC, u.SAC), true
	case TypeRAI:
		l.Area, l.HasArea = uint32(u.LAC), true
	}
	if u.HasTAC {
		l.Area, l.HasArea = u.TAC, true
	}
	if u.HasECI {
		l.Cell, l.HasCell = uint64(u.ECI), true
	}
	if u.HasNCI {
		l.Cell, l.HasCell = u.NCI, true
	}
	return l
}
