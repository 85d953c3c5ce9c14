package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// plannedAction is an action with its target worked out from the firing,
// or the reason it cannot run.
type plannedAction struct {
	a      Action
	target string
	skip   string // why the firing cannot drive it
	sim    int64
	group  string
	cidr   netip.Prefix
}

// plan works out each action's target. Replay uses it too, to show what
// would have been done.
func plan(f Firing) []plannedAction {
	out := make([]plannedAction, 0, len(f.Rule.Actions))
	var last *simguard.Event
	if len(f.Events) > 0 {
		last = &f.Events[len(f.Events)-1]
	}
	attr := func(k string) string {
		if last == nil {
			return ""
		}
		return last.Attrs[k]
	}
	for _, a := range f.Rule.Actions {
		p := plannedAction{a: a, sim: f.SIMID}
		switch a.Type {
		case simguard.ActionSuspendSIM, simguard.ActionQuarantine:
			p.target = fmt.Sprintf("sim:%d", f.SIMID)
			if a.Type == simguard.ActionQuarantine {
				p.group = a.Group
				p.target += " group:" + a.Group
			}
			if f.SIMID == 0 {
				p.skip = "the events name no known SIM"
			}
		case simguard.ActionBlockDestination:
			p.group = attr("group")
			addr := attr(a.Attr)
			p.target = fmt.Sprintf("group:%s %s:%s", p.group, a.Attr, addr)
			cidr, err := parseDestination(addr)
			switch {
			case p.group == "":
				p.skip = "the event has no group attr"
			case err != nil:
				p.skip = fmt.Sprintf("attr %s is not an address: %q", a.Attr, clip(addr))
			default:
				p.cidr = cidr
				p.target = fmt.Sprintf("group:%s cidr:%s", p.group, cidr)
			}
		}
		if f.TenantID == 0 && p.skip == "" {
			p.skip = "the events belong to no tenant"
		}
		out = append(out, p)
	}
	return out
}

// parseDestination reads an address ("203.0.113.9" → /32) or a prefix.
func parseDestination(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

// runActions carries out the rule's actions for a new alert, through the
// Responder, as the rule's system actor. Suspensions and quarantines share
// an hourly cap so that a bad rule cannot take the fleet down.
func (a *alertManager) runActions(f Firing) []simguard.AlertAction {
	var out []simguard.AlertAction
	actor := simguard.SystemActor(f.TenantID, "rule:"+f.Rule.Name)
	for _, p := range plan(f) {
		res := simguard.AlertAction{Type: p.a.Type, Target: p.target, Time: a.clock().UTC()}
		cutsSIM := p.a.Type == simguard.ActionSuspendSIM || p.a.Type == simguard.ActionQuarantine
		switch {
		case p.skip != "":
			res.Result, res.Error = simguard.ActionSkipped, p.skip
		case f.Rule.DryRun:
			res.Result = simguard.ActionDryRun
		case cutsSIM && !a.takeSuspension():
			res.Result = simguard.ActionCapped
			res.Error = fmt.Sprintf("more than %d automatic suspensions in the last hour", max(a.cfg.SuspensionsPerHour, 0))
		case a.responder == nil:
			res.Result, res.Error = simguard.ActionFailed, "no responder configured"
		default:
			if err := a.call(p, actor, f); err != nil {
				res.Result, res.Error = simguard.ActionFailed, simguard.ErrorMessage(err)
				a.log.Error("detect: action failed", "rule", f.Rule.Name, "action", p.a.Type, "target", p.target, "err", err)
			} else {
				res.Result = simguard.ActionDone
			}
		}
		a.m.actions.WithLabelValues(p.a.Type, res.Result).Inc()
		out = append(out, res)
	}
	return out
}

func (a *alertManager) call(p plannedAction, actor simguard.Actor, f Firing) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ActionTimeout)
	defer cancel()
	switch p.a.Type {
	case simguard.ActionSuspendSIM:
		reason := f.Rule.Description
		if f.Detail != "" {
			reason += ": " + f.Detail
		}
		return a.responder.SuspendSIM(ctx, p.sim, actor, reason)
	case simguard.ActionQuarantine:
		return a.responder.MoveSIMToGroup(ctx, p.sim, p.group, actor)
	case simguard.ActionBlockDestination:
		return a.responder.BlockDestination(ctx, f.TenantID, p.group, p.cidr, actor)
	}
	return fmt.Errorf("unknown action %q", p.a.Type)
}

// takeSuspension counts one automatic suspension against the hourly cap;
// false when the cap is reached. A failed call still counts: the cap
// bounds how hard rules may push on the fleet.
func (a *alertManager) takeSuspension() bool {
	if a.cfg.SuspensionsPerHour < 0 {
		return false
	}
	now := a.clock()
	kept := a.suspensions[:0]
	for _, t := range a.suspensions {
		if now.Sub(t) < time.Hour {
			kept = append(kept, t)
		}
	}
	a.suspensions = kept
	if len(kept) >= a.cfg.SuspensionsPerHour {
		return false
	}
	a.suspensions = append(a.suspensions, now)
	return true
}
