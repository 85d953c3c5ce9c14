package simguard

import "slices"

// What "close the port" means for a group's policy. Policy.Inbound is an
// allow list, so an inbound deny of one port is the allow list narrowed
// until no rule lets the port in; everything else it allowed stays.

// flowProtos are the protocols a FlowRule can name besides "any".
var flowProtos = []string{"tcp", "udp", "icmp"}

// InboundAllowing returns the indices of the rules of p.Inbound that let
// proto/port in (from some source): the rules ClosePort narrows. An empty
// result means the policy already denies the port.
func InboundAllowing(p *Policy, proto string, port uint16) []int {
	out := []int{}
	for i := range p.Inbound {
		if ruleAllows(&p.Inbound[i], proto, port) {
			out = append(out, i)
		}
	}
	return out
}

func ruleAllows(r *FlowRule, proto string, port uint16) bool {
	if r.Proto != "any" && r.Proto != "" && r.Proto != proto {
		return false
	}
	if len(r.Ports) == 0 {
		return true
	}
	return slices.ContainsFunc(r.Ports, func(pr PortRange) bool { return pr.Contains(port) })
}

// ClosePort narrows p.Inbound so that no rule lets proto/port in and
// reports whether anything changed. Every rule keeps its source CIDR:
//   - a rule listing ports loses the port (a range containing it is
//     split); a rule left without ports is removed, because an empty
//     list would mean every port;
//   - a rule for every port of proto gets every port but this one;
//   - a rule for any protocol becomes a rule per protocol a FlowRule can
//     name (tcp, udp, icmp), the finding's protocol without the port.
//
// proto must be tcp or udp and port non-zero; anything else changes
// nothing.
func ClosePort(p *Policy, proto string, port uint16) bool {
	if (proto != "tcp" && proto != "udp") || port == 0 {
		return false
	}
	changed := false
	out := make([]FlowRule, 0, len(p.Inbound))
	for _, r := range p.Inbound {
		if !ruleAllows(&r, proto, port) {
			out = append(out, r)
			continue
		}
		changed = true
		if r.Proto == "any" || r.Proto == "" {
			for _, x := range flowProtos {
				nr := FlowRule{CIDR: r.CIDR, Proto: x}
				if x == proto {
					nr.Ports = withoutPort([]PortRange{{From: 1, To: 65535}}, port)
				}
				out = append(out, nr)
			}
			continue
		}
		ranges := r.Ports
		if len(ranges) == 0 {
			ranges = []PortRange{{From: 1, To: 65535}}
		}
		if rest := withoutPort(ranges, port); len(rest) > 0 {
			r.Ports = rest
			out = append(out, r)
		}
	}
	if changed {
		p.Inbound = out
	}
	return changed
}

// withoutPort returns ranges with port taken out, in the same order.
func withoutPort(ranges []PortRange, port uint16) []PortRange {
	out := make([]PortRange, 0, len(ranges)+1)
	for _, pr := range ranges {
		if !pr.Contains(port) {
			out = append(out, pr)
			continue
		}
		if pr.From < port {
			out = append(out, PortRange{From: pr.From, To: port - 1})
		}
		if port < pr.To {
			out = append(out, PortRange{From: port + 1, To: pr.To})
		}
	}
	return out
}
