package simguard

import "testing"

func TestSMPPAccountValidate(t *testing.T) {
	tests := []struct {
		name  string
		a     SMPPAccount
		field string
	}{
		{"ok", SMPPAccount{SystemID: "meterapp", MOPrefixes: []string{"+4930", "8888"}}, ""},
		{"empty system_id", SMPPAccount{}, "system_id"},
		{"system_id of 16", SMPPAccount{SystemID: "0123456789abcdef"}, "system_id"},
		{"control character", SMPPAccount{SystemID: "a\x01"}, "system_id"},
		{"bad upstream", SMPPAccount{SystemID: "a", Upstream: "-x"}, "upstream"},
		{"bad prefix", SMPPAccount{SystemID: "a", MOPrefixes: []string{"+49a"}}, "mo_prefixes[0]"},
		{"max_binds", SMPPAccount{SystemID: "a", MaxBinds: -1}, "max_binds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.a.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.a.MOPrefixes[0] != "4930" {
					t.Errorf("prefix not normalized: %q", tc.a.MOPrefixes[0])
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Field != tc.field {
				t.Errorf("got %v, want error on %s", err, tc.field)
			}
		})
	}
}
