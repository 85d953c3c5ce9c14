package policy

import (
	"fmt"

	"github.com/simguard/simguard"
)

// Rules of checks that are about the request or the SIM, not a group.
const (
	ruleRequest      = "request"
	ruleIdentity     = "sim:identity"
	ruleState        = "sim:state"
	ruleActiveUntil  = "sim:active_until"
	ruleActiveFrom   = "sim:active_from"
	ruleIMEILock     = "sim:imei_lock"
	ruleGroupMissing = "sim:group_missing"
)

// Evaluate decides r. It allocates nothing and never blocks.
func (s *Snapshot) Evaluate(r *simguard.Request) simguard.Decision {
	return s.eval(r, nil)
}

// Explain decides r exactly as Evaluate does and says why, step by step.
func (s *Snapshot) Explain(r *simguard.Request) simguard.Explanation {
	tr := &tracer{}
	d := s.eval(r, tr)
	return simguard.Explanation{Decision: d, Steps: tr.steps}
}

// evaluation is one decision in progress. The rules exist once, here and
// in checks.go; tr is nil on the hot path, and every detail string is
// built only behind an "if e.tr != nil", so Evaluate does not allocate.
type evaluation struct {
	s  *Snapshot
	r  *simguard.Request
	tr *tracer
	d  simguard.Decision

	t     int64 // request time
	rec   *simRec
	g     *compiledGroup
	svcs  uint8 // the services that count for this request
	until int64 // when the answer stops being true
	learn bool
	alert bool
	watch bool // the device is on a watch list

	imeiDone bool // the request IMEI has been parsed into imei / imeiOK
	imeiOK   bool
	imei     uint64
}

func (s *Snapshot) eval(r *simguard.Request, tr *tracer) simguard.Decision {
	e := evaluation{s: s, r: r, tr: tr, until: noEnd}
	if e.request() && e.identify() && e.deviceListCheck() && e.state() && e.activeUntil() &&
		e.service() && e.windows() && e.imeiLock() && e.deviceTACs() &&
		e.location() && e.rats() && e.apns() && e.quota() && e.sms() && e.flow() {
		e.d.Allow = true
		e.d.Reason = simguard.ReasonAllowed
		e.d.Rule = e.g.allow
		e.d.ValidUntil = timeOf(e.until)
		e.d.LearnIMEI = e.learn
		e.d.QuotaAlert = e.alert
		e.d.DeviceWatch = e.watch
	}
	return e.d
}

// deny records the decision and stops the evaluation (it returns false).
func (e *evaluation) deny(reason simguard.Reason, rule string) bool {
	e.d.Reason, e.d.Rule = reason, rule
	return false
}

func (e *evaluation) pass(check, detail string) bool {
	if e.tr != nil {
		e.tr.add(check, resultPass, detail)
	}
	return true
}

func (e *evaluation) skip(check, detail string) bool {
	if e.tr != nil {
		e.tr.add(check, resultSkip, detail)
	}
	return true
}

// skipKind skips a check that the request's kind does not take part in.
func (e *evaluation) skipKind(check, why string) bool {
	if e.tr != nil {
		e.tr.add(check, resultSkip, e.kind().String()+why)
	}
	return true
}

func (e *evaluation) fail(check, detail string) {
	if e.tr != nil {
		e.tr.add(check, resultFail, detail)
	}
}

func (e *evaluation) kind() simguard.RequestKind { return e.r.Kind }

// request checks what every request needs, and what its kind needs.
func (e *evaluation) request() bool {
	r := e.r
	var why string
	switch {
	case r.Time.IsZero():
		why = "the request has no time"
	case r.Kind < simguard.KindDataSession || r.Kind > simguard.KindFlow:
		why = "the request kind is unknown"
	case r.Kind == simguard.KindIMEICheck && r.IMEI == "":
		why = "an imei_check request needs an IMEI"
	case r.Kind == simguard.KindFlow && !r.Flow.Remote.IsValid():
		why = "a flow request needs the remote address"
	}
	if why != "" {
		e.fail("request", why)
		return e.deny(simguard.ReasonBadRequest, ruleRequest)
	}
	e.t = nsOf(r.Time)
	if e.tr != nil {
		e.tr.add("request", resultPass, fmt.Sprintf("%s at %s", r.Kind, fmtNS(e.t)))
	}
	return true
}

