package gateway

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

// Config is what the operator tells the agent about the host: which
// addresses are devices, where the internet is and how to translate.
type Config struct {
	// Table is the name of the inet table the agent owns (default
	// "simguard"). Nothing outside it is touched.
	Table string
	// DeviceNets are the prefixes device addresses come from (the APN
	// pools, the static ranges). Traffic from them is egress, traffic to
	// them inbound; everything else passes this table untouched.
	DeviceNets []netip.Prefix
	// DeviceIfaces are the interfaces devices' packets arrive on (the
	// tunnels or bridges of the packet core). Anything arriving on them
	// from a source outside DeviceNets is dropped (source_spoofed): such
	// a packet would otherwise not count as device traffic and pass this
	// table untouched. Empty: sources are not checked (a warning at start).
	DeviceIfaces []string
	// Uplink is the interface towards the internet; SNAT applies to
	// device traffic leaving through it. Empty: no NAT.
	Uplink string
	// SNAT is masquerade (default when Uplink is set), address or off.
	SNAT     simguard.SNATMode
	SNATAddr netip.Addr // for SNAT address
	// NFLogGroup receives denied packets (default 7); LogRate caps them
	// per second (default 100) so a flood cannot drown the agent.
	NFLogGroup uint16
	LogRate    int
}

// Validate fills in defaults and checks the config; errors name the flag.
func (c *Config) Validate() error {
	if c.Table == "" {
		c.Table = "simguard"
	}
	if !validIdent(c.Table) {
		return fmt.Errorf("gateway table %q: want letters, digits and _", c.Table)
	}
	if len(c.DeviceNets) == 0 {
		return fmt.Errorf("gateway: no device prefixes: give --device-net (the prefixes device addresses come from)")
	}
	for i, p := range c.DeviceNets {
		if !p.IsValid() {
			return fmt.Errorf("gateway: device prefix %d is not a CIDR", i)
		}
		c.DeviceNets[i] = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
	}
	seen := map[string]bool{}
	for _, name := range c.DeviceIfaces {
		if name == "" || len(name) > 15 || strings.ContainsAny(name, "\"\\ \t\n") {
			return fmt.Errorf("gateway: device interface %q (device_ifaces / --device-iface): want an interface name of 1 to 15 characters", name)
		}
		if seen[name] {
			return fmt.Errorf("gateway: device interface %q listed twice (device_ifaces / --device-iface)", name)
		}
		seen[name] = true
	}
	for i, p := range c.DeviceNets {
		for _, q := range c.DeviceNets[:i] {
			if p.Overlaps(q) {
				return fmt.Errorf("gateway: device prefixes %s and %s overlap (device_nets / --device-net): list each range once", q, p)
			}
		}
	}
	if c.SNAT == "" {
		c.SNAT = simguard.SNATMasquerade
		if c.Uplink == "" {
			c.SNAT = simguard.SNATOff
		}
	}
	switch c.SNAT {
	case simguard.SNATOff:
	case simguard.SNATMasquerade, simguard.SNATAddress:
		if c.Uplink == "" {
			return fmt.Errorf("gateway: SNAT %s needs the uplink interface (--uplink)", c.SNAT)
		}
		if len(c.Uplink) > 15 {
			return fmt.Errorf("gateway: uplink %q: interface names have at most 15 characters", c.Uplink)
		}
		if c.SNAT == simguard.SNATAddress && !c.SNATAddr.IsValid() {
			return fmt.Errorf("gateway: SNAT address needs --snat-addr")
		}
	default:
		return fmt.Errorf("gateway: SNAT mode %q: want masquerade, address or off", c.SNAT)
	}
	c.SNATAddr = c.SNATAddr.Unmap()
	if c.NFLogGroup == 0 {
		c.NFLogGroup = 7
	}
	if c.LogRate <= 0 {
		c.LogRate = 100
	}
	return nil
}

