package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
	"github.com/simguard/simguard/notify"
)

// The detection half of the acceptance test, without RADIUS: a
// burst of rejected Access-Request events for one SIM fires the built-in
// brute-force rule, the SIM is suspended through the Responder as the
// rule, and a webhook receiver gets the alert, signed. (The RADIUS half,
// with radclient, needs the RADIUS server and serve wiring.)
func TestBruteForceSuspendsAndNotifies(t *testing.T) {
	const secret = "integration-secret-0123"
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify(secret, body, r.Header.Get(notify.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer srv.Close()

	hook, err := notify.NewWebhook(notify.WebhookConfig{Name: "soc", URL: srv.URL, Secret: secret,
		Filter: notify.Filter{MinSeverity: simguard.SeverityHigh}}, notify.WebhookDeps{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := detect.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := l.Load(detect.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	resp := &responder{}
	eng, err := detect.New(detect.Config{}, detect.Deps{Rules: rules, Alerts: &alerts{}, Responder: resp, Notifiers: []detect.Notifier{hook}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = hook.Run(ctx) }()
	go func() { defer wg.Done(); _ = eng.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	first := time.Now()
	for i := 0; i < 5; i++ {
		eng.Emit(simguard.Event{Time: first.Add(time.Duration(i) * 10 * time.Millisecond), TenantID: 1, SIMID: 42,
			Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonIMEIMismatch,
			Attrs: map[string]string{"imsi": "262019876543210", "imei": "8600000000000" + string(rune('0'+i))}})
	}
	deadline := time.Now().Add(10 * time.Second)
	var alert map[string]any
	for alert == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		for _, m := range got {
			if a, _ := m["alert"].(map[string]any); a["rule"] == "radius-bruteforce-sim" {
				alert = a
			}
		}
		mu.Unlock()
	}
	if alert == nil {
		t.Fatal("the webhook never got the brute-force alert")
	}
	if calls := resp.list(); len(calls) != 1 || calls[0] != "suspend 42 rule:radius-bruteforce-sim" {
		t.Errorf("responder calls %q", calls)
	}
	actions, _ := alert["actions"].([]any)
	if len(actions) != 1 || actions[0].(map[string]any)["result"] != "done" || alert["sim_id"].(float64) != 42 {
		t.Errorf("alert %v", alert)
	}
	created, _ := time.Parse(time.RFC3339Nano, alert["created_at"].(string))
	t.Logf("time to detect %s (first offending event to alert)", created.Sub(first))
}

type responder struct {
	mu    sync.Mutex
	calls []string
}

func (r *responder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *responder) SuspendSIM(_ context.Context, id int64, a simguard.Actor, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "suspend "+itoa(id)+" "+a.Name)
	return nil
}
func (r *responder) MoveSIMToGroup(context.Context, int64, string, simguard.Actor) error { return nil }
func (r *responder) BlockDestination(context.Context, int64, string, netip.Prefix, simguard.Actor) error {
	return nil
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// alerts is the smallest AlertStore double the engine needs here.
type alerts struct {
	mu   sync.Mutex
	list []simguard.Alert
}

func (s *alerts) CreateAlert(_ context.Context, a simguard.Alert) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = int64(len(s.list) + 1)
	s.list = append(s.list, a)
	return a, nil
}
func (s *alerts) AddAlertFiring(_ context.Context, id int64, _ simguard.AlertFiring) (simguard.Alert, error) {
	return simguard.Alert{ID: id}, nil
}
func (s *alerts) AddAlertActions(context.Context, int64, []simguard.AlertAction) error { return nil }
func (s *alerts) GetAlert(context.Context, int64, int64) (simguard.Alert, error) {
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "no")
}
func (s *alerts) ListAlerts(context.Context, simguard.AlertFilter) ([]simguard.Alert, error) {
	return nil, nil
}
func (s *alerts) SetAlertState(context.Context, int64, int64, simguard.AlertState, string, simguard.Change) (simguard.Alert, error) {
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "no")
}
