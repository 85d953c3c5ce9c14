package smpp

import (
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// Classification is what the firewall reads from a message before asking
// the policy. Cause names the first reason it is binary, for events.
type Classification struct {
	Binary bool
	Silent bool
	Cause  string // one of the Cause constants, "" when not binary
	// Concatenated: the user data header holds only concatenation
	// information elements (a segment of a long message).
	Concatenated bool
}

// Causes of a binary classification, strongest first.
const (
	CauseOTA       = "ota"        // SIM toolkit security header (UDH IEI 0x70-0x7F, TS 31.115)
	CausePID       = "pid"        // TP-PID for (U)SIM / ME data download or de-personalization
	CauseClass2    = "dcs_class2" // data coding class 2: (U)SIM-specific message
	Cause8Bit      = "dcs_8bit"   // 8-bit data coding
	CauseUDHCoding = "dcs_udh"    // coding group 1001: "message with UDH structure"
	CausePort      = "port"       // application port addressing (UDH IEI 4/5 or port TLVs): WAP push and the like
	CauseUDHI      = "udhi"       // a user data header of any other kind
	CauseConflict  = "conflict"   // short_message and message_payload both set
)

// Info returns the classification as the policy reads it.
func (c Classification) Info() simguard.SMSInfo {
	return simguard.SMSInfo{Binary: c.Binary, Silent: c.Silent}
}

// Classify reads a submit_sm, deliver_sm or data_sm.
//
// Binary (TS 23.040, TS 23.038, TS 31.115): a user data header (esm_class
// UDHI 0x40), TP-PID 0x7C-0x7F (ANSI-136 R-DATA, ME data download, ME
// de-personalization, (U)SIM data download), a data_coding that is 8-bit
// or class 2 (see dataCoding), or port addressing TLVs. A UDH carrying a
// SIM toolkit security header (IEI 0x70-0x7F: command or response packet)
// is reported as CauseOTA. Silent: TP-PID 0x40 (short message type 0).
//
// A header of concatenation elements only (IEI 0x00, 8-bit reference, or
// 0x08, 16-bit reference, each of its proper length) is how most ESMEs
// send long text, and is not binary by itself: the message is binary
// only for another reason (its data coding, PID or ports). That is safe
// against concatenated OTA commands: a SIM processes an envelope only
// with PID 0x7F or class 2 coding, which are binary on their own, and
// their first segment carries the security header (IEI 0x70) as well.
// Any other UDH counts as binary.
func Classify(p *pdu.PDU) Classification {
	var c Classification
	c.Silent = p.ProtocolID == 0x40
	set := func(cause string) {
		if !c.Binary {
			c.Binary, c.Cause = true, cause
		}
	}
	ud, ok := p.UserData()
	if !ok {
		set(CauseConflict)
	}
	var ota, portUDH bool
	if p.ESMClass&pdu.ESMUDHI != 0 {
		elements, others := 0, 0
		err := pdu.WalkUDH(ud, func(iei byte, data []byte) bool {
			elements++
			switch {
			case iei == 0x00 && len(data) == 3, iei == 0x08 && len(data) == 4:
				return true
			case iei >= 0x70 && iei <= 0x7f:
				ota = true
				return false
			case iei == 0x04 || iei == 0x05:
				portUDH = true
			}
			others++
			return true
		})
		portUDH = portUDH && err == nil
		c.Concatenated = err == nil && elements > 0 && others == 0 && !ota
	}
	// In the order of the Cause constants, so the strongest is reported.
	if ota {
		set(CauseOTA)
	}
	if p.ProtocolID >= 0x7c && p.ProtocolID <= 0x7f {
		set(CausePID)
	}
	if cause := dataCoding(p.DataCoding); cause != "" {
		set(cause)
	}
	if portUDH {
		set(CausePort)
	}
	if _, ok := p.TLV(pdu.TagDestinationPort); ok {
		set(CausePort)
	} else if _, ok := p.TLV(pdu.TagSourcePort); ok {
		set(CausePort)
	}
	if p.ESMClass&pdu.ESMUDHI != 0 && !c.Concatenated {
		set(CauseUDHI)
	}
	return c
}

// dataCoding returns why a data_coding value makes a message binary.
//
// SMPP 3.4 (5.2.19) gives 0x00-0x0F its own meanings, of which 0x02 and
// 0x04 are "octet unspecified". An SMSC may also pass the value through
// as the TP-DCS of TS 23.038, where 0x04-0x07 mean 8-bit data; the device
// sees what the SMSC sends, so both readings count. From 0x10 on the
// value is read as TS 23.038: groups 00xx and 01xx (bits 3..2 alphabet,
// bit 4 class present, bits 1..0 class), 1001 (UDH structure, same bits),
// and 1111 (bit 2 8-bit, bits 1..0 class). Reserved groups and message
// waiting groups are text.
func dataCoding(dc byte) string {
	switch {
	case dc < 0x10:
		if dc == 0x02 || (dc >= 0x04 && dc <= 0x07) {
			return Cause8Bit
		}
	case dc < 0x80: // 00xx, 01xx
		if dc&0x10 != 0 && dc&0x03 == 0x02 {
			return CauseClass2
		}
		if dc&0x0c == 0x04 {
			return Cause8Bit
		}
	case dc&0xf0 == 0x90:
		if dc&0x03 == 0x02 {
			return CauseClass2
		}
		if dc&0x0c == 0x04 {
			return Cause8Bit
		}
		return CauseUDHCoding
	case dc&0xf0 == 0xf0:
		if dc&0x03 == 0x02 {
			return CauseClass2
		}
		if dc&0x04 != 0 {
			return Cause8Bit
		}
	}
	return ""
}
