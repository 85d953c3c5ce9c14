package diameter

import (
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

var equipmentNames = [...]string{"whitelisted", "blacklisted", "greylisted"}

// handleECR answers an ME-Identity-Check (TS 29.272 §6.2): the policy
// decides (simguard.KindIMEICheck) and the answer says WHITELISTED when
// it allows, GREYLISTED when it allows a watched device, BLACKLISTED when
// it denies; an IMSI no SIM has gets unknown_sim.
func (s *Server) handleECR(c *conn, m *wire.Message) {
	if s.refuseRepeated(c, m, keyUserName, keyTerminalInfo) {
		return
	}
	start := s.now()
	imei, sv := terminal(m)
	r := simguard.Request{Kind: simguard.KindIMEICheck, Time: start, IMEI: imei}
	if len(imei) == 14 && len(sv) == 2 {
		r.IMEI = imei + sv // an IMEISV: the lock compares the 14 digits either way
	}
	if a := m.Find(wire.AVPUserName, 0); a != nil {
		r.IMSI = string(a.Data)
	}
	attrs := baseAttrs(c, &r)
	if sv != "" {
		attrs["software_version"] = sv
	}
	if imei == "" {
		// The IMEI is mandatory in an ECR (TS 29.272 §6.2.1).
		s.count(m, "missing_avp")
		c.reply(s.errorAnswer(m, wire.ResultMissingAVP, "Terminal-Information with IMEI is required",
			&wire.AVP{Code: wire.AVPTerminalInformation, Flags: wire.AVPVendor | wire.AVPMandatory, Vendor: wire.Vendor3GPP}))
		return
	}
	dec := s.decide(c, &r, attrs)
	status := wire.EquipmentBlacklisted
	switch {
	case dec.Allow && dec.DeviceWatch:
		status = wire.EquipmentGreylisted
	case dec.Allow:
		status = wire.EquipmentWhitelisted
	case dec.Reason == simguard.ReasonSIMUnknown:
		status = s.unknownSIM
	}
	attrs["equipment_status"] = equipmentNames[status]
	a := s.answer(m, wire.ResultSuccess,
		wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1), // NO_STATE_MAINTAINED
		wire.NewUint32(wire.AVPEquipmentStatus, wire.Vendor3GPP, wire.AVPMandatory, status))
	c.reply(a)
	s.m.requests.WithLabelValues("ECR", equipmentNames[status]).Inc()
	s.m.seconds.WithLabelValues("ECR").Observe(s.now().Sub(start).Seconds())
	s.emit(EventECR, decisionWord(dec.Allow), dec.Reason, dec.SIMID, eventTenant(c, dec), attrs)
}

// eventTenant: the SIM's tenant when known, else the peer's.
func eventTenant(c *conn, dec simguard.Decision) int64 {
	if dec.TenantID != 0 {
		return dec.TenantID
	}
	return c.tenant()
}
