package notify

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update accepts):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func notice(kind simguard.AlertNoticeKind, sev simguard.Severity) simguard.AlertNotice {
	return simguard.AlertNotice{Kind: kind, Time: t0.Add(5 * time.Second), Alert: simguard.Alert{
		ID: 7, TenantID: 1, Rule: "radius-bruteforce-sim", Severity: sev, Key: "sim=42", SIMID: 42,
		State: simguard.AlertOpen, Summary: `Many rejected "RADIUS" requests [x]: 5 events within 1m0s`, Count: 1,
		FirstEventAt: t0, CreatedAt: t0.Add(5 * time.Second), LastSeenAt: t0.Add(4 * time.Second),
		Events: []simguard.Event{{ID: 11, Time: t0, TenantID: 1, SIMID: 42, Source: "radius", Type: "radius.access",
			Decision: "deny", Reason: simguard.ReasonIMEIMismatch, Attrs: map[string]string{"imei": "35209900176148"}}},
		Actions: []simguard.AlertAction{{Type: simguard.ActionSuspendSIM, Target: "sim:42", Result: simguard.ActionDone, Time: t0.Add(5 * time.Second)}},
	}}
}

// memDead is a test double of simguard.DeadLetterStore.
type memDead struct {
	mu      sync.Mutex
	letters []simguard.DeadLetter
	next    int64
}

func (m *memDead) AddDeadLetter(_ context.Context, d simguard.DeadLetter) (simguard.DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	d.ID = m.next
	m.letters = append(m.letters, d)
	return d, nil
}

func (m *memDead) DeadLetters(_ context.Context, webhook string, limit int) ([]simguard.DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []simguard.DeadLetter
	for _, d := range m.letters {
		if (webhook == "" || d.Webhook == webhook) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memDead) DeleteDeadLetter(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, d := range m.letters {
		if d.ID == id {
			m.letters = append(m.letters[:i], m.letters[i+1:]...)
			return nil
		}
	}
	return simguard.Errorf(simguard.ENOTFOUND, "dead letter %d not found", id)
}

func (m *memDead) list() []simguard.DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]simguard.DeadLetter(nil), m.letters...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
