package http_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
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

// FuzzGatewayRoute sends arbitrary query strings to the gateway route: the
// answer is 200 or 400, never a 5xx or a panic.
func FuzzGatewayRoute(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "s.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	signer, _ := audit.LoadOrCreateKey(filepath.Join(dir, "k"))
	svc, err := control.New(ctx, db, control.Config{})
	if err != nil {
		f.Fatal(err)
	}
	secret, _ := svc.Bootstrap(ctx, "provider")
	s, err := sghttp.New(sghttp.Config{Service: svc, AuditKey: signer.PublicKey()})
	if err != nil {
		f.Fatal(err)
	}
	var with bool
	s.HandleGateway(fakeGateway{&with})
	h := s.Handler()
	for _, q := range []string{"", "ruleset=true", "ruleset=0", "ruleset=%ff", "ruleset=1&ruleset=0", "x=y"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "http://x/api/v1/gateway", nil)
		req.URL.RawQuery = q
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("?%s → %d %s", q, rec.Code, rec.Body)
		}
	})
}
