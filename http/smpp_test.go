package http_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestSMPPAccountsOverHTTP(t *testing.T) {
	a := newAPI(t)
	node := a.token(0, "node")
	auditor := a.token(0, "auditor")

	r := a.call(a.admin, "POST", "/api/v1/smpp/accounts", map[string]any{
		"system_id": "meterapp", "password": "s3cret", "mo_prefixes": []string{"+12345"}, "upstream": "main"})
	if r.status != 201 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "s3cret") || strings.Contains(string(r.body), "$2a$") || strings.Contains(string(r.body), "password") {
		t.Fatalf("the answer leaks the password or its hash: %s", r.body)
	}
	var acct simguard.SMPPAccount
	r.decode(t, &acct)
	if acct.SystemID != "meterapp" || acct.MOPrefixes[0] != "12345" || acct.Upstream != "main" {
		t.Fatalf("created %+v", acct)
	}

	for _, c := range []struct {
		name, token, method, path string
		body                      any
		status                    int
		field                     string
	}{
		{"duplicate", a.admin, "POST", "/api/v1/smpp/accounts", map[string]any{"system_id": "meterapp", "password": "x"}, 409, "system_id"},
		{"password too long", a.admin, "POST", "/api/v1/smpp/accounts", map[string]any{"system_id": "x", "password": "123456789"}, 400, "password"},
		{"unknown field", a.admin, "POST", "/api/v1/smpp/accounts", map[string]any{"system_id": "x", "password": "p", "pasword": "p"}, 400, "pasword"},
		{"auditor creates", auditor, "POST", "/api/v1/smpp/accounts", map[string]any{"system_id": "x", "password": "p"}, 403, ""},
		{"auditor reads", auditor, "GET", "/api/v1/smpp/accounts/meterapp", nil, 200, ""},
		{"missing", a.admin, "GET", "/api/v1/smpp/accounts/nobody", nil, 404, "system_id"},
		{"admin asks the bind oracle", a.admin, "POST", "/api/v1/sync/smpp/auth", map[string]any{"system_id": "meterapp", "password": "s3cret"}, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := a.call(c.token, c.method, c.path, c.body)
			var e struct{ Error struct{ Field string } }
			if r.status >= 400 {
				r.decode(t, &e)
			}
			if r.status != c.status || e.Error.Field != c.field {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}

	r = a.call(a.admin, "GET", "/api/v1/smpp/accounts", nil)
	var list struct{ Items []simguard.SMPPAccount }
	r.decode(t, &list)
	if r.status != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}

	// The bind check for nodes: an answer either way.
	for _, c := range []struct{ systemID, password, result string }{
		{"meterapp", "s3cret", "ok"}, {"meterapp", "guess", "bad_password"}, {"nobody", "s3cret", "unknown_system_id"},
	} {
		r := a.call(node, "POST", "/api/v1/sync/smpp/auth", map[string]any{"system_id": c.systemID, "password": c.password})
		var out struct {
			Result  string
			Account *simguard.SMPPAccount
		}
		r.decode(t, &out)
		if r.status != 200 || out.Result != c.result || (c.result == "ok") != (out.Account != nil) {
			t.Errorf("auth %s/%s: %d %s", c.systemID, c.password, r.status, r.body)
		}
	}

	// Nodes re-check accounts of any tenant; nobody else may use that path.
	if r := a.call(node, "GET", "/api/v1/sync/smpp/accounts/meterapp", nil); r.status != 200 || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("node account lookup: %d %s", r.status, r.body)
	}
	if r := a.call(node, "GET", "/api/v1/sync/smpp/accounts/nobody", nil); r.status != 404 {
		t.Fatalf("node lookup of a missing account: %d %s", r.status, r.body)
	}
	if r := a.call(auditor, "GET", "/api/v1/sync/smpp/accounts/meterapp", nil); r.status != 403 {
		t.Fatalf("auditor on the node path: %d %s", r.status, r.body)
	}

	// passwd through PATCH, guarded by If-Match.
	if r := a.call(a.admin, "PATCH", "/api/v1/smpp/accounts/meterapp", map[string]any{"password": "n3w"}, "If-Match", `"1"`); r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("passwd: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "PATCH", "/api/v1/smpp/accounts/meterapp", map[string]any{"disabled": true}, "If-Match", `"1"`); r.status != 412 {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	r = a.call(node, "POST", "/api/v1/sync/smpp/auth", map[string]any{"system_id": "meterapp", "password": "n3w"})
	if !strings.Contains(string(r.body), `"result":"ok"`) {
		t.Fatalf("new password: %s", r.body)
	}
	r = a.call(a.admin, "GET", "/api/v1/audit?object="+url.QueryEscape("smpp_account:meterapp"), nil)
	var audits struct{ Items []simguard.AuditRecord }
	r.decode(t, &audits)
	if len(audits.Items) != 2 || audits.Items[1].Action != "smpp_account.password" || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("audit: %s", r.body)
	}

	if r := a.call(a.admin, "DELETE", "/api/v1/smpp/accounts/meterapp", nil, "If-Match", `"2"`); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "GET", "/api/v1/smpp/accounts/meterapp", nil); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
}
