package policy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func TestNewBuilderErrors(t *testing.T) {
	cases := []struct {
		name   string
		groups []simguard.Group
		code   string
		field  []string // substrings of the error's Field
	}{
		{"bad plmn", []simguard.Group{testGroup("meters", simguard.Policy{Location: simguard.LocationLock{PLMNs: []string{"262-01", "26"}}})},
			simguard.EINVALID, []string{`group "meters" (tenant 1)`, "policy.location.plmns[1]"}},
		{"bad service", []simguard.Group{testGroup("ok", allServices()), testGroup("cams", simguard.Policy{Services: []simguard.Service{"voice"}})},
			simguard.EINVALID, []string{`group "cams"`, "policy.services[0]"}},
		{"bad daily window", []simguard.Group{testGroup("w", simguard.Policy{Windows: []simguard.Window{{Daily: "25:00-01:00"}}})},
			simguard.EINVALID, []string{`group "w"`, "policy.windows[0].daily"}},
		{"bad name", []simguard.Group{testGroup("-x", allServices())}, simguard.EINVALID, []string{"name"}},
		{"ports without proto", []simguard.Group{testGroup("f", simguard.Policy{Egress: []simguard.FlowRule{{CIDR: netip.MustParsePrefix("10.0.0.0/8"), Ports: []simguard.PortRange{{From: 1, To: 2}}}}})},
			simguard.EINVALID, []string{`group "f"`, "policy.egress[0].ports"}},
		{"listed twice", []simguard.Group{testGroup("g", allServices()), testGroup("g", allServices())}, simguard.ECONFLICT, []string{`group "g"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := NewBuilder(c.groups)
			if b != nil || simguard.ErrorCode(err) != c.code {
				t.Fatalf("got %v, %v; want code %s", b, err, c.code)
			}
			var e *simguard.Error
			if !asError(err, &e) {
				t.Fatalf("%v is not a *simguard.Error", err)
			}
			for _, f := range c.field {
				if !strings.Contains(e.Field, f) {
					t.Errorf("field %q does not contain %q", e.Field, f)
				}
			}
		})
	}
	t.Run("same name in two tenants", func(t *testing.T) {
		a, b := testGroup("g", allServices()), testGroup("g", allServices())
		b.TenantID = 2
		if _, err := NewBuilder([]simguard.Group{a, b}); err != nil {
			t.Error(err)
		}
	})
	t.Run("caller's groups untouched", func(t *testing.T) {
		g := testGroup("g", simguard.Policy{APNs: []string{"IoT.Example"}, Location: simguard.LocationLock{PLMNs: []string{"26201"}}})
		if _, err := NewBuilder([]simguard.Group{g}); err != nil {
			t.Fatal(err)
		}
		if g.Policy.APNs[0] != "IoT.Example" || g.Policy.Location.PLMNs[0] != "26201" || g.Policy.Quotas.Period != "" {
			t.Errorf("NewBuilder normalized the caller's group: %+v", g.Policy)
		}
	})
}

func TestAddSIMErrors(t *testing.T) {
	first := testSIM(1)
	first.StaticIP = netip.MustParseAddr("10.0.0.1")
	cases := []struct {
		name string
		mod  func(*simguard.SIM)
		code string
		want string
	}{
		{"bad iccid", func(s *simguard.SIM) { s.ICCID = s.ICCID[:18] + string('0'+(s.ICCID[18]-'0'+1)%10) }, simguard.EINVALID, "iccid"},
		{"bad imsi", func(s *simguard.SIM) { s.IMSI = "12345" }, simguard.EINVALID, "imsi"},
		{"zero id", func(s *simguard.SIM) { s.ID = 0 }, simguard.EINVALID, "id"},
		{"bad state", func(s *simguard.SIM) { s.State = "gone" }, simguard.EINVALID, "state"},
		{"explicit lock without imei", func(s *simguard.SIM) { s.IMEILock.Mode = simguard.IMEILockExplicit }, simguard.EINVALID, "imei_lock.imei"},
		{"duplicate id", func(s *simguard.SIM) { s.ID = 1 }, simguard.ECONFLICT, "sim 1 is listed twice"},
		{"duplicate imsi", func(s *simguard.SIM) { s.IMSI = first.IMSI }, simguard.ECONFLICT, "imsi"},
		{"duplicate msisdn", func(s *simguard.SIM) { s.MSISDN = first.MSISDN }, simguard.ECONFLICT, "msisdn"},
		{"duplicate ip", func(s *simguard.SIM) { s.StaticIP = first.StaticIP }, simguard.ECONFLICT, "static_ip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := NewBuilder(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.AddSIM(&first); err != nil {
				t.Fatal(err)
			}
			s := testSIM(2)
			c.mod(&s)
			err = b.AddSIM(&s)
			if simguard.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v; want code %s mentioning %q", err, c.code, c.want)
			}
			if snap := b.Build(); snap.Len() != 1 {
				t.Errorf("a rejected SIM was kept: Len = %d", snap.Len())
			}
		})
	}
}

func TestBuilderStreaming(t *testing.T) {
	b, err := NewBuilder([]simguard.Group{testGroup("g", allServices())})
	if err != nil {
		t.Fatal(err)
	}
	// One SIM value reused for every call, like ScanSIMs does.
	var sim simguard.SIM
	until := t0.Add(time.Hour)
	const n = 5000
	for i := int64(1); i <= n; i++ {
		sim = testSIM(i)
		sim.ActiveUntil = &until
		if err := b.AddSIM(&sim); err != nil {
			t.Fatal(err)
		}
	}
	until = t0.Add(-time.Hour) // must not reach the snapshot
	s := b.Build()
	if err := b.AddSIM(&sim); err == nil {
		t.Error("AddSIM after Build succeeded")
	}
	if s.Len() != n {
		t.Fatalf("Len = %d", s.Len())
	}
	for i := int64(1); i <= n; i++ {
		c := testSIM(i)
		d := s.Evaluate(data(c.IMSI))
		if !d.Allow || d.SIMID != i || !d.ValidUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("SIM %d: %+v", i, d)
		}
	}
}

func TestCompileNamesTheRow(t *testing.T) {
	sims := []simguard.SIM{testSIM(1), testSIM(2), testSIM(3)}
	sims[2].MSISDN = sims[0].MSISDN
	_, err := Compile(nil, sims)
	if simguard.ErrorCode(err) != simguard.ECONFLICT || !strings.Contains(err.Error(), "sims[2]") || !strings.Contains(err.Error(), "sim 1") {
		t.Errorf("got %v", err)
	}
	if s, err := Compile(nil, nil); err != nil || s.Len() != 0 {
		t.Errorf("empty compile: %v, %v", s, err)
	}
}
