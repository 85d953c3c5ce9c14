package http_test

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sqlite"
)

// fakeGateway stands in for the agent (which needs a kernel); the route
// and its document are what this test checks.
type fakeGateway struct{ withRuleset *bool }

func (f fakeGateway) Status(with bool) (simguard.GatewayStatus, error) {
	*f.withRuleset = with
	st := simguard.GatewayStatus{Table: "inet simguard", Installed: time.Unix(1e9, 0).UTC(), Updated: time.Unix(1e9, 0).UTC(),
		Generation: 1, SIMs: 2, Blocked: 1, Groups: 1,
		Counters: []simguard.GatewayCounter{{Name: "g1_allowed", TenantID: 1, Group: "meters", Kind: "allowed", Packets: 3, Bytes: 180}}}
	if with {
		st.Ruleset = "table inet simguard {\n}\n"
	}
	return st, nil
}

func TestGatewayRoute(t *testing.T) {
	var with bool
	a := newAPI(t, func(s *sghttp.Server, _ *sqlite.DB) { s.HandleGateway(fakeGateway{&with}) })
	tenantAdmin := a.token(0, "auditor")
	cases := []struct {
		name, token, path string
		status            int
		ruleset           bool
	}{
		{"provider admin", a.admin, "/api/v1/gateway", 200, false},
		{"with ruleset", a.admin, "/api/v1/gateway?ruleset=true", 200, true},
		{"bad flag", a.admin, "/api/v1/gateway?ruleset=maybe", 400, false},
		{"not provider admin", tenantAdmin, "/api/v1/gateway", 403, false},
		{"no token", "", "/api/v1/gateway", 401, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			with = false
			r := a.call(c.token, "GET", c.path, nil)
			if r.status != c.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if c.status == 200 {
				var st simguard.GatewayStatus
				r.decode(t, &st)
				if with != c.ruleset || (st.Ruleset != "") != c.ruleset || st.SIMs != 2 {
					t.Errorf("ruleset asked %v, got %+v", with, st)
				}
			}
		})
	}
}
