package uli

import (
	"errors"

	"github.com/simguard/simguard"
)

// DecodePLMN reads a PLMN identity in the 3-octet BCD coding of TS 24.008
// §10.5.1.13: octet 1 holds MCC digit 2 (high nibble) and MCC digit 1,
// octet 2 MNC digit 3 and MCC digit 3, octet 3 MNC digit 2 and MNC digit
// 1. MNC digit 3 is 0xF for a 2-digit MNC.
func DecodePLMN(b []byte) (simguard.PLMN, error) {
	if len(b) < 3 {
		return simguard.PLMN{}, errors.New("plmn: need 3 octets")
	}
	mcc1, mcc2 := b[0]&0x0f, b[0]>>4
	mcc3, mnc3 := b[1]&0x0f, b[1]>>4
	mnc1, mnc2 := b[2]&0x0f, b[2]>>4
	if mcc1 > 9 || mcc2 > 9 || mcc3 > 9 || mnc1 > 9 || mnc2 > 9 {
		return simguard.PLMN{}, errors.New("plmn: MCC/MNC digit is not BCD")
	}
	p := simguard.PLMN{
		MCC: uint16(mcc1)*100 + uint16(mcc2)*10 + uint16(mcc3),
		MNC: uint16(mnc1)*10 + uint16(mnc2),
	}
	switch {
	case mnc3 == 0x0f:
	case mnc3 <= 9:
		p.MNC = p.MNC*10 + uint16(mnc3)
		p.MNC3 = true
	default:
		return simguard.PLMN{}, errors.New("plmn: MNC digit 3 is neither BCD nor filler 0xF")
	}
	return p, nil
}

// AppendPLMN appends the 3-octet BCD coding of p (see DecodePLMN).
func AppendPLMN(dst []byte, p simguard.PLMN) []byte {
	mcc1, mcc2, mcc3 := byte(p.MCC/100%10), byte(p.MCC/10%10), byte(p.MCC%10)
	var mnc1, mnc2, mnc3 byte
	if p.MNC3 {
		mnc1, mnc2, mnc3 = byte(p.MNC/100%10), byte(p.MNC/10%10), byte(p.MNC%10)
	} else {
		mnc1, mnc2, mnc3 = byte(p.MNC/10%10), byte(p.MNC%10), 0x0f
	}
	return append(dst, mcc2<<4|mcc1, mnc3<<4|mcc3, mnc2<<4|mnc1)
}
