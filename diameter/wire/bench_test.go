package wire

import (
	"os"
	"testing"
)

func BenchmarkDecodeECR(b *testing.B) {
	raw, err := os.ReadFile("testdata/ecr.bin")
	if err != nil {
		b.Fatal(err)
	}
	var m Message
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeValidateULR(b *testing.B) {
	raw, err := os.ReadFile("testdata/ulr.bin")
	if err != nil {
		b.Fatal(err)
	}
	var m Message
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Decode(raw); err != nil {
			b.Fatal(err)
		}
		if err := Validate(m.AVPs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeECA(b *testing.B) {
	m := &Message{Header: Header{Code: CmdMEIdentityCheck, AppID: AppS13, HopByHop: 1, EndToEnd: 2}}
	m.Add(NewString(AVPSessionID, 0, AVPMandatory, "mme.example.net;1;2;ecr"),
		NewUint32(AVPResultCode, 0, AVPMandatory, ResultSuccess),
		NewUint32(AVPAuthSessionState, 0, AVPMandatory, 1),
		NewString(AVPOriginHost, 0, AVPMandatory, "eir.example.net"),
		NewString(AVPOriginRealm, 0, AVPMandatory, "example.net"),
		NewUint32(AVPEquipmentStatus, Vendor3GPP, AVPMandatory, EquipmentWhitelisted))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Append(buf[:0])
	}
}
