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
