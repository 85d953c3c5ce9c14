package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/simguard/simguard"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call and arrange its Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) simguard.Store) {
	t.Run("Tenants", func(t *testing.T) { testTenants(t, open) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, open) })
	t.Run("GroupUpdate", func(t *testing.T) { testGroupUpdate(t, open) })
	t.Run("GroupDelete", func(t *testing.T) { testGroupDelete(t, open) })
	t.Run("SIMImport", func(t *testing.T) { testSIMImport(t, open) })
	t.Run("SIMImportRejects", func(t *testing.T) { testSIMImportRejects(t, open) })
	t.Run("SIMGetFind", func(t *testing.T) { testSIMGetFind(t, open) })
	t.Run("SIMList", func(t *testing.T) { testSIMList(t, open) })
	t.Run("SIMListPaging", func(t *testing.T) { testSIMListPaging(t, open) })
	t.Run("SIMListHostileInput", func(t *testing.T) { testSIMListHostile(t, open) })
	t.Run("SIMUpdate", func(t *testing.T) { testSIMUpdate(t, open) })
	t.Run("SIMUpdateRejects", func(t *testing.T) { testSIMUpdateRejects(t, open) })
	t.Run("SIMConcurrentUpdate", func(t *testing.T) { testSIMConcurrentUpdate(t, open) })
	t.Run("SIMScanCount", func(t *testing.T) { testSIMScanCount(t, open) })
	t.Run("Usage", func(t *testing.T) { testUsage(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("EventRetention", func(t *testing.T) { testEventRetention(t, open) })
	t.Run("AuditTrail", func(t *testing.T) { testAuditTrail(t, open) })
	t.Run("AuditChain", func(t *testing.T) { testAuditChain(t, open) })
	t.Run("AuditFind", func(t *testing.T) { testAuditFind(t, open) })
	t.Run("UnattributedChange", func(t *testing.T) { testUnattributed(t, open) })
	t.Run("RADIUS", func(t *testing.T) { testRADIUS(t, open) })
	t.Run("Reports", func(t *testing.T) { testReports(t, open) })
	t.Run("SMPPAccounts", func(t *testing.T) { testSMPP(t, open) })
	t.Run("Findings", func(t *testing.T) { testFindings(t, open) })
	t.Run("Diameter", func(t *testing.T) { testDiameter(t, open) })
}

// fixture is a store with two tenants, alpha and beta, each with a group
// "meters"; alpha also has "cameras".
type fixture struct {
	ctx   context.Context
	s     simguard.Store
	alpha simguard.Tenant
	beta  simguard.Tenant
}

func newFixture(t *testing.T, open func(t *testing.T) simguard.Store) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), s: open(t)}
	f.alpha = f.tenant(t, "alpha")
	f.beta = f.tenant(t, "beta")
	f.group(t, f.alpha.ID, "meters")
	f.group(t, f.alpha.ID, "cameras")
	f.group(t, f.beta.ID, "meters")
	return f
}

func (f *fixture) tenant(t *testing.T, name string) simguard.Tenant {
	t.Helper()
	tn, err := f.s.CreateTenant(f.ctx, name, Change(simguard.ProviderTenantID, "tenant.create"))
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

func (f *fixture) group(t *testing.T, tenantID int64, name string) simguard.Group {
	t.Helper()
	g, err := f.s.CreateGroup(f.ctx, simguard.Group{TenantID: tenantID, Name: name,
		Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}}, Change(tenantID, "group.create"))
	if err != nil {
		t.Fatalf("CreateGroup(%d, %q): %v", tenantID, name, err)
	}
	return g
}

// importSIMs imports sims into the tenant and returns them as stored, in
// import order.
func (f *fixture) importSIMs(t *testing.T, tenantID int64, sims []simguard.SIM) []simguard.SIM {
	t.Helper()
	if err := f.s.CreateSIMs(f.ctx, tenantID, sims, Change(tenantID, "sim.import")); err != nil {
		t.Fatalf("CreateSIMs: %v", err)
	}
	out := make([]simguard.SIM, len(sims))
	for i := range sims {
		s, err := f.s.FindSIM(f.ctx, tenantID, sims[i].ICCID)
		if err != nil {
			t.Fatalf("FindSIM(%s) after import: %v", sims[i].ICCID, err)
		}
		out[i] = s
	}
	return out
}

func (f *fixture) head(t *testing.T) int64 {
	t.Helper()
	seq, _, err := f.s.AuditHead(f.ctx)
	if err != nil {
		t.Fatalf("AuditHead: %v", err)
	}
	return seq
}

// lastAudit returns the newest audit record.
func (f *fixture) lastAudit(t *testing.T) simguard.AuditRecord {
	t.Helper()
	seq := f.head(t)
	recs, err := f.s.FindAudit(f.ctx, simguard.AuditFilter{AfterSeq: seq - 1, Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatalf("FindAudit(after %d) = %d records, %v", seq-1, len(recs), err)
	}
	return recs[0]
}

// Change returns a change made by a test admin of the tenant.
func Change(tenantID int64, action string) simguard.Change {
	return simguard.Change{
		Actor:  simguard.Actor{TenantID: tenantID, Role: simguard.RoleAdmin, Name: fmt.Sprintf("storetest:admin@%d", tenantID)},
		Action: action,
	}
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) *simguard.Error {
	t.Helper()
	var e *simguard.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: err = %v, want code %s", what, err, code)
	}
	return e
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