// Warnings lists what a valid config leaves open, for the agent to log
// at start: sources not checked without DeviceIfaces, and a fixed SNAT
// address of one family while device prefixes of the other exist (that
// family's traffic leaves with the devices' own addresses).
func (c *Config) Warnings() []string {
	var ws []string
	if len(c.DeviceIfaces) == 0 {
		ws = append(ws, "device_ifaces is not set, so spoofed sources are NOT filtered: a device sending from an address "+
			"outside device_nets bypasses every rule of this table; set device_ifaces (--device-iface) to the interfaces devices' packets arrive on")
	}
	if c.SNAT == simguard.SNATAddress {
		for _, p := range c.DeviceNets {
			if p.Addr().Is6() != c.SNATAddr.Is6() {
				fam := "IPv4"
				if p.Addr().Is6() {
					fam = "IPv6"
				}
				ws = append(ws, fmt.Sprintf("snat: address %s has no %s counterpart: %s traffic of devices in %s leaves through %s WITHOUT source NAT "+
					"(use snat: masquerade, or route that prefix publicly)", c.SNATAddr, fam, fam, p, c.Uplink))
			}
		}
	}
	return ws
}

func validIdent(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Ruleset is the compiled firewall: the structure (groups with their
// allowlists; it changes only when a group changes) and the bindings of
// device addresses (they change with single SIMs). Only UpdateSIMs
// modifies one; whoever calls it owns the Ruleset.
type Ruleset struct {
	Config Config
	Groups []Group // by chain name
	// Addrs maps every known device address to its SIM's binding.
	Addrs map[netip.Addr]Binding
	bySIM map[int64][]netip.Addr
	// claims lists the SIMs that claim each address: more than one, and
	// the address is blocked for all of them, whichever path (Compile or
	// UpdateSIMs) last touched it.
	claims map[netip.Addr][]int64
	// Outside counts SIM addresses left out because they lie outside
	// Config.DeviceNets: this table does not see them as devices.
	Outside int
}

// Group is one policy group's chains and allowlists, split by family and
// normalized into disjoint entries (the kernel's interval sets refuse
// overlaps).
type Group struct {
	ID       int64
	TenantID int64
	Name     string
	Chain    string // egress chain; the inbound chain is Chain+"_in"
	Egress4  []Entry
	Egress6  []Entry
	Inbound4 []Entry
	Inbound6 []Entry
}

// Entry is one allowlist element: a prefix (destination for egress,
// source for inbound), a protocol range and a port range, all inclusive.
type Entry struct {
	Net              netip.Prefix
	ProtoLo, ProtoHi uint8
	PortLo, PortHi   uint16
}

// Binding is what a device address means to the firewall.
type Binding struct {
	SIMID    int64
	TenantID int64
	IMSI     string
	Group    string // policy group name
	// Chain is the group's egress chain; "" when the group is missing.
	Chain string
	// Off: the SIM may not use data now (suspended, terminated,
	// inventory, data off, outside its window, quota used up).
	Off bool
}

// Blocked reports whether the address is dropped whatever its group says.
// A blocked address keeps its group's verdict map element: the blocked
// set is checked first, and a state change then touches that set alone,
// which the kernel applies far faster than a verdict element (a new
// goto element makes it re-validate every verdict map of the table).
func (b Binding) Blocked() bool { return b.Off || b.Chain == "" }

// Compile builds the ruleset from a snapshot at time now. extra are
// addresses handed out beyond the static ones (pool leases); addresses
// outside cfg.DeviceNets are left out, because the table would never see
// their packets as device traffic. cfg must be validated.
func Compile(snap *policy.Snapshot, cfg Config, now time.Time, extra simguard.DeviceAddrs) *Ruleset {
	rs := &Ruleset{Config: cfg, Addrs: make(map[netip.Addr]Binding, snap.Len()), bySIM: make(map[int64][]netip.Addr, snap.Len()),
		claims: make(map[netip.Addr][]int64, snap.Len())}
	chains := map[groupKey]string{}
	snap.RangeGroups(func(g simguard.Group) bool {
		gr := compileGroup(&g)
		chains[groupKey{g.TenantID, g.Name}] = gr.Chain
		rs.Groups = append(rs.Groups, gr)
		return true
	})
	slices.SortFunc(rs.Groups, func(a, b Group) int { return cmp.Compare(a.Chain, b.Chain) })
	snap.RangeSIMs(func(v policy.SIMView) bool {
		b := bindingOf(v, chains, now)
		if v.StaticIP.IsValid() {
			rs.addCounted(v.StaticIP, b)
		}
		for _, ip := range extra[v.ID] {
			rs.addCounted(ip, b)
		}
		return true
	})
	return rs
}

type groupKey struct {
	tenant int64
	name   string
}

func bindingOf(v policy.SIMView, chains map[groupKey]string, now time.Time) Binding {
	return Binding{SIMID: v.ID, TenantID: v.TenantID, IMSI: v.IMSI, Group: v.Group,
		Chain: chains[groupKey{v.TenantID, v.Group}], Off: !v.ServiceOn(simguard.ServiceData, now)}
}

func (rs *Ruleset) addCounted(ip netip.Addr, b Binding) {
	if !rs.isDevice(ip.Unmap()) {
		rs.Outside++
	}
	rs.add(ip, b)
}

func (rs *Ruleset) add(ip netip.Addr, b Binding) {
	ip = ip.Unmap()
	if !rs.isDevice(ip) {
		return
	}
	// Two SIMs claiming one address (a static IP inside a lease pool)
	// must not open it for either: block it and let the operator fix it.
	cl := rs.claims[ip]
	if !slices.Contains(cl, b.SIMID) {
		cl = append(cl, b.SIMID)
		rs.claims[ip] = cl
	}
	if len(cl) > 1 {
		b = conflicted(b)
	}
	rs.Addrs[ip] = b
	if !slices.Contains(rs.bySIM[b.SIMID], ip) {
		rs.bySIM[b.SIMID] = append(rs.bySIM[b.SIMID], ip)
	}
}

// conflicted is the binding of an address more than one SIM claims:
// blocked, and in no group's verdict maps.
func conflicted(b Binding) Binding {
	b.Chain, b.Off = "", true
	return b
}

// Conflicts lists the addresses more than one SIM claims (all blocked).
func (rs *Ruleset) Conflicts() []netip.Addr {
	var out []netip.Addr
	for a, cl := range rs.claims {
		if len(cl) > 1 {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func (rs *Ruleset) addrsOfSIM(id int64) []netip.Addr { return rs.bySIM[id] }

func (rs *Ruleset) isDevice(ip netip.Addr) bool {
	for _, p := range rs.Config.DeviceNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// chainName is stable across restarts and renames of other groups: it is
// the group's ID (groups from a store always have one).
func chainName(g *simguard.Group) string {
	if g.ID > 0 {
		return fmt.Sprintf("g%d", g.ID)
	}
	// Groups built in memory without an ID (tests, dry runs of a file).
	return fmt.Sprintf("gt%d_%x", g.TenantID, fnv(g.Name))
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func compileGroup(g *simguard.Group) Group {
	gr := Group{ID: g.ID, TenantID: g.TenantID, Name: g.Name, Chain: chainName(g)}
	gr.Egress4, gr.Egress6 = entries(g.Policy.Egress)
	gr.Inbound4, gr.Inbound6 = entries(g.Policy.Inbound)
	return gr
}

// entries turns flow rules into normalized entries per family.
func entries(rules []simguard.FlowRule) (v4, v6 []Entry) {
	for _, r := range rules {
		p := netip.PrefixFrom(r.CIDR.Addr().Unmap(), r.CIDR.Bits())
		if r.CIDR.Addr().Is4In6() {
			p = netip.PrefixFrom(r.CIDR.Addr().Unmap(), max(r.CIDR.Bits()-96, 0))
		}
		p = p.Masked()
		lo, hi := protoRange(r.Proto, p.Addr().Is4())
		var es []Entry
		if len(r.Ports) == 0 {
			es = append(es, Entry{Net: p, ProtoLo: lo, ProtoHi: hi, PortLo: 0, PortHi: 65535})
		}
		for _, pr := range r.Ports {
			es = append(es, Entry{Net: p, ProtoLo: lo, ProtoHi: hi, PortLo: pr.From, PortHi: pr.To})
		}
		if p.Addr().Is4() {
			v4 = append(v4, es...)
		} else {
			v6 = append(v6, es...)
		}
	}
	return normalize(v4), normalize(v6)
}

// protoRange maps a rule's protocol to IANA numbers. "any" is every
// protocol; ICMP is ICMPv6 for IPv6 prefixes, as Evaluate reads it.
func protoRange(proto string, v4 bool) (uint8, uint8) {
	switch proto {
	case "tcp":
		return 6, 6
	case "udp":
		return 17, 17
	case "icmp":
		if v4 {
			return 1, 1
		}
		return 58, 58
	}
	return 0, 255
}
