package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
)

// sms filters messages: MT by source (r.Peer), then binary and silent
// messages; MO by destination. Binary and silent MO messages are the
// device's own business and are not filtered.
func (e *evaluation) sms() bool {
	g := e.g
	peer := strings.TrimPrefix(e.r.Peer, "+")
	switch e.kind() {
	case simguard.KindSMSMT:
		if !e.peers(chkSMSMT, peer, g.mtAllow, g.mtDeny) {
			return false
		}
		return e.binary(peer) && e.silent()
	case simguard.KindSMSMO:
		return e.peers(chkSMSMO, peer, g.moAllow, g.moDeny)
	}
	return e.skipKind("sms", " is not a message")
}

// peers applies a deny list (which wins) and an allow list (which, when
// not empty, must match) of number prefixes.
func (e *evaluation) peers(c check, peer string, allow, deny []string) bool {
	if p, ok := matchPrefix(peer, deny); ok {
		if e.tr != nil {
			e.tr.add(c.String(), resultFail, fmt.Sprintf("peer %q matches the denied prefix %q", clip(peer), p))
		}
		return e.deny(simguard.ReasonSMSPeerDenied, e.g.rules[c])
	}
	if len(allow) == 0 {
		if len(deny) == 0 {
			return e.skip(c.String(), "no peer restriction")
		}
		return e.pass(c.String(), "peer matches no denied prefix")
	}
	if p, ok := matchPrefix(peer, allow); ok {
		if e.tr != nil {
			e.tr.add(c.String(), resultPass, fmt.Sprintf("peer %q matches the allowed prefix %q", clip(peer), p))
		}
		return true
	}
	if e.tr != nil {
		e.tr.add(c.String(), resultFail, fmt.Sprintf("peer %q matches none of the allowed prefixes %s", clip(peer), strings.Join(allow, ", ")))
	}
	return e.deny(simguard.ReasonSMSPeerDenied, e.g.rules[c])
}

func (e *evaluation) binary(peer string) bool {
	check := chkSMSBinary.String()
	g := e.g
	switch {
	case !e.r.SMS.Binary:
		return e.skip(check, "not a binary message")
	case !g.binAllow:
		e.fail(check, "binary messages are not allowed")
		return e.deny(simguard.ReasonSMSBinaryDenied, g.rules[chkSMSBinary])
	case len(g.binSources) == 0:
		return e.pass(check, "binary messages are allowed from any source")
	}
	if p, ok := matchPrefix(peer, g.binSources); ok {
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("binary source %q matches %q", clip(peer), p))
		}
		return true
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("binary source %q matches none of %s", clip(peer), strings.Join(g.binSources, ", ")))
	}
	return e.deny(simguard.ReasonSMSBinaryDenied, g.rules[chkSMSBinary])
}

func (e *evaluation) silent() bool {
	check := chkSMSSilent.String()
	switch {
	case !e.r.SMS.Silent:
		return e.skip(check, "not a silent message")
	case e.g.allowSilent:
		return e.pass(check, "silent messages are allowed")
	}
	e.fail(check, "silent messages are not allowed")
	return e.deny(simguard.ReasonSMSSilentDenied, e.g.rules[chkSMSSilent])
}

func matchPrefix(s string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return p, true
		}
	}
	return "", false
}

// flow allows a packet flow when an egress rule (inbound rule, for
// inbound flows) covers its remote address, protocol and port.
func (e *evaluation) flow() bool {
	if e.kind() != simguard.KindFlow {
		return e.skipKind("flow", " is not a flow")
	}
	f := &e.r.Flow
	c, rules, reason := chkEgress, e.g.egress, simguard.ReasonDestinationDenied
	if f.Inbound {
		c, rules, reason = chkInbound, e.g.inbound, simguard.ReasonInboundDenied
	}
	remote := f.Remote.Unmap()
	for i := range rules {
		if rules[i].matches(remote, f.Proto, f.Port) {
			if e.tr != nil {
				e.tr.add(c.String(), resultPass, fmt.Sprintf("%s proto %d port %d matches rule %d (%s)", remote, f.Proto, f.Port, i, rules[i].prefix))
			}
			return true
		}
	}
	if e.tr != nil {
		e.tr.add(c.String(), resultFail, fmt.Sprintf("%s proto %d port %d matches none of %d rules", remote, f.Proto, f.Port, len(rules)))
	}
	return e.deny(reason, e.g.rules[c])
}

func (r *flowRule) matches(remote netip.Addr, proto uint8, port uint16) bool {
	if !r.prefix.Contains(remote) {
		return false
	}
	switch r.proto {
	case 0:
	case 1:
		if proto != 1 && proto != 58 {
			return false
		}
	default:
		if proto != r.proto {
			return false
		}
	}
	if len(r.ports) == 0 {
		return true
	}
	for _, p := range r.ports {
		if p.Contains(port) {
			return true
		}
	}
	return false
}
