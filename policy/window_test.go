package policy

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func at(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }

func withWindows(ws ...simguard.Window) func(*simguard.Policy) {
	return func(p *simguard.Policy) { p.Windows = ws }
}

func when(t time.Time) func(*simguard.Request) { return func(r *simguard.Request) { r.Time = t } }

func validUntil(want time.Time) func(*testing.T, simguard.Decision) {
	return func(t *testing.T, d simguard.Decision) {
		t.Helper()
		if !d.ValidUntil.Equal(want) {
			t.Errorf("ValidUntil = %v, want %v", d.ValidUntil, want)
		}
	}
}

func TestWindows(t *testing.T) {
	data := []simguard.Service{simguard.ServiceData}
	mo := []simguard.Service{simguard.ServiceSMSMO}
	mt := []simguard.Service{simguard.ServiceSMSMT}
	runCases(t, []ruleCase{
		{name: "absolute inside", policy: withWindows(simguard.Window{From: tp(t0.Add(-time.Hour)), Until: tp(t0.Add(time.Hour))}), rule: "group:g", check: validUntil(t0.Add(time.Hour))},
		{name: "absolute starts exactly now", policy: withWindows(simguard.Window{From: tp(t0)}), rule: "group:g", check: validUntil(time.Time{})},
		{name: "absolute not started", policy: withWindows(simguard.Window{From: tp(t0.Add(time.Hour))}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "absolute ended exactly now", policy: withWindows(simguard.Window{Until: tp(t0)}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "daily inside", policy: withWindows(simguard.Window{Daily: "08:00-12:00"}), rule: "group:g", check: validUntil(at(12, 0))},
		{name: "daily before", policy: withWindows(simguard.Window{Daily: "11:00-12:00"}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "daily end is exclusive", policy: withWindows(simguard.Window{Daily: "08:00-10:00"}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "daily start is inclusive", policy: withWindows(simguard.Window{Daily: "10:00-10:01"}), rule: "group:g", check: validUntil(at(10, 1))},
		{name: "wrap: late evening", policy: withWindows(simguard.Window{Daily: "22:00-06:00"}), req: when(at(23, 0)), rule: "group:g", check: validUntil(at(30, 0))},
		{name: "wrap: early morning", policy: withWindows(simguard.Window{Daily: "22:00-06:00"}), req: when(at(3, 0)), rule: "group:g", check: validUntil(at(6, 0))},
		{name: "wrap: daytime", policy: withWindows(simguard.Window{Daily: "22:00-06:00"}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "until midnight", policy: withWindows(simguard.Window{Daily: "20:00-00:00"}), req: when(at(21, 0)), rule: "group:g", check: validUntil(at(24, 0))},
		{name: "until midnight: after it", policy: withWindows(simguard.Window{Daily: "20:00-00:00"}), req: when(at(0, 30)), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "daily within absolute: absolute ends first", policy: withWindows(simguard.Window{Daily: "08:00-18:00", Until: tp(t0.Add(time.Hour))}), rule: "group:g", check: validUntil(t0.Add(time.Hour))},
		{name: "daily within absolute: slot ends first", policy: withWindows(simguard.Window{Daily: "08:00-11:00", Until: tp(t0.Add(48 * time.Hour))}), rule: "group:g", check: validUntil(at(11, 0))},
		{name: "daily before absolute start", policy: withWindows(simguard.Window{Daily: "08:00-18:00", From: tp(t0.Add(24 * time.Hour))}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "several cover: latest end wins", policy: withWindows(
			simguard.Window{Until: tp(t0.Add(time.Hour))},
			simguard.Window{Daily: "09:00-13:00"},
			simguard.Window{Daily: "14:00-15:00"},
		), rule: "group:g", check: validUntil(at(13, 0))},
		{name: "one of several covers", policy: withWindows(simguard.Window{Daily: "06:00-07:00"}, simguard.Window{Daily: "09:00-11:00"}), rule: "group:g", check: validUntil(at(11, 0))},
		{name: "activation ends before window", sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0.Add(30 * time.Minute)) }, policy: withWindows(simguard.Window{Daily: "08:00-12:00"}), rule: "group:g", check: validUntil(t0.Add(30 * time.Minute))},
		{name: "window ends before activation", sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0.Add(5 * time.Hour)) }, policy: withWindows(simguard.Window{Daily: "08:00-12:00"}), rule: "group:g", check: validUntil(at(12, 0))},
		{name: "window of another service does not apply", policy: withWindows(simguard.Window{Services: mo, Until: tp(t0)}), rule: "group:g", check: validUntil(time.Time{})},
		{name: "window of the service applies", kind: simguard.KindSMSMO, policy: withWindows(simguard.Window{Services: mo, Until: tp(t0)}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "window for all services applies to sms", kind: simguard.KindSMSMT, policy: withWindows(simguard.Window{Until: tp(t0)}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "flow follows data windows", kind: simguard.KindFlow, policy: withWindows(simguard.Window{Services: data, Daily: "11:00-12:00"}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "attach: on when any service is on", kind: simguard.KindAttach, policy: withWindows(
			simguard.Window{Services: data, Until: tp(t0)},
			simguard.Window{Services: mt, Until: tp(t0.Add(2 * time.Hour))},
			simguard.Window{Services: mo, Until: tp(t0.Add(time.Hour))},
		), rule: "group:g", check: validUntil(t0.Add(2 * time.Hour))},
		{name: "attach: a service without windows has no end", kind: simguard.KindAttach, policy: withWindows(
			simguard.Window{Services: []simguard.Service{simguard.ServiceData, simguard.ServiceSMSMO}, Until: tp(t0.Add(time.Hour))},
		), rule: "group:g", check: validUntil(time.Time{})},
		{name: "attach: only enabled services count", kind: simguard.KindAttach, policy: func(p *simguard.Policy) {
			p.Services = data
			p.Windows = []simguard.Window{{Services: data, Until: tp(t0)}}
		}, reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "attach: every service outside", kind: simguard.KindAttach, policy: withWindows(simguard.Window{Daily: "01:00-02:00"}), reason: simguard.ReasonOutsideWindow, rule: "group:g/windows"},
		{name: "imei_check ignores windows", kind: simguard.KindIMEICheck, policy: withWindows(simguard.Window{Until: tp(t0)}), rule: "group:g", check: validUntil(time.Time{})},
		{name: "imei_check still honours activation", kind: simguard.KindIMEICheck, sim: func(s *simguard.SIM) { s.ActiveUntil = tp(t0) }, reason: simguard.ReasonOutsideWindow, rule: "sim:active_until"},
	})
}

func TestQuotas(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	today := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	quota := func(period, on string) func(*simguard.Policy) {
		return func(p *simguard.Policy) {
			p.Quotas = simguard.Quotas{Period: period, DataBytes: 1000, SMSCount: 10, OnExhaustion: on}
		}
	}
	usage := func(start time.Time, data, sms int64) func(*simguard.SIM) {
		return func(s *simguard.SIM) { s.Usage = simguard.Usage{PeriodStart: start, DataBytes: data, SMSCount: sms} }
	}
	alert := func(want bool) func(*testing.T, simguard.Decision) {
		return func(t *testing.T, d simguard.Decision) {
			if d.QuotaAlert != want {
				t.Errorf("QuotaAlert = %v, want %v", d.QuotaAlert, want)
			}
		}
	}
	runCases(t, []ruleCase{
		{name: "month: under the limit", policy: quota("", ""), sim: usage(month, 999, 0), rule: "group:g", check: alert(false)},
		{name: "month: limit reached", policy: quota("", ""), sim: usage(month, 1000, 0), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "month: last nanosecond", policy: quota("month", "block"), sim: usage(month, 1000, 0), req: when(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(-1)), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "month: rolled over", policy: quota("month", "block"), sim: usage(month, 5000, 0), req: when(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), rule: "group:g"},
		{name: "month: usage of last month", policy: quota("month", "block"), sim: usage(month.AddDate(0, -1, 0), 5000, 0), rule: "group:g"},
		{name: "month: start in another zone", policy: quota("month", "block"), sim: usage(month.In(time.FixedZone("CET", 3600)), 5000, 0), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "month: start not a month start", policy: quota("month", "block"), sim: usage(today, 5000, 0), rule: "group:g"},
		{name: "month: no usage recorded", policy: quota("month", "block"), sim: usage(time.Time{}, 5000, 0), rule: "group:g"},
		{name: "day: limit reached", policy: quota("day", "block"), sim: usage(today, 1000, 0), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "day: rolled over at midnight", policy: quota("day", "block"), sim: usage(today, 1000, 0), req: when(today.Add(24 * time.Hour)), rule: "group:g"},
		{name: "day: month start counts as day start", policy: quota("day", "block"), sim: usage(month, 1000, 0), req: when(month.Add(time.Hour)), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "day: start not at midnight", policy: quota("day", "block"), sim: usage(t0, 1000, 0), rule: "group:g"},
		{name: "day: yesterday's usage", policy: quota("day", "block"), sim: usage(today.Add(-24*time.Hour), 1000, 0), rule: "group:g"},
		{name: "alert instead of block", policy: quota("month", "alert"), sim: usage(month, 1000, 0), rule: "group:g", check: alert(true)},
		{name: "alert is dropped on a later denial", policy: func(p *simguard.Policy) {
			quota("month", "alert")(p)
			p.APNs = []string{"x"}
		}, sim: usage(month, 1000, 0), reason: simguard.ReasonAPNDenied, rule: "group:g/apns", check: alert(false)},
		{name: "sms quota for sms_mo", kind: simguard.KindSMSMO, policy: quota("month", "block"), sim: usage(month, 0, 10), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "sms quota for sms_mt", kind: simguard.KindSMSMT, policy: quota("month", "block"), sim: usage(month, 0, 10), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "data quota does not stop sms", kind: simguard.KindSMSMO, policy: quota("month", "block"), sim: usage(month, 5000, 9), rule: "group:g"},
		{name: "sms quota does not stop data", policy: quota("month", "block"), sim: usage(month, 0, 50), rule: "group:g"},
		{name: "attach uses the data quota", kind: simguard.KindAttach, policy: quota("month", "block"), sim: usage(month, 1000, 0), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "flow uses the data quota", kind: simguard.KindFlow, policy: quota("month", "block"), sim: usage(month, 1000, 0), reason: simguard.ReasonQuotaExceeded, rule: "group:g/quotas"},
		{name: "imei_check uses no quota", kind: simguard.KindIMEICheck, policy: quota("month", "block"), sim: usage(month, 1000, 10), rule: "group:g"},
		{name: "zero limit is unlimited", policy: func(p *simguard.Policy) { p.Quotas = simguard.Quotas{SMSCount: 1} }, sim: usage(month, 1<<40, 0), rule: "group:g"},
	})
}

func TestWindowCoversUnit(t *testing.T) {
	day := dayOf(nsOf(t0)) * dayNS
	w := compileWindow(simguard.Window{Daily: "23:30-00:30"})
	cases := []struct {
		name string
		t    int64
		in   bool
		end  int64
	}{
		{"before", day + 23*3600e9, false, 0},
		{"start", day + 23*3600e9 + 30*60e9, true, day + dayNS + 30*60e9},
		{"after midnight", day + 15*60e9, true, day + 30*60e9},
		{"end", day + 30*60e9, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			end, in := w.covers(c.t)
			if in != c.in || in && end != c.end {
				t.Errorf("covers(%s) = %s, %v; want %s, %v", fmtNS(c.t), fmtNS(end), in, fmtNS(c.end), c.in)
			}
		})
	}
}
