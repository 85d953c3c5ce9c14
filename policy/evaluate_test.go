package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// ruleCase is one decision: a policy and a SIM changed from the base ones,
// a request changed from reqFor(kind), and what must come out.
type ruleCase struct {
	name   string
	kind   simguard.RequestKind
	policy func(*simguard.Policy)
	sim    func(*simguard.SIM)
	req    func(*simguard.Request)
	reason simguard.Reason
	rule   string
	check  func(*testing.T, simguard.Decision)
}

// basePolicy enables every service and lets flows reach 203.0.113.0/24 on
// TCP 443 and 8000-8100, and lets 198.51.100.0/24 in on UDP.
func basePolicy() simguard.Policy {
	p := allServices()
	p.Egress = []simguard.FlowRule{{CIDR: netip.MustParsePrefix("203.0.113.0/24"), Proto: "tcp", Ports: []simguard.PortRange{{From: 443, To: 443}, {From: 8000, To: 8100}}}}
	p.Inbound = []simguard.FlowRule{{CIDR: netip.MustParsePrefix("198.51.100.0/24"), Proto: "udp"}}
	p.SMS.PerMinute, p.SMS.SourcePerMinute = 10, 3
	return p
}

func baseSIM() simguard.SIM {
	s := testSIM(7)
	s.StaticIP = netip.MustParseAddr("10.0.0.7")
	return s
}

