package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func testTenants(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := &fixture{ctx: t.Context(), s: open(t)}
	a := f.tenant(t, "alpha")
	b := f.tenant(t, "beta")
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID || a.CreatedAt.IsZero() {
		t.Fatalf("tenants %+v %+v: want distinct IDs and a creation time", a, b)
	}
	rec := f.lastAudit(t)
	if rec.Action != "tenant.create" || rec.Object != "tenant:beta" || rec.TenantID != b.ID || len(rec.Before) != 0 {
		t.Errorf("audit of tenant creation = %+v", rec)
	}

	_, err := f.s.CreateTenant(f.ctx, "alpha", Change(1, "tenant.create"))
	wantCode(t, "duplicate tenant", err, simguard.ECONFLICT)
	_, err = f.s.CreateTenant(f.ctx, "bad name!", Change(1, "tenant.create"))
	wantCode(t, "invalid tenant name", err, simguard.EINVALID)

	got, err := f.s.GetTenant(f.ctx, a.ID)
	must(t, "GetTenant", err)
	if got.Name != "alpha" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("GetTenant = %+v, want %+v", got, a)
	}
	_, err = f.s.GetTenant(f.ctx, b.ID+100)
	wantCode(t, "missing tenant", err, simguard.ENOTFOUND)

	all, err := f.s.ListTenants(f.ctx)
	must(t, "ListTenants", err)
	if len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Errorf("ListTenants = %+v", all)
	}
}

func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func testTokens(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	ha, hb := secretHash("alpha-secret"), secretHash("beta-secret")
	ta, err := f.s.CreateToken(f.ctx, simguard.Token{TenantID: f.alpha.ID, Name: "ops laptop", Role: simguard.RoleAdmin, Secret: "alpha-secret"}, ha, Change(f.alpha.ID, "token.create"))
	must(t, "CreateToken alpha", err)
	if ta.ID == 0 || ta.CreatedAt.IsZero() || ta.Secret != "" {
		t.Errorf("CreateToken = %+v: want ID, CreatedAt and no secret", ta)
	}
	rec := f.lastAudit(t)
	if rec.Action != "token.create" || rec.TenantID != f.alpha.ID || !strings.HasPrefix(rec.Object, "token:") {
		t.Errorf("audit of token creation = %+v", rec)
	}
	tb, err := f.s.CreateToken(f.ctx, simguard.Token{TenantID: f.beta.ID, Name: "ci", Role: simguard.RoleAuditor}, hb, Change(f.beta.ID, "token.create"))
	must(t, "CreateToken beta", err)

	cases := []struct {
		name string
		tok  simguard.Token
		hash string
		code string
	}{
		{"duplicate secret", simguard.Token{TenantID: f.beta.ID, Name: "x", Role: simguard.RoleAdmin}, ha, simguard.ECONFLICT},
		{"bad role", simguard.Token{TenantID: f.alpha.ID, Name: "x", Role: "root"}, secretHash("1"), simguard.EINVALID},
		{"no name", simguard.Token{TenantID: f.alpha.ID, Role: simguard.RoleAdmin}, secretHash("2"), simguard.EINVALID},
		{"hash not hex", simguard.Token{TenantID: f.alpha.ID, Name: "x", Role: simguard.RoleAdmin}, "secret", simguard.EINVALID},
		{"unknown tenant", simguard.Token{TenantID: f.beta.ID + 100, Name: "x", Role: simguard.RoleAdmin}, secretHash("3"), simguard.ENOTFOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.CreateToken(f.ctx, c.tok, c.hash, Change(f.alpha.ID, "token.create"))
			wantCode(t, c.name, err, c.code)
		})
	}

	got, err := f.s.TokenBySecretHash(f.ctx, ha)
	must(t, "TokenBySecretHash", err)
	if got.ID != ta.ID || got.TenantID != f.alpha.ID || got.Role != simguard.RoleAdmin || got.Name != "ops laptop" {
		t.Errorf("TokenBySecretHash = %+v, want %+v", got, ta)
	}
	_, err = f.s.TokenBySecretHash(f.ctx, secretHash("nope"))
	wantCode(t, "unknown secret", err, simguard.ENOTFOUND)

	list, err := f.s.ListTokens(f.ctx, f.alpha.ID)
	must(t, "ListTokens", err)
	if len(list) != 1 || list[0].ID != ta.ID {
		t.Errorf("ListTokens(alpha) = %+v, want only %d", list, ta.ID)
	}

	err = f.s.DeleteToken(f.ctx, f.alpha.ID, tb.ID, Change(f.alpha.ID, "token.delete"))
	wantCode(t, "delete another tenant's token", err, simguard.ENOTFOUND)
	must(t, "DeleteToken", f.s.DeleteToken(f.ctx, f.beta.ID, tb.ID, Change(f.beta.ID, "token.delete")))
	_, err = f.s.TokenBySecretHash(f.ctx, hb)
	wantCode(t, "deleted token", err, simguard.ENOTFOUND)
	rec = f.lastAudit(t)
	var before simguard.Token
	if err := json.Unmarshal(rec.Before, &before); err != nil || before.ID != tb.ID || rec.After != nil || rec.Action != "token.delete" {
		t.Errorf("audit of token deletion = %+v (%v)", rec, err)
	}

	// Neither a secret nor its hash may reach the audit log.
	err = f.s.ScanAudit(f.ctx, func(r simguard.AuditRecord) error {
		for _, s := range []string{"alpha-secret", "beta-secret", ha, hb} {
			if strings.Contains(string(r.Before)+string(r.After), s) {
				t.Errorf("audit record %d contains %q", r.Seq, s)
			}
		}
		return nil
	})
	must(t, "ScanAudit", err)
}
