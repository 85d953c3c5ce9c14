package diameter

import (
	"fmt"
	"strconv"

	"github.com/simguard/simguard"
)

// decodePLMN reads a 3-octet PLMN identity (TS 24.008 §10.5.1.3, as in
// Visited-PLMN-Id): octet 1 = MCC2|MCC1, octet 2 = MNC3|MCC3 (MNC3 = F
// for a 2-digit MNC), octet 3 = MNC2|MNC1, low nibble first.
func decodePLMN(b []byte) (simguard.PLMN, error) {
	if len(b) != 3 {
		return simguard.PLMN{}, fmt.Errorf("PLMN identity of %d octets, want 3", len(b))
	}
	mcc1, mcc2, mcc3 := b[0]&0x0f, b[0]>>4, b[1]&0x0f
	mnc3, mnc1, mnc2 := b[1]>>4, b[2]&0x0f, b[2]>>4
	if mcc1 > 9 || mcc2 > 9 || mcc3 > 9 || mnc1 > 9 || mnc2 > 9 || mnc3 > 9 && mnc3 != 0x0f {
		return simguard.PLMN{}, fmt.Errorf("PLMN identity %x is not BCD", b)
	}
	p := simguard.PLMN{MCC: uint16(mcc1)*100 + uint16(mcc2)*10 + uint16(mcc3), MNC: uint16(mnc1)*10 + uint16(mnc2)}
	if mnc3 != 0x0f {
		p.MNC = p.MNC*10 + uint16(mnc3)
		p.MNC3 = true
	}
	return p, nil
}

// encodePLMN is the inverse of decodePLMN (tests, the demo).
func encodePLMN(p simguard.PLMN) []byte {
	mcc := [3]byte{byte(p.MCC / 100), byte(p.MCC / 10 % 10), byte(p.MCC % 10)}
	var mnc [3]byte
	if p.MNC3 {
		mnc = [3]byte{byte(p.MNC / 100), byte(p.MNC / 10 % 10), byte(p.MNC % 10)}
	} else {
		mnc = [3]byte{byte(p.MNC / 10), byte(p.MNC % 10), 0x0f}
	}
	return []byte{mcc[1]<<4 | mcc[0], mnc[2]<<4 | mcc[2], mnc[1]<<4 | mnc[0]}
}

// ratName maps the Diameter RAT-Type (TS 29.212 §5.3.31) to the policy's
// radio types. Values without a policy name become "rat-N", which no
// allowed list contains.
func ratName(v uint32) simguard.RAT {
	switch v {
	case 1000, 1003: // UTRAN, HSPA Evolution
		return simguard.RAT3G
	case 1001: // GERAN
		return simguard.RAT2G
	case 1004: // EUTRAN (WB-E-UTRAN)
		return simguard.RAT4G
	case 1005: // EUTRAN-NB-IoT
		return simguard.RATNBIoT
	case 1006, 1008: // NR, NR-U
		return simguard.RAT5G
	case 1007: // LTE-M
		return simguard.RATLTEM
	}
	return simguard.RAT("rat-" + strconv.FormatUint(uint64(v), 10))
}
