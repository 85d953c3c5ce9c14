package wire

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .txt files")

// TestGolden decodes messages node-diameter encoded (diameter/e2e/gen-golden.js),
// compares their text form with the golden file and checks that our
// encoder writes the very same bytes back.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bin")
	if len(files) < 5 {
		t.Fatalf("want the golden messages in testdata, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(raw)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := Validate(m.AVPs); err != nil {
				t.Fatalf("validate: %v", err)
			}
			got := Format(m)
			golden := strings.TrimSuffix(f, ".bin") + ".txt"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("text form differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
			if enc := m.Append(nil); !bytes.Equal(enc, raw) {
				t.Errorf("re-encoded bytes differ:\n got %x\nwant %x", enc, raw)
			}
		})
	}
}

func TestBuildAndDecode(t *testing.T) {
	m := &Message{Header: Header{Flags: FlagRequest | FlagProxiable, Code: CmdMEIdentityCheck, AppID: AppS13, HopByHop: 7, EndToEnd: 9}}
	m.Add(
		NewString(AVPSessionID, 0, AVPMandatory, "s;1"),
		NewGroup(AVPTerminalInformation, Vendor3GPP, AVPMandatory,
			NewString(AVPIMEI, Vendor3GPP, AVPMandatory, "35609204079300"),
			NewString(AVPSoftwareVersion, Vendor3GPP, AVPMandatory, "1")), // odd length: padded
		NewUint32(AVPEquipmentStatus, Vendor3GPP, AVPMandatory, EquipmentGreylisted),
	)
	b := m.Append(nil)
	if len(b)%4 != 0 || len(b) != m.Len() {
		t.Fatalf("length %d, Len %d", len(b), m.Len())
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != CmdMEIdentityCheck || got.AppID != AppS13 || got.HopByHop != 7 || got.EndToEnd != 9 || !got.IsRequest() {
		t.Fatalf("header %+v", got.Header)
	}
	ti := got.Find(AVPTerminalInformation, Vendor3GPP)
	if ti == nil {
		t.Fatal("no Terminal-Information")
	}
	inner, err := ti.Group()
	if err != nil {
		t.Fatal(err)
	}
	if sv := Find(inner, AVPSoftwareVersion, Vendor3GPP); sv == nil || string(sv.Data) != "1" {
		t.Fatalf("Software-Version %+v", sv)
	}
	if es := got.Find(AVPEquipmentStatus, Vendor3GPP); es == nil {
		t.Fatal("no Equipment-Status")
	} else if v, _ := es.Uint32(); v != EquipmentGreylisted {
		t.Fatalf("Equipment-Status %d", v)
	}
	if got.Find(AVPEquipmentStatus, 0) != nil {
		t.Fatal("vendor-less lookup matched a vendor AVP")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/ecr.bin")
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"short header", good[:19], ErrShort},
		{"version 2", mut(func(b []byte) []byte { b[0] = 2; return b }), ErrVersion},
		{"length longer than buffer", good[:len(good)-4], ErrLength},
		{"length not multiple of 4", mut(func(b []byte) []byte { b[3]++; return b }), ErrLength},
		{"reserved command flag", mut(func(b []byte) []byte { b[4] |= 0x01; return b }), ErrFlags},
		{"error bit on request", mut(func(b []byte) []byte { b[4] |= FlagError; return b }), ErrFlags},
		{"AVP length beyond message", mut(func(b []byte) []byte { b[HeaderLen+5] = 0x7f; return b }), ErrAVPLength},
		{"AVP length below header", mut(func(b []byte) []byte { b[HeaderLen+7] = 4; b[HeaderLen+6] = 0; b[HeaderLen+5] = 0; return b }), ErrAVPLength},
		{"reserved AVP flag", mut(func(b []byte) []byte { b[HeaderLen+4] |= 0x01; return b }), ErrAVPFlags},
		{"trailing bytes too short for an AVP", append(append([]byte(nil), setLen(good, len(good)+4)...), 0, 0, 0, 0), ErrAVPLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func setLen(b []byte, n int) []byte {
	c := append([]byte(nil), b...)
	c[1], c[2], c[3] = byte(n>>16), byte(n>>8), byte(n)
	return c
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		avp    AVP
		result uint32
	}{
		{"short Unsigned32", NewBytes(AVPResultCode, 0, AVPMandatory, []byte{1, 2}), ResultInvalidAVPLength},
		{"bad UTF-8 identity", NewBytes(AVPOriginHost, 0, AVPMandatory, []byte{0xff}), ResultInvalidAVPValue},
		{"bad address", NewBytes(AVPHostIPAddress, 0, AVPMandatory, []byte{0, 1, 1}), ResultInvalidAVPValue},
		{"broken group", NewBytes(AVPTerminalInformation, Vendor3GPP, AVPMandatory, []byte{0, 0, 5, 0x7a, 0xc0}), ResultInvalidAVPLength},
		{"bad value inside group", NewGroup(AVPExperimentalResult, 0, AVPMandatory, NewBytes(AVPExperimentalResultCode, 0, AVPMandatory, []byte{1})), ResultInvalidAVPLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Validate([]AVP{c.avp})
			var ae *AVPError
			if !errors.As(err, &ae) || ae.Result != c.result {
				t.Fatalf("got %v, want result %d", err, c.result)
			}
		})
	}
	if err := Validate([]AVP{NewBytes(99999, 0, AVPMandatory, []byte{1})}); err != nil {
		t.Fatalf("unknown AVP: %v", err)
	}
}

func TestDeepNesting(t *testing.T) {
	a := NewUint32(AVPVendorID, 0, AVPMandatory, 1)
	for range maxDepth + 3 {
		a = NewGroup(AVPProxyInfo, 0, AVPMandatory, a)
	}
	if err := Validate([]AVP{a}); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("got %v, want ErrTooDeep", err)
	}
}

func TestAnswer(t *testing.T) {
	req := &Message{Header: Header{Version: 1, Flags: FlagRequest | FlagProxiable | FlagRetransmit, Code: CmdUpdateLocation, AppID: AppS6a, HopByHop: 1, EndToEnd: 2}}
	a := req.Answer()
	if a.IsRequest() || a.Flags != FlagProxiable || a.HopByHop != 1 || a.EndToEnd != 2 || a.Code != CmdUpdateLocation {
		t.Fatalf("answer header %+v", a.Header)
	}
}

func TestChild(t *testing.T) {
	g := NewGroup(AVPTerminalInformation, Vendor3GPP, AVPMandatory,
		NewString(AVPIMEI, Vendor3GPP, AVPMandatory, "35609204079300"),
		NewString(AVPSoftwareVersion, Vendor3GPP, AVPMandatory, "7"))
	if c, ok := g.Child(AVPSoftwareVersion, Vendor3GPP); !ok || string(c.Data) != "7" {
		t.Fatalf("Child: %+v %v", c, ok)
	}
	if _, ok := g.Child(AVPSoftwareVersion, 0); ok {
		t.Fatal("vendor-less Child matched a vendor AVP")
	}
	broken := NewBytes(AVPTerminalInformation, Vendor3GPP, AVPMandatory, []byte{0, 0, 5, 0x7a, 0xc0})
	if _, ok := broken.Child(AVPIMEI, Vendor3GPP); ok {
		t.Fatal("Child found an AVP in a malformed group")
	}
	if n := testing.AllocsPerRun(100, func() { g.Child(AVPSoftwareVersion, Vendor3GPP) }); n != 0 {
		t.Fatalf("Child allocates %v times", n)
	}
}
