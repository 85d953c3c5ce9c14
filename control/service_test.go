package control_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/sqlite"
)

// fixture is a control plane on a real SQLite file with the demo fleet.
type fixture struct {
	svc   *control.Service
	db    *sqlite.DB
	admin context.Context // provider admin
	clock *clock
	ev    *events
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type events struct{ got []simguard.Event }

func (e *events) Emit(ev simguard.Event) { e.got = append(e.got, ev) }

func (e *events) types() []string {
	var out []string
	for _, ev := range e.got {
		out = append(out, ev.Type)
	}
	return out
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ev := &events{}
	svc, err := control.New(ctx, db, control.Config{Now: clk.now, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := svc.Bootstrap(ctx, "provider")
	if err != nil || secret == "" {
		t.Fatalf("bootstrap: %q, %v", secret, err)
	}
	a, _, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, db: db, admin: simguard.WithActor(ctx, a), clock: clk, ev: ev}
	for _, g := range demo.Groups() {
		if _, err := svc.CreateGroup(f.admin, g); err != nil {
			t.Fatal(err)
		}
	}
	rows := []control.ImportRow{}
	for i, s := range demo.SIMs()[:20] {
		rows = append(rows, control.ImportRow{Line: i + 2, SIM: s})
	}
	if _, err := svc.ImportSIMs(f.admin, rows); err != nil {
		t.Fatal(err)
	}
	return f
}

// as returns a context acting as a new token of tenantID with role.
func (f *fixture) as(t *testing.T, tenantID int64, role simguard.Role) context.Context {
	t.Helper()
	tok, err := f.svc.CreateToken(f.admin, tenantID, "t-"+string(role), role)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := f.svc.Authenticate(context.Background(), tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return simguard.WithActor(context.Background(), a)
}

func (f *fixture) decide(r simguard.Request) simguard.Decision {
	r.Time = f.clock.t
	return f.svc.Policy().Evaluate(&r)
}

func meterSession(i int) simguard.Request {
	return simguard.Request{Kind: simguard.KindDataSession, IMSI: demo.IMSI(i), IMEI: demo.IMEI(i), APN: "meters.iot",
		RAT: simguard.RATNBIoT, Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}}}
}

func TestBootstrapRunsOnce(t *testing.T) {
	f := newFixture(t)
	secret, err := f.svc.Bootstrap(context.Background(), "again")
	if err != nil || secret != "" {
		t.Fatalf("second bootstrap = %q, %v; want nothing", secret, err)
	}
	if _, _, err := f.svc.Authenticate(context.Background(), "sgt_not-a-real-token"); simguard.ErrorCode(err) != simguard.EUNAUTHORIZED {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestRolesAndTenants(t *testing.T) {
	f := newFixture(t)
	other, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	operator := f.as(t, simguard.ProviderTenantID, simguard.RoleOperator)
	acmeAdmin := f.as(t, other.ID, simguard.RoleAdmin)
	iccid := demo.ICCID(0)
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"auditor reads", func() error { _, err := f.svc.GetSIM(auditor, iccid); return err }, ""},
		{"auditor cannot suspend", func() error { _, err := f.svc.SuspendSIM(auditor, iccid, 0); return err }, simguard.EFORBIDDEN},
		{"auditor cannot change groups", func() error { _, err := f.svc.CreateGroup(auditor, simguard.Group{Name: "x"}); return err }, simguard.EFORBIDDEN},
		{"operator cannot make tokens", func() error {
			_, err := f.svc.CreateToken(operator, 0, "x", simguard.RoleAdmin)
			return err
		}, simguard.EFORBIDDEN},
		{"operator suspends", func() error { _, err := f.svc.SuspendSIM(operator, iccid, 0); return err }, ""},
		{"other tenant cannot see", func() error { _, err := f.svc.GetSIM(acmeAdmin, iccid); return err }, simguard.ENOTFOUND},
		{"other tenant cannot change", func() error { _, err := f.svc.ActivateSIM(acmeAdmin, iccid, 0, 0); return err }, simguard.ENOTFOUND},
		{"other tenant lists nothing", func() error {
			sims, err := f.svc.ListSIMs(acmeAdmin, simguard.SIMFilter{})
			if err == nil && len(sims) != 0 {
				return errors.New("sees sims of another tenant")
			}
			return err
		}, ""},
		{"tenant admin cannot make tenants", func() error { _, err := f.svc.CreateTenant(acmeAdmin, "evil"); return err }, simguard.EFORBIDDEN},
		{"tenant admin cannot make tokens elsewhere", func() error {
			_, err := f.svc.CreateToken(acmeAdmin, simguard.ProviderTenantID, "x", simguard.RoleAdmin)
			return err
		}, simguard.EFORBIDDEN},
		{"no actor", func() error { _, err := f.svc.GetSIM(context.Background(), iccid); return err }, simguard.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := simguard.ErrorCode(tt.do()); got != tt.want {
				t.Fatalf("code %q, want %q", got, tt.want)
			}
		})
	}
	// The policy check of another tenant's SIM must not reveal it either.
	r := meterSession(0)
	ex, err := f.svc.Check(acmeAdmin, r)
	if err != nil || ex.Decision.Reason != simguard.ReasonSIMUnknown {
		t.Fatalf("check across tenants = %+v, %v", ex.Decision, err)
	}
}

