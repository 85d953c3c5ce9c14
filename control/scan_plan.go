package control

import (
	"context"
	"slices"

	"github.com/simguard/simguard"
)

// RemediationPlan is what closing a finding's port would change in its
// group, computed the way RemediateFinding computes it, without changing
// anything: what a confirmation page shows before the operator agrees.
type RemediationPlan struct {
	Finding     simguard.Finding     `json:"finding"`
	Remediation simguard.Remediation `json:"remediation"`
	// Current is the group as it is now, Desired the group after the
	// change. Give Current.Version to RemediateFinding to apply exactly
	// this plan: if the group changes in between, nothing is applied.
	Current simguard.Group `json:"current"`
	Desired simguard.Group `json:"desired"`
	// Diff is a line diff of the group's YAML (as PlanGroup's): "-" lines
	// go, "+" lines come.
	Diff string `json:"diff"`
}

// GroupMoved reports whether the group changed since the scan looked at
// it: the plan is then against the group as it is now, not as scanned.
func (p RemediationPlan) GroupMoved() bool { return p.Current.Version != p.Remediation.GroupVersion }

// PlanRemediation computes what RemediateFinding(ctx, id, plan.Current.Version)
// would do to the finding's group now. It refuses what RemediateFinding
// would refuse (ECONFLICT: no group, nothing to close, the policy already
// denies the port). Any role that reads may plan; only writers apply.
func (s *Service) PlanRemediation(ctx context.Context, id int64) (RemediationPlan, error) {
	a, err := reader(ctx)
	if err != nil {
		return RemediationPlan{}, err
	}
	f, err := s.store.GetFinding(ctx, a.TenantID, id)
	if err != nil {
		return RemediationPlan{}, err
	}
	rem, err := remediationOf(&f, id)
	if err != nil {
		return RemediationPlan{}, err
	}
	cur, err := s.store.GetGroup(ctx, a.TenantID, rem.Group)
	if err != nil {
		return RemediationPlan{}, err
	}
	next := cur
	next.Policy.Inbound = slices.Clone(cur.Policy.Inbound)
	if err := closePort(&next, &f, rem); err != nil {
		return RemediationPlan{}, err
	}
	if err := next.Validate(); err != nil {
		return RemediationPlan{}, err
	}
	return RemediationPlan{Finding: f, Remediation: *rem, Current: cur, Desired: next, Diff: diffGroups(&cur, &next)}, nil
}

// remediationOf returns the finding's remediation, or why there is none
// simguard can apply.
func remediationOf(f *simguard.Finding, id int64) (*simguard.Remediation, error) {
	rem := f.Remediation
	switch {
	case rem == nil && f.Group == "":
		return nil, simguard.Errorf(simguard.ECONFLICT,
			"finding %d (%s %s/%d) belongs to no SIM of a group, so no group policy can close it: fix the device, or give the SIM a static IP and scan again", id, f.Target, f.Proto, f.Port)
	case rem == nil:
		return nil, simguard.Errorf(simguard.ECONFLICT,
			"finding %d (%s/%d, %s) breaks no rule, so nothing is to be closed; to close the port anyway, edit group %s (simguard group get/apply)", id, f.Proto, f.Port, f.Severity, f.Group)
	case rem.Action != "close_port":
		return nil, simguard.Errorf(simguard.ECONFLICT, "finding %d suggests %q, which simguard cannot apply", id, rem.Action)
	}
	return rem, nil
}

// closePort narrows g's inbound policy so that the finding's port is
// closed (simguard.ClosePort); ECONFLICT when it is closed already.
func closePort(g *simguard.Group, f *simguard.Finding, rem *simguard.Remediation) error {
	if !simguard.ClosePort(&g.Policy, rem.Proto, rem.Port) {
		return simguard.Errorf(simguard.ECONFLICT,
			"group %s already denies inbound %s/%d, yet the device at %s listens on it: fix the device, and check that the gateway enforces the group's policy on its path",
			g.Name, rem.Proto, rem.Port, f.Target)
	}
	return nil
}
