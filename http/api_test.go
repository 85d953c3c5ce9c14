package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sqlite"
)

// api is a real server (real SQLite, real control plane) plus a checker
// that validates every response against the OpenAPI document.
type api struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *control.Service
	admin  string
	router routers.Router
}

// newAPI starts the server; hooks add routes before it serves (the alert
// routes, for one).
func newAPI(t *testing.T, hooks ...func(*sghttp.Server, *sqlite.DB)) *api {
	t.Helper()
	return newAPIConfig(t, control.Config{}, hooks...)
}

// newAPIConfig is newAPI with a control service configured by cfg.
func newAPIConfig(t *testing.T, cfg control.Config, hooks ...func(*sghttp.Server, *sqlite.DB)) *api {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, err := audit.LoadOrCreateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := control.New(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := svc.Bootstrap(ctx, "provider")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sghttp.New(sghttp.Config{Service: svc, AuditKey: signer.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		h(s, db)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	spec, err := sghttp.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &api{t: t, srv: srv, svc: svc, admin: secret, router: router}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errorCode(t *testing.T) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	r.decode(t, &e)
	return e.Error.Code
}

// call sends a request and checks request and response against the spec.
func (a *api) call(token, method, path string, body any, header ...string) response {
	a.t.Helper()
	var rd io.Reader
	var raw []byte
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string: // CSV
		raw, ctype = []byte(b), "text/csv"
	default:
		raw, _ = json.Marshal(b)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if raw != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	a.validate(req, raw, resp, out)
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

func (a *api) validate(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	a.t.Helper()
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode == 404 || resp.StatusCode == 401 {
			return // an unknown path is not in the spec, by definition
		}
		a.t.Fatalf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: reqBody == nil}}
	if reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		a.t.Fatalf("%s %s → %d does not match the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func (a *api) token(tenantID int64, role string) string {
	a.t.Helper()
	body := map[string]any{"name": "t" + role + fmt.Sprint(tenantID), "role": role}
	if tenantID != 0 {
		body["tenant_id"] = tenantID
	}
	r := a.call(a.admin, "POST", "/api/v1/tokens", body)
	if r.status != 201 {
		a.t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok simguard.Token
	r.decode(a.t, &tok)
	return tok.Secret
}

func (a *api) loadDemo(n int) {
	a.t.Helper()
	for _, g := range demo.Groups() {
		r := a.call(a.admin, "POST", "/api/v1/groups", map[string]any{"name": g.Name, "description": g.Description, "policy": g.Policy})
		if r.status != 201 {
			a.t.Fatalf("group %s: %d %s", g.Name, r.status, r.body)
		}
	}
	var b strings.Builder
	b.WriteString("iccid,imsi,msisdn,imei,group,state\n")
	for _, s := range demo.SIMs()[:n] {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", s.ICCID, s.IMSI, s.MSISDN, s.IMEILock.IMEI, s.Group, s.State)
	}
	r := a.call(a.admin, "POST", "/api/v1/sims/import", b.String())
	if r.status != 201 {
		a.t.Fatalf("import: %d %s", r.status, r.body)
	}
}

func TestAuthOnEveryCall(t *testing.T) {
	a := newAPI(t)
	for _, p := range []string{"/api/v1/sims", "/api/v1/groups", "/api/v1/audit", "/api/v1/events", "/api/v1/whoami", "/api/v1/nope"} {
		if r := a.call("", "GET", p, nil); r.status != 401 || r.errorCode(t) != "unauthorized" {
			t.Errorf("GET %s without token: %d %s", p, r.status, r.body)
		}
		if r := a.call("sgt_wrong", "GET", p, nil); r.status != 401 {
			t.Errorf("GET %s with a wrong token: %d", p, r.status)
		}
	}
	if r := a.call("", "GET", "/api/v1/openapi.json", nil); r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
}

func TestSIMLifecycleOverHTTP(t *testing.T) {
	a := newAPI(t)
	a.loadDemo(50)
	r := a.call(a.admin, "GET", "/api/v1/sims?group=smart-meters&limit=10", nil)
	var page struct {
		Items     []map[string]any `json:"items"`
		NextAfter int64            `json:"next_after"`
	}
	r.decode(t, &page)
	if r.status != 200 || len(page.Items) != 10 || page.NextAfter == 0 {
		t.Fatalf("list: %d %d items next %d", r.status, len(page.Items), page.NextAfter)
	}
	ref := demo.ICCID(0)
	r = a.call(a.admin, "GET", "/api/v1/sims/"+ref, nil)
	etag := r.header.Get("ETag")
	if r.status != 200 || etag == "" {
		t.Fatalf("get: %d etag %q", r.status, etag)
	}
	r = a.call(a.admin, "POST", "/api/v1/sims/"+ref+"/suspend", nil, "If-Match", etag)
	if r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	// The same ETag again is stale now: no lost update.
	if r = a.call(a.admin, "PATCH", "/api/v1/sims/"+ref, map[string]any{"group": "asset-trackers"}, "If-Match", etag); r.status != 412 {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	r = a.call(a.admin, "POST", "/api/v1/sims/"+ref+"/activate", map[string]string{"for": "2h"})
	var sim map[string]any
	r.decode(t, &sim)
	if r.status != 200 || sim["state"] != "active" || sim["active_until"] == nil {
		t.Fatalf("activate for 2h: %d %s", r.status, r.body)
	}
	r = a.call(a.admin, "POST", "/api/v1/policy/check", map[string]any{
		"kind": "data_session", "imsi": demo.IMSI(0), "imei": demo.IMEI(1), "plmn": "001-01", "rat": "nb-iot", "apn": "meters.iot"})
	var ex simguard.Explanation
	r.decode(t, &ex)
	if r.status != 200 || ex.Decision.Reason != simguard.ReasonIMEIMismatch || len(ex.Steps) == 0 {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	r = a.call(a.admin, "GET", "/api/v1/audit?object=sim:"+ref, nil)
	var audits struct{ Items []simguard.AuditRecord }
	r.decode(t, &audits)
	if len(audits.Items) != 2 || audits.Items[0].Action != "sim.suspend" || audits.Items[1].Action != "sim.activate" {
		t.Fatalf("audit: %s", r.body)
	}
	r = a.call(a.admin, "GET", "/api/v1/audit/verify", nil)
	var rep map[string]any
	r.decode(t, &rep)
	if rep["ok"] != true {
		t.Fatalf("verify: %s", r.body)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	a := newAPI(t)
	a.loadDemo(5)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"bad iccid", "POST", "/api/v1/sims", map[string]any{"iccid": "123", "imsi": demo.IMSI(900), "group": "smart-meters"}, 400, "iccid"},
		{"bad imsi", "POST", "/api/v1/sims", map[string]any{"iccid": demo.ICCID(900), "imsi": "12", "group": "smart-meters"}, 400, "imsi"},
		{"bad msisdn", "POST", "/api/v1/sims", map[string]any{"iccid": demo.ICCID(900), "imsi": demo.IMSI(900), "msisdn": "abc", "group": "smart-meters"}, 400, "msisdn"},
		{"duplicate", "POST", "/api/v1/sims", map[string]any{"iccid": demo.ICCID(0), "imsi": demo.IMSI(900), "group": "smart-meters"}, 409, "iccid"},
		{"unknown field", "POST", "/api/v1/groups", map[string]any{"name": "g", "policy": map[string]any{"servics": []string{"data"}}}, 400, "policy.servics"},
		{"bad cidr", "POST", "/api/v1/groups", map[string]any{"name": "g", "policy": map[string]any{"egress": []map[string]any{{"cidr": "10.0.0.0/33"}}}}, 400, "policy.egress[0].cidr"},
		{"bad plmn", "POST", "/api/v1/groups", map[string]any{"name": "g", "policy": map[string]any{"location": map[string]any{"plmns": []string{"26"}}}}, 400, "policy.location.plmns[0]"},
		{"bad duration", "POST", "/api/v1/sims/" + demo.ICCID(0) + "/activate", map[string]any{"for": "soon"}, 400, "for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(a.admin, tt.method, tt.path, tt.body)
			var e struct {
				Error struct{ Field, Message string }
			}
			r.decode(t, &e)
			if r.status != tt.status || (tt.field != "" && e.Error.Field != tt.field) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	// A CSV with bad rows says which lines, and imports none of them.
	csv := "iccid,imsi,group\n" + demo.ICCID(901) + "," + demo.IMSI(901) + ",smart-meters\n" + "123,456,smart-meters\n"
	r := a.call(a.admin, "POST", "/api/v1/sims/import", csv)
	var e struct {
		Error struct{ Rows []simguard.RowError }
	}
	r.decode(t, &e)
	if r.status != 400 || len(e.Error.Rows) != 1 || e.Error.Rows[0].Line != 3 {
		t.Fatalf("csv rows: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "GET", "/api/v1/sims/"+demo.ICCID(901), nil); r.status != 404 {
		t.Fatalf("a row of a rejected import was stored: %d", r.status)
	}
}

func TestTenantIsolationAndRoles(t *testing.T) {
	a := newAPI(t)
	a.loadDemo(5)
	r := a.call(a.admin, "POST", "/api/v1/tenants", map[string]string{"name": "acme"})
	var tenant simguard.Tenant
	r.decode(t, &tenant)
	if r.status != 201 {
		t.Fatalf("tenant: %d %s", r.status, r.body)
	}
	acme := a.token(tenant.ID, "admin")
	auditor := a.token(0, "auditor")
	ref := demo.ICCID(0)
	for _, c := range []struct {
		token, method, path string
		body                any
		status              int
	}{
		{acme, "GET", "/api/v1/sims/" + ref, nil, 404},
		{acme, "POST", "/api/v1/sims/" + ref + "/suspend", nil, 404},
		{acme, "GET", "/api/v1/groups/smart-meters", nil, 404},
		{acme, "PUT", "/api/v1/groups/smart-meters", map[string]any{"policy": map[string]any{}}, 201}, // its own, new group
		{auditor, "GET", "/api/v1/sims/" + ref, nil, 200},
		{auditor, "POST", "/api/v1/sims/" + ref + "/suspend", nil, 403},
		{auditor, "POST", "/api/v1/tokens", map[string]string{"name": "x", "role": "admin"}, 403},
		{auditor, "GET", "/api/v1/audit", nil, 200},
	} {
		if r := a.call(c.token, c.method, c.path, c.body); r.status != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
		}
	}
	// acme's group did not touch the provider's group of the same name.
	r = a.call(a.admin, "GET", "/api/v1/groups/smart-meters", nil)
	var g simguard.Group
	r.decode(t, &g)
	if len(g.Policy.APNs) == 0 {
		t.Fatal("another tenant's PUT changed our group")
	}
	var list struct{ Items []map[string]any }
	a.call(acme, "GET", "/api/v1/sims", nil).decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("acme sees %d SIMs of another tenant", len(list.Items))
	}
}

func TestGroupApplyDryRunShowsDiff(t *testing.T) {
	a := newAPI(t)
	a.loadDemo(1)
	g := demo.Groups()[0]
	g.Policy.APNs = []string{"meters2.iot"}
	r := a.call(a.admin, "PUT", "/api/v1/groups/"+g.Name+"?dry_run=true", map[string]any{"policy": g.Policy, "description": g.Description})
	var plan control.GroupPlan
	r.decode(t, &plan)
	if r.status != 200 || !plan.Exists || !plan.Changed || !strings.Contains(plan.Diff, "-    - meters.iot") || !strings.Contains(plan.Diff, "+    - meters2.iot") {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "GET", "/api/v1/groups/"+g.Name, nil); !strings.Contains(string(r.body), `"meters.iot"`) {
		t.Fatal("dry run changed the group")
	}
}

// TestScheduledActivation: a SIM activated between two times is outside
// its window before the start, stored with both times, and a plain
// activation clears the schedule.
func TestScheduledActivation(t *testing.T) {
	a := newAPI(t)
	a.loadDemo(5)
	ref := demo.IMSI(0)
	from := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	until := from.Add(2 * time.Hour)
	bad := []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"until before from", map[string]string{"from": until.Format(time.RFC3339), "until": from.Format(time.RFC3339)}, "until"},
		{"no until", map[string]string{"from": from.Format(time.RFC3339)}, "until"},
		{"both for and until", map[string]string{"for": "2h", "until": until.Format(time.RFC3339)}, "for"},
		{"not a time", map[string]string{"until": "tomorrow"}, "until"},
	}
	for _, tt := range bad {
		r := a.call(a.admin, "POST", "/api/v1/sims/"+ref+"/activate", tt.body)
		var e struct{ Error struct{ Field string } }
		r.decode(t, &e)
		if r.status != 400 || e.Error.Field != tt.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tt.name, r.status, r.body, tt.field)
		}
	}
	r := a.call(a.admin, "POST", "/api/v1/sims/"+ref+"/activate", map[string]string{"from": from.Format(time.RFC3339), "until": until.Format(time.RFC3339)})
	var sim simguard.SIM
	r.decode(t, &sim)
	if r.status != 200 || sim.ActiveFrom == nil || !sim.ActiveFrom.Equal(from) || sim.ActiveUntil == nil || !sim.ActiveUntil.Equal(until) {
		t.Fatalf("scheduled activation: %d %s", r.status, r.body)
	}
	check := map[string]any{"kind": "data_session", "imsi": ref, "imei": demo.IMEI(0), "plmn": "001-01", "rat": "nb-iot", "apn": "meters.iot"}
	var ex simguard.Explanation
	a.call(a.admin, "POST", "/api/v1/policy/check", check).decode(t, &ex)
	if ex.Decision.Reason != simguard.ReasonOutsideWindow || ex.Decision.Rule != "sim:active_from" {
		t.Errorf("before the start: %+v", ex.Decision)
	}
	check["time"] = from.Add(time.Minute).Format(time.RFC3339)
	a.call(a.admin, "POST", "/api/v1/policy/check", check).decode(t, &ex)
	if !ex.Decision.Allow {
		t.Errorf("inside the scheduled activation: %+v", ex.Decision)
	}
	r = a.call(a.admin, "POST", "/api/v1/sims/"+ref+"/activate", nil)
	sim = simguard.SIM{}
	r.decode(t, &sim)
	if r.status != 200 || sim.ActiveFrom != nil || sim.ActiveUntil != nil {
		t.Errorf("plain activation keeps a schedule: %s", r.body)
	}
}
