package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/simguard/simguard"
)

// requestIMEI parses the request's IMEI once: ok is false when it is
// malformed (see parseIMEI).
func (e *evaluation) requestIMEI() (uint64, bool) {
	if !e.imeiDone {
		e.imei, e.imeiOK = parseIMEI(e.r.IMEI)
		e.imeiDone = true
	}
	return e.imei, e.imeiOK
}

// needsIMEI: kinds whose protocol carries the IMEI, so that a missing one
// means the check cannot be made.
func (e *evaluation) needsIMEI() bool {
	switch e.kind() {
	case simguard.KindDataSession, simguard.KindAttach, simguard.KindIMEICheck:
		return true
	}
	return false
}

func (e *evaluation) imeiLock() bool {
	const check = "imei_lock"
	rec := e.rec
	if rec.lockMode == lockOff {
		return e.skip(check, "no IMEI lock")
	}
	bound := rec.flags&flagBound != 0
	if e.r.IMEI == "" {
		switch {
		case !bound:
			return e.pass(check, "learn lock still unbound, nothing to compare")
		case e.needsIMEI():
			e.fail(check, "the request carries no IMEI to check the lock with")
			return e.deny(simguard.ReasonIMEIMissing, ruleIMEILock)
		case e.kind() == simguard.KindFlow:
			return e.skip(check, "flows carry no IMEI; the session was checked")
		case rec.flags&flagMismatch != 0:
			e.fail(check, "the lock recorded another device than the bound one")
			return e.deny(simguard.ReasonIMEIMismatch, ruleIMEILock)
		}
		return e.pass(check, "the lock recorded no other device")
	}
	v, ok := e.requestIMEI()
	switch {
	case !ok:
		if e.tr != nil {
			e.tr.add(check, resultFail, fmt.Sprintf("IMEI %q is malformed", clip(e.r.IMEI)))
		}
		return e.deny(simguard.ReasonBadRequest, ruleIMEILock)
	case !bound:
		e.learn = true
		if e.tr != nil {
			e.tr.add(check, resultPass, "learn lock unbound: IMEI "+imeiString(v)+" is to be bound")
		}
		return true
	case v == rec.imei:
		if e.tr != nil {
			e.tr.add(check, resultPass, "IMEI "+imeiString(v)+" is the bound one")
		}
		return true
	case e.t < rec.repairUntil:
		e.learn = true
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("IMEI %s is not the bound %s, but re-pairing is open until %s", imeiString(v), imeiString(rec.imei), fmtNS(rec.repairUntil)))
		}
		return true
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("IMEI %s is not the bound %s", imeiString(v), imeiString(rec.imei)))
	}
	return e.deny(simguard.ReasonIMEIMismatch, ruleIMEILock)
}

func (e *evaluation) deviceTACs() bool {
	check := chkDeviceTACs.String()
	g := e.g
	if len(g.tacs) == 0 {
		return e.skip(check, "no device model restriction")
	}
	if e.r.IMEI == "" {
		if !e.needsIMEI() {
			return e.skipKind(check, " requests carry no IMEI")
		}
		e.fail(check, "the request carries no IMEI to check the device model with")
		return e.deny(simguard.ReasonIMEIMissing, g.rules[chkDeviceTACs])
	}
	v, ok := e.requestIMEI()
	if !ok {
		if e.tr != nil {
			e.tr.add(check, resultFail, fmt.Sprintf("IMEI %q is malformed", clip(e.r.IMEI)))
		}
		return e.deny(simguard.ReasonBadRequest, g.rules[chkDeviceTACs])
	}
	for i := range g.tacs {
		if v >= g.tacs[i].lo && v < g.tacs[i].hi {
			if e.tr != nil {
				e.tr.add(check, resultPass, fmt.Sprintf("IMEI %s starts with %s", imeiString(v), g.tacs[i].text))
			}
			return true
		}
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("IMEI %s starts with none of %s", imeiString(v), strings.Join(g.src.Policy.DeviceTACs, ", ")))
	}
	return e.deny(simguard.ReasonDeviceModelDenied, g.rules[chkDeviceTACs])
}

// hasLocation: only sessions and attaches report where the device is.
func (e *evaluation) hasLocation() bool {
	k := e.kind()
	return k == simguard.KindDataSession || k == simguard.KindAttach
}

