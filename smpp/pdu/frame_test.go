package pdu

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestReadFrame(t *testing.T) {
	text := readGolden(t, "submit_sm_text")
	enq := readGolden(t, "enquire_link")
	tests := []struct {
		name    string
		stream  []byte
		max     int
		want    [][]byte
		wantErr error
	}{
		{"two frames", append(bytes.Clone(text), enq...), DefaultMaxLen, [][]byte{text, enq}, io.EOF},
		{"clean end", nil, DefaultMaxLen, nil, io.EOF},
		{"cut in the length", []byte{0, 0}, DefaultMaxLen, nil, io.ErrUnexpectedEOF},
		{"cut in the body", text[:20], DefaultMaxLen, nil, io.ErrUnexpectedEOF},
		{"length 15", []byte{0, 0, 0, 15, 0, 0, 0, 0}, DefaultMaxLen, nil, ErrFrameLength},
		{"length over max", []byte{0, 0, 1, 0}, 255, nil, ErrFrameLength},
		{"length 4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, DefaultMaxLen, nil, ErrFrameLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(tc.stream))
			var buf []byte
			for i, w := range tc.want {
				f, err := ReadFrame(r, buf, tc.max)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(f, w) {
					t.Fatalf("frame %d: got %x want %x", i, f, w)
				}
				buf = f
			}
			if _, err := ReadFrame(r, buf, tc.max); !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestReadFrameDoesNotAllocateForBadLength guards the bound: a peer that
// announces 2 GiB must not make us allocate it. Only the small error value
// is allocated.
func TestReadFrameDoesNotAllocateForBadLength(t *testing.T) {
	buf := make([]byte, 0, 64)
	stream := []byte{0x7f, 0xff, 0xff, 0xff}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 100; i++ {
		if _, err := ReadFrame(bytes.NewReader(stream), buf, DefaultMaxLen); !errors.Is(err, ErrFrameLength) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / 100; perCall > 1024 {
		t.Errorf("%d bytes allocated per rejected length", perCall)
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	text := readGolden(t, "submit_sm_text")
	buf := make([]byte, 0, 512)
	r := bytes.NewReader(nil)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(text)
		if _, err := ReadFrame(r, buf, DefaultMaxLen); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations reading into a big enough buffer", allocs)
	}
}

func TestSetSeqAndStatus(t *testing.T) {
	f := readGolden(t, "submit_sm_resp")
	SetSeq(f, 0x01020304)
	SetStatus(f, ESME_RSYSERR)
	p, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 0x01020304 || Seq(f) != 0x01020304 || p.Status != ESME_RSYSERR || p.MessageID != "5f1d3c0a" {
		t.Errorf("got %+v", p)
	}
}

func TestWalkUDH(t *testing.T) {
	type ie struct {
		iei  byte
		data string
	}
	tests := []struct {
		name    string
		ud      []byte
		want    []ie
		wantErr string
	}{
		{"concat 8-bit", []byte{5, 0x00, 3, 0x2a, 2, 1, 'h', 'i'}, []ie{{0x00, "\x2a\x02\x01"}}, ""},
		{"OTA command packet", []byte{2, 0x70, 0, 0x00, 0x15}, []ie{{0x70, ""}}, ""},
		{"concat and OTA", []byte{7, 0x00, 3, 1, 2, 1, 0x70, 0}, []ie{{0x00, "\x01\x02\x01"}, {0x70, ""}}, ""},
		{"empty header", []byte{0, 'x'}, nil, ""},
		{"UDHL past the end", []byte{9, 0, 1}, nil, "runs past"},
		{"element past the header", []byte{3, 0x00, 5, 1}, nil, "runs past the header"},
		{"element header cut", []byte{1, 0x00}, nil, "cut short"},
		{"no user data", nil, nil, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []ie
			err := WalkUDH(tc.ud, func(iei byte, data []byte) bool {
				got = append(got, ie{iei, string(data)})
				return true
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("element %d: got %v want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestReceiptedMessageID(t *testing.T) {
	tests := []struct {
		name string
		p    PDU
		want string
		ok   bool
	}{
		{"TLV wins", PDU{ID: DeliverSM, ShortMessage: []byte("id:other"), TLVs: []TLV{CStringTLV(TagReceiptedMessageID, "abc")}}, "abc", true},
		{"text format", PDU{ID: DeliverSM, ShortMessage: []byte("id:5f1d sub:001 dlvrd:001 stat:DELIVRD")}, "5f1d", true},
		{"text in message_payload", PDU{ID: DataSM, TLVs: []TLV{{TagMessagePayload, []byte("id:77 stat:UNDELIV")}}}, "77", true},
		{"id at the end", PDU{ID: DeliverSM, ShortMessage: []byte("id:99")}, "99", true},
		{"not a word start", PDU{ID: DeliverSM, ShortMessage: []byte("xid:99")}, "", false},
		{"empty id", PDU{ID: DeliverSM, ShortMessage: []byte("id: sub:1")}, "", false},
		{"nothing", PDU{ID: DeliverSM, ShortMessage: []byte("hello")}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.p.ReceiptedMessageID()
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
