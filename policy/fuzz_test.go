package policy

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// fuzzSnapshot has a group that uses every check, a plain group, SIMs in
// every state and lock mode, and a SIM whose group is missing.
func fuzzSnapshot(t testing.TB) (*Snapshot, []simguard.SIM) {
	p := basePolicy()
	p.Windows = []simguard.Window{
		{Daily: "22:00-06:00", Services: []simguard.Service{simguard.ServiceSMSMT}},
		{From: tp(t0.Add(-24 * time.Hour)), Until: tp(t0.Add(24 * time.Hour)), Daily: "06:00-23:00"},
	}
	p.DeviceTACs = []string{"3533", "86"}
	p.Location = simguard.LocationLock{PLMNs: []string{"262-01", "310-260"}, Areas: []string{"262-01-1", "310-260-2"}, Cells: []string{"262-01-1-1", "310-260-7"}}
	p.RATs = []simguard.RAT{simguard.RAT4G, simguard.RATNBIoT}
	p.APNs = []string{"iot"}
	p.Quotas = simguard.Quotas{Period: "day", DataBytes: 100, SMSCount: 3, OnExhaustion: "alert"}
	p.SMS = simguard.SMSPolicy{MT: simguard.SMSPeers{Allow: []string{"49"}, Deny: []string{"4915"}}, MO: simguard.SMSPeers{Deny: []string{"900"}},
		Binary: simguard.BinarySMS{Allow: true, Sources: []string{"88"}}}
	groups := []simguard.Group{testGroup("g", p), testGroup("plain", basePolicy())}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var sims []simguard.SIM
	for i := int64(1); i <= 8; i++ {
		s := testSIM(i)
		s.StaticIP = netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		switch i {
		case 1:
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: boundIMEI, RepairUntil: tp(t0)}
		case 2:
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn}
			s.Group = "plain"
		case 3:
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn, IMEI: boundIMEI, BoundAt: tp(t0.Add(-time.Hour)), MismatchAt: tp(t0)}
			s.Usage = simguard.Usage{PeriodStart: day, DataBytes: 100, SMSCount: 3}
		case 4:
			s.State = simguard.SIMSuspended
		case 5:
			s.ActiveUntil = tp(t0.Add(time.Hour))
		case 6:
			s.Group = "missing"
		case 7:
			s.MSISDN = ""
			s.Group = "plain"
		}
		sims = append(sims, s)
	}
	return mustCompile(t, groups, sims), sims
}

func FuzzEvaluateExplainAgree(f *testing.F) {
	f.Add(uint8(1), int64(0), uint8(1), "", boundIMEI, uint16(262), uint16(1), false, uint32(1), uint64(simguard.CGICell(1, 1)), uint8(3), "4g", "IOT", "", []byte{203, 0, 113, 1}, uint8(6), uint16(443))
	f.Add(uint8(3), int64(13*time.Hour), uint8(3), "", "", uint16(310), uint16(260), true, uint32(2), uint64(7), uint8(0x1c), "nb-iot", "", "+8812", []byte{198, 51, 100, 1}, uint8(17), uint16(53))
	f.Add(uint8(6), int64(-time.Hour), uint8(101), "", "", uint16(0), uint16(0), false, uint32(0), uint64(0), uint8(0x10), "", "", "", []byte{198, 51, 100, 9}, uint8(17), uint16(5683))
	f.Add(uint8(5), int64(time.Minute), uint8(160), "+4917000000002", imei15(otherIMEI), uint16(1), uint16(1), false, uint32(0), uint64(0), uint8(0), "", "", "", []byte(nil), uint8(0), uint16(0))
	f.Add(uint8(2), int64(1<<62), uint8(210), "00101000000000x", "3533250912345612", uint16(999), uint16(999), true, uint32(1<<24), uint64(1<<63), uint8(0xff), "5g", "x", "4915", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}, uint8(58), uint16(0))
	s, sims := fuzzSnapshot(f)
	f.Fuzz(func(t *testing.T, kind uint8, dt int64, who uint8, id, imei string, mcc, mnc uint16, mnc3 bool,
		area uint32, cell uint64, flags uint8, rat, apn, peer string, remote []byte, proto uint8, port uint16) {
		r := simguard.Request{
			Kind: simguard.RequestKind(kind % 8), Time: t0.Add(time.Duration(dt)), IMEI: imei,
			Location: simguard.Location{PLMN: simguard.PLMN{MCC: mcc, MNC: mnc, MNC3: mnc3}, Area: area, HasArea: flags&1 != 0, Cell: cell, HasCell: flags&2 != 0},
			RAT:      simguard.RAT(rat), APN: apn, Peer: peer,
			SMS:  simguard.SMSInfo{Binary: flags&4 != 0, Silent: flags&8 != 0},
			Flow: simguard.Flow{Inbound: flags&16 != 0, Proto: proto, Port: port},
		}
		if flags&32 != 0 {
			r.Time = time.Time{}
		}
		if a, ok := netip.AddrFromSlice(remote); ok {
			r.Flow.Remote = a
		}
		switch {
		case who < 100:
			r.IMSI = sims[int(who)%len(sims)].IMSI
		case who < 150:
			r.IP = sims[int(who)%len(sims)].StaticIP
			if a, ok := netip.AddrFromSlice(remote); ok && who%2 == 0 {
				r.IP = a
			}
		case who < 200:
			r.MSISDN = id
		default:
			r.IMSI = id
		}
		checkAgreement(t, s, &r)
	})
}

