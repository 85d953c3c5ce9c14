package control

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// Bounds on operator-chosen durations.
const (
	maxActivation = 366 * 24 * time.Hour
	maxRepair     = 7 * 24 * time.Hour
	// DefaultRepair is the re-pairing window when none is given.
	DefaultRepair = time.Hour
)

// GetSIM finds a SIM of the caller's tenant by ICCID, IMSI or MSISDN.
func (s *Service) GetSIM(ctx context.Context, ref string) (simguard.SIM, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	return s.findSIM(ctx, a.TenantID, ref)
}

func (s *Service) findSIM(ctx context.Context, tenantID int64, ref string) (simguard.SIM, error) {
	key := strings.TrimPrefix(strings.TrimSpace(ref), "+")
	if key == "" || len(key) > 20 {
		return simguard.SIM{}, simguard.Errorf(simguard.ENOTFOUND, "no SIM %q: give an ICCID, IMSI or MSISDN", ref)
	}
	return s.store.FindSIM(ctx, tenantID, key)
}

// ListSIMs lists SIMs of the caller's tenant; f.TenantID is overridden.
func (s *Service) ListSIMs(ctx context.Context, f simguard.SIMFilter) ([]simguard.SIM, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	if f.State != "" && !f.State.Valid() {
		return nil, simguard.FieldError("state", "must be inventory, active, suspended or terminated")
	}
	return s.store.ListSIMs(ctx, f)
}

// CountSIMs counts the caller's tenant's SIMs by state.
func (s *Service) CountSIMs(ctx context.Context) (map[simguard.SIMState]int64, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.CountSIMs(ctx, a.TenantID)
}

// SIMPatch changes some fields of a SIM; nil fields stay as they are.
type SIMPatch struct {
	Group    *string                `json:"group,omitempty"`
	MSISDN   *string                `json:"msisdn,omitempty"`
	Labels   *map[string]string     `json:"labels,omitempty"`
	StaticIP *string                `json:"static_ip,omitempty"` // "" removes it
	IMEILock *simguard.IMEILockMode `json:"imei_lock_mode,omitempty"`
}

// PatchSIM applies p to a SIM.
func (s *Service) PatchSIM(ctx context.Context, ref string, ifVersion int64, p SIMPatch) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	if p.Group != nil {
		if _, err := s.store.GetGroup(ctx, a.TenantID, *p.Group); err != nil {
			if simguard.ErrorCode(err) == simguard.ENOTFOUND {
				return simguard.SIM{}, simguard.FieldError("group", "no group %q in this tenant; create it first", *p.Group)
			}
			return simguard.SIM{}, err
		}
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.update", func(sim *simguard.SIM) error {
		if p.Group != nil {
			sim.Group = *p.Group
		}
		if p.MSISDN != nil {
			sim.MSISDN = *p.MSISDN
		}
		if p.Labels != nil {
			sim.Labels = *p.Labels
		}
		if p.StaticIP != nil {
			sim.StaticIP = netip.Addr{}
			if *p.StaticIP != "" {
				ip, err := netip.ParseAddr(*p.StaticIP)
				if err != nil {
					return simguard.FieldError("static_ip", "%q is not an IP address", *p.StaticIP)
				}
				sim.StaticIP = ip
			}
		}
		if p.IMEILock != nil {
			sim.IMEILock.Mode = *p.IMEILock
		}
		return sim.Validate()
	})
}

// ActivateSIM puts a SIM in service; with d > 0 only for that long.
func (s *Service) ActivateSIM(ctx context.Context, ref string, ifVersion int64, d time.Duration) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	if d < 0 || d > maxActivation {
		return simguard.SIM{}, simguard.FieldError("for", "must be between 0 (no end) and 366 days")
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.activate", func(sim *simguard.SIM) error {
		if sim.State == simguard.SIMTerminated {
			return simguard.Errorf(simguard.ECONFLICT, "SIM %s is terminated and cannot be activated again", sim.ICCID)
		}
		sim.State = simguard.SIMActive
		sim.ActiveFrom, sim.ActiveUntil = nil, nil
		if d > 0 {
			until := s.now().Add(d).UTC()
			sim.ActiveUntil = &until
		}
		return nil
	})
}