func (c ruleCase) run(t *testing.T) simguard.Decision {
	t.Helper()
	p := basePolicy()
	if c.policy != nil {
		c.policy(&p)
	}
	sim := baseSIM()
	if c.sim != nil {
		c.sim(&sim)
	}
	s := mustCompile(t, []simguard.Group{testGroup("g", p)}, []simguard.SIM{sim})
	kind := c.kind
	if kind == 0 {
		kind = simguard.KindDataSession
	}
	r := reqFor(kind)
	if c.req != nil {
		c.req(&r)
	}
	d := s.Evaluate(&r)
	want := c.reason
	if want == "" {
		want = simguard.ReasonAllowed
	}
	if d.Reason != want || d.Rule != c.rule || d.Allow != (want == simguard.ReasonAllowed) {
		t.Errorf("got %v %s rule %q, want %s rule %q\nsteps: %+v", d.Allow, d.Reason, d.Rule, want, c.rule, s.Explain(&r).Steps)
	}
	if x := s.Explain(&r); x.Decision != d {
		t.Errorf("Explain decided %+v, Evaluate %+v", x.Decision, d)
	}
	if c.check != nil {
		c.check(t, d)
	}
	return d
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

func TestRequestAndIdentity(t *testing.T) {
	runCases(t, []ruleCase{
		{name: "allowed data session", rule: "group:g", check: func(t *testing.T, d simguard.Decision) {
			if d.SIMID != 7 || d.TenantID != 1 || d.Group != "g" || d.StaticIP != netip.MustParseAddr("10.0.0.7") {
				t.Errorf("decision lacks the SIM: %+v", d)
			}
			if !d.ValidUntil.IsZero() || d.LearnIMEI || d.QuotaAlert || d.SMSPerMinute != 0 {
				t.Errorf("unexpected extras: %+v", d)
			}
		}},
		{name: "zero time", req: func(r *simguard.Request) { r.Time = time.Time{} }, reason: simguard.ReasonBadRequest, rule: "request"},
		{name: "unknown kind", req: func(r *simguard.Request) { r.Kind = 99 }, reason: simguard.ReasonBadRequest, rule: "request"},
		{name: "kind zero", req: func(r *simguard.Request) { r.Kind = 0 }, reason: simguard.ReasonBadRequest, rule: "request"},
		{name: "imei_check without IMEI", kind: simguard.KindIMEICheck, req: func(r *simguard.Request) { r.IMEI = "" }, reason: simguard.ReasonBadRequest, rule: "request"},
		{name: "flow without remote", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Remote = netip.Addr{} }, reason: simguard.ReasonBadRequest, rule: "request"},
		{name: "unknown IMSI", req: func(r *simguard.Request) { r.IMSI = "001010000000008" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity", check: func(t *testing.T, d simguard.Decision) {
			if d.SIMID != 0 || d.Group != "" {
				t.Errorf("unknown SIM carries a SIM: %+v", d)
			}
		}},
		{name: "IMSI without leading zeros is another IMSI", req: func(r *simguard.Request) { r.IMSI = "1010000000007" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "IMSI not digits", req: func(r *simguard.Request) { r.IMSI = "00101000000000x" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "IMSI wins over MSISDN", req: func(r *simguard.Request) { r.IMSI, r.MSISDN = "001010000000008", "4917000000007" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "by MSISDN", req: func(r *simguard.Request) { r.IMSI, r.MSISDN = "", "4917000000007" }, rule: "group:g"},
		{name: "by MSISDN with plus", req: func(r *simguard.Request) { r.IMSI, r.MSISDN = "", "+4917000000007" }, rule: "group:g"},
		{name: "unknown MSISDN", req: func(r *simguard.Request) { r.IMSI, r.MSISDN = "", "4917000000008" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "MSISDN with leading zero", req: func(r *simguard.Request) { r.IMSI, r.MSISDN = "", "04917000000007" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "by static IP", req: func(r *simguard.Request) { r.IMSI, r.IP = "", netip.MustParseAddr("10.0.0.7") }, rule: "group:g"},
		{name: "by IPv4-mapped static IP", req: func(r *simguard.Request) { r.IMSI, r.IP = "", netip.MustParseAddr("::ffff:10.0.0.7") }, rule: "group:g"},
		{name: "unknown IP", req: func(r *simguard.Request) { r.IMSI, r.IP = "", netip.MustParseAddr("10.0.0.8") }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
		{name: "no identity", req: func(r *simguard.Request) { r.IMSI = "" }, reason: simguard.ReasonSIMUnknown, rule: "sim:identity"},
	})
}

func TestStateAndService(t *testing.T) {
	var sms = func(t *testing.T, d simguard.Decision) {
		if d.SMSPerMinute != 10 || d.SMSSourcePerMinute != 3 {
			t.Errorf("SMS limits missing: %+v", d)
		}
	}
	only := func(s ...simguard.Service) func(*simguard.Policy) {
		return func(p *simguard.Policy) { p.Services = s }
	}
	runCases(t, []ruleCase{
		{name: "inventory", sim: func(s *simguard.SIM) { s.State = simguard.SIMInventory }, reason: simguard.ReasonSIMInactive, rule: "sim:state", check: func(t *testing.T, d simguard.Decision) {
			if d.SIMID != 7 || d.Group != "g" || d.TenantID != 1 {
				t.Errorf("a denial of a known SIM must name it: %+v", d)
			}
		}},
		{name: "suspended", sim: func(s *simguard.SIM) { s.State = simguard.SIMSuspended }, reason: simguard.ReasonSIMSuspended, rule: "sim:state"},
		{name: "terminated", sim: func(s *simguard.SIM) { s.State = simguard.SIMTerminated }, reason: simguard.ReasonSIMTerminated, rule: "sim:state"},
		{name: "suspended before group missing", sim: func(s *simguard.SIM) { s.State, s.Group = simguard.SIMSuspended, "nope" }, reason: simguard.ReasonSIMSuspended, rule: "sim:state"},
		{name: "activation ended", sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0.Add(-time.Second)) }, reason: simguard.ReasonOutsideWindow, rule: "sim:active_until"},
		{name: "activation ends exactly now", sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0) }, reason: simguard.ReasonOutsideWindow, rule: "sim:active_until"},
		{name: "activation ends later", sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0.Add(2 * time.Hour)) }, rule: "group:g", check: func(t *testing.T, d simguard.Decision) {
			if !d.ValidUntil.Equal(t0.Add(2 * time.Hour)) {
				t.Errorf("ValidUntil = %v", d.ValidUntil)
			}
		}},
		{name: "scheduled activation not started", sim: func(s *simguard.SIM) {
			s.ActiveFrom, s.ActiveUntil = tp(t0.Add(time.Hour)), tp(t0.Add(3*time.Hour))
		}, reason: simguard.ReasonOutsideWindow, rule: "sim:active_from"},
		{name: "scheduled activation started now", sim: func(s *simguard.SIM) {
			s.ActiveFrom, s.ActiveUntil = tp(t0), tp(t0.Add(3*time.Hour))
		}, rule: "group:g", check: func(t *testing.T, d simguard.Decision) {
			if !d.ValidUntil.Equal(t0.Add(3 * time.Hour)) {
				t.Errorf("ValidUntil = %v", d.ValidUntil)
			}
		}},
		{name: "group missing", sim: func(s *simguard.SIM) { s.Group = "nope" }, reason: simguard.ReasonServiceDisabled, rule: "sim:group_missing", check: func(t *testing.T, d simguard.Decision) {
			if d.Group != "nope" || d.SIMID != 7 {
				t.Errorf("decision must name the missing group: %+v", d)
			}
		}},
		{name: "group missing for imei_check", kind: simguard.KindIMEICheck, sim: func(s *simguard.SIM) { s.Group = "nope" }, reason: simguard.ReasonServiceDisabled, rule: "sim:group_missing"},
		{name: "data disabled", policy: only(simguard.ServiceSMSMO), reason: simguard.ReasonServiceDisabled, rule: "group:g/services"},
		{name: "flow needs data", kind: simguard.KindFlow, policy: only(simguard.ServiceSMSMO, simguard.ServiceSMSMT), reason: simguard.ReasonServiceDisabled, rule: "group:g/services"},
		{name: "sms_mo disabled", kind: simguard.KindSMSMO, policy: only(simguard.ServiceData, simguard.ServiceSMSMT), reason: simguard.ReasonServiceDisabled, rule: "group:g/services", check: sms},
		{name: "sms_mt disabled", kind: simguard.KindSMSMT, policy: only(simguard.ServiceData, simguard.ServiceSMSMO), reason: simguard.ReasonServiceDisabled, rule: "group:g/services", check: sms},
		{name: "sms_mo allowed", kind: simguard.KindSMSMO, rule: "group:g", check: sms},
		{name: "sms_mt allowed", kind: simguard.KindSMSMT, rule: "group:g", check: sms},
		{name: "attach with no service", kind: simguard.KindAttach, policy: only(), reason: simguard.ReasonServiceDisabled, rule: "group:g/services"},
		{name: "attach with sms only", kind: simguard.KindAttach, policy: only(simguard.ServiceSMSMT), rule: "group:g"},
		{name: "imei_check needs no service", kind: simguard.KindIMEICheck, policy: only(), rule: "group:g"},
		{name: "flow allowed", kind: simguard.KindFlow, rule: "group:g"},
	})
}

