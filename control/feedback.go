package control

import (
	"context"
	"time"

	"github.com/simguard/simguard"
)

var _ simguard.Feedback = (*Service)(nil)

// mismatchQuiet is how long a repeated mismatch with the same IMEI is not
// written again: a device retrying every second must not turn into a
// write per second on the SIM and its audit log.
const mismatchQuiet = time.Minute

// LearnIMEI binds imei to a SIM whose learn lock is unbound or whose
// re-pairing window is open. Enforcement calls it after the policy said
// LearnIMEI; if the lock changed meanwhile it does nothing.
func (s *Service) LearnIMEI(ctx context.Context, simID int64, imei, source string) error {
	norm, err := simguard.NormalizeIMEI(imei)
	if err != nil {
		return err
	}
	view, ok := s.policy.Snapshot().SIMByID(simID)
	if !ok {
		return simguard.Errorf(simguard.ENOTFOUND, "no SIM with ID %d", simID)
	}
	a := simguard.SystemActor(view.TenantID, source+":imei-learn")
	var previous string
	changed := false
	sim, err := s.store.UpdateSIM(ctx, view.TenantID, simID, 0, simguard.Change{Actor: a, Action: "sim.imei_learn"},
		func(sim *simguard.SIM) error {
			now := s.now().UTC()
			l := &sim.IMEILock
			repairing := l.RepairUntil != nil && now.Before(*l.RepairUntil)
			if l.Mode == simguard.IMEILockOff || l.IMEI == norm && !repairing {
				return errNoChange
			}
			if l.IMEI != "" && !repairing {
				return errNoChange
			}
			previous = l.IMEI
			mode := l.Mode
			*l = simguard.IMEILock{Mode: mode, IMEI: norm, BoundAt: &now}
			changed = true
			return nil
		})
	if err == errNoChange || (err == nil && !changed) {
		return nil
	}
	if err != nil {
		return err
	}
	s.simChanged(sim)
	s.events.Emit(simguard.Event{
		TenantID: sim.TenantID, SIMID: sim.ID, Source: source, Type: "imei.learned",
		Attrs: map[string]string{"imei": norm, "previous_imei": previous, "imsi": sim.IMSI},
	})
	return nil
}

// ReportIMEIMismatch records another device seen with a bound SIM, so that
// the lock shows "mismatch" and SMS follows it. Repeats of the same IMEI
// within a minute are not written again.
func (s *Service) ReportIMEIMismatch(ctx context.Context, simID int64, imei, source string) error {
	norm, err := simguard.NormalizeIMEI(imei)
	if err != nil {
		return err
	}
	view, ok := s.policy.Snapshot().SIMByID(simID)
	if !ok {
		return simguard.Errorf(simguard.ENOTFOUND, "no SIM with ID %d", simID)
	}
	cur, err := s.store.GetSIM(ctx, view.TenantID, simID)
	if err != nil {
		return err
	}
	s.events.Emit(simguard.Event{
		TenantID: cur.TenantID, SIMID: simID, Source: source, Type: "imei.mismatch",
		Attrs: map[string]string{"imei": norm, "bound_imei": cur.IMEILock.IMEI, "imsi": cur.IMSI},
	})
	l := cur.IMEILock
	now := s.now().UTC()
	if l.MismatchIMEI == norm && l.MismatchAt != nil && now.Sub(*l.MismatchAt) < mismatchQuiet {
		return nil
	}
	a := simguard.SystemActor(cur.TenantID, source+":imei-lock")
	sim, err := s.store.UpdateSIM(ctx, view.TenantID, simID, 0, simguard.Change{Actor: a, Action: "sim.imei_mismatch"},
		func(sim *simguard.SIM) error {
			if sim.IMEILock.IMEI == "" || sim.IMEILock.IMEI == norm {
				return errNoChange
			}
			sim.IMEILock.MismatchIMEI = norm
			sim.IMEILock.MismatchAt = &now
			return nil
		})
	if err == errNoChange {
		return nil
	}
	if err != nil {
		return err
	}
	s.simChanged(sim)
	return nil
}

// AddUsage meters usage. The snapshot is updated only when the SIM's
// quota state flips, since that is all enforcement reads of usage.
func (s *Service) AddUsage(ctx context.Context, simID int64, dataBytes, smsCount int64) error {
	if dataBytes < 0 || smsCount < 0 {
		return simguard.Errorf(simguard.EINVALID, "usage cannot be negative")
	}
	snap := s.policy.Snapshot()
	view, ok := snap.SIMByID(simID)
	if !ok {
		return simguard.Errorf(simguard.ENOTFOUND, "no SIM with ID %d", simID)
	}
	g, ok := snap.GroupPolicy(view.TenantID, view.Group)
	if !ok {
		return nil // no group, no quota to meter against
	}
	q := g.Policy.Quotas
	after, err := s.store.AddUsage(ctx, simID, PeriodStart(q.Period, s.now()), dataBytes, smsCount)
	if err != nil {
		return err
	}
	return s.usageStored(ctx, view.TenantID, simguard.SIMUsage{SIMID: simID, DataBytes: dataBytes, SMSCount: smsCount}, q, after)
}

func exhausted(limit, used int64) bool { return limit > 0 && used >= limit }

// PeriodStart is the start of the quota period ("day" or "month", UTC)
// that contains t.
func PeriodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	if period == "day" {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

type noChange struct{}

func (noChange) Error() string { return "no change" }

// errNoChange aborts an update that turned out to change nothing.
var errNoChange error = noChange{}