// ActivateSIMBetween puts a SIM in service from from until until: outside
// that time every service is off. A zero from starts now.
func (s *Service) ActivateSIMBetween(ctx context.Context, ref string, ifVersion int64, from, until time.Time) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	now := s.now()
	if from.IsZero() {
		from = now
	}
	switch {
	case until.IsZero():
		return simguard.SIM{}, simguard.FieldError("until", "a scheduled activation needs an end; without one, activate without from")
	case !until.After(from):
		return simguard.SIM{}, simguard.FieldError("until", "must be after from (%s)", from.UTC().Format(time.RFC3339))
	case !until.After(now):
		return simguard.SIM{}, simguard.FieldError("until", "is in the past")
	case until.Sub(from) > maxActivation:
		return simguard.SIM{}, simguard.FieldError("until", "at most 366 days after from")
	case from.Sub(now) > maxActivation:
		return simguard.SIM{}, simguard.FieldError("from", "at most 366 days ahead")
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.activate", func(sim *simguard.SIM) error {
		if sim.State == simguard.SIMTerminated {
			return simguard.Errorf(simguard.ECONFLICT, "SIM %s is terminated and cannot be activated again", sim.ICCID)
		}
		f, u := from.UTC(), until.UTC()
		sim.State = simguard.SIMActive
		sim.ActiveFrom, sim.ActiveUntil = &f, &u
		return nil
	})
}

// SuspendSIM takes a SIM out of service until it is activated again.
func (s *Service) SuspendSIM(ctx context.Context, ref string, ifVersion int64) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.suspend", func(sim *simguard.SIM) error {
		if sim.State == simguard.SIMTerminated {
			return simguard.Errorf(simguard.ECONFLICT, "SIM %s is terminated", sim.ICCID)
		}
		sim.State = simguard.SIMSuspended
		return nil
	})
}

// TerminateSIM takes a SIM out of service for good.
func (s *Service) TerminateSIM(ctx context.Context, ref string, ifVersion int64) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.terminate", func(sim *simguard.SIM) error {
		sim.State = simguard.SIMTerminated
		sim.ActiveFrom, sim.ActiveUntil = nil, nil
		return nil
	})
}

// BindIMEI locks a SIM to a device explicitly.
func (s *Service) BindIMEI(ctx context.Context, ref string, ifVersion int64, imei string) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	norm, err := simguard.NormalizeIMEI(imei)
	if err != nil {
		return simguard.SIM{}, err
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.bind_imei", func(sim *simguard.SIM) error {
		now := s.now().UTC()
		sim.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: norm, BoundAt: &now}
		return nil
	})
}

// UnbindIMEI removes a SIM's binding. mode says what the lock becomes:
// "learn" (the default: the next device seen is bound) or "off".
func (s *Service) UnbindIMEI(ctx context.Context, ref string, ifVersion int64, mode simguard.IMEILockMode) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	if mode == "" {
		mode = simguard.IMEILockLearn
	}
	if mode != simguard.IMEILockLearn && mode != simguard.IMEILockOff {
		return simguard.SIM{}, simguard.FieldError("mode", "after unbinding the lock can be learn or off, got %q", mode)
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.unbind_imei", func(sim *simguard.SIM) error {
		sim.IMEILock = simguard.IMEILock{Mode: mode}
		return nil
	})
}

// OpenRepair opens a re-pairing window: until it closes, the next device
// seen becomes the bound one (a planned device swap).
func (s *Service) OpenRepair(ctx context.Context, ref string, ifVersion int64, d time.Duration) (simguard.SIM, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.SIM{}, err
	}
	if d == 0 {
		d = DefaultRepair
	}
	if d < 0 || d > maxRepair {
		return simguard.SIM{}, simguard.FieldError("for", "a re-pairing window lasts between 1s and 7 days")
	}
	return s.updateSIM(ctx, a, ref, ifVersion, "sim.open_repair", func(sim *simguard.SIM) error {
		if sim.IMEILock.Mode == simguard.IMEILockOff {
			return simguard.Errorf(simguard.ECONFLICT, "SIM %s has no IMEI lock to re-pair", sim.ICCID)
		}
		until := s.now().Add(d).UTC()
		sim.IMEILock.RepairUntil = &until
		return nil
	})
}

func (s *Service) updateSIM(ctx context.Context, a simguard.Actor, ref string, ifVersion int64, action string, fn func(*simguard.SIM) error) (simguard.SIM, error) {
	cur, err := s.findSIM(ctx, a.TenantID, ref)
	if err != nil {
		return simguard.SIM{}, err
	}
	updated, err := s.store.UpdateSIM(ctx, a.TenantID, cur.ID, ifVersion, simguard.Change{Actor: a, Action: action}, fn)
	if err != nil {
		return simguard.SIM{}, err
	}
	s.simChanged(updated)
	return updated, nil
}
