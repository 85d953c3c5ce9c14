package control

import (
	"context"
	"errors"

	"github.com/simguard/simguard"
)

var _ simguard.BatchFeedback = (*Service)(nil)

// AddUsageBatch meters many SIMs as AddUsage meters one, in one store
// transaction when the store can (simguard.UsageBatchStore): the SMS
// firewall reports every message it delivers, summed per SIM. As in
// AddUsage, the snapshot changes only for SIMs whose quota state flips.
// Errors of single SIMs (unknown, negative usage) do not stop the others.
func (s *Service) AddUsageBatch(ctx context.Context, usage []simguard.SIMUsage) error {
	bs, ok := s.store.(simguard.UsageBatchStore)
	if !ok {
		var errs []error
		for _, u := range usage {
			errs = append(errs, s.AddUsage(ctx, u.SIMID, u.DataBytes, u.SMSCount))
		}
		return errors.Join(errs...)
	}
	snap, now := s.policy.Snapshot(), s.now()
	var errs []error
	adds := make([]simguard.UsageAdd, 0, len(usage))
	quotas := make([]simguard.Quotas, 0, len(usage))
	tenants := make([]int64, 0, len(usage))
	for _, u := range usage {
		if u.DataBytes < 0 || u.SMSCount < 0 {
			errs = append(errs, simguard.Errorf(simguard.EINVALID, "SIM %d: usage cannot be negative", u.SIMID))
			continue
		}
		view, ok := snap.SIMByID(u.SIMID)
		if !ok {
			errs = append(errs, simguard.Errorf(simguard.ENOTFOUND, "no SIM with ID %d", u.SIMID))
			continue
		}
		g, ok := snap.GroupPolicy(view.TenantID, view.Group)
		if !ok {
			continue // no group, no quota to meter against (as AddUsage)
		}
		q := g.Policy.Quotas
		adds = append(adds, simguard.UsageAdd{SIMUsage: u, PeriodStart: PeriodStart(q.Period, now)})
		quotas = append(quotas, q)
		tenants = append(tenants, view.TenantID)
	}
	if len(adds) == 0 {
		return errors.Join(errs...)
	}
	after, err := bs.AddUsages(ctx, adds)
	if err != nil {
		return err
	}
	for i, a := range adds {
		errs = append(errs, s.usageStored(ctx, tenants[i], a.SIMUsage, quotas[i], after[i]))
	}
	return errors.Join(errs...)
}

// usageStored is what AddUsage does once usage is stored: publish the SIM
// when its quota state flipped, and say when a quota ran out.
func (s *Service) usageStored(ctx context.Context, tenantID int64, u simguard.SIMUsage, q simguard.Quotas, after simguard.Usage) error {
	if q.DataBytes == 0 && q.SMSCount == 0 || after.PeriodStart.IsZero() {
		return nil
	}
	before := simguard.Usage{DataBytes: after.DataBytes - u.DataBytes, SMSCount: after.SMSCount - u.SMSCount}
	dataOut := exhausted(q.DataBytes, after.DataBytes) && !exhausted(q.DataBytes, before.DataBytes)
	smsOut := exhausted(q.SMSCount, after.SMSCount) && !exhausted(q.SMSCount, before.SMSCount)
	if exhausted(q.DataBytes, before.DataBytes) == exhausted(q.DataBytes, after.DataBytes) &&
		exhausted(q.SMSCount, before.SMSCount) == exhausted(q.SMSCount, after.SMSCount) {
		return nil
	}
	sim, err := s.store.GetSIM(ctx, tenantID, u.SIMID)
	if err != nil {
		return err
	}
	s.simChanged(sim)
	if dataOut || smsOut {
		s.events.Emit(simguard.Event{
			TenantID: sim.TenantID, SIMID: sim.ID, Source: "control", Type: "quota.exhausted",
			Attrs: map[string]string{"imsi": sim.IMSI, "on_exhaustion": q.OnExhaustion, "period": q.Period},
		})
	}
	return nil
}
