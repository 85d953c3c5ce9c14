package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

// memAlerts is an AlertSource in memory with the rules a real one keeps:
// tenant scoping, read-only roles refused, states only move forward.
type memAlerts struct {
	mu     sync.Mutex
	alerts []simguard.Alert
}

func (m *memAlerts) actor(ctx context.Context, write bool) (simguard.Actor, error) {
	a, ok := simguard.ActorFrom(ctx)
	if !ok {
		return a, simguard.Errorf(simguard.EUNAUTHORIZED, "no actor")
	}
	if write && !a.Role.CanWrite() {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "%s tokens cannot change alerts", a.Role)
	}
	return a, nil
}

func (m *memAlerts) ListAlerts(ctx context.Context, f simguard.AlertFilter) ([]simguard.Alert, error) {
	a, err := m.actor(ctx, false)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []simguard.Alert
	for _, al := range m.alerts {
		if al.TenantID != a.TenantID || len(f.States) > 0 && !slices.Contains(f.States, al.State) ||
			f.Rule != "" && al.Rule != f.Rule || f.SIMID != 0 && al.SIMID != f.SIMID ||
			f.Severity != "" && al.Severity.Rank() < f.Severity.Rank() || !f.Since.IsZero() && al.LastSeenAt.Before(f.Since) {
			continue
		}
		out = append(out, al)
	}
	return out, nil
}

