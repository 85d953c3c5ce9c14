package diameter

import (
	"context"
	"fmt"
	"strconv"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// terminal reads Terminal-Information: the IMEI (14 or 15 digits) and
// the Software-Version (2 digits). With both, the IMEISV is IMEI[:14]+SV.
func terminal(m *wire.Message) (imei, sv string) {
	ti := m.Find(wire.AVPTerminalInformation, wire.Vendor3GPP)
	if ti == nil {
		return "", ""
	}
	if a, ok := ti.Child(wire.AVPIMEI, wire.Vendor3GPP); ok {
		imei = string(a.Data)
	}
	if a, ok := ti.Child(wire.AVPSoftwareVersion, wire.Vendor3GPP); ok {
		sv = string(a.Data)
	}
	return imei, sv
}

// decide evaluates r for the peer on c and applies what the decision asks
// of an adapter: the peer's tenant may only ask about its own SIMs, a
// learn lock binds the IMEI, a mismatch is reported once a minute.
func (s *Server) decide(c *conn, r *simguard.Request, attrs map[string]string) simguard.Decision {
	dec := s.eval.Evaluate(r)
	if p := c.peer.Load(); dec.SIMID != 0 && p != nil && p.TenantID != simguard.ProviderTenantID && p.TenantID != dec.TenantID {
		// A tenant's own MME learns nothing about other tenants' SIMs.
		return simguard.Decision{Reason: simguard.ReasonSIMUnknown, Rule: "diameter:peer-tenant"}
	}
	source := "diameter:" + c.hostName()
	if dec.Allow && dec.LearnIMEI && r.IMEI != "" {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
		err := s.feedback.LearnIMEI(ctx, dec.SIMID, r.IMEI, source)
		cancel()
		switch {
		case err == nil:
			attrs["imei_learned"] = "true"
		case simguard.ErrorCode(err) == simguard.ECONFLICT:
			// Another device was bound first (a concurrent attach).
			dec = simguard.Decision{Reason: simguard.ReasonIMEIMismatch, Rule: "diameter:imei-learn-conflict",
				SIMID: dec.SIMID, TenantID: dec.TenantID, Group: dec.Group}
		default:
			s.log.Warn("diameter: learn IMEI", "sim", dec.SIMID, "err", err)
			attrs["imei_learn_failed"] = "true"
		}
	}
	if !dec.Allow && dec.Reason == simguard.ReasonIMEIMismatch && dec.SIMID != 0 && r.IMEI != "" &&
		s.mismatches.first(strconv.FormatInt(dec.SIMID, 10)+"/"+r.IMEI, s.now()) {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
		if err := s.feedback.ReportIMEIMismatch(ctx, dec.SIMID, r.IMEI, source); err != nil {
			s.log.Warn("diameter: report IMEI mismatch", "sim", dec.SIMID, "err", err)
		}
		cancel()
	}
	if dec.Rule != "" {
		attrs["rule"] = dec.Rule
	}
	if dec.Group != "" {
		attrs["group"] = dec.Group
	}
	return dec
}

func baseAttrs(c *conn, r *simguard.Request) map[string]string {
	m := make(map[string]string, 10)
	m["peer"] = c.hostName()
	if r.IMSI != "" {
		m["imsi"] = r.IMSI
	}
	if r.IMEI != "" {
		m["imei"] = r.IMEI
	}
	return m
}

func decisionWord(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

// avpKey names an AVP by code and vendor (0: no vendor).
type avpKey struct{ code, vendor uint32 }

// repeated returns the second occurrence of any of keys among m's
// top-level AVPs, nil when each occurs at most once. A request with two
// User-Names (or two Visited-PLMN-Ids) must not be decided on one and
// relayed with the other (the HSS may read the other).
func repeated(m *wire.Message, keys ...avpKey) *wire.AVP {
	var seen [4]bool
	for i := range m.AVPs {
		a := &m.AVPs[i]
		for k, key := range keys {
			if a.Code != key.code || (a.Flags&wire.AVPVendor != 0) != (key.vendor != 0) || (key.vendor != 0 && a.Vendor != key.vendor) {
				continue
			}
			if seen[k] {
				return a
			}
			seen[k] = true
		}
	}
	return nil
}

// refuseRepeated answers m with DIAMETER_AVP_OCCURS_TOO_MANY_TIMES (5009)
// when one of keys occurs twice; true means it did.
func (s *Server) refuseRepeated(c *conn, m *wire.Message, keys ...avpKey) bool {
	a := repeated(m, keys...)
	if a == nil {
		return false
	}
	s.count(m, "avp_occurs_too_many_times")
	c.reply(s.errorAnswer(m, wire.ResultAVPOccursTooManyTimes, fmt.Sprintf("AVP %d occurs more than once", a.Code), a))
	return true
}

var (
	keyUserName     = avpKey{wire.AVPUserName, 0}
	keyVisitedPLMN  = avpKey{wire.AVPVisitedPLMNID, wire.Vendor3GPP}
	keyTerminalInfo = avpKey{wire.AVPTerminalInformation, wire.Vendor3GPP}
)