func TestSnapshotFollowsEveryChange(t *testing.T) {
	f := newFixture(t)
	if d := f.decide(meterSession(0)); !d.Allow {
		t.Fatalf("before: %+v", d)
	}
	if _, err := f.svc.SuspendSIM(f.admin, demo.IMSI(0), 0); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(meterSession(0)); d.Reason != simguard.ReasonSIMSuspended {
		t.Fatalf("after suspend: %+v", d)
	}
	if _, err := f.svc.ActivateSIM(f.admin, demo.IMSI(0), 0, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(meterSession(0)); !d.Allow || !d.ValidUntil.Equal(f.clock.t.Add(2*time.Hour)) {
		t.Fatalf("after activate for 2h: %+v", d)
	}
	f.clock.t = f.clock.t.Add(3 * time.Hour)
	if d := f.decide(meterSession(0)); d.Reason != simguard.ReasonOutsideWindow {
		t.Fatalf("after the 2h: %+v", d)
	}
	// A group change reaches SIMs already in the group.
	g, err := f.svc.GetGroup(f.admin, "smart-meters")
	if err != nil {
		t.Fatal(err)
	}
	g.Policy.APNs = []string{"other.apn"}
	if _, _, err := f.svc.ApplyGroup(f.admin, g, g.Version); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(meterSession(1)); d.Reason != simguard.ReasonAPNDenied {
		t.Fatalf("after group change: %+v", d)
	}
	if _, _, err := f.svc.ApplyGroup(f.admin, g, g.Version); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Fatalf("stale If-Match: %v", err)
	}
}