func (e *evaluation) location() bool {
	g, loc := e.g, &e.r.Location
	if !e.hasLocation() {
		return e.skipKind("location", " requests carry no location")
	}
	pk := loc.PLMN.Key()
	if len(g.plmns) > 0 {
		const check = "location.plmns"
		if loc.PLMN.IsZero() {
			e.fail(check, "location not reported")
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkPLMNs])
		}
		if !slices.Contains(g.plmns, pk) {
			if e.tr != nil {
				e.tr.add(check, resultFail, fmt.Sprintf("network %s is not among %s", loc.PLMN, strings.Join(g.src.Policy.Location.PLMNs, ", ")))
			}
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkPLMNs])
		}
		if e.tr != nil {
			e.tr.add(check, resultPass, "network "+loc.PLMN.String()+" allowed")
		}
	}
	if len(g.areas) > 0 {
		const check = "location.areas"
		if !loc.HasArea || loc.PLMN.IsZero() {
			e.fail(check, "area not reported")
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkAreas])
		}
		if !slices.Contains(g.areas, uint64(pk)<<32|uint64(loc.Area)) {
			if e.tr != nil {
				e.tr.add(check, resultFail, fmt.Sprintf("area %s-%d is not among %s", loc.PLMN, loc.Area, strings.Join(g.src.Policy.Location.Areas, ", ")))
			}
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkAreas])
		}
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("area %s-%d allowed", loc.PLMN, loc.Area))
		}
	}
	if len(g.cells) > 0 {
		const check = "location.cells"
		if !loc.HasCell || loc.PLMN.IsZero() {
			e.fail(check, "cell not reported")
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkCells])
		}
		if !slices.Contains(g.cells, cellKey{pk, loc.Cell}) {
			if e.tr != nil {
				e.tr.add(check, resultFail, fmt.Sprintf("cell %s is not among %s", cellText(loc), strings.Join(g.src.Policy.Location.Cells, ", ")))
			}
			return e.deny(simguard.ReasonLocationDenied, g.rules[chkCells])
		}
		if e.tr != nil {
			e.tr.add(check, resultPass, "cell "+cellText(loc)+" allowed")
		}
	}
	if len(g.plmns)+len(g.areas)+len(g.cells) == 0 {
		return e.skip("location", "no location restriction")
	}
	return true
}

func (e *evaluation) rats() bool {
	check := chkRATs.String()
	g := e.g
	if !e.hasLocation() {
		return e.skipKind(check, " requests carry no radio type")
	}
	if g.rats == 0 {
		return e.skip(check, "no radio type restriction")
	}
	if ratBit(e.r.RAT)&g.rats == 0 {
		if e.tr != nil {
			e.tr.add(check, resultFail, fmt.Sprintf("radio type %q is not among %s", clip(string(e.r.RAT)), ratsText(g.src.Policy.RATs)))
		}
		return e.deny(simguard.ReasonRATDenied, g.rules[chkRATs])
	}
	if e.tr != nil {
		e.tr.add(check, resultPass, "radio type "+string(e.r.RAT)+" allowed")
	}
	return true
}

func (e *evaluation) apns() bool {
	check := chkAPNs.String()
	g := e.g
	if e.kind() != simguard.KindDataSession {
		return e.skipKind(check, " requests carry no APN")
	}
	if len(g.apns) == 0 {
		return e.skip(check, "no APN restriction")
	}
	for _, a := range g.apns {
		if strings.EqualFold(e.r.APN, a) {
			if e.tr != nil {
				e.tr.add(check, resultPass, "APN "+a+" allowed")
			}
			return true
		}
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("APN %q is not among %s", clip(e.r.APN), strings.Join(g.apns, ", ")))
	}
	return e.deny(simguard.ReasonAPNDenied, g.rules[chkAPNs])
}

// quota checks the data quota for sessions, attaches and flows (a flow
// uses data like the session it belongs to, and the gateway's ServiceOn
// agrees), the SMS quota for messages.
func (e *evaluation) quota() bool {
	check := chkQuotas.String()
	var sms bool
	switch e.kind() {
	case simguard.KindSMSMO, simguard.KindSMSMT:
		sms = true
	case simguard.KindIMEICheck:
		return e.skip(check, "imei_check uses no quota")
	}
	exhausted, used, limit, end := e.g.quotaExhausted(e.rec, sms, e.t)
	what := "data bytes"
	if sms {
		what = "messages"
	}
	switch {
	case limit <= 0:
		if e.tr != nil {
			e.tr.add(check, resultSkip, "no quota on "+what)
		}
		return true
	case !exhausted:
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("%d of %d %s used in this period", e.usedNow(sms, used), limit, what))
		}
		return true
	case e.g.quotaAlert:
		e.alert = true
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("%d of %d %s used until %s; the group alerts instead of blocking", used, limit, what, fmtNS(end)))
		}
		return true
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("%d of %d %s used until %s", used, limit, what, fmtNS(end)))
	}
	return e.deny(simguard.ReasonQuotaExceeded, e.g.rules[chkQuotas])
}

// usedNow is the usage that counts at t: none when it is from another
// period.
func (e *evaluation) usedNow(sms bool, used int64) int64 {
	if cur, _ := e.g.quotaPeriod(e.rec, e.t); !cur {
		return 0
	}
	return used
}
