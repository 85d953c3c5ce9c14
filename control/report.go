package control

import (
	"context"
	"time"

	"github.com/simguard/simguard"
)

// DecisionReport is what the fleet's enforcement points decided in a time
// range: counts over time, and who and what was denied most.
type DecisionReport struct {
	Since  time.Time                `json:"since"`
	Until  time.Time                `json:"until"`
	Bucket time.Duration            `json:"bucket"`
	Counts []simguard.DecisionCount `json:"counts"`
	// TopSIMs are the most denied SIMs, with their identities.
	TopSIMs         []DeniedSIM            `json:"top_sims"`
	TopDestinations []simguard.DeniedCount `json:"top_destinations"`
}

// DeniedSIM is a SIM and how often it was denied.
type DeniedSIM struct {
	SIMID int64  `json:"sim_id"`
	ICCID string `json:"iccid"`
	IMSI  string `json:"imsi"`
	Count int64  `json:"count"`
}

// DecisionReport reports the caller's tenant's decisions from since until
// until (zero: now) in buckets of bucket, with the top denied SIMs and
// destinations (top of each, 0 for none).
func (s *Service) DecisionReport(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (DecisionReport, error) {
	a, err := reader(ctx)
	if err != nil {
		return DecisionReport{}, err
	}
	if until.IsZero() {
		until = s.now()
	}
	f := simguard.DecisionFilter{TenantID: a.TenantID, Since: since, Until: until, Bucket: bucket}
	rep := DecisionReport{Since: since, Until: until, Bucket: bucket, TopSIMs: []DeniedSIM{}, TopDestinations: []simguard.DeniedCount{}}
	if rep.Counts, err = s.store.CountDecisions(ctx, f); err != nil {
		return DecisionReport{}, err
	}
	if top <= 0 {
		return rep, nil
	}
	sims, err := s.store.TopDeniedSIMs(ctx, f, top)
	if err != nil {
		return DecisionReport{}, err
	}
	for _, c := range sims {
		d := DeniedSIM{SIMID: c.SIMID, Count: c.Count}
		// Events name SIMs by ID only; one lookup per listed SIM is cheap
		// for a top ten. A SIM that is gone stays listed by its ID.
		if sim, err := s.store.GetSIM(ctx, a.TenantID, c.SIMID); err == nil {
			d.ICCID, d.IMSI = sim.ICCID, sim.IMSI
		} else if simguard.ErrorCode(err) != simguard.ENOTFOUND {
			return DecisionReport{}, err
		}
		rep.TopSIMs = append(rep.TopSIMs, d)
	}
	if rep.TopDestinations, err = s.store.TopDeniedDestinations(ctx, f, top); err != nil {
		return DecisionReport{}, err
	}
	return rep, nil
}

// RecentEvents returns the caller's tenant's newest events first;
// beforeID pages back.
func (s *Service) RecentEvents(ctx context.Context, f simguard.EventFilter, beforeID int64) ([]simguard.Event, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return s.store.RecentEvents(ctx, f, beforeID)
}

// RecentAudit returns the caller's tenant's newest audit records first;
// beforeSeq pages back.
func (s *Service) RecentAudit(ctx context.Context, f simguard.AuditFilter, beforeSeq int64) ([]simguard.AuditRecord, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return s.store.RecentAudit(ctx, f, beforeSeq)
}

// SIMByID returns a SIM of the caller's tenant by its ID, the way events
// name SIMs.
func (s *Service) SIMByID(ctx context.Context, id int64) (simguard.SIM, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	return s.store.GetSIM(ctx, a.TenantID, id)
}
