package control

import (
	"context"
	"net/netip"

	"github.com/simguard/simguard"
)

// BlockDestination makes group's egress allowlist stop covering cidr, for
// every protocol and port: each allow rule that contains part of cidr is
// replaced by the rest of its prefix (the few sibling prefixes around the
// blocked range), and a rule inside cidr is removed. Group policy stays an
// allowlist — what every enforcement point already enforces — and the
// narrowed rules show exactly what is still allowed. The change is a group
// update by the caller's actor (a detection rule, or an operator), with
// its audit record, and reaches the gateway firewall like any group edit.
// It reports whether anything changed.
func (s *Service) BlockDestination(ctx context.Context, group string, cidr netip.Prefix) (bool, error) {
	a, err := writer(ctx)
	if err != nil {
		return false, err
	}
	if !cidr.IsValid() {
		return false, simguard.FieldError("cidr", "must be a CIDR or an address")
	}
	cidr = cidr.Masked()
	changed := false
	g, err := s.store.UpdateGroup(ctx, a.TenantID, group, 0, simguard.Change{Actor: a, Action: "group.block_destination"},
		func(g *simguard.Group) error {
			out, ch := subtractEgress(g.Policy.Egress, cidr)
			if !ch {
				return errNoChange
			}
			g.Policy.Egress, changed = out, true
			return g.Validate()
		})
	if err == errNoChange {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.groupChanged(g)
	return changed, nil
}

// subtractEgress removes cidr from every rule of rules.
func subtractEgress(rules []simguard.FlowRule, cidr netip.Prefix) ([]simguard.FlowRule, bool) {
	var out []simguard.FlowRule
	changed := false
	for _, r := range rules {
		rest, overlaps := subtractPrefix(r.CIDR, cidr)
		if !overlaps {
			out = append(out, r)
			continue
		}
		changed = true
		for _, p := range rest {
			nr := r
			nr.CIDR = p
			nr.Ports = append([]simguard.PortRange(nil), r.Ports...)
			out = append(out, nr)
		}
	}
	return out, changed
}

// subtractPrefix returns p without b as a list of prefixes, and whether
// they overlapped at all. Two prefixes either nest or are disjoint.
func subtractPrefix(p, b netip.Prefix) ([]netip.Prefix, bool) {
	if p.Addr().Is4() != b.Addr().Is4() || !p.Overlaps(b) {
		return nil, false
	}
	if b.Bits() <= p.Bits() {
		return nil, true // b covers p entirely
	}
	// Walk from p down to b; at each level keep the half b is not in.
	var rest []netip.Prefix
	for bits := p.Bits() + 1; bits <= b.Bits(); bits++ {
		onPath, _ := b.Addr().Prefix(bits)
		rest = append(rest, sibling(onPath))
	}
	return rest, true
}

// sibling returns the other half of q's parent prefix.
func sibling(q netip.Prefix) netip.Prefix {
	b := q.Addr().AsSlice()
	bit := q.Bits() - 1
	b[bit/8] ^= 0x80 >> (bit % 8)
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, q.Bits())
}
