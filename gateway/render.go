package gateway

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// setKind says what a set holds.
type setKind int

const (
	setNets  setKind = iota // device prefixes (interval)
	setAddrs                // blocked device addresses
	setVmap                 // device address → goto group chain
	setTuple                // prefix . protocol . port (concatenated intervals)
)

type setDef struct {
	name string
	kind setKind
	v6   bool
	// inbound vmaps point at the group's "_in" chain.
	inbound bool
	tuples  []Entry
}

func (d setDef) keyType() string {
	a := "ipv4_addr"
	if d.v6 {
		a = "ipv6_addr"
	}
	if d.kind == setTuple {
		return a + " . inet_proto . inet_service"
	}
	return a
}

// sets lists every set and map of the table in a fixed order.
func (rs *Ruleset) sets() []setDef {
	ds := []setDef{
		{name: "devnets4", kind: setNets}, {name: "devnets6", kind: setNets, v6: true},
		{name: "blocked4", kind: setAddrs}, {name: "blocked6", kind: setAddrs, v6: true},
		{name: "sim4_out", kind: setVmap}, {name: "sim4_in", kind: setVmap, inbound: true},
		{name: "sim6_out", kind: setVmap, v6: true}, {name: "sim6_in", kind: setVmap, v6: true, inbound: true},
	}
	for _, g := range rs.Groups {
		for _, x := range []struct {
			suffix string
			v6     bool
			es     []Entry
		}{{"_e4", false, g.Egress4}, {"_e6", true, g.Egress6}, {"_i4", false, g.Inbound4}, {"_i6", true, g.Inbound6}} {
			if len(x.es) > 0 {
				ds = append(ds, setDef{name: g.Chain + x.suffix, kind: setTuple, v6: x.v6, tuples: x.es})
			}
		}
	}
	return ds
}

// addrLists are the device addresses by family (0 IPv4, 1 IPv6),
// sorted: those with a group (verdict map elements) and the blocked ones.
type addrLists struct {
	grouped, blocked [2][]netip.Addr
}

func (rs *Ruleset) addrLists() *addrLists {
	l := &addrLists{}
	for a, b := range rs.Addrs {
		f := 0
		if a.Is6() {
			f = 1
		}
		if b.Blocked() {
			l.blocked[f] = append(l.blocked[f], a)
		}
		if b.Chain != "" {
			l.grouped[f] = append(l.grouped[f], a)
		}
	}
	for f := range 2 {
		slices.SortFunc(l.grouped[f], netip.Addr.Compare)
		slices.SortFunc(l.blocked[f], netip.Addr.Compare)
	}
	return l
}

func fam(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

func (rs *Ruleset) netsOf(v6 bool) []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range rs.Config.DeviceNets {
		if p.Addr().Is6() == v6 {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, comparePrefix)
	return slices.Compact(ps)
}

// elementTexts renders a set's elements as nft writes them.
func (rs *Ruleset) elementTexts(d setDef, al *addrLists) []string {
	var out []string
	switch d.kind {
	case setNets:
		for _, p := range rs.netsOf(d.v6) {
			out = append(out, p.String())
		}
	case setAddrs:
		for _, a := range al.blocked[fam(d.v6)] {
			out = append(out, a.String()+" timeout 3650d")
		}
	case setVmap:
		for _, a := range al.grouped[fam(d.v6)] {
			out = append(out, fmt.Sprintf("%s : goto %s", a, rs.vmapTarget(rs.Addrs[a], d.inbound)))
		}
	case setTuple:
		for _, e := range d.tuples {
			out = append(out, fmt.Sprintf("%s . %s . %s", e.Net, rangeText(int(e.ProtoLo), int(e.ProtoHi)), rangeText(int(e.PortLo), int(e.PortHi))))
		}
	}
	return out
}

func (rs *Ruleset) vmapTarget(b Binding, inbound bool) string {
	if inbound {
		return b.Chain + "_in"
	}
	return b.Chain
}

func rangeText(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// WriteText writes the table as nft text, the way "nft -f" reads it. It
// is the table alone: to replace a running table atomically, prefix it
// with "table inet NAME; delete table inet NAME;" in the same file.
func (rs *Ruleset) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", rs.Config.Table)
	for _, n := range rs.counterNames() {
		fmt.Fprintf(&b, "\tcounter %s {\n\t}\n", n)
	}
	al := rs.addrLists()
	for _, d := range rs.sets() {
		word := "set"
		typ := d.keyType()
		if d.kind == setVmap {
			word, typ = "map", typ+" : verdict"
		}
		fmt.Fprintf(&b, "\t%s %s {\n\t\ttype %s\n", word, d.name, typ)
		if d.kind == setNets || d.kind == setTuple {
			b.WriteString("\t\tflags interval\n")
		}
		if d.kind == setAddrs {
			b.WriteString("\t\tflags timeout\n")
		}
		if es := rs.elementTexts(d, al); len(es) > 0 {
			fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(es, ",\n\t\t\t     "))
		}
		b.WriteString("\t}\n")
	}
	for _, c := range rs.chains() {
		fmt.Fprintf(&b, "\tchain %s {\n", c.name)
		if c.hook != "" {
			fmt.Fprintf(&b, "\t\ttype %s hook %s priority %s; policy accept;\n", c.typ, c.hook, c.prio)
		}
		for _, r := range c.rules {
			fmt.Fprintf(&b, "\t\t%s\n", r.text())
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Text is WriteText into a string.
func (rs *Ruleset) Text() string {
	var b strings.Builder
	_ = rs.WriteText(&b)
	return b.String()
}
