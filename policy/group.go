package policy

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// check names a group check: the suffix of its Rule and its Step name.
type check uint8

const (
	chkServices check = iota
	chkWindows
	chkDeviceTACs
	chkPLMNs
	chkAreas
	chkCells
	chkRATs
	chkAPNs
	chkQuotas
	chkSMSMT
	chkSMSMO
	chkSMSBinary
	chkSMSSilent
	chkEgress
	chkInbound
	nChecks
)

func (c check) String() string {
	switch c {
	case chkServices:
		return "services"
	case chkWindows:
		return "windows"
	case chkDeviceTACs:
		return "device_tacs"
	case chkPLMNs:
		return "location.plmns"
	case chkAreas:
		return "location.areas"
	case chkCells:
		return "location.cells"
	case chkRATs:
		return "rats"
	case chkAPNs:
		return "apns"
	case chkQuotas:
		return "quotas"
	case chkSMSMT:
		return "sms.mt"
	case chkSMSMO:
		return "sms.mo"
	case chkSMSBinary:
		return "sms.binary"
	case chkSMSSilent:
		return "sms.silent"
	case chkEgress:
		return "egress"
	case chkInbound:
		return "inbound"
	}
	return "unknown"
}

// Service bits.
const (
	svcData uint8 = 1 << iota
	svcMO
	svcMT
	svcAll = svcData | svcMO | svcMT
)

func serviceBit(s simguard.Service) uint8 {
	switch s {
	case simguard.ServiceData:
		return svcData
	case simguard.ServiceSMSMO:
		return svcMO
	case simguard.ServiceSMSMT:
		return svcMT
	}
	return 0
}

func ratBit(r simguard.RAT) uint8 {
	for i, x := range simguard.RATs {
		if r == x {
			return 1 << i
		}
	}
	return 0
}

// compiledGroup is a validated group turned into what Evaluate compares:
// bit masks, integer keys and precomputed Rule strings, so that deciding
// allocates nothing.
type compiledGroup struct {
	src   simguard.Group // validated and normalized; handed out only as a deep copy
	rules [nChecks]string
	allow string

	services uint8
	windows  []window
	tacs     []tacPrefix
	plmns    []uint32
	areas    []uint64 // PLMN key << 32 | TAC/LAC
	cells    []cellKey
	rats     uint8
	apns     []string

	quotaDay   bool // period "day"; else "month"
	quotaAlert bool // on_exhaustion "alert"; else "block"
	dataLimit  int64
	smsLimit   int64

	moAllow, moDeny, mtAllow, mtDeny, binSources []string
	binAllow, allowSilent                        bool
	perMinute, sourcePerMinute                   int32

	egress, inbound []flowRule
}

type window struct {
	services    uint8
	from, until int64 // noStart / noEnd when open
	daily       bool
	start, end  int64 // time of day in ns when daily; end < start wraps midnight
}

// tacPrefix matches the 14-digit IMEIs v with lo <= v < hi: those whose
// digits start with text (compared as numbers, without dividing).
type tacPrefix struct {
	lo, hi uint64
	text   string
}

type cellKey struct {
	plmn uint32
	cell uint64
}

type flowRule struct {
	prefix netip.Prefix
	proto  uint8 // 0 any, 6 tcp, 17 udp, 1 icmp (ICMP or ICMPv6)
	ports  []simguard.PortRange
}

