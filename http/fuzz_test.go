package http_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sqlite"
)

// FuzzAPI sends arbitrary requests with an admin token to every kind of
// endpoint. No input may produce a 5xx or a panic, and afterwards the
// audit chain still verifies: hostile input never corrupts stored state.
func FuzzAPI(f *testing.F) {
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
	h := s.Handler()
	do := func(method, path, ctype string, body []byte) int {
		req := httptest.NewRequest(method, "http://x"+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	g := demo.Groups()[0]
	f.Add("POST", "/api/v1/groups", "application/json", []byte(`{"name":"meters","policy":{"services":["data"],"apns":["iot"]}}`))
	f.Add("PUT", "/api/v1/groups/"+g.Name, "application/json", []byte(`{"policy":{"location":{"plmns":["26201"]}}}`))
	f.Add("POST", "/api/v1/sims/import?group=meters", "text/csv", []byte("iccid,imsi\n"+demo.ICCID(0)+","+demo.IMSI(0)+"\n"))
	f.Add("POST", "/api/v1/sims/import?group=meters", "application/json", []byte(`[{"iccid":"`+demo.ICCID(1)+`","imsi":"`+demo.IMSI(1)+`"}]`))
	f.Add("POST", "/api/v1/sims", "application/json", []byte(`{"iccid":"`+demo.ICCID(2)+`","imsi":"`+demo.IMSI(2)+`","group":"meters","imei_lock":{"mode":"learn"}}`))
	f.Add("PATCH", "/api/v1/sims/"+demo.IMSI(0), "application/json", []byte(`{"labels":{"a":"b"},"static_ip":"10.0.0.1"}`))
	f.Add("POST", "/api/v1/sims/"+demo.IMSI(0)+"/activate", "application/json", []byte(`{"for":"2h"}`))
	f.Add("POST", "/api/v1/sims/"+demo.IMSI(0)+"/bind-imei", "application/json", []byte(`{"imei":"352099001761481"}`))
	f.Add("POST", "/api/v1/policy/check", "application/json", []byte(`{"kind":"flow","imsi":"`+demo.IMSI(0)+`","flow":{"remote":"1.2.3.4","proto":"tcp","port":443}}`))
	f.Add("GET", "/api/v1/sims?label=a%3Db&q=00101&state=active&limit=5", "", []byte(nil))
	f.Add("GET", "/api/v1/events?since=15m&type=radius.,sms.mt", "", []byte(nil))
	f.Add("POST", "/api/v1/tokens", "application/json", []byte(`{"name":"x","role":"auditor"}`))
	f.Add("POST", "/api/v1/diameter/peers", "application/json", []byte(`{"origin_host":"mme.example.net","prefix":"127.0.0.1/32","plmns":["00101"]}`))
	f.Add("DELETE", "/api/v1/diameter/peers/1", "", []byte(nil))
	f.Add("POST", "/api/v1/devices", "text/csv", []byte("imei,status,note\n356092040793009,stolen,x\n"))
	f.Add("POST", "/api/v1/devices", "application/json", []byte(`{"items":[{"imei":"35209900176148","status":"watch"}]}`))
	f.Add("DELETE", "/api/v1/devices/35209900176148", "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, ctype string, body []byte) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			return
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#") || len(body) > 1<<16 {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return // not a request a client can send
		}
		if strings.HasPrefix(path, "/api/v1/sync/") {
			return // long polls and streams; node-only anyway
		}
		if code := do(method, path, ctype, body); code >= 500 {
			t.Fatalf("%s %s (%s, %q) → %d", method, path, ctype, body, code)
		}
		rep, err := audit.Verify(ctx, db, signer.PublicKey())
		if err != nil || !rep.OK {
			t.Fatalf("audit chain broken after %s %s: %+v %v", method, path, rep, err)
		}
	})
}
