package simguard

import (
	"context"
	"time"
)

// Store is everything the control plane keeps. SQLite implements it for one
// machine; the interface is shaped so that PostgreSQL can implement it for
// several. Every write that changes the fleet takes a Change and appends its
// audit record in the same transaction, so a change without its record (or
// the reverse) cannot exist.
type Store interface {
	TenantStore
	TokenStore
	GroupStore
	SIMStore
	EventStore
	AuditStore
	RADIUSStore
	ReportStore
	SMPPStore
	FindingStore
	DiameterStore
	Close() error
}

// Change says who makes a write and what it is called in the audit log.
type Change struct {
	Actor  Actor
	Action string // "sim.suspend", "group.update" …
}

// TenantStore keeps tenants.
type TenantStore interface {
	// CreateTenant fails with ECONFLICT when the name is taken.
	CreateTenant(ctx context.Context, name string, ch Change) (Tenant, error)
	GetTenant(ctx context.Context, id int64) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
}

// TokenStore keeps API tokens by the SHA-256 of their secret.
type TokenStore interface {
	// CreateToken stores t (ID and CreatedAt are set) with the hex SHA-256
	// of its secret. The audit record never contains the secret or its hash.
	CreateToken(ctx context.Context, t Token, secretHash string, ch Change) (Token, error)
	// TokenBySecretHash finds a token for authentication; ENOTFOUND if none.
	TokenBySecretHash(ctx context.Context, secretHash string) (Token, error)
	ListTokens(ctx context.Context, tenantID int64) ([]Token, error)
	DeleteToken(ctx context.Context, tenantID, id int64, ch Change) error
}

// GroupStore keeps groups. Names are unique per tenant.
type GroupStore interface {
	// CreateGroup fails with ECONFLICT when the name is taken.
	CreateGroup(ctx context.Context, g Group, ch Change) (Group, error)
	GetGroup(ctx context.Context, tenantID int64, name string) (Group, error)
	ListGroups(ctx context.Context, tenantID int64) ([]Group, error)
	// UpdateGroup loads the group in a transaction, fails with
	// EPRECONDITION when ifVersion is not 0 and not its Version, calls fn
	// to change it, and writes it with Version+1. fn's error aborts.
	UpdateGroup(ctx context.Context, tenantID int64, name string, ifVersion int64, ch Change, fn func(*Group) error) (Group, error)
	// DeleteGroup fails with ECONFLICT while SIMs are in the group.
	DeleteGroup(ctx context.Context, tenantID int64, name string, ifVersion int64, ch Change) error
	// ScanGroups calls fn for every group of every tenant.
	ScanGroups(ctx context.Context, fn func(Group) error) error
}

// SIMFilter selects SIMs of one tenant. Zero fields do not filter.
type SIMFilter struct {
	TenantID int64
	State    SIMState
	Group    string
	// Label is "key" (has the label) or "key=value".
	Label string
	// Query matches a prefix of ICCID, IMSI, MSISDN or bound IMEI.
	Query string
	// AfterID pages forward: only SIMs with a larger ID, in ID order.
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// SIMStore keeps the inventory.
type SIMStore interface {
	// CreateSIMs inserts every SIM or none. Duplicates of an existing ICCID,
	// IMSI or MSISDN (or within sims) fail with ECONFLICT and Rows naming
	// each offending element by its 1-based index in sims. One audit record
	// covers the whole import. On success the elements of sims have their
	// ID, TenantID, Version (1) and timestamps set.
	CreateSIMs(ctx context.Context, tenantID int64, sims []SIM, ch Change) error
	GetSIM(ctx context.Context, tenantID, id int64) (SIM, error)
	// FindSIM looks a SIM up by ICCID, IMSI or MSISDN (digits).
	FindSIM(ctx context.Context, tenantID int64, key string) (SIM, error)
	ListSIMs(ctx context.Context, f SIMFilter) ([]SIM, error)
	// CountSIMs counts a tenant's SIMs by state.
	CountSIMs(ctx context.Context, tenantID int64) (map[SIMState]int64, error)
	// UpdateSIM works like UpdateGroup; fn must not change ID, TenantID,
	// ICCID or IMSI.
	UpdateSIM(ctx context.Context, tenantID, id int64, ifVersion int64, ch Change, fn func(*SIM) error) (SIM, error)
	// ScanSIMs calls fn for every SIM of every tenant, in ID order. The SIM
	// passed is reused between calls: copy what you keep.
	ScanSIMs(ctx context.Context, fn func(*SIM) error) error
	// AddUsage adds to a SIM's usage in the period starting at
	// periodStart; usage of an earlier period is discarded first. It is
	// metering, not an operator change, and is not audited.
	AddUsage(ctx context.Context, simID int64, periodStart time.Time, dataBytes, smsCount int64) (Usage, error)
}

// UsageAdd is usage to add to a SIM in the quota period that starts at
// PeriodStart.
type UsageAdd struct {
	SIMUsage
	PeriodStart time.Time
}

// UsageBatchStore meters many SIMs in one transaction. The SQLite store
// implements it.
type UsageBatchStore interface {
	// AddUsages does what SIMStore.AddUsage does for each element, all in
	// one transaction, and returns the usage stored afterwards, in order.
	// A SIM that does not exist is skipped: its Usage is the zero value.
	AddUsages(ctx context.Context, adds []UsageAdd) ([]Usage, error)
}