// identify finds the SIM by IMSI, else MSISDN, else IP, and fills in what
// every decision about a known SIM carries.
func (e *evaluation) identify() bool {
	r := e.r
	switch {
	case r.IMSI != "":
		if v, valid := parseIMSI(r.IMSI); valid {
			e.rec = e.s.findIMSI(v)
		}
	case r.MSISDN != "":
		if v, valid := parseMSISDN(r.MSISDN); valid {
			e.rec = e.s.findMSISDN(v)
		}
	case r.IP.IsValid():
		e.rec = e.s.findIP(ipKey(r.IP))
	}
	if e.rec == nil {
		if e.tr != nil {
			e.tr.add("identity", resultFail, "no SIM with "+identityText(r))
		}
		return e.deny(simguard.ReasonSIMUnknown, ruleIdentity)
	}
	slot := &e.s.groups.slots[e.rec.group]
	e.g = slot.g
	e.d.SIMID, e.d.TenantID, e.d.Group = e.rec.id, slot.tenant, slot.name
	e.d.StaticIP = e.rec.staticIP()
	if e.g != nil && (r.Kind == simguard.KindSMSMO || r.Kind == simguard.KindSMSMT) {
		e.d.SMSPerMinute, e.d.SMSSourcePerMinute = e.g.perMinute, e.g.sourcePerMinute
	}
	if e.tr != nil {
		e.tr.add("identity", resultPass, fmt.Sprintf("SIM %d (IMSI %s) found by %s, group %q", e.rec.id, imsiString(e.rec.imsi), identityText(r), slot.name))
	}
	return true
}

func (e *evaluation) state() bool {
	var reason simguard.Reason
	switch e.rec.state {
	case stActive:
		return e.pass("state", "active")
	case stInventory:
		reason = simguard.ReasonSIMInactive
	case stSuspended:
		reason = simguard.ReasonSIMSuspended
	default:
		reason = simguard.ReasonSIMTerminated
	}
	if e.tr != nil {
		e.tr.add("state", resultFail, "the SIM is "+string(stateName(e.rec.state)))
	}
	return e.deny(reason, ruleState)
}

func (e *evaluation) activeUntil() bool {
	if af := e.rec.activeFrom; af != noStart && e.t < af {
		if e.tr != nil {
			e.tr.add("active_from", resultFail, "the activation starts at "+fmtNS(af))
		}
		return e.deny(simguard.ReasonOutsideWindow, ruleActiveFrom)
	}
	au := e.rec.activeUntil
	if au == noEnd {
		return e.skip("active_until", "no time-limited activation")
	}
	if e.t >= au {
		if e.tr != nil {
			e.tr.add("active_until", resultFail, "the activation ended at "+fmtNS(au))
		}
		return e.deny(simguard.ReasonOutsideWindow, ruleActiveUntil)
	}
	e.until = au
	if e.tr != nil {
		e.tr.add("active_until", resultPass, "activated until "+fmtNS(au))
	}
	return true
}

// service checks that the group enables what the request kind uses.
func (e *evaluation) service() bool {
	const check = "services"
	if e.g == nil {
		e.fail(check, "the SIM's group is not in the policy")
		return e.deny(simguard.ReasonServiceDisabled, ruleGroupMissing)
	}
	var need uint8
	switch e.kind() {
	case simguard.KindDataSession, simguard.KindFlow:
		need = svcData
	case simguard.KindSMSMO:
		need = svcMO
	case simguard.KindSMSMT:
		need = svcMT
	case simguard.KindAttach:
		need = svcAll
	default:
		return e.skip(check, "imei_check needs no service")
	}
	e.svcs = e.g.services & need
	if e.svcs == 0 {
		if e.tr != nil {
			e.tr.add(check, resultFail, fmt.Sprintf("%s is not enabled; the group enables %s", svcText(need), svcText(e.g.services)))
		}
		return e.deny(simguard.ReasonServiceDisabled, e.g.rules[chkServices])
	}
	if e.tr != nil {
		e.tr.add(check, resultPass, svcText(e.svcs)+" enabled")
	}
	return true
}

func (e *evaluation) windows() bool {
	const check = "windows"
	if e.svcs == 0 {
		return e.skip(check, "no service to check")
	}
	on, end := e.g.servicesOn(e.svcs, e.t)
	if !on {
		if e.tr != nil {
			e.tr.add(check, resultFail, "outside every activation window of "+svcText(e.svcs))
		}
		return e.deny(simguard.ReasonOutsideWindow, e.g.rules[chkWindows])
	}
	e.until = min(e.until, end)
	if e.tr != nil {
		if end == noEnd {
			e.tr.add(check, resultPass, svcText(e.svcs)+" on, without end")
		} else {
			e.tr.add(check, resultPass, "inside a window until "+fmtNS(end))
		}
	}
	return true
}
