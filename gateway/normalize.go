package gateway

import (
	"cmp"
	"net/netip"
	"slices"
)

// normalize rewrites entries into disjoint ones that match exactly the
// same packets. The kernel's concatenated interval sets (pipapo) refuse
// an element that partly overlaps another, and policies overlap all the
// time ("anything to 10.0.0.0/8" next to "tcp/443 to 10.1.2.3").
//
// Prefixes are nested or disjoint, so each distinct prefix minus the
// prefixes inside it is a region that every entry either covers whole or
// not at all. In each region the (protocol, port) boxes of the covering
// entries are merged: protocols are cut into elementary ranges, the ports
// of each range are merged, and neighbouring ranges with equal ports are
// joined again.
func normalize(es []Entry) []Entry {
	if len(es) == 0 {
		return nil
	}
	es = dropCovered(es)
	var prefixes []netip.Prefix
	for _, e := range es {
		prefixes = append(prefixes, e.Net)
	}
	slices.SortFunc(prefixes, comparePrefix)
	prefixes = slices.Compact(prefixes)
	var out []Entry
	for _, p := range prefixes {
		var inner []netip.Prefix
		for _, q := range prefixes {
			if q.Bits() > p.Bits() && p.Contains(q.Addr()) {
				inner = append(inner, q)
			}
		}
		var boxes []Entry
		for _, e := range es {
			if e.Net.Bits() <= p.Bits() && e.Net.Contains(p.Addr()) {
				boxes = append(boxes, e)
			}
		}
		merged := mergeBoxes(boxes)
		for _, r := range subtract(p, inner) {
			for _, b := range merged {
				b.Net = r
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, compareEntry)
	return out
}

// subtract returns p minus the prefixes in inner, as prefixes.
func subtract(p netip.Prefix, inner []netip.Prefix) []netip.Prefix {
	var hit bool
	for _, q := range inner {
		if q == p {
			return nil
		}
		if q.Bits() > p.Bits() && p.Contains(q.Addr()) {
			hit = true
		}
	}
	if !hit {
		return []netip.Prefix{p}
	}
	lo, hi := halves(p)
	return append(subtract(lo, inner), subtract(hi, inner)...)
}

// halves splits p into its two prefixes one bit longer.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	lo := netip.PrefixFrom(p.Addr(), bits)
	b := p.Addr().AsSlice()
	i := p.Bits()
	b[i/8] |= 0x80 >> (i % 8)
	a, _ := netip.AddrFromSlice(b)
	return lo, netip.PrefixFrom(a, bits)
}

// mergeBoxes unions (protocol range, port range) boxes into disjoint ones.
func mergeBoxes(boxes []Entry) []Entry {
	cuts := []int{}
	for _, b := range boxes {
		cuts = append(cuts, int(b.ProtoLo), int(b.ProtoHi)+1)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out []Entry
	var prev []portRange
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]-1
		var ports []portRange
		for _, b := range boxes {
			if int(b.ProtoLo) <= lo && hi <= int(b.ProtoHi) {
				ports = append(ports, portRange{int(b.PortLo), int(b.PortHi)})
			}
		}
		ports = mergePorts(ports)
		if len(ports) == 0 {
			prev = nil
			continue
		}
		// Join with the previous protocol range when it is adjacent and
		// has the same ports.
		if prev != nil && slices.Equal(prev, ports) && len(out) > 0 && int(out[len(out)-1].ProtoHi)+1 == lo {
			for j := len(out) - len(ports); j < len(out); j++ {
				out[j].ProtoHi = uint8(hi)
			}
			continue
		}
		for _, pr := range ports {
			out = append(out, Entry{ProtoLo: uint8(lo), ProtoHi: uint8(hi), PortLo: uint16(pr.lo), PortHi: uint16(pr.hi)})
		}
		prev = ports
	}
	return out
}

type portRange struct{ lo, hi int }

func mergePorts(ps []portRange) []portRange {
	slices.SortFunc(ps, func(a, b portRange) int { return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi)) })
	var out []portRange
	for _, p := range ps {
		if n := len(out); n > 0 && p.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, p.hi)
			continue
		}
		out = append(out, p)
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

func compareEntry(a, b Entry) int {
	return cmp.Or(comparePrefix(a.Net, b.Net), cmp.Compare(a.ProtoLo, b.ProtoLo), cmp.Compare(a.PortLo, b.PortLo))
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// dropCovered removes entries that another entry contains whole, so that
// a host rule inside a broader rule does not cut the broader one apart.
func dropCovered(es []Entry) []Entry {
	slices.SortFunc(es, func(a, b Entry) int {
		// Broader first, so that of two equal entries the first stays.
		return cmp.Or(cmp.Compare(a.Net.Bits(), b.Net.Bits()), compareEntry(a, b))
	})
	es = slices.Compact(es)
	var out []Entry
	for _, e := range es {
		covered := false
		for _, k := range out {
			if k.Net.Bits() <= e.Net.Bits() && k.Net.Contains(e.Net.Addr()) && k.ProtoLo <= e.ProtoLo && e.ProtoHi <= k.ProtoHi &&
				k.PortLo <= e.PortLo && e.PortHi <= k.PortHi {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, e)
		}
	}
	return out
}
