package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

func TestReportsAreScopedToTheCallersTenant(t *testing.T) {
	f := newFixture(t)
	other, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := f.as(t, other.ID, simguard.RoleAuditor)
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	sim, err := f.svc.GetSIM(f.admin, demo.IMSI(3))
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.t
	evs := []simguard.Event{
		{Time: now.Add(-10 * time.Minute), TenantID: 1, SIMID: sim.ID, Source: "gateway", Type: "flow.denied", Decision: "deny",
			Reason: simguard.ReasonDestinationDenied, Attrs: map[string]string{"dst": "203.0.113.66"}},
		{Time: now.Add(-9 * time.Minute), TenantID: 1, SIMID: sim.ID, Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed},
		{Time: now.Add(-8 * time.Minute), TenantID: 1, SIMID: 999_999, Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonSIMTerminated},
		{Time: now.Add(-2 * time.Hour), TenantID: 1, SIMID: sim.ID, Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonIMEIMismatch},
	}
	if err := f.db.AppendEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	rep, err := f.svc.DecisionReport(auditor, now.Add(-time.Hour), time.Time{}, time.Minute, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Counts) != 3 || !rep.Until.Equal(now) {
		t.Errorf("counts = %+v until %v, want 3 buckets of the last hour until now", rep.Counts, rep.Until)
	}
	if len(rep.TopSIMs) != 2 || rep.TopSIMs[0].Count != 1 || rep.TopSIMs[0].ICCID != demo.ICCID(3) || rep.TopSIMs[1].SIMID != 999_999 || rep.TopSIMs[1].ICCID != "" {
		t.Errorf("top SIMs = %+v, want the demo SIM with its ICCID, then the unknown ID", rep.TopSIMs)
	}
	if len(rep.TopDestinations) != 1 || rep.TopDestinations[0].Dst != "203.0.113.66" {
		t.Errorf("top destinations = %+v", rep.TopDestinations)
	}

	// Another tenant sees none of it.
	rep, err = f.svc.DecisionReport(acme, now.Add(-time.Hour), time.Time{}, time.Minute, 5)
	if err != nil || len(rep.Counts)+len(rep.TopSIMs)+len(rep.TopDestinations) != 0 {
		t.Errorf("other tenant's report = %+v, %v", rep, err)
	}
	if got, err := f.svc.RecentEvents(acme, simguard.EventFilter{}, 0); err != nil || len(got) != 0 {
		t.Errorf("other tenant's events = %v, %v", got, err)
	}
	if _, err := f.svc.SIMByID(acme, sim.ID); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("other tenant's SIMByID: %v", err)
	}
	recs, err := f.svc.RecentAudit(acme, simguard.AuditFilter{}, 0)
	if err != nil || len(recs) == 0 {
		t.Errorf("other tenant's audit = %+v, %v; want its own creation", recs, err)
	}
	for _, r := range recs {
		if r.TenantID != other.ID {
			t.Errorf("other tenant sees audit record %d of tenant %d", r.Seq, r.TenantID)
		}
	}

	// Newest means last written: the event of two hours ago came last.
	got, err := f.svc.RecentEvents(auditor, simguard.EventFilter{SIMID: sim.ID, Limit: 2}, 0)
	if err != nil || len(got) != 2 || got[0].Reason != simguard.ReasonIMEIMismatch || got[1].Reason != simguard.ReasonAllowed {
		t.Errorf("recent events = %+v, %v", got, err)
	}
	if s, err := f.svc.SIMByID(auditor, sim.ID); err != nil || s.ICCID != demo.ICCID(3) {
		t.Errorf("SIMByID = %+v, %v", s, err)
	}
	recs, err = f.svc.RecentAudit(auditor, simguard.AuditFilter{Limit: 1}, 0)
	if err != nil || len(recs) != 1 || recs[0].Action != "token.create" {
		t.Errorf("newest audit record = %+v, %v; want the auditor's token", recs, err)
	}

	node := f.as(t, simguard.ProviderTenantID, simguard.RoleNode)
	for name, do := range map[string]func() error{
		"report": func() error {
			_, err := f.svc.DecisionReport(node, now.Add(-time.Hour), time.Time{}, time.Minute, 5)
			return err
		},
		"events": func() error { _, err := f.svc.RecentEvents(node, simguard.EventFilter{}, 0); return err },
		"audit":  func() error { _, err := f.svc.RecentAudit(node, simguard.AuditFilter{}, 0); return err },
		"sim":    func() error { _, err := f.svc.SIMByID(node, sim.ID); return err },
	} {
		if code := simguard.ErrorCode(do()); code != simguard.EFORBIDDEN {
			t.Errorf("node token reads %s: %q, want forbidden", name, code)
		}
	}
	if _, err := f.svc.DecisionReport(context.Background(), now, time.Time{}, time.Minute, 5); simguard.ErrorCode(err) != simguard.EUNAUTHORIZED {
		t.Errorf("no actor: %v", err)
	}
}