func TestIMEILearnMismatchAndSMS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Demo SIM 600+ are trackers with a learn lock, but only 20 SIMs are
	// loaded: put one tracker in.
	tr := demo.SIMs()[600]
	if _, err := f.svc.ImportSIMs(f.admin, []control.ImportRow{{Line: 2, SIM: tr}}); err != nil {
		t.Fatal(err)
	}
	req := simguard.Request{Kind: simguard.KindDataSession, IMSI: tr.IMSI, IMEI: "86000000000001", APN: "track.iot",
		RAT: simguard.RAT4G, Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}}}
	d := f.decide(req)
	if !d.Allow || !d.LearnIMEI {
		t.Fatalf("first device: %+v", d)
	}
	if err := f.svc.LearnIMEI(ctx, d.SIMID, req.IMEI, "radius"); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(req); !d.Allow || d.LearnIMEI {
		t.Fatalf("same device after learning: %+v", d)
	}
	other := req
	other.IMEI = "86000000000002"
	if d := f.decide(other); d.Reason != simguard.ReasonIMEIMismatch {
		t.Fatalf("other device: %+v", d)
	}
	if err := f.svc.ReportIMEIMismatch(ctx, d.SIMID, other.IMEI, "radius"); err != nil {
		t.Fatal(err)
	}
	sim, err := f.svc.GetSIM(f.admin, tr.ICCID)
	if err != nil {
		t.Fatal(err)
	}
	if sim.IMEILock.State() != simguard.IMEILockMismatch || sim.IMEILock.IMEI != "86000000000001" {
		t.Fatalf("lock after mismatch: %+v", sim.IMEILock)
	}
	// SMS carries no IMEI; the lock's state stops it.
	sms := simguard.Request{Kind: simguard.KindSMSMT, MSISDN: tr.MSISDN, Peer: "12345"}
	if d := f.decide(sms); d.Reason != simguard.ReasonIMEIMismatch {
		t.Fatalf("sms during mismatch: %+v", d)
	}
	// A repeat within a minute writes nothing new to the audit log.
	before := countAudit(t, f, "sim:"+tr.ICCID)
	if err := f.svc.ReportIMEIMismatch(ctx, d.SIMID, other.IMEI, "radius"); err != nil {
		t.Fatal(err)
	}
	if after := countAudit(t, f, "sim:"+tr.ICCID); after != before {
		t.Fatalf("repeated mismatch wrote %d audit records", after-before)
	}
	recs, err := f.svc.FindAudit(f.admin, simguard.AuditFilter{Object: "sim:" + tr.ICCID, Action: "sim.imei_learn"})
	if err != nil || len(recs) != 1 || !strings.HasPrefix(recs[0].Actor, "radius:") {
		t.Fatalf("learn audit = %+v, %v", recs, err)
	}
	if got := strings.Join(f.ev.types(), ","); !strings.Contains(got, "imei.learned") || !strings.Contains(got, "imei.mismatch") {
		t.Fatalf("events %s", got)
	}
	// Re-pairing lets the new device in and binds it.
	if _, err := f.svc.OpenRepair(f.admin, tr.ICCID, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	d = f.decide(other)
	if !d.Allow || !d.LearnIMEI {
		t.Fatalf("during re-pairing: %+v", d)
	}
	if err := f.svc.LearnIMEI(ctx, d.SIMID, other.IMEI, "diameter"); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(sms); !d.Allow {
		t.Fatalf("sms after re-pairing: %+v", d)
	}
}

