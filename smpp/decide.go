package smpp

import (
	"hash/maphash"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// address turns an SMPP address into what the policy compares: E.164
// digits without "+" for numbers, alphanumeric senders as they are.
// National formats are not expanded: SIM numbers must arrive in
// international form.
func address(a string) string { return strings.TrimPrefix(a, "+") }

// limit applies the per-SIM and per-source rate limits of an allowing
// decision. The limits come from the decision (the SIM's group); the
// counters are the proxy's.
func (s *Server) limit(d simguard.Decision, source string, now int64) simguard.Decision {
	if !d.Allow {
		return d
	}
	if d.SMSSourcePerMinute > 0 && source != "" && !s.srcLimit.allow(s.sourceKey(d, source), d.SMSSourcePerMinute, now) {
		d.Allow, d.Reason, d.Rule = false, simguard.ReasonRateLimited, "group:"+d.Group+"/sms.source_per_minute"
		return d
	}
	if d.SMSPerMinute > 0 && d.SIMID != 0 && !s.simLimit.allow(uint64(d.SIMID), d.SMSPerMinute, now) {
		d.Allow, d.Reason, d.Rule = false, simguard.ReasonRateLimited, "group:"+d.Group+"/sms.per_minute"
	}
	return d
}

// sourceKey identifies one source address sending to one group's SIMs.
func (s *Server) sourceKey(d simguard.Decision, source string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	var b [8]byte
	for i := range b {
		b[i] = byte(d.TenantID >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(d.Group)
	h.WriteByte(0)
	h.WriteString(source)
	return h.Sum64()
}

// decisionEvent is what one decision event says.
type decisionEvent struct {
	kind    simguard.RequestKind
	dec     simguard.Decision
	status  pdu.Status
	p       *pdu.PDU
	cls     Classification
	account *boundAccount // MT: the sender; MO: nil
	route   *route
	now     time.Time
}

// emit records a decision: metrics and an event. Denied events carry the
// command_status the peer got.
func (s *Server) emit(de decisionEvent) {
	kind, typ := "sms_mt", "sms.mt"
	if de.kind == simguard.KindSMSMO {
		kind, typ = "sms_mo", "sms.mo"
	}
	decision := "allow"
	if !de.dec.Allow {
		decision = "deny"
	}
	s.m.decision(kind, decision, de.dec.Reason).Inc()
	attrs := make(map[string]string, 8) // room for every attribute: no growth
	attrs["command"] = de.p.ID.String()
	attrs["src"] = de.p.Source.Addr
	attrs["dst"] = de.p.Dest.Addr
	attrs["route"] = de.route.cfg.Name
	if de.dec.Rule != "" {
		attrs["rule"] = de.dec.Rule
	}
	if de.account != nil {
		attrs["account"] = de.account.acct.SystemID
	}
	if de.cls.Binary {
		attrs["binary"] = de.cls.Cause
	}
	if de.cls.Silent {
		attrs["silent"] = "true"
	}
	if de.cls.Concatenated {
		attrs["concatenated"] = "true"
	}
	if !de.dec.Allow {
		attrs["status"] = de.status.String()
	}
	tenant := de.dec.TenantID
	if tenant == 0 && de.account != nil {
		tenant = de.account.acct.TenantID
	}
	if tenant == 0 {
		tenant = simguard.ProviderTenantID
	}
	s.events.Emit(simguard.Event{
		Time:     de.now,
		TenantID: tenant,
		SIMID:    de.dec.SIMID,
		Source:   "smpp",
		Type:     typ,
		Decision: decision,
		Reason:   de.dec.Reason,
		Attrs:    attrs,
	})
}
