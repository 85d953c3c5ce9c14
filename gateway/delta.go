package gateway

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

// Delta is a change of set elements only: what a change to single SIMs
// (state, group, address) does to the table.
type Delta struct {
	Del, Add []elemChange
}

type elemChange struct {
	Set   string
	Addr  netip.Addr
	Chain string // vmap elements: the goto target
}

// Empty reports whether the delta changes nothing.
func (d Delta) Empty() bool { return len(d.Del) == 0 && len(d.Add) == 0 }

// Len is the number of element changes.
func (d Delta) Len() int { return len(d.Del) + len(d.Add) }

// elemsOf lists the elements an address with binding b puts in the table.
func elemsOf(a netip.Addr, b Binding) []elemChange {
	fam := "4"
	if a.Is6() {
		fam = "6"
	}
	var es []elemChange
	if b.Blocked() {
		es = append(es, elemChange{Set: "blocked" + fam, Addr: a})
	}
	if b.Chain != "" {
		es = append(es, elemChange{Set: "sim" + fam + "_out", Addr: a, Chain: b.Chain},
			elemChange{Set: "sim" + fam + "_in", Addr: a, Chain: b.Chain + "_in"})
	}
	return es
}

// change appends what turns address a from binding old (had: present)
// into nb (has) to d: only elements that differ.
func (d *Delta) change(a netip.Addr, old Binding, had bool, nb Binding, has bool) {
	var from, to []elemChange
	if had {
		from = elemsOf(a, old)
	}
	if has {
		to = elemsOf(a, nb)
	}
	for _, e := range from {
		if !slices.Contains(to, e) {
			d.Del = append(d.Del, e)
		}
	}
	for _, e := range to {
		if !slices.Contains(from, e) {
			d.Add = append(d.Add, e)
		}
	}
}

// SameStructure reports whether two rulesets differ in set elements of
// device addresses at most, so that one can become the other by a Delta.
func SameStructure(a, b *Ruleset) bool {
	if !slices.Equal(a.Config.DeviceNets, b.Config.DeviceNets) || !slices.Equal(a.Config.DeviceIfaces, b.Config.DeviceIfaces) {
		return false
	}
	ca, cb := a.Config, b.Config
	if ca.Table != cb.Table || ca.Uplink != cb.Uplink || ca.SNAT != cb.SNAT || ca.SNATAddr != cb.SNATAddr ||
		ca.NFLogGroup != cb.NFLogGroup || ca.LogRate != cb.LogRate || len(a.Groups) != len(b.Groups) {
		return false
	}
	for i := range a.Groups {
		x, y := &a.Groups[i], &b.Groups[i]
		if x.ID != y.ID || x.TenantID != y.TenantID || x.Name != y.Name || x.Chain != y.Chain ||
			!slices.Equal(x.Egress4, y.Egress4) || !slices.Equal(x.Egress6, y.Egress6) ||
			!slices.Equal(x.Inbound4, y.Inbound4) || !slices.Equal(x.Inbound6, y.Inbound6) {
			return false
		}
	}
	return true
}

// Diff is the delta that turns from's addresses into to's. The two must
// have the same structure.
func Diff(from, to *Ruleset) Delta {
	var d Delta
	for a, b := range from.Addrs {
		nb, ok := to.Addrs[a]
		d.change(a, b, true, nb, ok)
	}
	for a, b := range to.Addrs {
		if _, ok := from.Addrs[a]; !ok {
			d.change(a, Binding{}, false, b, true)
		}
	}
	sortChanges(d.Del)
	sortChanges(d.Add)
	return d
}

func sortChanges(cs []elemChange) {
	slices.SortFunc(cs, func(x, y elemChange) int {
		if x.Set != y.Set {
			if x.Set < y.Set {
				return -1
			}
			return 1
		}
		return x.Addr.Compare(y.Addr)
	})
}

// UpdateSIMs re-reads the SIMs ids from snap into rs in place and returns
// the element changes that brings. It costs time in the number of SIMs
// changed, not in the size of the fleet; the agent uses it for changes
// to single SIMs and Compile plus Diff or a whole install for the rest.
func (rs *Ruleset) UpdateSIMs(snap *policy.Snapshot, ids []int64, now time.Time, extra simguard.DeviceAddrs) Delta {
	chains := make(map[groupKey]string, len(rs.Groups))
	for _, g := range rs.Groups {
		chains[groupKey{g.TenantID, g.Name}] = g.Chain
	}
	before := map[netip.Addr]Binding{}
	touched := map[netip.Addr]bool{}
	for _, id := range ids {
		for _, a := range rs.addrsOfSIM(id) {
			if _, seen := before[a]; !seen {
				before[a] = rs.Addrs[a]
			}
			touched[a] = true
			// Other SIMs may claim the address too: it stays theirs (and
			// blocked while more than one does), rebound below.
			cl := slices.DeleteFunc(slices.Clone(rs.claims[a]), func(x int64) bool { return x == id })
			if len(cl) == 0 {
				delete(rs.claims, a)
				delete(rs.Addrs, a)
			} else {
				rs.claims[a] = cl
			}
		}
		delete(rs.bySIM, id)
	}
	for _, id := range ids {
		v, ok := snap.SIMByID(id)
		if !ok {
			continue
		}
		b := bindingOf(v, chains, now)
		var addrs []netip.Addr
		if v.StaticIP.IsValid() {
			addrs = append(addrs, v.StaticIP)
		}
		addrs = append(addrs, extra[id]...)
		for _, a := range addrs {
			a = a.Unmap()
			if _, seen := before[a]; !seen {
				if old, ok := rs.Addrs[a]; ok {
					before[a] = old
				}
			}
			touched[a] = true
			rs.add(a, b)
		}
	}
	// Rebind every touched address from its claimants as they are now:
	// one claimant has its own binding, several block it.
	for a := range touched {
		cl := rs.claims[a]
		switch {
		case len(cl) > 1:
			rs.Addrs[a] = conflicted(rs.Addrs[a])
		case len(cl) == 1:
			if v, ok := snap.SIMByID(cl[0]); ok {
				rs.Addrs[a] = bindingOf(v, chains, now)
			} else {
				rs.Addrs[a] = conflicted(Binding{SIMID: cl[0]})
			}
		}
	}
	var d Delta
	for _, a := range slices.SortedFunc(maps.Keys(touched), netip.Addr.Compare) {
		ob, had := before[a]
		nb, has := rs.Addrs[a]
		d.change(a, ob, had, nb, has)
	}
	return d
}
