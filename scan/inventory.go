package scan

import (
	"context"
	"net/netip"
	"slices"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

// Sessions is what the AAA server knows about live data sessions: the
// address a SIM has now, and the SIM that holds an address. A dynamic
// address is found only here; static IPs are in the policy snapshot. Both
// methods must be cheap and safe for concurrent use.
type Sessions interface {
	SessionAddr(simID int64) (netip.Addr, bool)
	SessionSIM(addr netip.Addr) (simID int64, ok bool)
}

// PolicyInventory is the Inventory and the Fleet over the live policy
// snapshot (static IPs, groups) and, when given, live sessions.
type PolicyInventory struct {
	snapshot func() *policy.Snapshot
	sessions Sessions
}

var (
	_ Inventory = (*PolicyInventory)(nil)
	_ Fleet     = (*PolicyInventory)(nil)
)

// NewPolicyInventory reads the snapshot that snapshot returns at each
// call (enforce.Policy.Snapshot) and the live sessions, if sessions is
// not nil.
func NewPolicyInventory(snapshot func() *policy.Snapshot, sessions Sessions) *PolicyInventory {
	return &PolicyInventory{snapshot: snapshot, sessions: sessions}
}

// DeviceByIP names the SIM behind addr in the tenant: the SIM whose live
// session has the address, else the SIM with that static IP.
func (p *PolicyInventory) DeviceByIP(tenantID int64, addr netip.Addr) (Device, bool) {
	snap := p.snapshot()
	addr = addr.Unmap()
	if p.sessions != nil {
		if id, ok := p.sessions.SessionSIM(addr); ok {
			if v, ok := snap.SIMByID(id); ok && v.TenantID == tenantID {
				return Device{SIMID: v.ID, Group: v.Group}, true
			}
		}
	}
	v, ok := snap.SIMByIP(addr)
	if !ok || v.TenantID != tenantID {
		return Device{}, false
	}
	return Device{SIMID: v.ID, Group: v.Group}, true
}

// TenantAddrs lists the tenant's devices' addresses now, sorted: static
// IPs and live-session addresses of its SIMs in any state (a suspended
// SIM's static IP is still its tenant's), less those a live session of
// another SIM holds now.
func (p *PolicyInventory) TenantAddrs(tenantID int64) []netip.Addr {
	snap := p.snapshot()
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	add := func(a netip.Addr) {
		a = a.Unmap()
		if !a.IsValid() || seen[a] {
			return
		}
		seen[a] = true
		if p.ownerOf(snap, a) == tenantID {
			out = append(out, a)
		}
	}
	snap.RangeSIMs(func(v policy.SIMView) bool {
		if v.TenantID != tenantID {
			return true
		}
		add(v.StaticIP)
		if p.sessions != nil {
			if a, ok := p.sessions.SessionAddr(v.ID); ok {
				add(a)
			}
		}
		return true
	})
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// ownerOf returns the tenant of the SIM at addr now: the live session's
// SIM's, else the static IP's, 0 when none (or the session's SIM is not
// in the snapshot: then nobody may claim the address).
func (p *PolicyInventory) ownerOf(snap *policy.Snapshot, a netip.Addr) int64 {
	if p.sessions != nil {
		if id, ok := p.sessions.SessionSIM(a); ok {
			if v, ok := snap.SIMByID(id); ok {
				return v.TenantID
			}
			return 0
		}
	}
	if v, ok := snap.SIMByIP(a); ok {
		return v.TenantID
	}
	return 0
}

// Group returns the tenant's group as the snapshot compiled it.
func (p *PolicyInventory) Group(tenantID int64, name string) (simguard.Group, bool) {
	return p.snapshot().GroupPolicy(tenantID, name)
}

// GroupAddrs lists the addresses of the group's active SIMs, sorted: a
// live session's address, else the static IP. Suspended, terminated and
// inventory SIMs have no data service, so nothing of theirs is scanned.
// A static IP that a live session of another tenant's SIM holds now is
// left out: the device there is not the group's.
func (p *PolicyInventory) GroupAddrs(_ context.Context, tenantID int64, group string) ([]netip.Addr, error) {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	snap := p.snapshot()
	snap.RangeSIMs(func(v policy.SIMView) bool {
		if v.TenantID != tenantID || v.Group != group || v.State != simguard.SIMActive {
			return true
		}
		a := v.StaticIP
		if p.sessions != nil {
			if s, ok := p.sessions.SessionAddr(v.ID); ok {
				a = s
			}
		}
		if a.IsValid() && !seen[a] && p.ownerOf(snap, a) == tenantID {
			seen[a] = true
			out = append(out, a)
		}
		return true
	})
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out, nil
}
