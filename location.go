package simguard

import (
	"fmt"
	"strconv"
	"strings"
)

// PLMN is a mobile network: country code and network code. A 3-digit MNC
// is different from the 2-digit MNC with the same value ("310-26" is not
// "310-026"), so the digit count is part of the value.
type PLMN struct {
	MCC  uint16
	MNC  uint16
	MNC3 bool // the MNC has 3 digits
}

// IsZero reports whether p is unset.
func (p PLMN) IsZero() bool { return p == PLMN{} }

// Key packs p into one comparable integer (MCC, MNC and digit count).
func (p PLMN) Key() uint32 {
	k := uint32(p.MCC)<<16 | uint32(p.MNC)<<1
	if p.MNC3 {
		k |= 1
	}
	return k
}

// String writes "MCC-MNC" with the MNC in its own digit count.
func (p PLMN) String() string {
	if p.MNC3 {
		return fmt.Sprintf("%03d-%03d", p.MCC, p.MNC)
	}
	return fmt.Sprintf("%03d-%02d", p.MCC, p.MNC)
}

// ParsePLMN reads "MCC-MNC" or "MCCMNC" (3 digits MCC, 2 or 3 digits MNC).
func ParsePLMN(s string) (PLMN, error) {
	d := strings.ReplaceAll(s, "-", "")
	if len(d) != 5 && len(d) != 6 || !allDigits(d) {
		return PLMN{}, fmt.Errorf("PLMN %q: want MCC-MNC like 262-01 or 310-260", clip(s))
	}
	mcc, _ := strconv.Atoi(d[:3])
	mnc, _ := strconv.Atoi(d[3:])
	return PLMN{MCC: uint16(mcc), MNC: uint16(mnc), MNC3: len(d) == 6}, nil
}

// Location is where a request comes from, as far as the protocol told us.
// Adapters decode it from 3GPP-SGSN-MCC-MNC, 3GPP-User-Location-Info,
// Visited-PLMN-Id and the like.
type Location struct {
	PLMN PLMN
	// Area is the TAC (E-UTRAN, NR) or LAC (GERAN, UTRAN).
	Area    uint32
	HasArea bool
	// Cell is the ECI or NCI, or CGICell(LAC, CI) for GERAN/UTRAN cells.
	Cell    uint64
	HasCell bool
}

// CGICell makes the Cell value of a GERAN/UTRAN cell (CGI, or SAI with the
// SAC in place of the CI). Bit 62 keeps these apart from ECIs and NCIs.
func CGICell(lac, ci uint16) uint64 {
	return 1<<62 | uint64(lac)<<16 | uint64(ci)
}

// ParseArea reads "MCC-MNC-AREA" (TAC or LAC, decimal).
func ParseArea(s string) (PLMN, uint32, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return PLMN{}, 0, fmt.Errorf("area %q: want MCC-MNC-TAC like 262-01-4711", clip(s))
	}
	p, err := ParsePLMN(parts[0] + "-" + parts[1])
	if err != nil {
		return PLMN{}, 0, err
	}
	a, err := strconv.ParseUint(parts[2], 10, 24)
	if err != nil {
		return PLMN{}, 0, fmt.Errorf("area %q: the TAC/LAC must be decimal, at most 16777215", clip(s))
	}
	return p, uint32(a), nil
}

// ParseCell reads "MCC-MNC-ECI" (E-UTRAN ECI or NR NCI, decimal) or
// "MCC-MNC-LAC-CI" (GERAN/UTRAN, decimal).
func ParseCell(s string) (PLMN, uint64, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 && len(parts) != 4 {
		return PLMN{}, 0, fmt.Errorf("cell %q: want MCC-MNC-ECI like 262-01-257 or MCC-MNC-LAC-CI like 262-01-1-257", clip(s))
	}
	p, err := ParsePLMN(parts[0] + "-" + parts[1])
	if err != nil {
		return PLMN{}, 0, err
	}
	if len(parts) == 3 {
		c, err := strconv.ParseUint(parts[2], 10, 36)
		if err != nil {
			return PLMN{}, 0, fmt.Errorf("cell %q: ECI/NCI must be decimal, at most 36 bits", clip(s))
		}
		return p, c, nil
	}
	lac, err1 := strconv.ParseUint(parts[2], 10, 16)
	ci, err2 := strconv.ParseUint(parts[3], 10, 16)
	if err1 != nil || err2 != nil {
		return PLMN{}, 0, fmt.Errorf("cell %q: LAC and CI must be decimal, at most 65535", clip(s))
	}
	return p, CGICell(uint16(lac), uint16(ci)), nil
}
