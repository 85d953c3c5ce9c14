package http_test

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/sealed"
)

// TestNASClientsOverHTTP: NAS clients are created, listed, replaced and
// deleted through the API; the secret is write-only and stored sealed;
// roles and versions are enforced; sessions list.
func TestNASClientsOverHTTP(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	a := newAPIConfig(t, control.Config{Secrets: box})
	topic := make(chan struct{}, 8)
	a.svc.OnTopic(simguard.TopicNASClients, func() { topic <- struct{}{} })
	operator := a.token(0, "operator")

	in := map[string]any{"name": "pgw-1", "prefix": "192.0.2.0/24", "secret": "s3cret-of-pgw-1", "coa_port": 3799}
	if r := a.call(operator, "POST", "/api/v1/radius/nas", in); r.status != 403 {
		t.Errorf("operator created a NAS client: %d", r.status)
	}
	r := a.call(a.admin, "POST", "/api/v1/radius/nas", in)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("s3cret")) {
		t.Errorf("the answer shows the secret: %s", r.body)
	}
	var c simguard.NASClient
	r.decode(t, &c)
	<-topic
	for name, tc := range map[string]struct {
		body map[string]any
		code int
	}{
		"short secret":   {map[string]any{"name": "pgw-2", "prefix": "198.51.100.0/24", "secret": "short"}, 400},
		"taken prefix":   {map[string]any{"name": "pgw-2", "prefix": "192.0.2.0/24", "secret": "long-enough-secret"}, 409},
		"bad identity":   {map[string]any{"name": "pgw-2", "prefix": "198.51.100.0/24", "secret": "long-enough-secret", "identity_order": []string{"imei"}}, 400},
		"unknown field":  {map[string]any{"name": "pgw-2", "prefix": "198.51.100.0/24", "secret": "long-enough-secret", "colour": "red"}, 400},
		"missing prefix": {map[string]any{"name": "pgw-2", "secret": "long-enough-secret"}, 400},
	} {
		if r := a.call(a.admin, "POST", "/api/v1/radius/nas", tc.body); r.status != tc.code {
			t.Errorf("%s: %d %s, want %d", name, r.status, r.body, tc.code)
		}
	}
	// The store holds the secret sealed, openable with the key.
	stored, err := a.svc.Store().(simguard.NASClientStore).GetNASClient(t.Context(), 1, c.ID)
	if err != nil || !strings.HasPrefix(stored.Secret, "sealed:") {
		t.Fatalf("stored secret %q, %v", stored.Secret, err)
	}
	if plain, err := box.Open(stored.Secret, simguard.NASSecretContext); err != nil || plain != "s3cret-of-pgw-1" {
		t.Errorf("open: %q %v", plain, err)
	}

	// Replace without a secret keeps it; a stale If-Match is refused.
	path := "/api/v1/radius/nas/" + strconv.FormatInt(c.ID, 10)
	upd := map[string]any{"name": "pgw-1", "prefix": "192.0.2.0/24", "allow_missing_message_authenticator": true}
	if r := a.call(a.admin, "PUT", path, upd, "If-Match", `"7"`); r.status != 412 {
		t.Errorf("stale If-Match: %d", r.status)
	}
	if r := a.call(a.admin, "PUT", path, upd, "If-Match", `"1"`); r.status != 200 {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	stored, _ = a.svc.Store().(simguard.NASClientStore).GetNASClient(t.Context(), 1, c.ID)
	if plain, _ := box.Open(stored.Secret, simguard.NASSecretContext); plain != "s3cret-of-pgw-1" || !stored.AllowMissingMessageAuthenticator {
		t.Errorf("after replace: secret %q, %+v", plain, stored)
	}
	r = a.call(operator, "GET", "/api/v1/radius/nas", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"pgw-1"`)) || bytes.Contains(r.body, []byte("sealed:")) {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	if r := a.call(operator, "GET", "/api/v1/radius/sessions?live=true&limit=10", nil); r.status != 200 {
		t.Errorf("sessions: %d %s", r.status, r.body)
	}
	if r := a.call(operator, "GET", "/api/v1/radius/sessions?live=maybe", nil); r.status != 400 {
		t.Errorf("sessions with live=maybe: %d", r.status)
	}
	if r := a.call(a.admin, "DELETE", path, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "DELETE", path, nil); r.status != 404 {
		t.Errorf("second delete: %d", r.status)
	}
}

// TestNASClientsNeedSecretsKey: without a secrets key the server refuses
// to keep NAS clients rather than store a secret in the clear.
func TestNASClientsNeedSecretsKey(t *testing.T) {
	a := newAPI(t)
	r := a.call(a.admin, "POST", "/api/v1/radius/nas", map[string]any{"name": "pgw", "prefix": "192.0.2.1/32", "secret": "long-enough-secret"})
	if r.status != 503 {
		t.Errorf("without a secrets key: %d %s", r.status, r.body)
	}
}

// TestRADIUSNodeEndpoints: the node endpoints answer node tokens only,
// hand out the NAS secrets (with an ETag to poll), and reach the session
// and lease stores; every answer matches the OpenAPI document.
func TestRADIUSNodeEndpoints(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	a := newAPIConfig(t, control.Config{Secrets: box})
	node := a.token(0, "node")
	operator := a.token(0, "operator")
	if r := a.call(a.admin, "POST", "/api/v1/radius/nas", map[string]any{"name": "pgw-1", "prefix": "192.0.2.0/24", "secret": "s3cret-of-pgw-1"}); r.status != 201 {
		t.Fatalf("create NAS: %d %s", r.status, r.body)
	}
	for _, tok := range []string{a.admin, operator} {
		if r := a.call(tok, "GET", "/api/v1/sync/radius/nas", nil); r.status != 403 {
			t.Errorf("a non-node token read the NAS secrets: %d %s", r.status, r.body)
		}
	}
	r := a.call(node, "GET", "/api/v1/sync/radius/nas", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"secret":"s3cret-of-pgw-1"`)) || r.header.Get("ETag") == "" ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("node reads NAS clients: %d %v %s", r.status, r.header, r.body)
	}
	tag := r.header.Get("ETag")
	if r := a.call(node, "GET", "/api/v1/sync/radius/nas", nil, "If-None-Match", tag); r.status != 304 || len(r.body) != 0 {
		t.Errorf("unchanged NAS clients: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "POST", "/api/v1/radius/nas", map[string]any{"name": "pgw-2", "prefix": "2001:db8::/64", "secret": "s3cret-of-pgw-2"}); r.status != 201 {
		t.Fatalf("create NAS: %d %s", r.status, r.body)
	}
	if r := a.call(node, "GET", "/api/v1/sync/radius/nas", nil, "If-None-Match", tag); r.status != 200 || r.header.Get("ETag") == tag ||
		!bytes.Contains(r.body, []byte("pgw-2")) {
		t.Errorf("changed NAS clients: %d %v %s", r.status, r.header, r.body)
	}

	sess := map[string]any{"id": 0, "tenant_id": 1, "nas": "pgw-1", "session_id": "a1", "start": "2026-11-25T10:00:00Z",
		"last_update": "2026-11-25T10:00:00Z", "input_octets": 0, "output_octets": 0, "version": 0, "ip": "10.0.0.1"}
	if r := a.call(a.admin, "POST", "/api/v1/sync/radius/sessions", sess); r.status != 403 {
		t.Errorf("admin saved a session through the node endpoint: %d", r.status)
	}
	r = a.call(node, "POST", "/api/v1/sync/radius/sessions", sess)
	var saved simguard.RADIUSSession
	if r.status != 200 {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	r.decode(t, &saved)
	if saved.ID == 0 || saved.Version != 1 {
		t.Fatalf("saved %+v", saved)
	}
	id := strconv.FormatInt(saved.ID, 10)
	steps := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"second live session", "POST", "/api/v1/sync/radius/sessions", sess, 409},
		{"unknown field", "POST", "/api/v1/sync/radius/sessions", map[string]any{"nas": "x", "colour": "red"}, 400},
		{"live", "GET", "/api/v1/sync/radius/sessions/live?nas=pgw-1&session_id=a1", nil, 200},
		{"live missing", "GET", "/api/v1/sync/radius/sessions/live?nas=pgw-1&session_id=zz", nil, 404},
		{"live without nas", "GET", "/api/v1/sync/radius/sessions/live?session_id=zz", nil, 400},
		{"last", "GET", "/api/v1/sync/radius/sessions/last?nas=pgw-1&session_id=a1", nil, 200},
		{"list", "GET", "/api/v1/sync/radius/sessions?live=true&limit=10", nil, 200},
		{"disconnect", "PUT", "/api/v1/sync/radius/sessions/" + id + "/disconnect",
			map[string]any{"at": "2026-11-25T10:01:00Z", "reason": "sim_suspended", "outcome": "ack", "attempts": 1}, 204},
		{"disconnect bad id", "PUT", "/api/v1/sync/radius/sessions/x/disconnect",
			map[string]any{"at": "2026-11-25T10:01:00Z", "reason": "sim_suspended", "outcome": "ack", "attempts": 1}, 400},
		{"stop without nas", "POST", "/api/v1/sync/radius/sessions/stop", map[string]any{"nas": "", "at": "2026-11-25T11:00:00Z"}, 400},
		{"stop", "POST", "/api/v1/sync/radius/sessions/stop", map[string]any{"nas": "pgw-1", "at": "2026-11-25T11:00:00Z", "cause": "nas-reboot"}, 200},
		{"lease", "POST", "/api/v1/sync/radius/leases", map[string]any{"pool": "iot", "ip": "10.64.0.1", "sim_id": 5, "tenant_id": 1, "created_at": "2026-11-25T10:00:00Z"}, 201},
		{"lease taken", "POST", "/api/v1/sync/radius/leases", map[string]any{"pool": "iot", "ip": "10.64.0.1", "sim_id": 6, "tenant_id": 1, "created_at": "2026-11-25T10:00:00Z"}, 409},
		{"lease without ip", "POST", "/api/v1/sync/radius/leases", map[string]any{"pool": "iot", "ip": "", "sim_id": 6, "tenant_id": 1, "created_at": "2026-11-25T10:00:00Z"}, 400},
		{"leases", "GET", "/api/v1/sync/radius/leases?pool=iot", nil, 200},
		{"leases without pool", "GET", "/api/v1/sync/radius/leases?pool=", nil, 400},
		{"lease of sim", "GET", "/api/v1/sync/radius/leases/iot/5", nil, 200},
		{"no lease", "GET", "/api/v1/sync/radius/leases/iot/6", nil, 404},
		{"release", "DELETE", "/api/v1/sync/radius/leases?sim=5", nil, 200},
		{"release bad sim", "DELETE", "/api/v1/sync/radius/leases?sim=x", nil, 400},
	}
	for _, st := range steps {
		if r := a.call(node, st.method, st.path, st.body); r.status != st.status {
			t.Errorf("%s: %d %s, want %d", st.name, r.status, r.body, st.status)
		}
	}
	r = a.call(operator, "GET", "/api/v1/radius/sessions?live=false", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"outcome":"ack"`)) || !bytes.Contains(r.body, []byte(`"terminate_cause":"nas-reboot"`)) {
		t.Errorf("the node's session as operators see it: %d %s", r.status, r.body)
	}
}
