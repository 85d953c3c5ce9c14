package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func TestExplainSteps(t *testing.T) {
	p := basePolicy()
	p.Location.PLMNs = []string{"262-01"}
	p.Windows = []simguard.Window{{Daily: "08:00-12:00"}}
	sim := baseSIM()
	sim.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: boundIMEI}
	s := mustCompile(t, []simguard.Group{testGroup("g", p)}, []simguard.SIM{sim})

	cases := []struct {
		name  string
		req   simguard.Request
		steps []string // "check result" in order
		last  string   // a substring of the last step's detail
	}{
		{
			name: "mismatch",
			req:  simguard.Request{Kind: simguard.KindDataSession, Time: t0, IMSI: sim.IMSI, IMEI: otherIMEI},
			steps: []string{"request pass", "identity pass", "state pass", "active_until skip", "services pass", "windows pass",
				"imei_lock fail"},
			last: "IMEI 35209900176148 is not the bound 35332509123456",
		},
		{
			name: "allowed session",
			req: simguard.Request{Kind: simguard.KindDataSession, Time: t0, IMSI: sim.IMSI, IMEI: boundIMEI,
				Location: simguard.Location{PLMN: simguard.PLMN{MCC: 262, MNC: 1}}},
			steps: []string{"request pass", "identity pass", "state pass", "active_until skip", "services pass", "windows pass",
				"imei_lock pass", "device_tacs skip", "location.plmns pass", "rats skip", "apns skip", "quotas skip", "sms skip", "flow skip"},
			last: "data_session is not a flow",
		},
		{
			name: "location not reported",
			req:  simguard.Request{Kind: simguard.KindAttach, Time: t0, IMSI: sim.IMSI, IMEI: boundIMEI},
			steps: []string{"request pass", "identity pass", "state pass", "active_until skip", "services pass", "windows pass",
				"imei_lock pass", "device_tacs skip", "location.plmns fail"},
			last: "location not reported",
		},
		{
			name:  "unknown",
			req:   simguard.Request{Kind: simguard.KindSMSMT, Time: t0, MSISDN: "+4999"},
			steps: []string{"request pass", "identity fail"},
			last:  `no SIM with MSISDN "+4999"`,
		},
		{
			name: "outside window",
			req:  simguard.Request{Kind: simguard.KindSMSMO, Time: t0.Add(3 * time.Hour), IMSI: sim.IMSI},
			steps: []string{"request pass", "identity pass", "state pass", "active_until skip", "services pass",
				"windows fail"},
			last: "outside every activation window of sms_mo",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := s.Explain(&c.req)
			if d := s.Evaluate(&c.req); d != x.Decision {
				t.Errorf("Explain %+v != Evaluate %+v", x.Decision, d)
			}
			var got []string
			for _, st := range x.Steps {
				got = append(got, st.Check+" "+st.Result)
				if st.Detail == "" {
					t.Errorf("step %s has no detail", st.Check)
				}
			}
			if strings.Join(got, ", ") != strings.Join(c.steps, ", ") {
				t.Errorf("steps:\n got %v\nwant %v", got, c.steps)
			}
			if last := x.Steps[len(x.Steps)-1].Detail; !strings.Contains(last, c.last) {
				t.Errorf("last detail %q does not contain %q", last, c.last)
			}
		})
	}
}

// checkAgreement is the property shared by the fuzz targets: Explain
// decides as Evaluate does, and its trace ends in the one failing check
// exactly when the decision is a denial.
func checkAgreement(t *testing.T, s *Snapshot, r *simguard.Request) {
	t.Helper()
	d := s.Evaluate(r)
	x := s.Explain(r)
	if x.Decision != d {
		t.Fatalf("Explain %+v != Evaluate %+v for %+v", x.Decision, d, r)
	}
	if d.Allow != (d.Reason == simguard.ReasonAllowed) || d.Rule == "" {
		t.Fatalf("inconsistent decision %+v", d)
	}
	fails := 0
	for _, st := range x.Steps {
		if st.Result == resultFail {
			fails++
		}
	}
	if len(x.Steps) == 0 || fails != 0 && x.Steps[len(x.Steps)-1].Result != resultFail || fails > 1 || (fails == 1) == d.Allow {
		t.Fatalf("trace %+v does not match decision %+v", x.Steps, d)
	}
	if !d.Allow && (d.ValidUntil != time.Time{} || d.LearnIMEI || d.QuotaAlert) {
		t.Fatalf("a denial carries allow-only fields: %+v", d)
	}
	known := d.Reason != simguard.ReasonSIMUnknown && d.Rule != ruleRequest
	if known != (d.SIMID != 0) {
		t.Fatalf("SIMID %d with reason %s", d.SIMID, d.Reason)
	}
}
