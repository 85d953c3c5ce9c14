package uli

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAgainstTshark decodes the golden cases that Wireshark knows (its
// RADIUS dissector handles types 0, 1, 2, 128, 129 and 130) with both our
// decoder and `tshark -T pdml`, from a pcap of Access-Requests carrying
// them, and compares every field.
func TestAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark)")
	}
	var cases []goldenCase
	for _, c := range readCases(t) {
		switch Type(c.raw[0]) {
		case TypeCGI, TypeSAI, TypeTAI, TypeECGI, TypeTAIECGI:
			// tshark does not mask the ECI's spare bits; we must.
			if c.name != "ecgi-spare-bits-ignored" {
				cases = append(cases, c)
			}
		case TypeRAI:
			// tshark reads a 2-octet RAC only.
			if len(c.raw) == 8 {
				cases = append(cases, c)
			}
		}
	}
	pcap := filepath.Join(t.TempDir(), "uli.pcap")
	var frames [][]byte
	for _, c := range cases {
		frames = append(frames, accessRequestFrame(c.raw))
	}
	if err := os.WriteFile(pcap, pcapFile(frames), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-n", "-r", pcap, "-T", "pdml").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var doc struct {
		Packets []struct {
			Fields []pdmlField `xml:"proto>field"`
		} `xml:"packet"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("parse pdml: %v", err)
	}
	if len(doc.Packets) != len(cases) {
		t.Fatalf("tshark decoded %d packets, want %d", len(doc.Packets), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := Decode(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, f := range doc.Packets[i].Fields {
				f.collect(got)
			}
			if v := first(got["gtpv2.glt"]); v != strconv.Itoa(int(u.Type)) {
				t.Errorf("tshark type %q, ours %d", v, u.Type)
			}
			// Every PLMN tshark shows (TAI and ECGI both have one) must be
			// the PLMN we decoded, with the same MNC digit count.
			if len(got["mcc"]) == 0 {
				t.Fatal("tshark showed no MCC")
			}
			for j, mcc := range got["mcc"] {
				want := u.PLMN
				if j > 0 && !u.CellPLMN.IsZero() {
					want = u.CellPLMN
				}
				if pl := mcc + "-" + got["mnc"][j]; pl != want.String() {
					t.Errorf("tshark PLMN %s, ours %s", pl, want)
				}
			}
			check := func(field string, ours uint64, present bool) {
				v := first(got[field])
				if v == "" {
					if present {
						t.Errorf("tshark shows no %s, ours %d", field, ours)
					}
					return
				}
				n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(v, "0x")], 64)
				if err != nil || n != ours || !present {
					t.Errorf("tshark %s=%s, ours %d (present %v)", field, v, ours, present)
				}
			}
			isCGI, isSAI := u.Type == TypeCGI, u.Type == TypeSAI
			check("gtpv2.uli_cgi_lac", uint64(u.LAC), isCGI)
			check("gtpv2.uli_cgi_ci", uint64(u.CI), isCGI)
			check("gtpv2.sai_lac", uint64(u.LAC), isSAI)
			check("gtpv2.sai_sac", uint64(u.SAC), isSAI)
			check("gtpv2.rai_lac", uint64(u.LAC), u.Type == TypeRAI)
			// TS 29.274 §8.21.3: the RAC is the first of two octets, the
			// second all ones; tshark shows both.
			check("gtpv2.rai_rac", uint64(u.RAC)<<8|0xff, u.Type == TypeRAI)
			check("gtpv2.tai_tac", uint64(u.TAC), u.HasTAC)
			check("gtpv2.ecgi_eci", uint64(u.ECI), u.HasECI)
		})
	}
}

type pdmlField struct {
	Name     string      `xml:"name,attr"`
	ShowName string      `xml:"showname,attr"`
	Show     string      `xml:"show,attr"`
	Fields   []pdmlField `xml:"field"`
}

var mncDigits = regexp.MustCompile(`\((\d{2,3})\)$`)

// collect flattens the field tree. MCCs are zero-padded and MNCs taken from
// the showname "(01)", which keeps the digit count that show loses.
func (f pdmlField) collect(m map[string][]string) {
	switch {
	case strings.HasPrefix(f.Name, "e212.") && strings.HasSuffix(f.Name, ".mcc"):
		n, _ := strconv.Atoi(f.Show)
		m["mcc"] = append(m["mcc"], fmt.Sprintf("%03d", n))
	case strings.HasPrefix(f.Name, "e212.") && strings.HasSuffix(f.Name, ".mnc"):
		if s := mncDigits.FindStringSubmatch(f.ShowName); s != nil {
			m["mnc"] = append(m["mnc"], s[1])
		}
	default:
		m[f.Name] = append(m[f.Name], f.Show)
	}
	for _, c := range f.Fields {
		c.collect(m)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// accessRequestFrame builds an IPv4/UDP frame holding an Access-Request
// with User-Name and the ULI in a 3GPP vendor-specific attribute.
func accessRequestFrame(uliValue []byte) []byte {
	vsa := append([]byte{22, byte(2 + len(uliValue))}, uliValue...)
	attrs := append([]byte{1, 6}, "test"...)
	attrs = append(attrs, 26, byte(6+len(vsa)), 0, 0, 0x28, 0xaf) // vendor 10415
	attrs = append(attrs, vsa...)
	radius := append([]byte{1, 1, 0, 0}, make([]byte, 16)...)
	radius = append(radius, attrs...)
	binary.BigEndian.PutUint16(radius[2:], uint16(len(radius)))
	udp := binary.BigEndian.AppendUint16(nil, 40000)
	udp = binary.BigEndian.AppendUint16(udp, 1812)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(radius)))
	udp = append(udp, 0, 0)
	udp = append(udp, radius...)
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
	return append(ip, udp...)
}

// pcapFile writes frames as a classic pcap with link type 101 (raw IP).
func pcapFile(frames [][]byte) []byte {
	var b bytes.Buffer
	hdr := []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(101)}
	for _, v := range hdr {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	for i, f := range frames {
		_ = binary.Write(&b, binary.LittleEndian, [4]uint32{uint32(i), 0, uint32(len(f)), uint32(len(f))})
		b.Write(f)
	}
	return b.Bytes()
}
