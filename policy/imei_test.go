package policy

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
)

const (
	boundIMEI = "35332509123456" // 14 digits
	otherIMEI = "35209900176148"
)

func TestIMEILock(t *testing.T) {
	explicit := func(s *simguard.SIM) {
		s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: boundIMEI}
	}
	learnUnbound := func(s *simguard.SIM) { s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn} }
	learnBound := func(s *simguard.SIM) {
		s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn, IMEI: boundIMEI, BoundAt: tp(t0.Add(-48 * time.Hour))}
	}
	mismatched := func(s *simguard.SIM) {
		learnBound(s)
		s.IMEILock.MismatchIMEI, s.IMEILock.MismatchAt = otherIMEI, tp(t0.Add(-time.Hour))
	}
	repair := func(until time.Time) func(*simguard.SIM) {
		return func(s *simguard.SIM) {
			explicit(s)
			s.IMEILock.RepairUntil = tp(until)
		}
	}
	imei := func(v string) func(*simguard.Request) { return func(r *simguard.Request) { r.IMEI = v } }
	learns := func(want bool) func(*testing.T, simguard.Decision) {
		return func(t *testing.T, d simguard.Decision) {
			if d.LearnIMEI != want {
				t.Errorf("LearnIMEI = %v, want %v", d.LearnIMEI, want)
			}
		}
	}
	attach, check := simguard.KindAttach, simguard.KindIMEICheck
	mo, mt, flow := simguard.KindSMSMO, simguard.KindSMSMT, simguard.KindFlow
	runCases(t, []ruleCase{
		{name: "no lock ignores IMEI", req: imei(otherIMEI), rule: "group:g", check: learns(false)},
		{name: "no lock ignores malformed IMEI", req: imei("12"), rule: "group:g"},
		{name: "explicit: same 14 digits", sim: explicit, req: imei(boundIMEI), rule: "group:g", check: learns(false)},
		{name: "explicit: same IMEI with check digit", sim: explicit, req: imei(imei15(boundIMEI)), rule: "group:g"},
		{name: "explicit: same IMEISV", sim: explicit, req: imei(boundIMEI + "07"), rule: "group:g"},
		{name: "explicit: other device", sim: explicit, req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "explicit: wrong check digit", sim: explicit, req: imei(boundIMEI + "0"), reason: simguard.ReasonBadRequest, rule: "sim:imei_lock"},
		{name: "explicit: letters", sim: explicit, req: imei("3533250912345x"), reason: simguard.ReasonBadRequest, rule: "sim:imei_lock"},
		{name: "explicit: 13 digits", sim: explicit, req: imei("3533250912345"), reason: simguard.ReasonBadRequest, rule: "sim:imei_lock"},
		{name: "explicit: data without IMEI", sim: explicit, reason: simguard.ReasonIMEIMissing, rule: "sim:imei_lock"},
		{name: "explicit: attach without IMEI", kind: attach, sim: explicit, reason: simguard.ReasonIMEIMissing, rule: "sim:imei_lock"},
		{name: "explicit: imei_check other device", kind: check, sim: explicit, req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "explicit: imei_check bound device", kind: check, sim: explicit, req: imei(boundIMEI), rule: "group:g"},
		{name: "explicit: sms without IMEI follows the lock", kind: mo, sim: explicit, rule: "group:g"},
		{name: "explicit: flow without IMEI passes", kind: flow, sim: explicit, rule: "group:g"},
		{name: "learn unbound: first device is learned", sim: learnUnbound, req: imei(otherIMEI), rule: "group:g", check: learns(true)},
		{name: "learn unbound: imei_check learns", kind: check, sim: learnUnbound, req: imei(otherIMEI), rule: "group:g", check: learns(true)},
		{name: "learn unbound: no IMEI passes", sim: learnUnbound, rule: "group:g", check: learns(false)},
		{name: "learn unbound: malformed IMEI", sim: learnUnbound, req: imei("1234"), reason: simguard.ReasonBadRequest, rule: "sim:imei_lock"},
		{name: "learn bound: same device", sim: learnBound, req: imei(boundIMEI), rule: "group:g", check: learns(false)},
		{name: "learn bound: other device", sim: learnBound, req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock", check: learns(false)},
		{name: "learn bound: no IMEI", sim: learnBound, reason: simguard.ReasonIMEIMissing, rule: "sim:imei_lock"},
		{name: "mismatch recorded: sms_mo denied", kind: mo, sim: mismatched, reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "mismatch recorded: sms_mt denied", kind: mt, sim: mismatched, reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "mismatch recorded: flow passes", kind: flow, sim: mismatched, rule: "group:g"},
		{name: "mismatch recorded: bound device is back", sim: mismatched, req: imei(boundIMEI), rule: "group:g"},
		{name: "mismatch before re-binding is old news", kind: mo, sim: func(s *simguard.SIM) {
			mismatched(s)
			s.IMEILock.BoundAt = tp(t0.Add(-time.Minute))
		}, rule: "group:g"},
		{name: "repair window open: other device is learned", sim: repair(t0.Add(time.Minute)), req: imei(otherIMEI), rule: "group:g", check: learns(true)},
		{name: "repair window open: bound device is not re-learned", sim: repair(t0.Add(time.Minute)), req: imei(boundIMEI), rule: "group:g", check: learns(false)},
		{name: "repair window ends exactly now", sim: repair(t0), req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "repair window closed", sim: repair(t0.Add(-time.Minute)), req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
		{name: "repair window does not excuse a missing IMEI", sim: repair(t0.Add(time.Minute)), reason: simguard.ReasonIMEIMissing, rule: "sim:imei_lock"},
		{name: "learned IMEI is not kept after a later denial", sim: learnUnbound, policy: func(p *simguard.Policy) { p.APNs = []string{"x"} }, req: imei(otherIMEI), reason: simguard.ReasonAPNDenied, rule: "group:g/apns", check: learns(false)},
	})
}

func TestDeviceTACs(t *testing.T) {
	tacs := func(p *simguard.Policy) { p.DeviceTACs = []string{"35332509", "86"} }
	imei := func(v string) func(*simguard.Request) { return func(r *simguard.Request) { r.IMEI = v } }
	runCases(t, []ruleCase{
		{name: "full TAC matches", policy: tacs, req: imei(boundIMEI), rule: "group:g"},
		{name: "short prefix matches", policy: tacs, req: imei("86000000000001"), rule: "group:g"},
		{name: "IMEISV matches", policy: tacs, req: imei("8600000000000107"), rule: "group:g"},
		{name: "other model", policy: tacs, req: imei(otherIMEI), reason: simguard.ReasonDeviceModelDenied, rule: "group:g/device_tacs"},
		{name: "next prefix is no match", policy: tacs, req: imei("87000000000000"), reason: simguard.ReasonDeviceModelDenied, rule: "group:g/device_tacs"},
		{name: "last IMEI of a prefix", policy: tacs, req: imei("86999999999999"), rule: "group:g"},
		{name: "prefix is not a substring", policy: tacs, req: imei("08600000000001"), reason: simguard.ReasonDeviceModelDenied, rule: "group:g/device_tacs"},
		{name: "leading zero TAC", policy: func(p *simguard.Policy) { p.DeviceTACs = []string{"0123"} }, req: imei("01234500000001"), rule: "group:g"},
		{name: "data without IMEI", policy: tacs, reason: simguard.ReasonIMEIMissing, rule: "group:g/device_tacs"},
		{name: "attach without IMEI", kind: simguard.KindAttach, policy: tacs, reason: simguard.ReasonIMEIMissing, rule: "group:g/device_tacs"},
		{name: "imei_check other model", kind: simguard.KindIMEICheck, policy: tacs, req: imei(otherIMEI), reason: simguard.ReasonDeviceModelDenied, rule: "group:g/device_tacs"},
		{name: "sms without IMEI skips", kind: simguard.KindSMSMT, policy: tacs, rule: "group:g"},
		{name: "flow without IMEI skips", kind: simguard.KindFlow, policy: tacs, rule: "group:g"},
		{name: "malformed IMEI", policy: tacs, req: imei("86x"), reason: simguard.ReasonBadRequest, rule: "group:g/device_tacs"},
		{name: "lock checked before model", policy: tacs, sim: func(s *simguard.SIM) {
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: boundIMEI}
		}, req: imei(otherIMEI), reason: simguard.ReasonIMEIMismatch, rule: "sim:imei_lock"},
	})
}

// TestParseIMEIAgreesWithNormalize keeps the allocation-free parser in
// step with the root package's definition of an IMEI.
func TestParseIMEIAgreesWithNormalize(t *testing.T) {
	for _, s := range []string{
		"", "1", boundIMEI, imei15(boundIMEI), boundIMEI + "0", boundIMEI + "99", boundIMEI + "999",
		"3533250912345a", "+3533250912345", "00000000000000", imei15("00000000000000"), "99999999999999999",
	} {
		v, ok := parseIMEI(s)
		n, err := simguard.NormalizeIMEI(s)
		if ok != (err == nil) || ok && imeiString(v) != n {
			t.Errorf("parseIMEI(%q) = %d, %v; NormalizeIMEI = %q, %v", s, v, ok, n, err)
		}
	}
}
