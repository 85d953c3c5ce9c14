package pdu

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func addGoldenSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.hex")
	for _, file := range files {
		f.Add(readGolden(f, strings.TrimSuffix(filepath.Base(file), ".hex")))
	}
}

// FuzzDecode: decoding never panics, and whatever decodes encodes back to
// exactly the same bytes, so a proxy that decodes and re-encodes changes
// nothing.
func FuzzDecode(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p PDU
		if err := p.Decode(frame); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("decode error of type %T: %v", err, err)
			}
			return
		}
		out, err := p.Encode()
		if err != nil {
			t.Fatalf("decoded but does not encode: %v\n%+v", err, p)
		}
		if !bytes.Equal(out, frame) {
			t.Fatalf("round trip changed the frame\n in %x\nout %x", frame, out)
		}
		// The helpers a filter calls on what it decoded must not panic.
		ud, _ := p.UserData()
		_ = WalkUDH(ud, func(byte, []byte) bool { return true })
		p.ReceiptedMessageID()
		p.IsReceipt()
		r := p.Resp(ESME_RSYSERR)
		if _, err := r.Encode(); err != nil {
			t.Fatalf("response does not encode: %v", err)
		}
	})
}

// FuzzReadFrame: any byte stream is either split into frames no longer
// than the maximum or rejected, without panics.
func FuzzReadFrame(f *testing.F) {
	addGoldenSeeds(f)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, stream []byte) {
		const max = 512
		r := bufio.NewReader(bytes.NewReader(stream))
		var buf []byte
		total := 0
		for i := 0; i < 100; i++ {
			frame, err := ReadFrame(r, buf, max)
			if err != nil {
				return
			}
			if len(frame) < HeaderLen || len(frame) > max {
				t.Fatalf("frame of %d octets", len(frame))
			}
			if cap(frame) > max && cap(frame) > 256 {
				t.Fatalf("buffer grew to %d", cap(frame))
			}
			total += len(frame)
			if total > len(stream) {
				t.Fatalf("read %d octets from a stream of %d", total, len(stream))
			}
			buf = frame
		}
	})
}
