package simguard_test

import (
	"encoding/json"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard"
)

// FuzzPolicyDocument feeds arbitrary policy documents (JSON as the API
// takes them, YAML as "group apply" reads them): validation never panics,
// and a document that validates validates again unchanged (normalization
// is idempotent), so what is stored is what was checked.
func FuzzPolicyDocument(f *testing.F) {
	f.Add([]byte(`{"name":"meters","policy":{"services":["data"],"apns":["IOT"],"location":{"plmns":["26201"],"cells":["262-01-1-257"]},"egress":[{"cidr":"10.0.0.1/8","proto":"TCP","ports":["443","8000-8100"]}],"sms":{"mt":{"allow":["+4912"]}},"windows":[{"daily":"22:00-02:00"}]}}`))
	f.Add([]byte("name: x\npolicy:\n  services: [sms_mt]\n  quotas: {data_bytes: 5}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g simguard.Group
		if json.Unmarshal(b, &g) != nil && yaml.Unmarshal(b, &g) != nil {
			return
		}
		if g.Validate() != nil {
			return
		}
		again, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("marshal a valid group: %v", err)
		}
		var g2 simguard.Group
		if err := json.Unmarshal(again, &g2); err != nil {
			t.Fatalf("re-read a valid group: %v", err)
		}
		if err := g2.Validate(); err != nil {
			t.Fatalf("a valid group no longer validates after a round trip: %v", err)
		}
	})
}

// FuzzIdentifiers: identifier checks never panic and agree with their
// normalizers.
func FuzzIdentifiers(f *testing.F) {
	for _, s := range []string{"8988001000000000015", "001010000000001", "+491701234567", "352099001761481", "", "+", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = simguard.ValidateICCID(s)
		_ = simguard.ValidateIMSI(s)
		if m, err := simguard.NormalizeMSISDN(s); err == nil {
			if m2, err := simguard.NormalizeMSISDN(m); err != nil || m2 != m {
				t.Fatalf("MSISDN %q normalizes to %q, then %q %v", s, m, m2, err)
			}
		}
		if i, err := simguard.NormalizeIMEI(s); err == nil {
			if len(i) != 14 {
				t.Fatalf("IMEI %q normalized to %q", s, i)
			}
			if i2, err := simguard.NormalizeIMEI(simguard.IMEIWithCheckDigit(i)); err != nil || i2 != i {
				t.Fatalf("IMEI %q with its check digit does not normalize back: %q %v", i, i2, err)
			}
		}
		_, _ = simguard.ParsePLMN(s)
		_, _, _ = simguard.ParseCell(s)
		_, _, _ = simguard.ParseArea(s)
		_, _, _ = simguard.ParseDaily(s)
		var pr simguard.PortRange
		_ = pr.UnmarshalText([]byte(s))
	})
}
