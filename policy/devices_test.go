package policy

import (
	"testing"

	"github.com/simguard/simguard"
)

// TestDeviceList: the operator's device list denies stolen and blocked
// devices (tenant's own or the provider's), marks watched ones, ignores
// other tenants' listings, and "policy check" explains it.
func TestDeviceList(t *testing.T) {
	const dev = "35209900176148"
	sims := []simguard.SIM{testSIM(7)}
	tenant2 := testSIM(8)
	tenant2.TenantID = 2
	tenant2.Group = "h"
	sims = append(sims, tenant2)
	g2 := testGroup("h", allServices())
	g2.TenantID, g2.ID = 2, 2
	base := mustCompile(t, []simguard.Group{testGroup("g", allServices()), g2}, sims)

	cases := []struct {
		name   string
		devs   []simguard.Device
		sim    int64
		kind   simguard.RequestKind
		reason simguard.Reason
		rule   string
		watch  bool
		step   string // the device_list step's result; "" none
	}{
		{name: "empty list", sim: 7, kind: simguard.KindIMEICheck, reason: simguard.ReasonAllowed},
		{name: "stolen by provider", devs: []simguard.Device{{TenantID: 1, IMEI: dev, Status: simguard.DeviceStolen}}, sim: 7,
			kind: simguard.KindIMEICheck, reason: simguard.ReasonDeviceBlocked, rule: "devices:stolen", step: "fail"},
		{name: "provider listing applies to other tenants", devs: []simguard.Device{{TenantID: 1, IMEI: dev, Status: simguard.DeviceBlocked}}, sim: 8,
			kind: simguard.KindAttach, reason: simguard.ReasonDeviceBlocked, rule: "devices:blocked", step: "fail"},
		{name: "another tenant's listing does not apply", devs: []simguard.Device{{TenantID: 2, IMEI: dev, Status: simguard.DeviceStolen}}, sim: 7,
			kind: simguard.KindIMEICheck, reason: simguard.ReasonAllowed, step: "pass"},
		{name: "watch", devs: []simguard.Device{{TenantID: 1, IMEI: dev, Status: simguard.DeviceWatch}}, sim: 7,
			kind: simguard.KindIMEICheck, reason: simguard.ReasonAllowed, watch: true, step: "pass"},
		{name: "stolen beats watch", devs: []simguard.Device{{TenantID: 1, IMEI: dev, Status: simguard.DeviceWatch}, {TenantID: 2, IMEI: dev, Status: simguard.DeviceStolen}}, sim: 8,
			kind: simguard.KindIMEICheck, reason: simguard.ReasonDeviceBlocked, rule: "devices:stolen", step: "fail"},
		{name: "SMS carries no IMEI", devs: []simguard.Device{{TenantID: 1, IMEI: dev, Status: simguard.DeviceStolen}}, sim: 7,
			kind: simguard.KindSMSMO, reason: simguard.ReasonAllowed, step: "skip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base
			if c.devs != nil {
				var err error
				if s, err = base.WithDevices(c.devs); err != nil {
					t.Fatal(err)
				}
			}
			r := reqFor(c.kind)
			r.IMSI = testSIM(c.sim).IMSI
			if c.kind != simguard.KindSMSMO {
				r.IMEI = imei15(dev)
			}
			if c.kind == simguard.KindSMSMO {
				r.Peer = "4917012345"
			}
			d := s.Evaluate(&r)
			if d.Reason != c.reason || d.DeviceWatch != c.watch || (c.rule != "" && d.Rule != c.rule) {
				t.Fatalf("decision %+v, want reason %s rule %q watch %v", d, c.reason, c.rule, c.watch)
			}
			ex := s.Explain(&r)
			got := ""
			for _, st := range ex.Steps {
				if st.Check == "device_list" {
					got = st.Result
				}
			}
			if got != c.step {
				t.Fatalf("device_list step %q, want %q (steps %+v)", got, c.step, ex.Steps)
			}
			if ex.Decision != d {
				t.Fatalf("Explain decided %+v, Evaluate %+v", ex.Decision, d)
			}
			if n := testing.AllocsPerRun(50, func() { d = s.Evaluate(&r) }); n != 0 {
				t.Fatalf("Evaluate allocates %v times with a device list", n)
			}
		})
	}
	if _, err := base.WithDevices([]simguard.Device{{TenantID: 1, IMEI: "12", Status: simguard.DeviceStolen}}); err == nil {
		t.Fatal("WithDevices accepted a malformed IMEI")
	}
	if base.Devices() != 0 {
		t.Fatal("the base snapshot changed")
	}
}
