package scan

import (
	"testing"
	"unicode/utf8"
)

// Fuzz targets for every parser of bytes a device sends. Devices on a
// fleet are not trusted: a parser must never panic, and what it returns
// for reports must be bounded, printable text.

func checkPrintable(t *testing.T, what, s string) {
	t.Helper()
	if len(s) > 256 || !utf8.ValidString(s) {
		t.Fatalf("%s: %d bytes, valid UTF-8 %v", what, len(s), utf8.ValidString(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			t.Fatalf("%s: byte %#x at %d is not printable", what, s[i], i)
		}
	}
}

func FuzzBanner(f *testing.F) {
	for _, s := range []string{"SSH-2.0-OpenSSH_9.2p1 Debian\r\n", "x\nSSH-1.99-a b c\n", "220 FTP\r\n", "220-a\r\n", "\xff\xfb\x01\xff\xfd\x18login: "} {
		f.Add([]byte(s), uint16(21))
	}
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		if sb, ok := ParseSSHBanner(b); ok {
			checkPrintable(t, "ssh proto", sb.Proto)
			checkPrintable(t, "ssh software", sb.Software)
			checkPrintable(t, "ssh comments", sb.Comments)
		}
		if g, ok := ParseGreeting(b, port); ok {
			checkPrintable(t, "greeting", g.Text)
		}
		checkPrintable(t, "first line", firstLine(b))
		looksLikeLoginPrompt(b)
	})
}

func FuzzHTTPResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 401 Unauthorized\r\nServer: x\r\nWWW-Authenticate: Basic realm=\"a\"\r\n\r\nbody",
		"RTSP/1.0 200 OK\r\nPublic: OPTIONS\r\n\r\n",
		"HTTP/1.0 200\r\nWWW-Authenticate: Digest realm=\r\n",
		"HTTP/1.1 302 \r\nwww-authenticate: basic realm=\"unterminated\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(80))
	}
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		for _, prefix := range []string{"HTTP/", "RTSP/"} {
			r, ok := ParseHTTPResponse(b, prefix)
			if !ok {
				continue
			}
			if r.Status < 100 || r.Status > 999 || len(r.Header) > 64 {
				t.Fatalf("status %d, %d headers", r.Status, len(r.Header))
			}
			scheme, realm := r.AuthScheme()
			checkPrintable(t, "realm", realm)
			_ = scheme
			r.IsCWMP(port)
			checkPrintable(t, "server", r.Header["server"])
		}
	})
}

func FuzzBinaryResponses(f *testing.F) {
	f.Add([]byte{0x20, 2, 0, 0})
	f.Add([]byte{0x53, 0x47, 0, 0, 0, 3, 0xff, 0xab, 1})
	f.Add([]byte{0x53, 0x47, 0, 0, 0, 0x0c, 1, 0x2b, 0x0e, 1, 1, 0, 0, 1, 0, 9, 0x41, 0x42})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseConnack(b)
		if info, ok := ParseModbus(b, 0x5347); ok {
			checkPrintable(t, "vendor", info.Vendor)
			checkPrintable(t, "product", info.Product)
			checkPrintable(t, "revision", info.Revision)
		}
	})
}

func FuzzUDPResponses(f *testing.F) {
	for _, p := range udpProbes {
		f.Add(p.request(0x5300))
	}
	f.Add(mustHex(f, "303402010104067075626c6963a22702025300020100020100301b301906082b06010201010100040d4c696e757820677720352e3130"))
	f.Add(mustHex(f, "5300840000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3839"))
	f.Add(mustHex(f, "624553005347c128ff3c2f73656e736f72732f74656d703e"))
	f.Add(mustHex(f, "16825347000000000000003476657273696f6e3d22"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range udpProbes {
			if d, ok := p.parse(b, 0x5300); ok && len(d) > 300 {
				t.Fatalf("%s: detail of %d bytes", p.service, len(d))
			}
		}
		if v, ok := ParseNTPReadVar(b, 0x5347); ok {
			checkPrintable(t, "ntp version", v)
		}
	})
}
