package policy

import (
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSIMView(t *testing.T) {
	sim := testSIM(7)
	sim.StaticIP = netip.MustParseAddr("2001:db8::7")
	sim.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn, IMEI: imei15("01234567890123"), BoundAt: tp(t0.Add(-time.Hour)), MismatchAt: tp(t0)}
	sim.ActiveUntil = tp(t0.Add(time.Hour))
	data := testSIM(8)
	data.MSISDN = ""
	data.State = simguard.SIMSuspended
	s := mustCompile(t, []simguard.Group{testGroup("g", allServices())}, []simguard.SIM{sim, data})

	v, ok := s.SIMByIMSI("001010000000007")
	want := SIMView{
		ID: 7, TenantID: 1, IMSI: "001010000000007", MSISDN: "4917000000007", State: simguard.SIMActive, Group: "g",
		StaticIP: sim.StaticIP, IMEILockMode: simguard.IMEILockLearn, IMEILockState: simguard.IMEILockMismatch,
		IMEI: "01234567890123", ActiveUntil: t0.Add(time.Hour),
	}
	v.rec, v.g = simRec{}, nil
	if !ok || v != want {
		t.Errorf("SIMByIMSI = %+v, %v\nwant %+v", v, ok, want)
	}
	if v, ok := s.SIMByMSISDN("+4917000000007"); !ok || v.ID != 7 {
		t.Errorf("SIMByMSISDN: %v %v", v.ID, ok)
	}
	v8, ok := s.SIMByID(8)
	if !ok || v8.MSISDN != "" || v8.State != simguard.SIMSuspended || v8.StaticIP.IsValid() || v8.IMEILockState != simguard.IMEILockNone || v8.IMEI != "" || !v8.ActiveUntil.IsZero() {
		t.Errorf("SIMByID(8) = %+v", v8)
	}
	for _, bad := range []string{"", "1234", "00101000000000x"} {
		if _, ok := s.SIMByIMSI(bad); ok {
			t.Errorf("SIMByIMSI(%q) found something", bad)
		}
		if _, ok := s.SIMByMSISDN(bad); ok {
			t.Errorf("SIMByMSISDN(%q) found something", bad)
		}
	}
	if _, ok := s.SIMByIP(netip.Addr{}); ok {
		t.Error("SIMByIP(zero) found something")
	}
	n := 0
	s.RangeSIMs(func(SIMView) bool { n++; return false })
	if n != 1 {
		t.Errorf("RangeSIMs did not stop: %d", n)
	}
}

func TestServiceOn(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	base := func() simguard.Policy {
		p := allServices()
		p.Windows = []simguard.Window{{Services: []simguard.Service{simguard.ServiceSMSMT}, Daily: "08:00-09:00"}}
		p.Quotas = simguard.Quotas{DataBytes: 100, SMSCount: 100}
		return p
	}
	cases := []struct {
		name   string
		policy func(*simguard.Policy)
		sim    func(*simguard.SIM)
		svc    simguard.Service
		at     time.Time
		want   bool
	}{
		{name: "data on", svc: simguard.ServiceData, want: true},
		{name: "sms_mo on", svc: simguard.ServiceSMSMO, want: true},
		{name: "sms_mt outside its window", svc: simguard.ServiceSMSMT, want: false},
		{name: "sms_mt inside its window", svc: simguard.ServiceSMSMT, at: at(8, 30), want: true},
		{name: "not enabled", svc: simguard.ServiceData, policy: func(p *simguard.Policy) { p.Services = p.Services[1:] }, want: false},
		{name: "unknown service", svc: "voice", want: false},
		{name: "suspended", svc: simguard.ServiceData, sim: func(s *simguard.SIM) { s.State = simguard.SIMSuspended }, want: false},
		{name: "inventory", svc: simguard.ServiceData, sim: func(s *simguard.SIM) { s.State = simguard.SIMInventory }, want: false},
		{name: "activation over", svc: simguard.ServiceData, sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0) }, want: false},
		{name: "data quota blocks", svc: simguard.ServiceData, sim: func(s *simguard.SIM) { s.Usage = simguard.Usage{PeriodStart: month, DataBytes: 100} }, want: false},
		{name: "data quota does not block sms", svc: simguard.ServiceSMSMO, sim: func(s *simguard.SIM) { s.Usage = simguard.Usage{PeriodStart: month, DataBytes: 100} }, want: true},
		{name: "sms quota blocks", svc: simguard.ServiceSMSMO, sim: func(s *simguard.SIM) { s.Usage = simguard.Usage{PeriodStart: month, SMSCount: 100} }, want: false},
		{name: "quota alert does not block", svc: simguard.ServiceData, policy: func(p *simguard.Policy) { p.Quotas.OnExhaustion = "alert" }, sim: func(s *simguard.SIM) { s.Usage = simguard.Usage{PeriodStart: month, DataBytes: 100} }, want: true},
		{name: "group missing", svc: simguard.ServiceData, sim: func(s *simguard.SIM) { s.Group = "other" }, want: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			if c.policy != nil {
				c.policy(&p)
			}
			sim := testSIM(7)
			if c.sim != nil {
				c.sim(&sim)
			}
			s := mustCompile(t, []simguard.Group{testGroup("g", p)}, []simguard.SIM{sim})
			v, _ := s.SIMByID(7)
			when := c.at
			if when.IsZero() {
				when = t0
			}
			if got := v.ServiceOn(c.svc, when); got != c.want {
				t.Errorf("ServiceOn(%s, %v) = %v, want %v", c.svc, when, got, c.want)
			}
			// ServiceOn and Evaluate agree on what both decide.
			if k, ok := map[simguard.Service]simguard.RequestKind{simguard.ServiceData: simguard.KindFlow}[c.svc]; ok && sim.Group == "g" {
				r := simguard.Request{Kind: k, Time: when, IMSI: sim.IMSI, Flow: simguard.Flow{Remote: netip.MustParseAddr("192.0.2.1")}}
				d := s.Evaluate(&r)
				if on := d.Reason == simguard.ReasonDestinationDenied; on != c.want {
					t.Errorf("Evaluate(flow) stopped at %s, ServiceOn says %v", d.Reason, c.want)
				}
			}
		})
	}
}

