package diameter

import (
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// ulrResult is how simguard answers a denied Update-Location.
type ulrResult struct {
	code         uint32
	experimental bool // Experimental-Result (vendor 10415) instead of Result-Code
}

// ulrResultFor maps a denial reason to the ULA result (docs/diameter.md
// has the table). Location and network denials say roaming is not
// allowed, so that the UE does not retry in that network; radio denials
// say the RAT is not allowed, so that it tries another radio; an unknown
// SIM is an unknown user; everything about the device or the SIM's
// state is DIAMETER_AUTHORIZATION_REJECTED: the subscriber exists and may
// roam here, but this attach is refused.
func ulrResultFor(reason simguard.Reason) ulrResult {
	switch reason {
	case simguard.ReasonLocationDenied:
		return ulrResult{wire.ExpRoamingNotAllowed, true}
	case simguard.ReasonRATDenied:
		return ulrResult{wire.ExpRATNotAllowed, true}
	case simguard.ReasonSIMUnknown, simguard.ReasonSIMTerminated:
		return ulrResult{wire.ExpUserUnknown, true}
	case simguard.ReasonSIMInactive:
		return ulrResult{wire.ExpUnknownEPSSubscription, true}
	case simguard.ReasonBadRequest:
		return ulrResult{wire.ResultInvalidAVPValue, false}
	}
	return ulrResult{wire.ResultAuthorizationRejected, false}
}

// handleULR guards an Update-Location: the MME must be allowed for the
// visited network, and the policy must allow the attach; then it goes to
// the HSS, else simguard answers.
func (s *Server) handleULR(c *conn, m *wire.Message) {
	if s.refuseRepeated(c, m, keyUserName, keyVisitedPLMN, keyTerminalInfo) {
		return
	}
	start := s.now()
	r := simguard.Request{Kind: simguard.KindAttach, Time: start}
	if a := m.Find(wire.AVPUserName, 0); a != nil {
		r.IMSI = string(a.Data)
	}
	imei, sv := terminal(m)
	r.IMEI = imei
	if len(imei) == 14 && len(sv) == 2 {
		r.IMEI = imei + sv
	}
	attrs := baseAttrs(c, &r)
	var dec simguard.Decision
	plmnOK := true
	if a := m.Find(wire.AVPVisitedPLMNID, wire.Vendor3GPP); a != nil {
		p, err := decodePLMN(a.Data)
		if err != nil {
			s.count(m, "invalid_avp_value")
			c.reply(s.errorAnswer(m, wire.ResultInvalidAVPValue, "Visited-PLMN-Id: "+err.Error(), a))
			return
		}
		r.Location.PLMN = p
		attrs["plmn"] = p.String()
	} else if p := c.peer.Load(); p != nil && len(p.PLMNs) > 0 {
		// The MME-to-network check cannot be skipped by leaving the
		// network out (TS 29.272 makes Visited-PLMN-Id mandatory anyway).
		s.count(m, "missing_avp")
		c.reply(s.errorAnswer(m, wire.ResultMissingAVP, "Visited-PLMN-Id is required",
			&wire.AVP{Code: wire.AVPVisitedPLMNID, Flags: wire.AVPVendor | wire.AVPMandatory, Vendor: wire.Vendor3GPP}))
		return
	}
	if a := m.Find(wire.AVPRATType, wire.Vendor3GPP); a != nil {
		if v, err := a.Uint32(); err == nil {
			r.RAT = ratName(v)
			attrs["rat"] = string(r.RAT)
		}
	}
	if p := c.peer.Load(); p != nil && !r.Location.PLMN.IsZero() && !p.AllowsPLMN(r.Location.PLMN) {
		plmnOK = false
		dec = simguard.Decision{Reason: simguard.ReasonLocationDenied, Rule: "diameter:peer-plmns"}
		// Still evaluate to name the SIM in the event; the PLMN check wins.
		if d := s.eval.Evaluate(&r); d.SIMID != 0 {
			dec.SIMID, dec.TenantID, dec.Group = d.SIMID, d.TenantID, d.Group
		}
		attrs["rule"] = dec.Rule
	} else {
		dec = s.decide(c, &r, attrs)
	}
	if plmnOK && dec.Allow {
		attrs["hss"] = s.cfg.HSS.Host
		s.relayToHSS(c, m, nil)
		s.m.requests.WithLabelValues("ULR", "allowed").Inc()
		s.m.seconds.WithLabelValues("ULR").Observe(s.now().Sub(start).Seconds())
		s.emit(EventULR, "allow", dec.Reason, dec.SIMID, eventTenant(c, dec), attrs)
		return
	}
	res := ulrResultFor(dec.Reason)
	var a *wire.Message
	if res.experimental {
		a = s.experimentalAnswer(m, res.code)
	} else {
		a = s.answer(m, res.code)
		a.Add(wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1))
	}
	c.reply(a)
	name := resultName(res.code)
	attrs["result"] = name
	s.m.requests.WithLabelValues("ULR", name).Inc()
	s.m.seconds.WithLabelValues("ULR").Observe(s.now().Sub(start).Seconds())
	s.emit(EventULR, "deny", dec.Reason, dec.SIMID, eventTenant(c, dec), attrs)
}

// experimentalAnswer answers req with Experimental-Result 10415/code
// (and no Result-Code, TS 29.272 §7.4).
func (s *Server) experimentalAnswer(req *wire.Message, code uint32) *wire.Message {
	a := s.answer(req, 0)
	a.AVPs = a.AVPs[:0]
	if sid := req.Find(wire.AVPSessionID, 0); sid != nil {
		a.Add(wire.NewBytes(wire.AVPSessionID, 0, wire.AVPMandatory, append([]byte(nil), sid.Data...)))
	}
	a.Add(wire.NewGroup(wire.AVPExperimentalResult, 0, wire.AVPMandatory,
		wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, wire.Vendor3GPP),
		wire.NewUint32(wire.AVPExperimentalResultCode, 0, wire.AVPMandatory, code)))
	a.Add(s.originAVPs()...)
	a.Add(wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1))
	return a
}

// ownsSIM reports whether a peer of tenant may exchange S6a messages about
// the SIM req's User-Name names: the provider's peers about every SIM
// (and requests without a User-Name), a tenant's peers only about that
// tenant's known SIMs.
func (s *Server) ownsSIM(tenant int64, req *wire.Message) bool {
	if tenant == simguard.ProviderTenantID {
		return true
	}
	un := req.Find(wire.AVPUserName, 0)
	if un == nil {
		return false
	}
	d := s.eval.Evaluate(&simguard.Request{Kind: simguard.KindAttach, Time: s.now(), IMSI: string(un.Data)})
	return d.SIMID != 0 && d.TenantID == tenant
}
