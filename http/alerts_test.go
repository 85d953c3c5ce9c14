package http_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sqlite"
)

// alertsOnStore serves the alert routes from the store alone; the real
// server uses the detection engine for the state changes.
type alertsOnStore struct{ *sqlite.DB }

func (s alertsOnStore) Acknowledge(ctx context.Context, tenantID, id int64, note string, a simguard.Actor) (simguard.Alert, error) {
	return s.SetAlertState(ctx, tenantID, id, simguard.AlertAcknowledged, note, simguard.Change{Actor: a, Action: "alert.acknowledge"})
}

func (s alertsOnStore) Resolve(ctx context.Context, tenantID, id int64, note string, a simguard.Actor) (simguard.Alert, error) {
	return s.SetAlertState(ctx, tenantID, id, simguard.AlertResolved, note, simguard.Change{Actor: a, Action: "alert.resolve"})
}

func TestAlertRoutes(t *testing.T) {
	var db *sqlite.DB
	a := newAPI(t, func(s *sghttp.Server, d *sqlite.DB) { db = d; s.HandleAlerts(alertsOnStore{d}) })
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, sev := range []simguard.Severity{simguard.SeverityHigh, simguard.SeverityLow} {
		_, err := db.CreateAlert(ctx, simguard.Alert{TenantID: 1, Rule: "radius-bruteforce-sim", Severity: sev, Key: fmt.Sprintf("sim=%d", i+1),
			SIMID: int64(i + 1), Summary: "x", FirstEventAt: t0, CreatedAt: t0, LastSeenAt: t0,
			Events: []simguard.Event{{ID: 1, Time: t0, TenantID: 1, Source: "radius", Type: "radius.access"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	auditor := a.token(0, "auditor")
	var page struct{ Items []simguard.Alert }
	r := a.call(auditor, "GET", "/api/v1/alerts?severity=medium&state=open", nil)
	r.decode(t, &page)
	if r.status != 200 || len(page.Items) != 1 || page.Items[0].Severity != simguard.SeverityHigh || len(page.Items[0].Events) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	cases := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"get", auditor, "GET", "/api/v1/alerts/1", nil, 200},
		{"get missing", auditor, "GET", "/api/v1/alerts/99", nil, 404},
		{"bad id", auditor, "GET", "/api/v1/alerts/x", nil, 400},
		{"auditor cannot acknowledge", auditor, "POST", "/api/v1/alerts/1/acknowledge", nil, 403},
		{"acknowledge", a.admin, "POST", "/api/v1/alerts/1/acknowledge", map[string]string{"note": "on it"}, 200},
		{"acknowledge twice", a.admin, "POST", "/api/v1/alerts/1/acknowledge", nil, 409},
		{"resolve", a.admin, "POST", "/api/v1/alerts/1/resolve", nil, 200},
		{"no token", "", "GET", "/api/v1/alerts", nil, 401},
		{"bad state", auditor, "GET", "/api/v1/alerts?state=closed", nil, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := a.call(c.token, c.method, c.path, c.body); r.status != c.status {
				t.Errorf("%s %s → %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
			}
		})
	}
	var got simguard.Alert
	a.call(auditor, "GET", "/api/v1/alerts/1", nil).decode(t, &got)
	if got.State != simguard.AlertResolved || got.Note != "on it" || got.ResolvedBy == "" {
		t.Errorf("alert %+v", got)
	}
}

type fakeWebhooks struct{ letters []simguard.DeadLetter }

func (f fakeWebhooks) DeadLetters(context.Context, string, int) ([]simguard.DeadLetter, error) {
	return f.letters, nil
}

func (f fakeWebhooks) ReplayDeadLetters(_ context.Context, name string) (int, error) {
	if name != "soc" {
		return 0, simguard.Errorf(simguard.ENOTFOUND, "no webhook %q is configured", name)
	}
	return len(f.letters), nil
}

func TestWebhookRoutes(t *testing.T) {
	letters := []simguard.DeadLetter{{ID: 1, Webhook: "soc", Body: []byte(`{"kind":"opened"}`), Attempts: 6, LastError: "503", CreatedAt: time.Now().UTC()}}
	a := newAPI(t, func(s *sghttp.Server, _ *sqlite.DB) { s.HandleWebhooks(fakeWebhooks{letters}) })
	operator := a.token(0, "operator")
	cases := []struct {
		name, token, method, path string
		status                    int
		body                      string
	}{
		{"list", a.admin, "GET", "/api/v1/webhooks/dead-letters", 200, `"body":{"kind":"opened"}`},
		{"replay", a.admin, "POST", "/api/v1/webhooks/soc/replay", 200, `{"delivered":1}`},
		{"unknown webhook", a.admin, "POST", "/api/v1/webhooks/x/replay", 404, ""},
		{"operators may not", operator, "GET", "/api/v1/webhooks/dead-letters", 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.call(c.token, c.method, c.path, nil)
			if r.status != c.status || !strings.Contains(string(r.body), c.body) {
				t.Errorf("%s %s → %d %s, want %d with %s", c.method, c.path, r.status, r.body, c.status, c.body)
			}
		})
	}
}