// TestCompiledGroupsGolden pins how groups are normalized when compiled:
// what GroupPolicy and RangeGroups hand back to the API and the gateway.
func TestCompiledGroupsGolden(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	groups := []simguard.Group{
		{TenantID: 2, Name: "cams", Policy: simguard.Policy{
			Services: []simguard.Service{simguard.ServiceData},
			APNs:     []string{" Cams.Example "},
			Location: simguard.LocationLock{PLMNs: []string{"26201", "310-260"}, Areas: []string{"262-01-4711"}, Cells: []string{"262-01-1-257"}},
			RATs:     []simguard.RAT{simguard.RATLTEM},
			Egress:   []simguard.FlowRule{{CIDR: netip.MustParsePrefix("203.0.113.7/24"), Proto: "TCP", Ports: []simguard.PortRange{{From: 443, To: 443}}}},
		}},
		{TenantID: 1, Name: "meters", Policy: simguard.Policy{
			Services:   []simguard.Service{simguard.ServiceData, simguard.ServiceSMSMT},
			Windows:    []simguard.Window{{Services: []simguard.Service{simguard.ServiceSMSMT}, Daily: "22:00-06:00", From: &from}},
			DeviceTACs: []string{"35332509"},
			Quotas:     simguard.Quotas{DataBytes: 1 << 20},
			SMS: simguard.SMSPolicy{
				MT:     simguard.SMSPeers{Allow: []string{"+4930"}, Deny: []string{" +4915"}},
				Binary: simguard.BinarySMS{Allow: true, Sources: []string{"+88"}},
			},
			Inbound: []simguard.FlowRule{{CIDR: netip.MustParsePrefix("198.51.100.0/24")}},
		}},
	}
	s := mustCompile(t, groups, nil)
	var got []simguard.Group
	s.RangeGroups(func(g simguard.Group) bool { got = append(got, g); return true })
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "groups.golden.json")
	if *update {
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("compiled groups differ from %s (run with -update to accept):\n%s", path, b)
	}

	// Copies handed out are the caller's to change.
	g, ok := s.GroupPolicy(2, "cams")
	if !ok {
		t.Fatal("GroupPolicy(2, cams) not found")
	}
	g.Policy.APNs[0] = "changed"
	g.Policy.Egress[0].Ports[0].From = 1
	again, _ := s.GroupPolicy(2, "cams")
	if again.Policy.APNs[0] != "cams.example" || again.Policy.Egress[0].Ports[0].From != 443 {
		t.Errorf("GroupPolicy hands out shared slices: %+v", again.Policy)
	}
	if _, ok := s.GroupPolicy(1, "cams"); ok {
		t.Error("GroupPolicy ignores the tenant")
	}
	n := 0
	s.RangeGroups(func(simguard.Group) bool { n++; return false })
	if n != 1 {
		t.Errorf("RangeGroups did not stop: %d", n)
	}
}
