package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func alertFixture(tenant int64, rule string, sev simguard.Severity, sim int64) simguard.Alert {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return simguard.Alert{
		TenantID: tenant, Rule: rule, Severity: sev, Key: "sim=42", SIMID: sim, Summary: "five rejects",
		FirstEventAt: t0, CreatedAt: t0.Add(5 * time.Second), LastSeenAt: t0.Add(4 * time.Second), DryRun: true,
		Events: []simguard.Event{{ID: 9, Time: t0, TenantID: tenant, SIMID: sim, Source: "radius", Type: "radius.access",
			Decision: "deny", Reason: simguard.ReasonIMEIMismatch, Attrs: map[string]string{"imei": "35209900176148"}}},
	}
}

func TestAlertStore(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	admin := simguard.Change{Actor: simguard.SystemActor(1, "token:1 (ops)"), Action: "tenant.create"}
	a1, err := db.CreateTenant(ctx, "acme", admin)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := db.CreateTenant(ctx, "other", admin)
	if err != nil {
		t.Fatal(err)
	}

	in := alertFixture(a1.ID, "radius-bruteforce-sim", simguard.SeverityHigh, 42)
	created, err := db.CreateAlert(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.State != simguard.AlertOpen || created.Count != 1 {
		t.Fatalf("created %+v", created)
	}
	got, err := db.GetAlert(ctx, a1.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("stored alert differs:\n got %+v\nwant %+v", got, created)
	}
	if _, err := db.GetAlert(ctx, b1.ID, created.ID); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("another tenant's alert: %v", err)
	}
	if _, err := db.CreateAlert(ctx, alertFixture(999, "r", simguard.SeverityLow, 0)); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("alert of a missing tenant: %v", err)
	}

	// Firings fold in, events up to the cap.
	more := append(in.Events, in.Events[0], in.Events[0])
	last := in.LastSeenAt.Add(time.Minute)
	up, err := db.AddAlertFiring(ctx, created.ID, simguard.AlertFiring{Count: 3, LastSeenAt: last, Events: more, MaxEvents: 3})
	if err != nil {
		t.Fatal(err)
	}
	if up.Count != 4 || !up.LastSeenAt.Equal(last) || len(up.Events) != 3 {
		t.Errorf("after firing: count %d last %v events %d", up.Count, up.LastSeenAt, len(up.Events))
	}
	acts := []simguard.AlertAction{{Type: simguard.ActionSuspendSIM, Target: "sim:42", Result: simguard.ActionDryRun, Time: last}}
	if err := db.AddAlertActions(ctx, created.ID, acts); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAlertActions(ctx, created.ID, acts); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetAlert(ctx, a1.ID, created.ID); len(got.Actions) != 2 || got.Actions[1] != acts[0] {
		t.Errorf("actions %+v", got.Actions)
	}

	// States move forward only, audited.
	op := simguard.Change{Actor: simguard.SystemActor(a1.ID, "token:7 (soc)"), Action: "alert.acknowledge"}
	ack, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertAcknowledged, "looking", op)
	if err != nil || ack.State != simguard.AlertAcknowledged || ack.AcknowledgedBy != "token:7 (soc)" || ack.AcknowledgedAt == nil || ack.Note != "looking" {
		t.Fatalf("acknowledge: %+v %v", ack, err)
	}
	if _, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertAcknowledged, "", op); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("acknowledge twice: %v", err)
	}
	if _, err := db.AddAlertFiring(ctx, created.ID, simguard.AlertFiring{Count: 1, LastSeenAt: last, MaxEvents: 3}); err != nil {
		t.Errorf("an acknowledged alert must absorb firings: %v", err)
	}
	op.Action = "alert.resolve"
	res, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertResolved, "", op)
	if err != nil || res.State != simguard.AlertResolved || res.ResolvedAt == nil || res.Note != "looking" {
		t.Fatalf("resolve: %+v %v", res, err)
	}
	if _, err := db.AddAlertFiring(ctx, created.ID, simguard.AlertFiring{Count: 1, LastSeenAt: last, MaxEvents: 3}); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("firing into a resolved alert: %v", err)
	}
	if _, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertAcknowledged, "", op); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("going back: %v", err)
	}
	if _, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertOpen, "", op); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("set open: %v", err)
	}
	if _, err := db.SetAlertState(ctx, a1.ID, created.ID, simguard.AlertResolved, "", simguard.Change{}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("change without actor: %v", err)
	}
	recs, err := db.FindAudit(ctx, simguard.AuditFilter{TenantID: a1.ID, Object: "alert:1"})
	if err != nil || len(recs) != 2 || recs[0].Action != "alert.acknowledge" || recs[1].Action != "alert.resolve" || recs[1].Actor != "token:7 (soc)" {
		t.Errorf("audit %+v %v", recs, err)
	}
	if _, err := db.AddAlertFiring(ctx, 999, simguard.AlertFiring{}); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("missing alert: %v", err)
	}
}

