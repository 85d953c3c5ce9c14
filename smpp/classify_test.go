package smpp

import (
	"testing"

	"github.com/simguard/simguard/smpp/pdu"
)

func TestClassify(t *testing.T) {
	msg := func(esm, pid, dcs byte, ud []byte, tlvs ...pdu.TLV) *pdu.PDU {
		return &pdu.PDU{ID: pdu.SubmitSM, ESMClass: esm, ProtocolID: pid, DataCoding: dcs, ShortMessage: ud, TLVs: tlvs}
	}
	otaUD := []byte{0x02, 0x70, 0x00, 0x00, 0x15}
	concatOTA := []byte{0x07, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x70, 0x00, 0x00, 0x30}
	tests := []struct {
		name   string
		p      *pdu.PDU
		binary bool
		silent bool
		cause  string
		concat bool
	}{
		{"plain GSM text", msg(0, 0, 0x00, []byte("hello")), false, false, "", false},
		{"UCS2 text", msg(0, 0, 0x08, []byte{0, 'h'}), false, false, "", false},
		{"Latin-1 text", msg(0, 0, 0x03, []byte("hé")), false, false, "", false},
		{"IA5 text", msg(0, 0, 0x01, []byte("hi")), false, false, "", false},
		{"flash (class 0) text", msg(0, 0, 0x10, []byte("hi")), false, false, "", false},
		{"class 1 text", msg(0, 0, 0xf1, []byte("hi")), false, false, "", false},
		{"message waiting, store", msg(0, 0, 0xd8, []byte("hi")), false, false, "", false},
		{"reserved group reads as text", msg(0, 0, 0x85, []byte("hi")), false, false, "", false},
		{"Simjacker: UDHI + PID 0x7F + DCS 0xF6 + CPI", msg(0x40, 0x7f, 0xf6, otaUD), true, false, CauseOTA, false},
		{"concatenated OTA, first segment", msg(0x40, 0x7f, 0x16, concatOTA), true, false, CauseOTA, false},
		{"concatenated OTA, next segment", msg(0x40, 0x7f, 0x16, []byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x02, 0xaa}), true, false, CausePID, true},
		{"response packet IEI 0x71", msg(0x40, 0, 0, []byte{0x02, 0x71, 0x00, 0x01}), true, false, CauseOTA, false},
		{"SIM data download without UDH", msg(0, 0x7f, 0x00, []byte("x")), true, false, CausePID, false},
		{"ME data download", msg(0, 0x7d, 0x00, []byte("x")), true, false, CausePID, false},
		{"ME de-personalization", msg(0, 0x7e, 0x00, []byte("x")), true, false, CausePID, false},
		{"class 2 GSM 0x12", msg(0, 0, 0x12, []byte("x")), true, false, CauseClass2, false},
		{"class 2 8-bit 0x16", msg(0, 0, 0x16, []byte("x")), true, false, CauseClass2, false},
		{"class 2 0xF2", msg(0, 0, 0xf2, []byte("x")), true, false, CauseClass2, false},
		{"class 2 auto-delete 0x52", msg(0, 0, 0x52, []byte("x")), true, false, CauseClass2, false},
		{"8-bit SMPP 0x02", msg(0, 0, 0x02, []byte{1, 2}), true, false, Cause8Bit, false},
		{"8-bit SMPP 0x04", msg(0, 0, 0x04, []byte{1, 2}), true, false, Cause8Bit, false},
		{"0x06: Cyrillic to SMPP, 8-bit to TS 23.038", msg(0, 0, 0x06, []byte{1, 2}), true, false, Cause8Bit, false},
		{"8-bit 0xF5 (class 1)", msg(0, 0, 0xf5, []byte{1}), true, false, Cause8Bit, false},
		{"8-bit 0x44 (auto-delete)", msg(0, 0, 0x44, []byte{1}), true, false, Cause8Bit, false},
		{"coding group 1001", msg(0, 0, 0x90, []byte{1}), true, false, CauseUDHCoding, false},
		{"WAP push (port UDH)", msg(0x40, 0, 0x04, []byte{0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x01}), true, false, Cause8Bit, false},
		{"port UDH, text coding", msg(0x40, 0, 0x00, []byte{0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x01}), true, false, CausePort, false},
		{"destination_port TLV", msg(0, 0, 0, []byte("x"), pdu.Uint16TLV(pdu.TagDestinationPort, 2948)), true, false, CausePort, false},
		{"concatenated text, 8-bit reference", msg(0x40, 0, 0, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 'a'}), false, false, "", true},
		{"concatenated UCS2 text, 16-bit reference", msg(0x40, 0, 0x08, []byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02, 0, 'a'}), false, false, "", true},
		{"concatenated 8-bit data", msg(0x40, 0, 0x04, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0xff}), true, false, Cause8Bit, true},
		{"concatenated SIM data download", msg(0x40, 0x7f, 0, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 0xaa}), true, false, CausePID, true},
		{"concatenated class 2", msg(0x40, 0, 0x12, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 'a'}), true, false, CauseClass2, true},
		{"concatenation element of a wrong length", msg(0x40, 0, 0, []byte{0x04, 0x00, 0x02, 0x01, 0x02, 'a'}), true, false, CauseUDHI, false},
		{"concatenation and a text-formatting element", msg(0x40, 0, 0, []byte{0x0a, 0x00, 0x03, 0x01, 0x02, 0x01, 0x0a, 0x03, 0x00, 0x01, 0x00, 'a'}), true, false, CauseUDHI, false},
		{"concatenation and ports", msg(0x40, 0, 0, []byte{0x0b, 0x00, 0x03, 0x01, 0x02, 0x01, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 'a'}), true, false, CausePort, false},
		{"empty UDH", msg(0x40, 0, 0, []byte{0x00, 'a'}), true, false, CauseUDHI, false},
		{"UDHI with a broken header", msg(0x40, 0, 0, []byte{0x09, 0x00}), true, false, CauseUDHI, false},
		{"long text with SAR TLVs", msg(0, 0, 0, []byte("part"), pdu.Uint16TLV(pdu.TagSarMsgRefNum, 1), pdu.Uint8TLV(pdu.TagSarTotalSegments, 2), pdu.Uint8TLV(pdu.TagSarSegmentSeqnum, 1)), false, false, "", false},
		{"OTA in message_payload", msg(0x40, 0x7f, 0xf6, nil, pdu.TLV{Tag: pdu.TagMessagePayload, Value: otaUD}), true, false, CauseOTA, false},
		{"short_message and message_payload", msg(0, 0, 0, []byte("a"), pdu.TLV{Tag: pdu.TagMessagePayload, Value: []byte("b")}), true, false, CauseConflict, false},
		{"silent (type 0)", msg(0, 0x40, 0, nil), false, true, "", false},
		{"silent and binary", msg(0, 0x40, 0xf6, []byte{1}), true, true, CauseClass2, false},
		{"replace type 1 is not silent", msg(0, 0x41, 0, []byte("x")), false, false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(tc.p)
			if c.Binary != tc.binary || c.Silent != tc.silent || c.Cause != tc.cause || c.Concatenated != tc.concat {
				t.Errorf("got %+v, want binary %v silent %v cause %q concatenated %v", c, tc.binary, tc.silent, tc.cause, tc.concat)
			}
			if info := c.Info(); info.Binary != c.Binary || info.Silent != c.Silent {
				t.Errorf("Info %+v", info)
			}
		})
	}
}

// FuzzClassify: any decodable message classifies without panicking, and
// anything with UDHI or a SIM PID is binary.
func FuzzClassify(f *testing.F) {
	f.Add(byte(0x40), byte(0x7f), byte(0xf6), []byte{0x02, 0x70, 0x00})
	f.Add(byte(0), byte(0x40), byte(0), []byte("x"))
	f.Fuzz(func(t *testing.T, esm, pid, dcs byte, ud []byte) {
		if len(ud) > 254 {
			ud = ud[:254]
		}
		c := Classify(&pdu.PDU{ID: pdu.SubmitSM, ESMClass: esm, ProtocolID: pid, DataCoding: dcs, ShortMessage: ud})
		if (esm&0x40 != 0 && !c.Concatenated || (pid >= 0x7c && pid <= 0x7f)) && !c.Binary {
			t.Errorf("esm 0x%02x pid 0x%02x not binary", esm, pid)
		}
		if c.Concatenated && (esm&0x40 == 0 || c.Cause == CauseOTA) {
			t.Errorf("concatenated without UDHI, or with an OTA header: %+v", c)
		}
		if c.Binary != (c.Cause != "") {
			t.Errorf("binary %v with cause %q", c.Binary, c.Cause)
		}
	})
}