func countAudit(t *testing.T, f *fixture, object string) int {
	t.Helper()
	recs, err := f.svc.FindAudit(f.admin, simguard.AuditFilter{Object: object, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestUsageQuota(t *testing.T) {
	f := newFixture(t)
	g, _ := f.svc.GetGroup(f.admin, "smart-meters")
	g.Policy.Quotas.DataBytes = 1000
	if _, _, err := f.svc.ApplyGroup(f.admin, g, 0); err != nil {
		t.Fatal(err)
	}
	d := f.decide(meterSession(0))
	if err := f.svc.AddUsage(context.Background(), d.SIMID, 600, 0); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(meterSession(0)); !d.Allow {
		t.Fatalf("under quota: %+v", d)
	}
	if err := f.svc.AddUsage(context.Background(), d.SIMID, 500, 0); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(meterSession(0)); d.Reason != simguard.ReasonQuotaExceeded {
		t.Fatalf("over quota: %+v", d)
	}
	// Next month starts from zero.
	f.clock.t = time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC)
	if d := f.decide(meterSession(0)); !d.Allow {
		t.Fatalf("next period: %+v", d)
	}
}

func TestImportReportsEveryBadRow(t *testing.T) {
	f := newFixture(t)
	csv := "iccid,imsi,msisdn,imei,group,state\n" +
		demo.ICCID(100) + "," + demo.IMSI(100) + ",,,smart-meters,active\n" + // ok
		"8988001000000001010,001010000000101,,,smart-meters,active\n" + // bad Luhn
		demo.ICCID(102) + ",12345,,,smart-meters,active\n" + // bad IMSI
		demo.ICCID(103) + "," + demo.IMSI(103) + ",,,no-such-group,active\n" +
		demo.ICCID(104) + "," + demo.IMSI(100) + ",,,smart-meters,active\n" + // IMSI of line 2
		demo.ICCID(105) + "," + demo.IMSI(105) + ",,123,smart-meters,active\n" // bad IMEI
	rows, err := control.ParseCSV(strings.NewReader(csv), control.ImportOptions{})
	var se *simguard.Error
	if !errors.As(err, &se) {
		t.Fatalf("parse: rows %d, err %v", len(rows), err)
	}
	lines := map[int]string{}
	for _, r := range se.Rows {
		lines[r.Line] = r.Field
	}
	for line, field := range map[int]string{3: "iccid", 4: "imsi", 7: "imei"} {
		if lines[line] != field {
			t.Errorf("line %d: field %q, want %q (all: %+v)", line, lines[line], field, se.Rows)
		}
	}
	// Parsing passes lines 5 and 6; the import finds the unknown group and
	// the duplicate, and imports nothing.
	good := "iccid,imsi,group\n" +
		demo.ICCID(100) + "," + demo.IMSI(100) + ",smart-meters\n" +
		demo.ICCID(103) + "," + demo.IMSI(103) + ",no-such-group\n" +
		demo.ICCID(104) + "," + demo.IMSI(100) + ",smart-meters\n" +
		demo.ICCID(105) + "," + demo.IMSI(0) + ",smart-meters\n" // taken by an existing SIM
	rows, err = control.ParseCSV(strings.NewReader(good), control.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ImportSIMs(f.admin, rows)
	if !errors.As(err, &se) || len(se.Rows) != 2 || se.Rows[0].Line != 3 || se.Rows[1].Line != 4 {
		t.Fatalf("import: %v %+v", err, se)
	}
	if _, err := f.svc.GetSIM(f.admin, demo.ICCID(100)); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Fatalf("a row of a rejected import was stored: %v", err)
	}
	rows = rows[:1]
	rows = append(rows, control.ImportRow{Line: 5, SIM: rows[0].SIM})
	rows[1].SIM.ICCID, rows[1].SIM.IMSI = demo.ICCID(105), demo.IMSI(0)
	_, err = f.svc.ImportSIMs(f.admin, rows)
	if simguard.ErrorCode(err) != simguard.ECONFLICT || !errors.As(err, &se) || len(se.Rows) != 1 || se.Rows[0].Line != 5 {
		t.Fatalf("conflict with the inventory: %v %+v", err, se)
	}
}

func TestFeedAndResync(t *testing.T) {
	f := newFixture(t)
	feed := f.svc.Feed()
	rev := feed.Rev()
	if _, err := f.svc.SuspendSIM(f.admin, demo.IMSI(3), 0); err != nil {
		t.Fatal(err)
	}
	node := f.as(t, simguard.ProviderTenantID, simguard.RoleNode)
	items, next, resync, err := f.svc.SyncChanges(node, feed.Epoch, rev, time.Second)
	if err != nil || resync || len(items) != 1 || items[0].SIM == nil || items[0].SIM.State != simguard.SIMSuspended || next != rev+1 {
		t.Fatalf("changes = %+v next %d resync %v err %v", items, next, resync, err)
	}
	if _, _, resync, _ := f.svc.SyncChanges(node, "another-epoch", rev, time.Second); !resync {
		t.Fatal("another epoch must resync")
	}
	if _, _, _, err := f.svc.SyncChanges(f.as(t, simguard.ProviderTenantID, simguard.RoleOperator), feed.Epoch, rev, 0); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("operator reading sync: %v", err)
	}
	n := 0
	if _, _, err := f.svc.SyncState(node, func(control.SyncItem) error { n++; return nil }); err != nil || n != len(demo.Groups())+20 {
		t.Fatalf("state: %d items, %v", n, err)
	}
}

func TestLineDiff(t *testing.T) {
	got := control.LineDiff("a\nb\nc\n", "a\nc\nd\n")
	want := " a\n-b\n c\n+d\n"
	if got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
}
