package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bin")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecode: no input makes the decoder, the validator or the formatter
// panic.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		_ = Validate(m.AVPs)
		_ = Format(m)
	})
}

// FuzzRoundTrip: whatever decodes encodes back to the same bytes, and
// those decode to the same message.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		enc := m.Append(nil)
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(m2.Append(nil), enc) || m2.Header != m.Header || len(m2.AVPs) != len(m.AVPs) {
			t.Fatalf("round trip changed the message")
		}
		// Padding bytes may be non-zero on input; everything else must match.
		if len(enc) != len(b) {
			t.Fatalf("length %d, input %d", len(enc), len(b))
		}
	})
}
