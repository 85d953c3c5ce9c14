package telnet

import (
	"bytes"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		text     string
		cmds     []Command
		wantRest []byte
	}{
		{"plain text", []byte("login: "), "login: ", nil, nil},
		{"negotiation then text", []byte{IAC, DO, OptTermType, IAC, WILL, OptEcho, 'h', 'i'}, "hi",
			[]Command{{Verb: DO, Option: OptTermType}, {Verb: WILL, Option: OptEcho}}, nil},
		{"escaped 0xff", []byte{'a', IAC, IAC, 'b'}, "a\xffb", nil, nil},
		{"subnegotiation", []byte{IAC, SB, OptTermType, 1, IAC, SE, 'x'}, "x", []Command{{Verb: SB, Option: OptTermType, Data: []byte{1}}}, nil},
		{"subnegotiation with escaped IAC", []byte{IAC, SB, 42, 7, IAC, IAC, 8, IAC, SE}, "", []Command{{Verb: SB, Option: 42, Data: []byte{7, IAC, 8}}}, nil},
		{"two-byte command dropped", []byte{'a', IAC, 241, 'b'}, "ab", nil, nil},
		{"cut after IAC", []byte{'a', IAC}, "a", nil, []byte{IAC}},
		{"cut after verb", []byte{'a', IAC, DO}, "a", nil, []byte{IAC, DO}},
		{"cut inside SB", []byte{IAC, SB, OptTermType, 1}, "", nil, []byte{IAC, SB, OptTermType, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, cmds, rest := Parse(tt.in)
			if string(text) != tt.text || !bytes.Equal(rest, tt.wantRest) || len(cmds) != len(tt.cmds) {
				t.Fatalf("Parse = %q, %+v, rest %v", text, cmds, rest)
			}
			for i := range cmds {
				if cmds[i].Verb != tt.cmds[i].Verb || cmds[i].Option != tt.cmds[i].Option || !bytes.Equal(cmds[i].Data, tt.cmds[i].Data) {
					t.Fatalf("cmd %d = %+v, want %+v", i, cmds[i], tt.cmds[i])
				}
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	cmds := []Command{
		{Verb: WILL, Option: OptEcho}, {Verb: WILL, Option: 37}, {Verb: DO, Option: OptTermType},
		{Verb: DO, Option: OptNAWS}, {Verb: SB, Option: OptTermType, Data: []byte{1}}, {Verb: WONT, Option: OptEcho},
	}
	want := []byte{IAC, DO, OptEcho, IAC, DONT, 37, IAC, WILL, OptTermType, IAC, WONT, OptNAWS, IAC, SB, OptTermType, 0, 'v', 't', '1', '0', '0', IAC, SE}
	if got := Answer(cmds, "vt100"); !bytes.Equal(got, want) {
		t.Fatalf("Answer = %v\nwant     %v", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{IAC, DO, 24, IAC, SB, 24, 1, IAC, SE, 'l', 'o', 'g', 'i', 'n', ':'})
	f.Add([]byte{IAC, IAC, IAC})
	f.Add([]byte{IAC, SB})
	f.Fuzz(func(t *testing.T, b []byte) {
		text, cmds, rest := Parse(b)
		if len(text)+len(rest) > len(b) || len(cmds) > 64 {
			t.Fatalf("text %d + rest %d from %d bytes, %d commands", len(text), len(rest), len(b), len(cmds))
		}
		if len(rest) > 0 && !bytes.HasSuffix(b, rest) {
			t.Fatal("rest is not a suffix of the input")
		}
		Answer(cmds, "vt100")
		LooksLikeTelnet(b)
	})
}