// FuzzCompilePolicy compiles arbitrary groups (as the API would decode
// them): compiling never panics, rejects with a coded error, and a
// compiled group compiles again to itself and evaluates consistently.
func FuzzCompilePolicy(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "groups.golden.json")); err == nil {
		var gs []json.RawMessage
		_ = json.Unmarshal(b, &gs)
		for _, g := range gs {
			f.Add([]byte(g))
		}
	}
	f.Add([]byte(`{"name":"g","policy":{"services":["data"],"windows":[{"daily":"23:00-01:00"}],"quotas":{"period":"day","sms_count":1}}}`))
	f.Add([]byte(`{"name":"g","policy":{"egress":[{"cidr":"::/0","proto":"udp","ports":["1-65535"]}],"rats":["2g"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g simguard.Group
		if json.Unmarshal(b, &g) != nil {
			return
		}
		g.TenantID = 1
		bld, err := NewBuilder([]simguard.Group{g})
		if err != nil {
			if c := simguard.ErrorCode(err); c != simguard.EINVALID {
				t.Fatalf("compile error with code %s: %v", c, err)
			}
			return
		}
		sim := testSIM(7)
		sim.Group = g.Name
		sim.StaticIP = netip.MustParseAddr("10.0.0.7")
		if err := bld.AddSIM(&sim); err != nil {
			t.Fatal(err)
		}
		s := bld.Build()
		compiled, ok := s.GroupPolicy(1, g.Name)
		if !ok {
			t.Fatalf("group %q not in the snapshot", g.Name)
		}
		s2, err := s.WithGroup(&compiled)
		if err != nil {
			t.Fatalf("a compiled group does not compile again: %v", err)
		}
		again, _ := s2.GroupPolicy(1, g.Name)
		a, _ := json.Marshal(compiled)
		c, _ := json.Marshal(again)
		if string(a) != string(c) {
			t.Fatalf("compiling is not idempotent:\n%s\n%s", a, c)
		}
		for _, k := range allKinds {
			for _, dt := range []time.Duration{0, 13 * time.Hour, 40 * 24 * time.Hour} {
				r := reqFor(k)
				r.Time = r.Time.Add(dt)
				r.IMSI, r.IP = sim.IMSI, netip.Addr{}
				r.APN, r.RAT, r.Peer = "iot", simguard.RAT4G, "4930"
				r.Location.PLMN = simguard.PLMN{MCC: 262, MNC: 1}
				checkAgreement(t, s, &r)
			}
		}
	})
}

// FuzzParseIMEI keeps the allocation-free IMEI decoder in step with
// simguard.NormalizeIMEI for any input.
func FuzzParseIMEI(f *testing.F) {
	for _, s := range []string{boundIMEI, imei15(boundIMEI), boundIMEI + "12", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseIMEI(s)
		n, err := simguard.NormalizeIMEI(s)
		if ok != (err == nil) || ok && imeiString(v) != n {
			t.Fatalf("parseIMEI(%q) = %d, %v; NormalizeIMEI = %q, %v", s, v, ok, n, err)
		}
	})
}