func TestLocationRATAndAPN(t *testing.T) {
	at := func(mcc, mnc uint16, mnc3 bool) func(*simguard.Request) {
		return func(r *simguard.Request) {
			r.Location.PLMN = simguard.PLMN{MCC: mcc, MNC: mnc, MNC3: mnc3}
		}
	}
	plmns := func(p *simguard.Policy) { p.Location.PLMNs = []string{"262-01", "310-260"} }
	runCases(t, []ruleCase{
		{name: "plmn listed", policy: plmns, req: at(262, 1, false), rule: "group:g"},
		{name: "3-digit mnc listed", policy: plmns, req: at(310, 260, true), rule: "group:g"},
		{name: "plmn not listed", policy: plmns, req: at(262, 2, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "2-digit 01 is not 3-digit 001", policy: plmns, req: at(262, 1, true), reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "310-26 is not 310-026", policy: func(p *simguard.Policy) { p.Location.PLMNs = []string{"310-026"} }, req: at(310, 26, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "310-026 listed", policy: func(p *simguard.Policy) { p.Location.PLMNs = []string{"310026"} }, req: at(310, 26, true), rule: "group:g"},
		{name: "location not reported", policy: plmns, reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "attach checks location", kind: simguard.KindAttach, policy: plmns, req: at(262, 2, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "sms carries no location", kind: simguard.KindSMSMO, policy: plmns, rule: "group:g"},
		{name: "flow carries no location", kind: simguard.KindFlow, policy: plmns, rule: "group:g"},
		{name: "imei_check carries no location", kind: simguard.KindIMEICheck, policy: plmns, rule: "group:g"},
		{name: "area listed", policy: func(p *simguard.Policy) { p.Location.Areas = []string{"262-01-4711"} }, req: func(r *simguard.Request) {
			at(262, 1, false)(r)
			r.Location.Area, r.Location.HasArea = 4711, true
		}, rule: "group:g"},
		{name: "area not listed", policy: func(p *simguard.Policy) { p.Location.Areas = []string{"262-01-4711"} }, req: func(r *simguard.Request) {
			at(262, 1, false)(r)
			r.Location.Area, r.Location.HasArea = 4712, true
		}, reason: simguard.ReasonLocationDenied, rule: "group:g/location.areas"},
		{name: "area in another network", policy: func(p *simguard.Policy) { p.Location.Areas = []string{"262-01-4711"} }, req: func(r *simguard.Request) {
			at(262, 2, false)(r)
			r.Location.Area, r.Location.HasArea = 4711, true
		}, reason: simguard.ReasonLocationDenied, rule: "group:g/location.areas"},
		{name: "area not reported", policy: func(p *simguard.Policy) { p.Location.Areas = []string{"262-01-4711"} }, req: at(262, 1, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.areas"},
		{name: "plmn checked before area", policy: func(p *simguard.Policy) {
			plmns(p)
			p.Location.Areas = []string{"262-01-4711"}
		}, req: at(262, 3, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.plmns"},
		{name: "eutran cell listed", policy: func(p *simguard.Policy) { p.Location.Cells = []string{"262-01-257"} }, req: func(r *simguard.Request) {
			at(262, 1, false)(r)
			r.Location.Cell, r.Location.HasCell = 257, true
		}, rule: "group:g"},
		{name: "geran cell listed", policy: func(p *simguard.Policy) { p.Location.Cells = []string{"262-01-1-257"} }, req: func(r *simguard.Request) {
			at(262, 1, false)(r)
			r.Location.Cell, r.Location.HasCell = simguard.CGICell(1, 257), true
		}, rule: "group:g"},
		{name: "eci 257 is not cgi 1-257", policy: func(p *simguard.Policy) { p.Location.Cells = []string{"262-01-1-257"} }, req: func(r *simguard.Request) {
			at(262, 1, false)(r)
			r.Location.Cell, r.Location.HasCell = 257, true
		}, reason: simguard.ReasonLocationDenied, rule: "group:g/location.cells"},
		{name: "cell not reported", policy: func(p *simguard.Policy) { p.Location.Cells = []string{"262-01-257"} }, req: at(262, 1, false), reason: simguard.ReasonLocationDenied, rule: "group:g/location.cells"},
		{name: "rat listed", policy: func(p *simguard.Policy) { p.RATs = []simguard.RAT{simguard.RATNBIoT, simguard.RATLTEM} }, req: func(r *simguard.Request) { r.RAT = simguard.RATLTEM }, rule: "group:g"},
		{name: "rat not listed", policy: func(p *simguard.Policy) { p.RATs = []simguard.RAT{simguard.RATNBIoT} }, req: func(r *simguard.Request) { r.RAT = simguard.RAT2G }, reason: simguard.ReasonRATDenied, rule: "group:g/rats"},
		{name: "rat not reported", policy: func(p *simguard.Policy) { p.RATs = []simguard.RAT{simguard.RATNBIoT} }, reason: simguard.ReasonRATDenied, rule: "group:g/rats"},
		{name: "attach checks rat", kind: simguard.KindAttach, policy: func(p *simguard.Policy) { p.RATs = []simguard.RAT{simguard.RAT4G} }, req: func(r *simguard.Request) { r.RAT = simguard.RAT3G }, reason: simguard.ReasonRATDenied, rule: "group:g/rats"},
		{name: "sms skips rat", kind: simguard.KindSMSMT, policy: func(p *simguard.Policy) { p.RATs = []simguard.RAT{simguard.RAT4G} }, rule: "group:g"},
		{name: "apn listed any case", policy: func(p *simguard.Policy) { p.APNs = []string{"Meters.Example"} }, req: func(r *simguard.Request) { r.APN = "METERS.example" }, rule: "group:g"},
		{name: "apn not listed", policy: func(p *simguard.Policy) { p.APNs = []string{"meters.example"} }, req: func(r *simguard.Request) { r.APN = "internet" }, reason: simguard.ReasonAPNDenied, rule: "group:g/apns"},
		{name: "apn not reported", policy: func(p *simguard.Policy) { p.APNs = []string{"meters.example"} }, reason: simguard.ReasonAPNDenied, rule: "group:g/apns"},
		{name: "attach skips apn", kind: simguard.KindAttach, policy: func(p *simguard.Policy) { p.APNs = []string{"meters.example"} }, rule: "group:g"},
	})
}

func TestSMSAndFlows(t *testing.T) {
	mt := simguard.KindSMSMT
	mo := simguard.KindSMSMO
	peer := func(p string) func(*simguard.Request) { return func(r *simguard.Request) { r.Peer = p } }
	runCases(t, []ruleCase{
		{name: "mt denied source", kind: mt, policy: func(p *simguard.Policy) { p.SMS.MT.Deny = []string{"+4915"} }, req: peer("+491512345"), reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mt"},
		{name: "mt deny wins over allow", kind: mt, policy: func(p *simguard.Policy) {
			p.SMS.MT.Deny, p.SMS.MT.Allow = []string{"4915"}, []string{"49"}
		}, req: peer("491512345"), reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mt"},
		{name: "mt allowed source", kind: mt, policy: func(p *simguard.Policy) { p.SMS.MT.Allow = []string{"4930"} }, req: peer("+4930123"), rule: "group:g"},
		{name: "mt source not allowed", kind: mt, policy: func(p *simguard.Policy) { p.SMS.MT.Allow = []string{"4930"} }, req: peer("4940123"), reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mt"},
		{name: "mt alphanumeric sender allowed", kind: mt, policy: func(p *simguard.Policy) { p.SMS.MT.Allow = []string{"ACME"} }, req: peer("ACME-OTA"), rule: "group:g"},
		{name: "mt binary denied", kind: mt, req: func(r *simguard.Request) { r.SMS.Binary = true }, reason: simguard.ReasonSMSBinaryDenied, rule: "group:g/sms.binary"},
		{name: "mt binary allowed", kind: mt, policy: func(p *simguard.Policy) { p.SMS.Binary.Allow = true }, req: func(r *simguard.Request) { r.SMS.Binary = true }, rule: "group:g"},
		{name: "mt binary from allowed source", kind: mt, policy: func(p *simguard.Policy) { p.SMS.Binary = simguard.BinarySMS{Allow: true, Sources: []string{"+88"}} }, req: func(r *simguard.Request) { r.SMS.Binary, r.Peer = true, "+8812" }, rule: "group:g"},
		{name: "mt binary from other source", kind: mt, policy: func(p *simguard.Policy) { p.SMS.Binary = simguard.BinarySMS{Allow: true, Sources: []string{"88"}} }, req: func(r *simguard.Request) { r.SMS.Binary, r.Peer = true, "4912" }, reason: simguard.ReasonSMSBinaryDenied, rule: "group:g/sms.binary"},
		{name: "peer checked before binary", kind: mt, policy: func(p *simguard.Policy) { p.SMS.MT.Deny = []string{"4912"} }, req: func(r *simguard.Request) { r.SMS.Binary, r.Peer = true, "4912" }, reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mt"},
		{name: "mt silent denied", kind: mt, req: func(r *simguard.Request) { r.SMS.Silent = true }, reason: simguard.ReasonSMSSilentDenied, rule: "group:g/sms.silent"},
		{name: "mt silent allowed", kind: mt, policy: func(p *simguard.Policy) { p.SMS.AllowSilent = true }, req: func(r *simguard.Request) { r.SMS.Silent = true }, rule: "group:g"},
		{name: "mo denied destination", kind: mo, policy: func(p *simguard.Policy) { p.SMS.MO.Deny = []string{"900"} }, req: peer("90012"), reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mo"},
		{name: "mo destination not allowed", kind: mo, policy: func(p *simguard.Policy) { p.SMS.MO.Allow = []string{"+4930"} }, req: peer("4940"), reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mo"},
		{name: "mo empty destination not allowed", kind: mo, policy: func(p *simguard.Policy) { p.SMS.MO.Allow = []string{"4930"} }, reason: simguard.ReasonSMSPeerDenied, rule: "group:g/sms.mo"},
		{name: "mo allowed destination", kind: mo, policy: func(p *simguard.Policy) { p.SMS.MO.Allow = []string{"4930"} }, req: peer("+4930555"), rule: "group:g"},
		{name: "mo binary is not filtered", kind: mo, req: func(r *simguard.Request) { r.SMS.Binary, r.SMS.Silent = true, true }, rule: "group:g"},
		{name: "mt list does not apply to mo", kind: mo, policy: func(p *simguard.Policy) { p.SMS.MT.Deny = []string{"49"} }, req: peer("4930"), rule: "group:g"},
		{name: "egress tcp 443", kind: simguard.KindFlow, rule: "group:g"},
		{name: "egress port range", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Port = 8100 }, rule: "group:g"},
		{name: "egress port outside", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Port = 8101 }, reason: simguard.ReasonDestinationDenied, rule: "group:g/egress"},
		{name: "egress wrong proto", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Proto = 17 }, reason: simguard.ReasonDestinationDenied, rule: "group:g/egress"},
		{name: "egress other host", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Remote = netip.MustParseAddr("192.0.2.1") }, reason: simguard.ReasonDestinationDenied, rule: "group:g/egress"},
		{name: "egress mapped address", kind: simguard.KindFlow, req: func(r *simguard.Request) { r.Flow.Remote = netip.MustParseAddr("::ffff:203.0.113.9") }, rule: "group:g"},
		{name: "egress icmp", kind: simguard.KindFlow, policy: func(p *simguard.Policy) {
			p.Egress = append(p.Egress, simguard.FlowRule{CIDR: netip.MustParsePrefix("2001:db8::/32"), Proto: "icmp"})
		}, req: func(r *simguard.Request) {
			r.Flow.Remote, r.Flow.Proto, r.Flow.Port = netip.MustParseAddr("2001:db8::1"), 58, 0
		}, rule: "group:g"},
		{name: "egress any proto", kind: simguard.KindFlow, policy: func(p *simguard.Policy) {
			p.Egress = []simguard.FlowRule{{CIDR: netip.MustParsePrefix("0.0.0.0/0")}}
		}, req: func(r *simguard.Request) { r.Flow.Proto = 47 }, rule: "group:g"},
		{name: "no egress rules", kind: simguard.KindFlow, policy: func(p *simguard.Policy) { p.Egress = nil }, reason: simguard.ReasonDestinationDenied, rule: "group:g/egress"},
		{name: "inbound allowed", kind: simguard.KindFlow, req: func(r *simguard.Request) {
			r.Flow = simguard.Flow{Inbound: true, Remote: netip.MustParseAddr("198.51.100.4"), Proto: 17, Port: 5683}
		}, rule: "group:g"},
		{name: "inbound denied", kind: simguard.KindFlow, req: func(r *simguard.Request) {
			r.Flow = simguard.Flow{Inbound: true, Remote: netip.MustParseAddr("203.0.113.10"), Proto: 6, Port: 443}
		}, reason: simguard.ReasonInboundDenied, rule: "group:g/inbound"},
	})
}