func TestListAlerts(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	admin := simguard.Change{Actor: simguard.SystemActor(1, "system"), Action: "tenant.create"}
	a, _ := db.CreateTenant(ctx, "a", admin)
	b, _ := db.CreateTenant(ctx, "b", admin)
	specs := []struct {
		tenant int64
		rule   string
		sev    simguard.Severity
		sim    int64
	}{
		{a.ID, "sim-swap", simguard.SeverityCritical, 1}, {a.ID, "sms-flood", simguard.SeverityMedium, 2},
		{b.ID, "sim-swap", simguard.SeverityCritical, 3}, {a.ID, "first-contact-destination", simguard.SeverityLow, 0},
		{a.ID, "sim-swap", simguard.SeverityCritical, 2},
	}
	for _, s := range specs {
		if _, err := db.CreateAlert(ctx, alertFixture(s.tenant, s.rule, s.sev, s.sim)); err != nil {
			t.Fatal(err)
		}
	}
	op := simguard.Change{Actor: simguard.SystemActor(a.ID, "token:1"), Action: "alert.resolve"}
	if _, err := db.SetAlertState(ctx, a.ID, 1, simguard.AlertResolved, "", op); err != nil {
		t.Fatal(err)
	}
	ids := func(f simguard.AlertFilter) []int64 {
		t.Helper()
		l, err := db.ListAlerts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, x := range l {
			out = append(out, x.ID)
		}
		return out
	}
	cases := []struct {
		name string
		f    simguard.AlertFilter
		want []int64
	}{
		{"all tenants", simguard.AlertFilter{}, []int64{1, 2, 3, 4, 5}},
		{"tenant", simguard.AlertFilter{TenantID: a.ID}, []int64{1, 2, 4, 5}},
		{"active", simguard.AlertFilter{States: []simguard.AlertState{simguard.AlertOpen, simguard.AlertAcknowledged}}, []int64{2, 3, 4, 5}},
		{"resolved", simguard.AlertFilter{States: []simguard.AlertState{simguard.AlertResolved}}, []int64{1}},
		{"rule", simguard.AlertFilter{TenantID: a.ID, Rule: "sim-swap"}, []int64{1, 5}},
		{"sim", simguard.AlertFilter{SIMID: 2}, []int64{2, 5}},
		{"medium or higher", simguard.AlertFilter{TenantID: a.ID, Severity: simguard.SeverityMedium}, []int64{1, 2, 5}},
		{"page", simguard.AlertFilter{AfterID: 2, Limit: 2}, []int64{3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
		})
	}
	if _, err := db.ListAlerts(ctx, simguard.AlertFilter{States: []simguard.AlertState{"closed"}}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("bad state filter: %v", err)
	}
}

func TestDeadLetters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "simguard.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, w := range []string{"soc", "ops", "soc"} {
		d, err := db.AddDeadLetter(ctx, simguard.DeadLetter{Webhook: w, Body: []byte(`{"n":` + string(rune('0'+i)) + `}`), Attempts: 6, LastError: "503"})
		if err != nil || d.ID != int64(i+1) || d.CreatedAt.IsZero() {
			t.Fatalf("add: %+v %v", d, err)
		}
	}
	if _, err := db.AddDeadLetter(ctx, simguard.DeadLetter{Webhook: "soc"}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("empty body: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Durable across a restart.
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	soc, err := db.DeadLetters(ctx, "soc", 0)
	if err != nil || len(soc) != 2 || string(soc[1].Body) != `{"n":2}` || soc[0].Attempts != 6 || soc[0].LastError != "503" {
		t.Fatalf("soc letters %+v %v", soc, err)
	}
	if all, _ := db.DeadLetters(ctx, "", 0); len(all) != 3 {
		t.Errorf("all letters: %d", len(all))
	}
	if err := db.DeleteDeadLetter(ctx, soc[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDeadLetter(ctx, soc[0].ID); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
	if left, _ := db.DeadLetters(ctx, "soc", 0); len(left) != 1 {
		t.Errorf("left %d", len(left))
	}
}
