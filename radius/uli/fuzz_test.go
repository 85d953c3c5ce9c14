package uli

import (
	"bytes"
	"testing"
)

// FuzzDecode: Decode never panics, a decoded value always re-encodes, and
// the re-encoding decodes to the same location (spare bits and the RAI's
// second RAC octet may differ on the wire).
func FuzzDecode(f *testing.F) {
	for _, c := range readCases(f) {
		f.Add(c.raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0x82})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := Append(nil, u)
		if err != nil {
			t.Fatalf("decoded %x but cannot encode it: %v", b, err)
		}
		u2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding %x of %x does not decode: %v", enc, b, err)
		}
		if u.Location() != u2.Location() || u.Type != u2.Type || u.CellPLMN != u2.CellPLMN ||
			u.ENB != u2.ENB || u.ENBKind != u2.ENBKind || !bytes.Equal(u.NodeID, u2.NodeID) {
			t.Fatalf("%x decodes to %+v, its re-encoding %x to %+v", b, u, enc, u2)
		}
	})
}
