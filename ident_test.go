package simguard_test

import (
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		field string // "" = valid
	}{
		{"iccid 19 digits luhn ok", func() error { return simguard.ValidateICCID("8988001000000000015") }, ""},
		{"iccid 20 digits luhn ok", func() error { return simguard.ValidateICCID("89882010000000000011") }, ""},
		{"iccid bad luhn", func() error { return simguard.ValidateICCID("8988001000000000016") }, "iccid"},
		{"iccid too short", func() error { return simguard.ValidateICCID("898800100000") }, "iccid"},
		{"iccid letters", func() error { return simguard.ValidateICCID("89880010000000000ab") }, "iccid"},
		{"imsi ok", func() error { return simguard.ValidateIMSI("001010000000001") }, ""},
		{"imsi 14 digits", func() error { return simguard.ValidateIMSI("00101000000001") }, "imsi"},
		{"imsi letters", func() error { return simguard.ValidateIMSI("00101000000000x") }, "imsi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.field == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.field != "" {
				se, ok := err.(*simguard.Error)
				if !ok || se.Field != tt.field || se.Code != simguard.EINVALID {
					t.Fatalf("error %v, want EINVALID on %s", err, tt.field)
				}
			}
		})
	}
}

func TestNormalizeIMEIAndMSISDN(t *testing.T) {
	for in, want := range map[string]string{
		"352099001761481":  "35209900176148", // 15 digits with the right check digit
		"35209900176148":   "35209900176148",
		"3520990017614801": "35209900176148", // IMEISV
	} {
		if got, err := simguard.NormalizeIMEI(in); err != nil || got != want {
			t.Errorf("NormalizeIMEI(%s) = %s, %v", in, got, err)
		}
	}
	for _, bad := range []string{"352099001761482", "1234", "35209900176148a", ""} {
		if _, err := simguard.NormalizeIMEI(bad); err == nil {
			t.Errorf("NormalizeIMEI(%q) accepted", bad)
		}
	}
	if got := simguard.IMEIWithCheckDigit("35209900176148"); got != "352099001761481" {
		t.Errorf("check digit: %s", got)
	}
	for in, want := range map[string]string{"+491701234567": "491701234567", "491701234567": "491701234567"} {
		if got, err := simguard.NormalizeMSISDN(in); err != nil || got != want {
			t.Errorf("NormalizeMSISDN(%s) = %s, %v", in, got, err)
		}
	}
	for _, bad := range []string{"0170123456", "+49 170", "12345", "+1234567890123456"} {
		if _, err := simguard.NormalizeMSISDN(bad); err == nil {
			t.Errorf("NormalizeMSISDN(%q) accepted", bad)
		}
	}
}

func TestPLMNs(t *testing.T) {
	p, err := simguard.ParsePLMN("310-026")
	q, _ := simguard.ParsePLMN("310-26")
	if err != nil || !p.MNC3 || q.MNC3 || p.Key() == q.Key() || p.String() != "310-026" || q.String() != "310-26" {
		t.Fatalf("2- and 3-digit MNCs must differ: %v %v", p, q)
	}
	if _, c, err := simguard.ParseCell("262-01-1-257"); err != nil || c != simguard.CGICell(1, 257) {
		t.Fatalf("cgi cell: %x %v", c, err)
	}
	if _, _, err := simguard.ParseArea("262-01-99999999"); err == nil {
		t.Fatal("a TAC over 24 bits was accepted")
	}
}

func TestGroupValidationNamesThePath(t *testing.T) {
	g := simguard.Group{Name: "g", Policy: simguard.Policy{
		Location: simguard.LocationLock{PLMNs: []string{"262-01", "26"}},
	}}
	err := g.Validate()
	if se, ok := err.(*simguard.Error); !ok || se.Field != "policy.location.plmns[1]" {
		t.Fatalf("got %v", err)
	}
	g = simguard.Group{Name: "g", Policy: simguard.Policy{Egress: []simguard.FlowRule{{Proto: "tcp"}}}}
	if se, ok := g.Validate().(*simguard.Error); !ok || se.Field != "policy.egress[0].cidr" {
		t.Fatalf("missing cidr: %v", g.Validate())
	}
	var pr simguard.PortRange
	if err := pr.UnmarshalText([]byte("9000-8000")); err == nil || !strings.Contains(err.Error(), "8000-8100") {
		t.Fatalf("reversed range: %v", err)
	}
}