func (m *memAlerts) GetAlert(ctx context.Context, id int64) (simguard.Alert, error) {
	a, err := m.actor(ctx, false)
	if err != nil {
		return simguard.Alert{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, al := range m.alerts {
		if al.ID == id && al.TenantID == a.TenantID {
			return al, nil
		}
	}
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "no alert %d", id)
}

func (m *memAlerts) move(ctx context.Context, id int64, to simguard.AlertState, note string) (simguard.Alert, error) {
	a, err := m.actor(ctx, true)
	if err != nil {
		return simguard.Alert{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.alerts {
		al := &m.alerts[i]
		if al.ID != id || al.TenantID != a.TenantID {
			continue
		}
		if al.State == simguard.AlertResolved || al.State == to {
			return *al, simguard.Errorf(simguard.ECONFLICT, "alert %d is %s", id, al.State)
		}
		now := time.Now()
		al.State, al.Note = to, note
		if to == simguard.AlertAcknowledged {
			al.AcknowledgedAt, al.AcknowledgedBy = &now, a.Name
		} else {
			al.ResolvedAt, al.ResolvedBy = &now, a.Name
		}
		return *al, nil
	}
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "no alert %d", id)
}

func (m *memAlerts) Acknowledge(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	return m.move(ctx, id, simguard.AlertAcknowledged, note)
}

func (m *memAlerts) Resolve(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	return m.move(ctx, id, simguard.AlertResolved, note)
}

func (m *memAlerts) get(id int64) simguard.Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alerts[id-1]
}

func alertsEnv(t *testing.T) (*env, *memAlerts) {
	m := &memAlerts{}
	e := newEnv(t, func(c *Config) { c.Alerts = m })
	s1, s2 := e.sim(1), e.sim(2)
	now := e.clock.now()
	ev := func(sim simguard.SIM, plmn string) simguard.Event {
		return simguard.Event{ID: 7, Time: now, TenantID: 1, SIMID: sim.ID, Source: "radius", Type: "radius.access", Decision: "deny",
			Reason: simguard.ReasonLocationDenied, Attrs: map[string]string{"imsi": sim.IMSI, "plmn": plmn}}
	}
	m.alerts = []simguard.Alert{
		{ID: 1, TenantID: 1, Rule: "roaming-outside-allowed", Severity: simguard.SeverityHigh, Key: "sim=" + itoa(s1.ID), SIMID: s1.ID,
			State: simguard.AlertOpen, Summary: "SIM roamed in 310-260", Count: 2, FirstEventAt: now, CreatedAt: now, LastSeenAt: now,
			Events:  []simguard.Event{ev(s1, "310-260"), ev(s1, "310-410")},
			Actions: []simguard.AlertAction{{Type: simguard.ActionSuspendSIM, Target: "sim:" + itoa(s1.ID), Result: simguard.ActionDryRun, Time: now}}},
		{ID: 2, TenantID: 1, Rule: "location-violation", Severity: simguard.SeverityMedium, Key: "sim=" + itoa(s2.ID), SIMID: s2.ID,
			State: simguard.AlertAcknowledged, Summary: "wrong cell", Count: 1, LastSeenAt: now.Add(-time.Hour)},
		{ID: 3, TenantID: 1, Rule: "unknown-nas", Severity: simguard.SeverityLow, Key: "nas=10.9.9.9", State: simguard.AlertResolved,
			Summary: "requests from 10.9.9.9", Count: 5, LastSeenAt: now.Add(-48 * time.Hour)},
		{ID: 4, TenantID: 2, Rule: "other-tenant", Severity: simguard.SeverityCritical, State: simguard.AlertOpen, Summary: "not yours"},
	}
	return e, m
}

func TestAlertsPages(t *testing.T) {
	e, m := alertsEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	r := b.get("/console/")
	wantContains(t, "overview", r.body, `href="/console/alerts"`, `id="panel-alerts"`)
	d := b.overview()
	if d.Alerts == nil || d.Alerts.Total != 2 || d.Alerts.BySeverity[1] != (stateCount{"high", 1}) || d.Alerts.BySeverity[2] != (stateCount{"medium", 1}) {
		t.Fatalf("overview alerts = %+v", d.Alerts)
	}
	cases := []struct {
		query string
		want  []string // rules listed, newest first
	}{
		{"", []string{"location-violation", "roaming-outside-allowed"}},
		{"state=resolved", []string{"unknown-nas"}},
		{"state=any", []string{"unknown-nas", "location-violation", "roaming-outside-allowed"}},
		{"state=any&severity=medium", []string{"location-violation", "roaming-outside-allowed"}},
		{"sim=" + demo.IMSI(1), []string{"roaming-outside-allowed"}},
		{"state=any&since=24h", []string{"location-violation", "roaming-outside-allowed"}},
		{"rule=unknown-nas", nil},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := b.get("/console/alerts?" + c.query)
			var got []string
			for _, m := range rowRule.FindAllStringSubmatch(r.body, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("listed %v, want %v", got, c.want)
			}
			if strings.Contains(r.body, "other-tenant") {
				t.Error("another tenant's alert is listed")
			}
		})
	}
	for _, q := range []string{"state=bogus", "severity=dire", "sim=nope", "since=later"} {
		if r := b.get("/console/alerts?" + q); r.status != formErrorStatus || !strings.Contains(r.body, `class="field-error"`) {
			t.Errorf("%s: %d without a field error", q, r.status)
		}
	}

	// The alert's page: what, the events behind it, the responses.
	r = b.get("/console/alerts/1")
	wantContains(t, "alert page", r.body, "SIM roamed in 310-260", "310-410", "suspend_sim", "dry_run", `href="/console/sims/`+demo.ICCID(1)+`"`,
		`action="/console/alerts/1/acknowledge"`, `action="/console/alerts/1/resolve"`)
	if r := b.get("/console/alerts/4"); r.status != http.StatusNotFound {
		t.Errorf("another tenant's alert: %d", r.status)
	}
	if r := b.get("/console/alerts/x"); r.status != http.StatusNotFound {
		t.Errorf("a bad alert number: %d", r.status)
	}
	wantContains(t, "SIM page", b.get("/console/sims/"+demo.ICCID(1)).body, `id="panel-sim-alerts"`, `href="/console/alerts/1"`)

	r = b.post("/console/alerts/1/acknowledge", url.Values{"note": {"on it"}})
	if r.status != http.StatusSeeOther || r.location != "/console/alerts/1" {
		t.Fatalf("acknowledge: %d to %q", r.status, r.location)
	}
	if a := m.get(1); a.State != simguard.AlertAcknowledged || a.Note != "on it" || !strings.Contains(a.AcknowledgedBy, "t-operator") {
		t.Fatalf("after acknowledge: %+v", a)
	}
	r = b.get("/console/alerts/1")
	wantContains(t, "acknowledged alert", r.body, "Alert #1 acknowledged.", `id="alert-state">acknowledged`, "on it")
	if strings.Contains(r.body, "/acknowledge") {
		t.Error("an acknowledged alert offers acknowledging again")
	}
	b.post("/console/alerts/1/resolve", url.Values{"note": {"customer confirmed the trip"}})
	if a := m.get(1); a.State != simguard.AlertResolved {
		t.Fatalf("after resolve: %+v", a)
	}
	wantContains(t, "resolved alert", b.get("/console/alerts/1").body, "Alert #1 resolved.")
	b.post("/console/alerts/1/resolve", nil)
	wantContains(t, "resolving twice", b.get("/console/alerts/1").body, "Nothing was changed: alert 1 is resolved")
	if r := b.post("/console/alerts/2/reopen", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown action: %d", r.status)
	}
	if r := b.post("/console/alerts/2/resolve", url.Values{"note": {strings.Repeat("x", 1001)}}); r.status != http.StatusBadRequest {
		t.Errorf("a note too long: %d", r.status)
	}
	if r := b.post("/console/alerts/2/resolve", url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden || m.get(2).State != simguard.AlertAcknowledged {
		t.Errorf("forged resolve: %d", r.status)
	}
}

var rowRule = regexp.MustCompile(`<td class="mono"><a href="/console/alerts/\d+">([^<]+)</a></td>`)

func TestAlertsAuditor(t *testing.T) {
	e, m := alertsEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleAuditor))
	for _, p := range []string{"/console/alerts", "/console/alerts/1", "/console/alerts?state=any"} {
		r := b.get(p)
		if r.status != http.StatusOK || strings.Contains(r.body, `method="post" action="/console/alerts`) {
			t.Errorf("auditor on %s: %d, or sees a form that changes alerts", p, r.status)
		}
	}
	for _, a := range []string{"acknowledge", "resolve"} {
		if r := b.post("/console/alerts/1/"+a, nil); r.status != http.StatusForbidden {
			t.Errorf("auditor %s: %d", a, r.status)
		}
	}
	if m.get(1).State != simguard.AlertOpen {
		t.Error("the auditor changed an alert")
	}
}

func TestNoAlertsWithoutSource(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.admin)
	r := b.get("/console/")
	if strings.Contains(r.body, `href="/console/alerts"`) || strings.Contains(r.body, "panel-alerts") {
		t.Error("alerts in the navigation or overview without a source")
	}
	if r := b.get("/console/alerts"); r.status != http.StatusNotFound {
		t.Errorf("/console/alerts without a source: %d", r.status)
	}
}
