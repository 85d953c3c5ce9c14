package gateway

import (
	"fmt"
	"strings"

	"github.com/simguard/simguard"
)

// The table's chains are written once, as a list of small statements that
// know both their nft text and their netlink expressions, so that the
// dry-run text and what is programmed cannot drift apart.

// Reasons a packet is dropped; each has a named counter and a chain that
// counts, logs (rate-limited, to nflog) and drops.
var denyReasons = []simguard.Reason{
	reasonSIMBlocked, simguard.ReasonSIMUnknown, simguard.ReasonDestinationDenied, simguard.ReasonInboundDenied, reasonSourceSpoofed,
}

// reasonSourceSpoofed: a packet arrived on a device interface from a
// source outside the device prefixes.
const reasonSourceSpoofed simguard.Reason = "source_spoofed"

// reasonSIMBlocked covers every reason a known SIM may not use data now;
// the flow.denied event carries the precise one from the policy.
const reasonSIMBlocked simguard.Reason = "sim_blocked"

// LogPrefix starts the nflog prefix of every denied packet; the reason
// follows it.
const LogPrefix = "simguard "

type chainDef struct {
	name string
	// base chains: hook type, hook and priority as nft writes them.
	typ, hook, prio string
	rules           []rule
}

type rule []stmt

type stmt interface {
	text() string
}

// Statements. Each maps to expressions in netlink.go.
type (
	// matchAddr: ip/ip6 saddr/daddr @set (not: != @set).
	matchAddr struct {
		v6, dst bool
		set     string
		not     bool
	}
	iifname struct{ name string }
	// matchTuple: ip/ip6 saddr/daddr . meta l4proto . th dport @set.
	matchTuple struct {
		v6, dst bool
		set     string
	}
	// vmapAddr: ip/ip6 saddr/daddr vmap @map.
	vmapAddr struct {
		v6, dst bool
		set     string
	}
	ctReplyEstablished struct{}
	ctRelated          struct{}
	counterRef         struct{ name string }
	verdict            struct{ kind, chain string } // accept, drop, return, jump, goto
	limitLog           struct {
		rate   int
		prefix string
		group  uint16
	}
	oifname    struct{ name string }
	masquerade struct{}
	snatTo     struct {
		v6   bool
		addr string
	}
)

func family(v6 bool) string {
	if v6 {
		return "ip6"
	}
	return "ip"
}

func dir(dst bool) string {
	if dst {
		return "daddr"
	}
	return "saddr"
}

func (m matchAddr) text() string {
	op := ""
	if m.not {
		op = "!= "
	}
	return fmt.Sprintf("%s %s %s@%s", family(m.v6), dir(m.dst), op, m.set)
}
func (i iifname) text() string { return fmt.Sprintf("iifname %q", i.name) }
func (m matchTuple) text() string {
	return fmt.Sprintf("%s %s . meta l4proto . th dport @%s", family(m.v6), dir(m.dst), m.set)
}
func (m vmapAddr) text() string {
	return fmt.Sprintf("%s %s vmap @%s", family(m.v6), dir(m.dst), m.set)
}
func (ctReplyEstablished) text() string { return "ct direction reply ct state established" }
func (ctRelated) text() string          { return "ct state related" }
func (c counterRef) text() string       { return fmt.Sprintf("counter name %q", c.name) }
func (v verdict) text() string {
	if v.chain != "" {
		return v.kind + " " + v.chain
	}
	return v.kind
}
func (l limitLog) text() string {
	return fmt.Sprintf("limit rate %d/second burst %d packets log prefix %q group %d", l.rate, l.rate, l.prefix, l.group)
}
func (o oifname) text() string  { return fmt.Sprintf("oifname %q", o.name) }
func (masquerade) text() string { return "masquerade" }
func (s snatTo) text() string   { return "snat " + family(s.v6) + " to " + s.addr }

