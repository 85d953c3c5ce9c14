package radius

import (
	"bytes"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestResponseWire: answers built in place are what RFC 2865/3579 and
// layeh's decoder expect, byte for byte as in testdata (go test -run
// TestResponseWire -update rewrites them after a deliberate change).
func TestResponseWire(t *testing.T) {
	secret := []byte("golden-secret")
	reqAuth := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	// An Access-Request with two Proxy-State attributes around a User-Name.
	raw := []byte{1, 42, 0, 0}
	raw = append(raw, reqAuth[:]...)
	raw = append(raw, attrProxyState, 5, 'p', 's', '1', attrUserName, 5, 'b', 'o', 'b', attrProxyState, 4, 'p', '2')
	raw[3] = byte(len(raw))
	tests := []struct {
		name  string
		code  radius.Code
		build func(r *response)
	}{
		{"access_accept", radius.CodeAccessAccept, func(r *response) {
			r.addClass("sg1:00c0ffee:", 7)
			r.addFramedIP(netip.MustParseAddr("10.64.0.9"))
			r.addUint32(attrSessionTimeout, 3600)
			r.addUint32(attrAcctInterim, 600)
		}},
		{"access_accept_ipv6", radius.CodeAccessAccept, func(r *response) {
			r.addClass("sg1:00c0ffee:", 8)
			r.addFramedIP(netip.MustParseAddr("2001:db8::42"))
		}},
		{"access_reject", radius.CodeAccessReject, func(r *response) { r.addString(attrReplyMessage, "imei_mismatch") }},
		{"accounting_response", radius.CodeAccountingResponse, func(*response) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseRequest(raw, secret)
			if err != nil {
				t.Fatal(err)
			}
			p.sc = newScratch()
			r := p.respond(tt.code)
			tt.build(&r)
			got, err := r.bytes()
			if err != nil {
				t.Fatal(err)
			}
			req := append([]byte(nil), raw...)
			if !radius.IsAuthenticResponse(got, req, secret) {
				t.Error("layeh: the Response Authenticator is wrong")
			}
			pkt, err := radius.Parse(got, secret)
			if err != nil || pkt.Code != tt.code || pkt.Identifier != 42 {
				t.Fatalf("layeh parses %+v, %v", pkt, err)
			}
			var states []string
			for _, a := range pkt.Attributes {
				if a.Type == attrProxyState {
					states = append(states, string(a.Attribute))
				}
			}
			if strings.Join(states, ",") != "ps1,p2" {
				t.Errorf("Proxy-State echoed as %v", states)
			}
			if rfc2865.UserName_GetString(pkt) != "" {
				t.Error("User-Name echoed")
			}
			if r.ma {
				if got[20] != attrMessageAuth {
					t.Error("Message-Authenticator is not the first attribute")
				}
				if ma := messageAuthenticator(got, 22, reqAuth[:], secret); !bytes.Equal(ma[:], got[22:38]) {
					t.Error("Message-Authenticator is wrong")
				}
			}
			path := filepath.Join("testdata", "response_"+tt.name+".hex")
			if *update {
				if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != strings.TrimSpace(string(want)) {
				t.Errorf("wire bytes differ from %s:\ngot  %x\nwant %s", path, got, want)
			}
		})
	}
	t.Run("too long", func(t *testing.T) {
		p, _ := parseRequest(raw, secret)
		r := p.respond(radius.CodeAccessReject)
		r.addString(attrReplyMessage, strings.Repeat("x", 254))
		if _, err := r.bytes(); err == nil {
			t.Error("a 254-octet attribute was encoded")
		}
	})
}
