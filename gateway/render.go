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

// addrsOf returns the device addresses of one family, sorted: those with
// a group (verdict map elements) and the blocked ones.
func (rs *Ruleset) addrsOf(v6 bool) (grouped, blocked []netip.Addr) {
	for a, b := range rs.Addrs {
		if a.Is6() != v6 {
			continue
		}
		if b.Blocked() {
			blocked = append(blocked, a)
		}
		if b.Chain != "" {
			grouped = append(grouped, a)
		}
	}
	slices.SortFunc(grouped, netip.Addr.Compare)
	slices.SortFunc(blocked, netip.Addr.Compare)
	return grouped, blocked
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
func (rs *Ruleset) elementTexts(d setDef) []string {
	var out []string
	switch d.kind {
	case setNets:
		for _, p := range rs.netsOf(d.v6) {
			out = append(out, p.String())
		}
	case setAddrs:
		_, blocked := rs.addrsOf(d.v6)
		for _, a := range blocked {
			out = append(out, a.String())
		}
	case setVmap:
		open, _ := rs.addrsOf(d.v6)
		for _, a := range open {
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
		if es := rs.elementTexts(d); len(es) > 0 {
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