func (r rule) text() string {
	parts := make([]string, len(r))
	for i, s := range r {
		parts[i] = s.text()
	}
	return strings.Join(parts, " ")
}

func denyChain(r simguard.Reason) string { return "deny_" + string(r) }

// counter names per group.
func allowedCounter(chain string) string { return chain + "_allowed" }
func deniedCounter(chain string) string  { return chain + "_denied" }

// chains lists every chain of the table in a fixed order.
func (rs *Ruleset) chains() []chainDef {
	cfg := &rs.Config
	var cs []chainDef
	var fwd []rule
	// First: packets from devices must come from device addresses, or
	// they would bypass everything below (their source decides which
	// chain they meet).
	for _, ifc := range cfg.DeviceIfaces {
		spoofed := verdict{kind: "goto", chain: denyChain(reasonSourceSpoofed)}
		fwd = append(fwd,
			rule{iifname{ifc}, matchAddr{set: "devnets4", not: true}, spoofed},
			rule{iifname{ifc}, matchAddr{v6: true, set: "devnets6", not: true}, spoofed})
	}
	cs = append(cs, chainDef{name: "forward", typ: "filter", hook: "forward", prio: "filter", rules: append(fwd, []rule{
		{matchAddr{set: "devnets4"}, verdict{kind: "jump", chain: "egress"}},
		{matchAddr{v6: true, set: "devnets6"}, verdict{kind: "jump", chain: "egress"}},
		{matchAddr{dst: true, set: "devnets4"}, verdict{kind: "jump", chain: "inbound"}},
		{matchAddr{v6: true, dst: true, set: "devnets6"}, verdict{kind: "jump", chain: "inbound"}},
	}...)})
	blocked := denyChain(reasonSIMBlocked)
	// The gateway host itself: device addresses that are blocked or that
	// no SIM has reach nothing on it; known, active devices meet the
	// policy accept (the host's own firewall decides which of its
	// services they see). Local traffic (lo) is the host's own, and
	// sources outside the device nets (link-local neighbour discovery,
	// DHCP) are left alone here.
	cs = append(cs, chainDef{name: "input", typ: "filter", hook: "input", prio: "filter", rules: []rule{
		{iifname{"lo"}, verdict{kind: "return"}},
		{matchAddr{set: "devnets4"}, verdict{kind: "jump", chain: "host_in"}},
		{matchAddr{v6: true, set: "devnets6"}, verdict{kind: "jump", chain: "host_in"}},
	}})
	cs = append(cs, chainDef{name: "host_in", rules: []rule{
		{matchAddr{set: "blocked4"}, verdict{kind: "goto", chain: blocked}},
		{matchAddr{v6: true, set: "blocked6"}, verdict{kind: "goto", chain: blocked}},
		{matchAddr{set: "sim4_out", not: true}, verdict{kind: "goto", chain: denyChain(simguard.ReasonSIMUnknown)}},
		{matchAddr{v6: true, set: "sim6_out", not: true}, verdict{kind: "goto", chain: denyChain(simguard.ReasonSIMUnknown)}},
	}})
	cs = append(cs, chainDef{name: "egress", rules: []rule{
		// Blocked first: a suspended SIM loses its live flows too.
		{matchAddr{set: "blocked4"}, verdict{kind: "goto", chain: blocked}},
		{matchAddr{v6: true, set: "blocked6"}, verdict{kind: "goto", chain: blocked}},
		// Replies of allowed inbound connections; everything the device
		// starts is checked against the allowlist on every packet, so a
		// narrowed allowlist ends live flows at once.
		{ctReplyEstablished{}, verdict{kind: "accept"}},
		{vmapAddr{set: "sim4_out"}},
		{vmapAddr{v6: true, set: "sim6_out"}},
		{verdict{kind: "goto", chain: denyChain(simguard.ReasonSIMUnknown)}},
	}})
	cs = append(cs, chainDef{name: "inbound", rules: []rule{
		{matchAddr{dst: true, set: "blocked4"}, verdict{kind: "goto", chain: blocked}},
		{matchAddr{v6: true, dst: true, set: "blocked6"}, verdict{kind: "goto", chain: blocked}},
		// Replies of flows the device started pass (its egress chain
		// checked every packet it sent), and ICMP errors about a flow.
		// Packets of connections opened from outside meet the group's
		// inbound set on every packet, like egress: removing an inbound
		// rule ends live sessions too.
		{ctReplyEstablished{}, verdict{kind: "accept"}},
		{ctRelated{}, verdict{kind: "accept"}},
		{vmapAddr{dst: true, set: "sim4_in"}},
		{vmapAddr{v6: true, dst: true, set: "sim6_in"}},
		{verdict{kind: "goto", chain: denyChain(simguard.ReasonInboundDenied)}},
	}})
	for _, g := range rs.Groups {
		// Allowed egress returns to forward, so that traffic to another
		// device still meets that device's inbound rules.
		var out, in []rule
		if len(g.Egress4) > 0 {
			out = append(out, rule{matchTuple{dst: true, set: g.Chain + "_e4"}, counterRef{allowedCounter(g.Chain)}, verdict{kind: "return"}})
		}
		if len(g.Egress6) > 0 {
			out = append(out, rule{matchTuple{v6: true, dst: true, set: g.Chain + "_e6"}, counterRef{allowedCounter(g.Chain)}, verdict{kind: "return"}})
		}
		out = append(out, rule{counterRef{deniedCounter(g.Chain)}, verdict{kind: "goto", chain: denyChain(simguard.ReasonDestinationDenied)}})
		if len(g.Inbound4) > 0 {
			in = append(in, rule{matchTuple{set: g.Chain + "_i4"}, counterRef{allowedCounter(g.Chain)}, verdict{kind: "accept"}})
		}
		if len(g.Inbound6) > 0 {
			in = append(in, rule{matchTuple{v6: true, set: g.Chain + "_i6"}, counterRef{allowedCounter(g.Chain)}, verdict{kind: "accept"}})
		}
		in = append(in, rule{counterRef{deniedCounter(g.Chain)}, verdict{kind: "goto", chain: denyChain(simguard.ReasonInboundDenied)}})
		cs = append(cs, chainDef{name: g.Chain, rules: out}, chainDef{name: g.Chain + "_in", rules: in})
	}
	for _, r := range denyReasons {
		cs = append(cs, chainDef{name: denyChain(r), rules: []rule{
			{counterRef{string(r)}},
			{limitLog{rate: cfg.LogRate, prefix: LogPrefix + string(r) + " ", group: cfg.NFLogGroup}},
			{verdict{kind: "drop"}},
		}})
	}
	if cfg.SNAT != simguard.SNATOff {
		nat := chainDef{name: "postrouting", typ: "nat", hook: "postrouting", prio: "srcnat"}
		for _, v6 := range []bool{false, true} {
			set := "devnets4"
			if v6 {
				set = "devnets6"
			}
			var action stmt = masquerade{}
			if cfg.SNAT == simguard.SNATAddress {
				if cfg.SNATAddr.Is6() != v6 {
					continue
				}
				action = snatTo{v6: v6, addr: cfg.SNATAddr.String()}
			}
			nat.rules = append(nat.rules, rule{oifname{cfg.Uplink}, matchAddr{v6: v6, set: set}, action})
		}
		cs = append(cs, nat)
	}
	return cs
}

// counterNames lists the table's named counters: per reason, then per
// group allowed and denied.
func (rs *Ruleset) counterNames() []string {
	var ns []string
	for _, r := range denyReasons {
		ns = append(ns, string(r))
	}
	for _, g := range rs.Groups {
		ns = append(ns, allowedCounter(g.Chain), deniedCounter(g.Chain))
	}
	return ns
}
