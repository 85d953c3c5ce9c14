package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sealed"
	"github.com/simguard/simguard/sqlite"
)

// FuzzRADIUSNodeAPI sends arbitrary requests with a node token to the
// RADIUS node endpoints (sessions, leases, NAS clients). No input may
// produce a 5xx or a panic.
func FuzzRADIUSNodeAPI(f *testing.F) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := sealed.New(key)
	svc, err := control.New(ctx, db, control.Config{Secrets: box})
	if err != nil {
		f.Fatal(err)
	}
	secret, _ := svc.Bootstrap(ctx, "provider")
	a, _, _ := svc.Authenticate(ctx, secret)
	tok, err := svc.CreateToken(simguard.WithActor(ctx, a), 0, "node", simguard.RoleNode)
	if err != nil {
		f.Fatal(err)
	}
	s, err := sghttp.New(sghttp.Config{Service: svc})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Add("POST", "/api/v1/sync/radius/sessions", []byte(`{"id":0,"tenant_id":1,"nas":"pgw","session_id":"a","start":"2026-01-01T00:00:00Z","last_update":"2026-01-01T00:00:00Z","input_octets":18446744073709551615,"output_octets":0,"version":0,"ip":"10.0.0.1","location":{"PLMN":{"MCC":1,"MNC":1}}}`))
	f.Add("POST", "/api/v1/sync/radius/sessions", []byte(`{"id":7,"tenant_id":1,"nas":"pgw","session_id":"a","start":"9999-12-31T23:59:59Z","last_update":"0001-01-01T00:00:00Z","version":3}`))
	f.Add("PUT", "/api/v1/sync/radius/sessions/1/disconnect", []byte(`{"at":"2026-01-01T00:00:00Z","reason":"sim_suspended","outcome":"ack","attempts":1}`))
	f.Add("POST", "/api/v1/sync/radius/sessions/stop", []byte(`{"nas":"pgw","at":"2026-01-01T00:00:00Z","cause":"nas-reboot"}`))
	f.Add("GET", "/api/v1/sync/radius/sessions/live?nas=pgw&session_id=a", []byte(nil))
	f.Add("GET", "/api/v1/sync/radius/sessions?live=true&after=-1&limit=10000", []byte(nil))
	f.Add("POST", "/api/v1/sync/radius/leases", []byte(`{"pool":"iot","ip":"::ffff:10.0.0.1","sim_id":1,"tenant_id":1,"created_at":"2026-01-01T00:00:00Z"}`))
	f.Add("GET", "/api/v1/sync/radius/leases/iot/1", []byte(nil))
	f.Add("DELETE", "/api/v1/sync/radius/leases?sim=1", []byte(nil))
	f.Add("GET", "/api/v1/sync/radius/nas", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			return
		}
		if !strings.HasPrefix(path, "/api/v1/sync/radius/") || strings.ContainsAny(path, " \r\n#") || len(body) > 1<<16 {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return
		}
		req := httptest.NewRequest(method, "http://x"+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%q) → %d %s", method, path, body, rec.Code, rec.Body.String())
		}
	})
}
