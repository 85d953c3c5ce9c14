package simguard

import (
	"context"
	"fmt"
	"time"
)

// Tenant is a customer of the operator running simguard. Everything but the
// audit chain is scoped to one tenant. The first tenant (ID 1, created on
// first start) is the provider: its admins may create other tenants.
type Tenant struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// ProviderTenantID is the tenant created on first start.
const ProviderTenantID = 1

// Role is what a token may do.
type Role string

const (
	RoleAdmin    Role = "admin"    // everything in its tenant, including tokens
	RoleOperator Role = "operator" // change SIMs and groups; no tokens
	RoleAuditor  Role = "auditor"  // read only
	// RoleNode is for remote enforcement nodes: read the policy state of
	// every tenant and report what enforcement learned; nothing else.
	// Only provider admins create node tokens, in the provider tenant.
	RoleNode Role = "node"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleOperator || r == RoleAuditor || r == RoleNode
}

// CanWrite reports whether r may change the fleet.
func (r Role) CanWrite() bool { return r == RoleAdmin || r == RoleOperator }

// Token is an API credential. The secret is shown once, at creation; the
// store keeps only its SHA-256.
type Token struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is set only in the answer to a create.
	Secret string `json:"secret,omitempty"`
}

// Actor is who is making a change; it is written into the audit record.
type Actor struct {
	TenantID int64
	Role     Role
	// Name is what the audit log shows, e.g. "token:7 (ops-laptop)".
	Name string
	// Provider is true for admins of the provider tenant.
	Provider bool
}

func (a Actor) String() string { return a.Name }

// TokenActor makes the Actor of an authenticated token.
func TokenActor(t Token) Actor {
	return Actor{
		TenantID: t.TenantID,
		Role:     t.Role,
		Name:     fmt.Sprintf("token:%d (%s)", t.ID, t.Name),
		Provider: t.TenantID == ProviderTenantID && t.Role == RoleAdmin,
	}
}

// SystemActor makes an Actor for a component of simguard itself, such as
// "radius:imei-learn" or "rule:sim-swap". It may write in the tenant.
func SystemActor(tenantID int64, name string) Actor {
	return Actor{TenantID: tenantID, Role: RoleOperator, Name: name}
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
