package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// TestEvaluateDoesNotAllocate covers every request kind on allow and deny
// paths, with a policy that exercises every check.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	p := basePolicy()
	p.Windows = []simguard.Window{{Daily: "06:00-22:00"}, {Services: []simguard.Service{simguard.ServiceSMSMT}, From: tp(t0.Add(-time.Hour))}}
	p.DeviceTACs = []string{"352099", "8600"}
	p.Location = simguard.LocationLock{PLMNs: []string{"262-01"}, Areas: []string{"262-01-4711"}, Cells: []string{"262-01-257"}}
	p.RATs = []simguard.RAT{simguard.RAT4G}
	p.APNs = []string{"meters.example"}
	p.Quotas = simguard.Quotas{DataBytes: 1 << 30, SMSCount: 100, OnExhaustion: "alert"}
	p.SMS.MT = simguard.SMSPeers{Allow: []string{"49"}, Deny: []string{"4915"}}
	p.SMS.MO = simguard.SMSPeers{Allow: []string{"49"}}
	p.SMS.Binary = simguard.BinarySMS{Allow: true, Sources: []string{"4930"}}

	sim := baseSIM()
	sim.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: "35209900176148", RepairUntil: tp(t0.Add(time.Minute))}
	sim.ActiveUntil = tp(t0.Add(48 * time.Hour))
	sim.Usage = simguard.Usage{PeriodStart: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), DataBytes: 2 << 30, SMSCount: 5}
	learn := testSIM(8)
	learn.IMEILock.Mode = simguard.IMEILockLearn
	s := mustCompile(t, []simguard.Group{testGroup("g", p)}, []simguard.SIM{sim, learn})

	good := simguard.Request{
		Time: t0, IMSI: sim.IMSI, IMEI: imei15("35209900176148"), RAT: simguard.RAT4G, APN: "Meters.Example",
		Location: simguard.Location{PLMN: simguard.PLMN{MCC: 262, MNC: 1}, Area: 4711, HasArea: true, Cell: 257, HasCell: true},
		Peer:     "+4930123",
	}
	type variant struct {
		name  string
		allow bool
		mod   func(*simguard.Request)
	}
	variants := []variant{
		{"allow", true, func(*simguard.Request) {}},
		{"unknown sim", false, func(r *simguard.Request) { r.IMSI = "999999999999999" }},
		{"by msisdn", true, func(r *simguard.Request) { r.IMSI, r.MSISDN = "", "+"+sim.MSISDN }},
		{"by ip", true, func(r *simguard.Request) { r.IMSI, r.IP = "", sim.StaticIP }},
		{"repair window", true, func(r *simguard.Request) { r.IMEI = "3520990017615012" }},
		{"mismatch", false, func(r *simguard.Request) { r.IMEI, r.Time = "3520990017615012", t0.Add(time.Hour) }},
		{"malformed imei", false, func(r *simguard.Request) { r.IMEI = "35209900176149" + "x" }},
		{"outside window", false, func(r *simguard.Request) { r.Time = t0.Add(13 * time.Hour) }},
		{"bad peer", false, func(r *simguard.Request) { r.Peer = "+4915" }},
		{"learn", true, func(r *simguard.Request) { r.IMSI = learn.IMSI }},
		{"bad time", false, func(r *simguard.Request) { r.Time = time.Time{} }},
	}
	build := func(k simguard.RequestKind, v variant) simguard.Request {
		r := good
		r.Kind = k
		if k == simguard.KindFlow {
			r.Flow = simguard.Flow{Remote: netip.MustParseAddr("203.0.113.1"), Proto: 6, Port: 443}
		}
		if k == simguard.KindSMSMT || k == simguard.KindSMSMO {
			r.IMEI = ""
		}
		v.mod(&r)
		return r
	}
	for _, k := range allKinds {
		for _, v := range variants {
			r := build(k, v)
			d := s.Evaluate(&r)
			if n := testing.AllocsPerRun(100, func() { d = s.Evaluate(&r) }); n != 0 {
				t.Errorf("%s %s: %v allocations per Evaluate, want 0 (%+v)", k, v.name, n, d)
			}
			t.Logf("%s %s: %v %s %s", k, v.name, d.Allow, d.Reason, d.Rule)
		}
	}
	// Both outcomes must have been exercised for every kind.
	for _, k := range allKinds {
		seen := map[bool]bool{}
		for _, v := range variants {
			r := build(k, v)
			seen[s.Evaluate(&r).Allow] = true
		}
		if !seen[true] || !seen[false] {
			t.Errorf("%s: allow and deny not both covered: %v", k, seen)
		}
	}
}
