package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/simguard/simguard"
)

// tokenPrefix marks simguard secrets so that secret scanners can find
// leaked ones.
const tokenPrefix = "sgt_"

// actor returns the caller; a context without one is a bug in the caller
// and is refused rather than treated as anonymous.
func actor(ctx context.Context) (simguard.Actor, error) {
	a, ok := simguard.ActorFrom(ctx)
	if !ok {
		return simguard.Actor{}, simguard.Errorf(simguard.EUNAUTHORIZED, "no credentials")
	}
	return a, nil
}

// reader allows every role that reads a tenant's fleet; node tokens read
// only the sync state.
func reader(ctx context.Context) (simguard.Actor, error) {
	a, err := actor(ctx)
	if err == nil && a.Role == simguard.RoleNode {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "node tokens may only sync policy and report feedback")
	}
	return a, err
}

// node allows remote enforcement nodes (and provider admins, for
// debugging) to read every tenant's policy state.
func node(ctx context.Context) (simguard.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if a.Role != simguard.RoleNode && !a.Provider {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "only node tokens and provider admins may read the sync state")
	}
	return a, nil
}

func writer(ctx context.Context) (simguard.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if !a.Role.CanWrite() {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "role %s may not change anything", a.Role)
	}
	return a, nil
}

func admin(ctx context.Context) (simguard.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if a.Role != simguard.RoleAdmin {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "only an admin may do this; your role is %s", a.Role)
	}
	return a, nil
}

// HashSecret is how token secrets are stored: SHA-256 in hex. Secrets are
// 256 random bits, so a plain hash is enough (no password stretching).
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Authenticate finds the token a secret belongs to and returns its actor.
func (s *Service) Authenticate(ctx context.Context, secret string) (simguard.Actor, simguard.Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return simguard.Actor{}, simguard.Token{}, simguard.Errorf(simguard.EUNAUTHORIZED, "unknown token")
	}
	t, err := s.store.TokenBySecretHash(ctx, HashSecret(secret))
	if simguard.ErrorCode(err) == simguard.ENOTFOUND {
		return simguard.Actor{}, simguard.Token{}, simguard.Errorf(simguard.EUNAUTHORIZED, "unknown token")
	}
	if err != nil {
		return simguard.Actor{}, simguard.Token{}, err
	}
	return simguard.TokenActor(t), t, nil
}

// Bootstrap prepares an empty store: the provider tenant and its first
// admin token, whose secret is returned (and shown once). On a store that
// already has tenants it does nothing and returns "".
func (s *Service) Bootstrap(ctx context.Context, tenantName string) (string, error) {
	tenants, err := s.store.ListTenants(ctx)
	if err != nil {
		return "", err
	}
	if len(tenants) > 0 {
		return "", nil
	}
	sys := simguard.Actor{TenantID: simguard.ProviderTenantID, Role: simguard.RoleAdmin, Name: "system:bootstrap", Provider: true}
	t, err := s.store.CreateTenant(ctx, tenantName, simguard.Change{Actor: sys, Action: "tenant.create"})
	if err != nil {
		return "", err
	}
	if t.ID != simguard.ProviderTenantID {
		return "", simguard.Errorf(simguard.EINTERNAL, "first tenant got ID %d, want %d", t.ID, simguard.ProviderTenantID)
	}
	tok, err := s.createToken(ctx, sys, t.ID, "bootstrap-admin", simguard.RoleAdmin)
	if err != nil {
		return "", err
	}
	return tok.Secret, nil
}

// CreateToken makes a token in tenantID (0: the caller's own). Only admins
// may; only provider admins may create tokens in other tenants.
func (s *Service) CreateToken(ctx context.Context, tenantID int64, name string, role simguard.Role) (simguard.Token, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.Token{}, err
	}
	if tenantID == 0 {
		tenantID = a.TenantID
	}
	if tenantID != a.TenantID && !a.Provider {
		return simguard.Token{}, simguard.Errorf(simguard.EFORBIDDEN, "only provider admins may create tokens for other tenants")
	}
	if _, err := s.store.GetTenant(ctx, tenantID); err != nil {
		return simguard.Token{}, err
	}
	return s.createToken(ctx, a, tenantID, name, role)
}

func (s *Service) createToken(ctx context.Context, a simguard.Actor, tenantID int64, name string, role simguard.Role) (simguard.Token, error) {
	if err := simguard.ValidateName(name); err != nil {
		return simguard.Token{}, err
	}
	if !role.Valid() {
		return simguard.Token{}, simguard.FieldError("role", "must be admin, operator, auditor or node, got %q", role)
	}
	if role == simguard.RoleNode && (tenantID != simguard.ProviderTenantID || !a.Provider) {
		return simguard.Token{}, simguard.FieldError("role", "node tokens (for remote enforcement nodes) are created by provider admins in the provider tenant")
	}
	secret, err := newSecret()
	if err != nil {
		return simguard.Token{}, err
	}
	t, err := s.store.CreateToken(ctx, simguard.Token{TenantID: tenantID, Name: name, Role: role}, HashSecret(secret),
		simguard.Change{Actor: a, Action: "token.create"})
	if err != nil {
		return simguard.Token{}, err
	}
	t.Secret = secret
	return t, nil
}

// ListTokens lists the caller's tenant's tokens (admins only).
func (s *Service) ListTokens(ctx context.Context) ([]simguard.Token, error) {
	a, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ListTokens(ctx, a.TenantID)
}

// DeleteToken revokes a token of the caller's tenant (admins only).
func (s *Service) DeleteToken(ctx context.Context, id int64) error {
	a, err := admin(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteToken(ctx, a.TenantID, id, simguard.Change{Actor: a, Action: "token.delete"})
}

// CreateTenant adds a customer (provider admins only).
func (s *Service) CreateTenant(ctx context.Context, name string) (simguard.Tenant, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.Tenant{}, err
	}
	if !a.Provider {
		return simguard.Tenant{}, simguard.Errorf(simguard.EFORBIDDEN, "only admins of the provider tenant may create tenants")
	}
	if err := simguard.ValidateName(name); err != nil {
		return simguard.Tenant{}, err
	}
	return s.store.CreateTenant(ctx, name, simguard.Change{Actor: a, Action: "tenant.create"})
}

// ListTenants lists every tenant for provider admins, and the caller's own
// tenant for everyone else.
func (s *Service) ListTenants(ctx context.Context) ([]simguard.Tenant, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if a.Provider {
		return s.store.ListTenants(ctx)
	}
	t, err := s.store.GetTenant(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	return []simguard.Tenant{t}, nil
}