// compileGroup validates a deep copy of g and compiles it.
func compileGroup(g *simguard.Group) (*compiledGroup, error) {
	src := cloneGroup(g)
	if err := src.Validate(); err != nil {
		return nil, err
	}
	p := &src.Policy
	c := &compiledGroup{src: src, allow: "group:" + src.Name}
	for i := range nChecks {
		c.rules[i] = c.allow + "/" + i.String()
	}
	for _, s := range p.Services {
		c.services |= serviceBit(s)
	}
	for _, w := range p.Windows {
		c.windows = append(c.windows, compileWindow(w))
	}
	for _, t := range p.DeviceTACs {
		v, _ := simguard.ParseDigits(t)
		span := uint64(1)
		for range 14 - len(t) {
			span *= 10
		}
		c.tacs = append(c.tacs, tacPrefix{lo: v * span, hi: (v + 1) * span, text: t})
	}
	for _, s := range p.Location.PLMNs {
		pl, _ := simguard.ParsePLMN(s)
		c.plmns = append(c.plmns, pl.Key())
	}
	for _, s := range p.Location.Areas {
		pl, a, _ := simguard.ParseArea(s)
		c.areas = append(c.areas, uint64(pl.Key())<<32|uint64(a))
	}
	for _, s := range p.Location.Cells {
		pl, cell, _ := simguard.ParseCell(s)
		c.cells = append(c.cells, cellKey{plmn: pl.Key(), cell: cell})
	}
	for _, r := range p.RATs {
		c.rats |= ratBit(r)
	}
	c.apns = p.APNs
	c.quotaDay = p.Quotas.Period == "day"
	c.quotaAlert = p.Quotas.OnExhaustion == "alert"
	c.dataLimit, c.smsLimit = p.Quotas.DataBytes, p.Quotas.SMSCount
	sms := &p.SMS
	c.moAllow, c.moDeny, c.mtAllow, c.mtDeny = sms.MO.Allow, sms.MO.Deny, sms.MT.Allow, sms.MT.Deny
	c.binAllow, c.binSources, c.allowSilent = sms.Binary.Allow, sms.Binary.Sources, sms.AllowSilent
	c.perMinute, c.sourcePerMinute = clamp32(sms.PerMinute), clamp32(sms.SourcePerMinute)
	c.egress = compileFlowRules(p.Egress)
	c.inbound = compileFlowRules(p.Inbound)
	return c, nil
}

func compileWindow(w simguard.Window) window {
	cw := window{services: svcAll, from: noStart, until: noEnd}
	if len(w.Services) > 0 {
		cw.services = 0
		for _, s := range w.Services {
			cw.services |= serviceBit(s)
		}
	}
	if w.From != nil {
		cw.from = nsOf(*w.From)
	}
	if w.Until != nil {
		cw.until = nsOf(*w.Until)
	}
	if w.Daily != "" {
		start, end, _ := simguard.ParseDaily(w.Daily)
		cw.daily, cw.start, cw.end = true, int64(start)*minNS, int64(end)*minNS
	}
	return cw
}

func compileFlowRules(rules []simguard.FlowRule) []flowRule {
	var out []flowRule
	for _, r := range rules {
		f := flowRule{prefix: r.CIDR, ports: r.Ports}
		switch r.Proto {
		case "tcp":
			f.proto = 6
		case "udp":
			f.proto = 17
		case "icmp":
			f.proto = 1
		}
		out = append(out, f)
	}
	return out
}

func clamp32(n int) int32 {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(n)
}

// cloneGroup copies g deeply: the snapshot must not share slices or
// pointers with its callers in either direction.
func cloneGroup(g *simguard.Group) simguard.Group {
	c := *g
	p := &c.Policy
	p.Services = clone(p.Services)
	p.Windows = clone(p.Windows)
	for i := range p.Windows {
		p.Windows[i].Services = clone(p.Windows[i].Services)
		p.Windows[i].From = cloneTime(p.Windows[i].From)
		p.Windows[i].Until = cloneTime(p.Windows[i].Until)
	}
	p.APNs = clone(p.APNs)
	p.Location.PLMNs = clone(p.Location.PLMNs)
	p.Location.Areas = clone(p.Location.Areas)
	p.Location.Cells = clone(p.Location.Cells)
	p.RATs = clone(p.RATs)
	p.DeviceTACs = clone(p.DeviceTACs)
	p.SMS.MO.Allow, p.SMS.MO.Deny = clone(p.SMS.MO.Allow), clone(p.SMS.MO.Deny)
	p.SMS.MT.Allow, p.SMS.MT.Deny = clone(p.SMS.MT.Allow), clone(p.SMS.MT.Deny)
	p.SMS.Binary.Sources = clone(p.SMS.Binary.Sources)
	p.Egress = cloneFlowRules(p.Egress)
	p.Inbound = cloneFlowRules(p.Inbound)
	return c
}

func cloneFlowRules(rules []simguard.FlowRule) []simguard.FlowRule {
	rules = clone(rules)
	for i := range rules {
		rules[i].Ports = clone(rules[i].Ports)
	}
	return rules
}

// clone copies a slice, keeping nil nil (so that JSON and equality of a
// copied group match the original).
func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// groupErr names the group in a compile error while keeping its code.
func groupErr(g *simguard.Group, err error) error {
	if e, ok := err.(*simguard.Error); ok {
		return &simguard.Error{Code: e.Code, Field: fmt.Sprintf("group %q (tenant %d): %s", g.Name, g.TenantID, e.Field), Message: e.Message}
	}
	return fmt.Errorf("group %q (tenant %d): %w", g.Name, g.TenantID, err)
}
