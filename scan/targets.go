package scan

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
)

// ParseTargets reads targets given as addresses ("10.45.0.7", "2001:db8::7")
// or CIDRs ("10.45.0.0/24") and checks that each lies wholly inside one of
// the audit ranges. Nothing outside them is ever scanned: the fleet's
// address pool is the operator's to probe, the rest of the network is not.
func ParseTargets(specs []string, auditRanges []netip.Prefix) ([]netip.Prefix, error) {
	if len(auditRanges) == 0 {
		return nil, simguard.FieldError("targets", "no audit ranges are configured, so every target is refused: "+
			"set scan.audit_ranges to the CIDRs of the fleet's device addresses (for example the APN's IP pool, 10.45.0.0/16)")
	}
	if len(specs) == 0 {
		return nil, simguard.FieldError("targets", "give at least one address or CIDR to scan")
	}
	out := make([]netip.Prefix, 0, len(specs))
	for i, s := range specs {
		p, err := parseTarget(s)
		if err != nil {
			return nil, simguard.FieldError(fmt.Sprintf("targets[%d]", i), "%v", err)
		}
		if !insideAny(p, auditRanges) {
			return nil, simguard.FieldError(fmt.Sprintf("targets[%d]", i),
				"%s is outside the audit ranges (%s): only the fleet's own addresses may be scanned; add its range to scan.audit_ranges if it is yours",
				p, prefixList(auditRanges))
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTarget(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", clip(s))
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR like 10.45.0.0/24", s)
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: zones are not supported", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Prefix{}, fmt.Errorf("%s cannot be a device address", a)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// insideAny reports whether every address of p lies in one of ranges.
func insideAny(p netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if r.Addr().Is4() == p.Addr().Is4() && r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func prefixList(ps []netip.Prefix) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 4 {
			fmt.Fprintf(&b, "and %d more", len(ps)-4)
			break
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ExpandTargets lists the host addresses of prefixes, without duplicates,
// in order, failing when there are more than limit. The network and
// broadcast addresses of IPv4 prefixes shorter than /31 are left out:
// probing them is broadcast traffic, never a device.
func ExpandTargets(prefixes []netip.Prefix, limit int) ([]netip.Addr, error) {
	seen := make(map[netip.Addr]bool)
	var out []netip.Addr
	for _, p := range prefixes {
		first, last := p.Addr(), lastAddr(p)
		skipEnds := p.Addr().Is4() && p.Bits() < 31
		for a := first; p.Contains(a); a = a.Next() {
			if skipEnds && (a == first || a == last) {
				continue
			}
			if !seen[a] {
				if len(out) == limit {
					return nil, simguard.FieldError("targets", "more than %d addresses; scan in parts or raise scan.max_hosts", limit)
				}
				seen[a] = true
				out = append(out, a)
			}
			if a == last {
				break
			}
		}
	}
	return out, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
