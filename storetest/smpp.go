package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// Two bcrypt-shaped hashes; the store checks the form, not the content.
var (
	hashA = "$2a$10$" + strings.Repeat("A", 53)
	hashB = "$2a$10$" + strings.Repeat("B", 53)
)

// testSMPP checks the SMS firewall's ESME accounts.
func testSMPP(t *testing.T, open func(t *testing.T) simguard.Store) {
	t.Run("Create", func(t *testing.T) { testSMPPAccounts(t, open) })
	t.Run("Update", func(t *testing.T) { testSMPPAccountUpdate(t, open) })
	t.Run("Delete", func(t *testing.T) { testSMPPAccountDelete(t, open) })
	t.Run("UsageBatch", func(t *testing.T) { testUsageBatch(t, open) })
}

// testUsageBatch: a store that meters in batches (the SMS firewall's
// usage meter) adds each element as AddUsage would, in one go.
func testUsageBatch(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	bs, ok := f.s.(simguard.UsageBatchStore)
	if !ok {
		t.Skip("the store meters one SIM at a time only")
	}
	sims := f.importSIMs(t, f.alpha.ID, SIMs(1, 3, "meters"))
	head := f.head(t)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, err := f.s.AddUsage(f.ctx, sims[2].ID, dec, 7, 7) // already in December
	must(t, "AddUsage", err)
	add := func(sim simguard.SIM, period time.Time, data, sms int64) simguard.UsageAdd {
		return simguard.UsageAdd{SIMUsage: simguard.SIMUsage{SIMID: sim.ID, DataBytes: data, SMSCount: sms}, PeriodStart: period}
	}
	got, err := bs.AddUsages(f.ctx, []simguard.UsageAdd{
		add(sims[0], nov, 100, 1),
		add(sims[0], nov, 0, 2),  // the same SIM again adds up
		add(sims[1], dec, 10, 5), // a first report
		add(sims[2], nov, 1, 1),  // late for a November already over: dropped
		{SIMUsage: simguard.SIMUsage{SIMID: sims[2].ID + 1000, SMSCount: 1}, PeriodStart: dec}, // no such SIM: skipped
	})
	must(t, "AddUsages", err)
	want := []simguard.Usage{{PeriodStart: nov, DataBytes: 100, SMSCount: 1}, {PeriodStart: nov, DataBytes: 100, SMSCount: 3},
		{PeriodStart: dec, DataBytes: 10, SMSCount: 5}, {PeriodStart: dec, DataBytes: 7, SMSCount: 7}, {}}
	if len(got) != len(want) {
		t.Fatalf("AddUsages returned %d usages for %d adds", len(got), len(want))
	}
	for i := range want {
		if !got[i].PeriodStart.Equal(want[i].PeriodStart) || got[i].DataBytes != want[i].DataBytes || got[i].SMSCount != want[i].SMSCount {
			t.Errorf("add %d: usage %+v, want %+v", i, got[i], want[i])
		}
	}
	if s, _ := f.s.GetSIM(f.ctx, f.alpha.ID, sims[0].ID); s.Usage.SMSCount != 3 || s.Version != sims[0].Version {
		t.Errorf("SIM after the batch: usage %+v version %d (was %d)", s.Usage, s.Version, sims[0].Version)
	}
	if h := f.head(t); h != head {
		t.Errorf("metering wrote %d audit records; it is not audited", h-head)
	}
	_, err = bs.AddUsages(f.ctx, []simguard.UsageAdd{add(sims[0], nov, 1, 0), add(sims[1], nov, 0, -1)})
	wantCode(t, "negative usage", err, simguard.EINVALID)
	if s, _ := f.s.GetSIM(f.ctx, f.alpha.ID, sims[0].ID); s.Usage.DataBytes != 100 {
		t.Errorf("a refused batch changed usage: %+v", s.Usage)
	}
	if got, err := bs.AddUsages(f.ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("empty batch: %v, %v", got, err)
	}
}

func testSMPPAccounts(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	ch := Change(f.alpha.ID, "smpp_account.create")
	a, err := f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "meterapp", PasswordHash: hashA,
		Upstream: "main", MOPrefixes: []string{"+4930", "8888"}, MaxBinds: 2}, ch)
	must(t, "CreateSMPPAccount", err)
	if a.ID == 0 || a.Version != 1 || a.CreatedAt.IsZero() || a.MOPrefixes[0] != "4930" {
		t.Errorf("CreateSMPPAccount = %+v: want ID, version 1, times, normalized prefixes", a)
	}
	rec := f.lastAudit(t)
	if rec.Object != "smpp_account:meterapp" || rec.TenantID != f.alpha.ID || rec.Action != "smpp_account.create" || rec.Before != nil {
		t.Errorf("audit of creation = %+v", rec)
	}
	if bytes.Contains(rec.After, []byte("$2a$")) || bytes.Contains(rec.After, []byte("password")) {
		t.Errorf("the audit record holds the password hash: %s", rec.After)
	}

	head := f.head(t)
	cases := []struct {
		name string
		a    simguard.SMPPAccount
		code string
	}{
		{"system_id taken in the same tenant", simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "meterapp", PasswordHash: hashB}, simguard.ECONFLICT},
		{"system_id taken in another tenant", simguard.SMPPAccount{TenantID: f.beta.ID, SystemID: "meterapp", PasswordHash: hashB}, simguard.ECONFLICT},
		{"system_id too long", simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "0123456789abcdef", PasswordHash: hashB}, simguard.EINVALID},
		{"plaintext password", simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "plain", PasswordHash: "secret"}, simguard.EINVALID},
		{"no password", simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "nopw"}, simguard.EINVALID},
		{"bad prefix", simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "x", PasswordHash: hashB, MOPrefixes: []string{"+49x"}}, simguard.EINVALID},
		{"unknown tenant", simguard.SMPPAccount{TenantID: f.beta.ID + 100, SystemID: "ghost", PasswordHash: hashB}, simguard.ENOTFOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.CreateSMPPAccount(f.ctx, c.a, ch)
			wantCode(t, c.name, err, c.code)
		})
	}
	if h := f.head(t); h != head {
		t.Errorf("refused creations wrote %d audit records", h-head)
	}

	b, err := f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.beta.ID, SystemID: "betaapp", PasswordHash: hashB},
		Change(f.beta.ID, "smpp_account.create"))
	must(t, "CreateSMPPAccount(beta)", err)

	got, err := f.s.SMPPAccountBySystemID(f.ctx, "meterapp")
	must(t, "SMPPAccountBySystemID", err)
	if got.ID != a.ID || got.PasswordHash != hashA || got.Upstream != "main" || len(got.MOPrefixes) != 2 || got.MaxBinds != 2 || got.Disabled {
		t.Errorf("SMPPAccountBySystemID = %+v, want %+v with its hash", got, a)
	}
	if got, err := f.s.SMPPAccountBySystemID(f.ctx, "betaapp"); err != nil || got.ID != b.ID || got.TenantID != f.beta.ID || got.MOPrefixes != nil {
		t.Errorf("SMPPAccountBySystemID(betaapp) = %+v, %v: want beta's account without prefixes", got, err)
	}
	_, err = f.s.SMPPAccountBySystemID(f.ctx, "METERAPP")
	wantCode(t, "system_id in another case", err, simguard.ENOTFOUND)
	if g, err := f.s.GetSMPPAccount(f.ctx, f.alpha.ID, a.ID); err != nil || g.SystemID != "meterapp" {
		t.Errorf("GetSMPPAccount = %+v, %v", g, err)
	}
	_, err = f.s.GetSMPPAccount(f.ctx, f.beta.ID, a.ID)
	wantCode(t, "another tenant's account", err, simguard.ENOTFOUND)
	list, err := f.s.ListSMPPAccounts(f.ctx, f.alpha.ID)
	must(t, "ListSMPPAccounts", err)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("ListSMPPAccounts(alpha) = %+v, want only meterapp", list)
	}
	if list, err := f.s.ListSMPPAccounts(f.ctx, f.beta.ID+100); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListSMPPAccounts(nobody) = %#v, %v: want an empty, non-nil list", list, err)
	}
}

func testSMPPAccountUpdate(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a, err := f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "meterapp", PasswordHash: hashA,
		MOPrefixes: []string{"8888"}}, Change(f.alpha.ID, "smpp_account.create"))
	must(t, "CreateSMPPAccount", err)
	_, err = f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "other", PasswordHash: hashA},
		Change(f.alpha.ID, "smpp_account.create"))
	must(t, "CreateSMPPAccount(other)", err)

	ch := Change(f.alpha.ID, "smpp_account.update")
	u, err := f.s.UpdateSMPPAccount(f.ctx, f.alpha.ID, a.ID, 1, ch, func(x *simguard.SMPPAccount) error {
		x.MOPrefixes = append(x.MOPrefixes, "+4930")
		x.Disabled = true
		return nil
	})
	must(t, "UpdateSMPPAccount", err)
	if u.Version != 2 || !u.Disabled || len(u.MOPrefixes) != 2 || u.MOPrefixes[1] != "4930" || u.UpdatedAt.Before(a.CreatedAt) {
		t.Errorf("UpdateSMPPAccount = %+v", u)
	}
	if got, _ := f.s.SMPPAccountBySystemID(f.ctx, "meterapp"); !got.Disabled || got.Version != 2 {
		t.Errorf("after update: %+v", got)
	}

	sentinel := errors.New("operator gave up")
	head := f.head(t)
	cases := []struct {
		name    string
		tenant  int64
		version int64
		fn      func(*simguard.SMPPAccount) error
		code    string
	}{
		{"stale version", f.alpha.ID, 1, func(*simguard.SMPPAccount) error { return nil }, simguard.EPRECONDITION},
		{"other tenant", f.beta.ID, 0, func(*simguard.SMPPAccount) error { return nil }, simguard.ENOTFOUND},
		{"change ID", f.alpha.ID, 0, func(x *simguard.SMPPAccount) error { x.ID++; return nil }, simguard.EINVALID},
		{"change tenant", f.alpha.ID, 0, func(x *simguard.SMPPAccount) error { x.TenantID = f.beta.ID; return nil }, simguard.EINVALID},
		{"rename to a taken system_id", f.alpha.ID, 0, func(x *simguard.SMPPAccount) error { x.SystemID = "other"; return nil }, simguard.ECONFLICT},
		{"plaintext password", f.alpha.ID, 0, func(x *simguard.SMPPAccount) error { x.PasswordHash = "hunter2"; return nil }, simguard.EINVALID},
		{"negative max_binds", f.alpha.ID, 0, func(x *simguard.SMPPAccount) error { x.MaxBinds = -1; return nil }, simguard.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.UpdateSMPPAccount(f.ctx, c.tenant, a.ID, c.version, ch, c.fn)
			wantCode(t, c.name, err, c.code)
		})
	}
	if _, err := f.s.UpdateSMPPAccount(f.ctx, f.alpha.ID, a.ID, 0, ch, func(*simguard.SMPPAccount) error { return sentinel }); err != sentinel {
		t.Errorf("fn error: UpdateSMPPAccount returned %v, want fn's error unchanged", err)
	}
	if h := f.head(t); h != head {
		t.Errorf("failed updates wrote %d audit records", h-head)
	}

	// A new password: the hash changes, the audit record shows the change
	// without either hash.
	u, err = f.s.UpdateSMPPAccount(f.ctx, f.alpha.ID, a.ID, 2, Change(f.alpha.ID, "smpp_account.password"),
		func(x *simguard.SMPPAccount) error { x.PasswordHash = hashB; return nil })
	must(t, "password change", err)
	if got, _ := f.s.SMPPAccountBySystemID(f.ctx, "meterapp"); got.PasswordHash != hashB || u.Version != 3 {
		t.Errorf("after password change: hash %q version %d", got.PasswordHash, u.Version)
	}
	rec := f.lastAudit(t)
	if rec.Action != "smpp_account.password" || rec.Before == nil || rec.After == nil ||
		bytes.Contains(rec.Before, []byte("$2a$")) || bytes.Contains(rec.After, []byte("$2a$")) {
		t.Errorf("audit of the password change: %+v", rec)
	}

	// A rename is audited under the old name and found under the new one.
	_, err = f.s.UpdateSMPPAccount(f.ctx, f.alpha.ID, a.ID, 0, ch, func(x *simguard.SMPPAccount) error { x.SystemID = "meters2"; return nil })
	must(t, "rename", err)
	if _, err := f.s.SMPPAccountBySystemID(f.ctx, "meters2"); err != nil {
		t.Errorf("renamed account not found: %v", err)
	}
	if rec := f.lastAudit(t); rec.Object != "smpp_account:meterapp" || !bytes.Contains(rec.After, []byte(`"meters2"`)) {
		t.Errorf("audit of the rename: %+v", rec)
	}
}

func testSMPPAccountDelete(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a, err := f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "meterapp", PasswordHash: hashA},
		Change(f.alpha.ID, "smpp_account.create"))
	must(t, "CreateSMPPAccount", err)
	ch := Change(f.alpha.ID, "smpp_account.delete")
	head := f.head(t)
	for name, bad := range map[string]simguard.Change{"no actor": {Action: "x.y"}, "no action": {Actor: simguard.Actor{Name: "x"}}} {
		_, err := f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.alpha.ID, SystemID: "anon", PasswordHash: hashA}, bad)
		wantCode(t, "create with "+name, err, simguard.EINVALID)
		_, err = f.s.UpdateSMPPAccount(f.ctx, f.alpha.ID, a.ID, 0, bad, func(*simguard.SMPPAccount) error { return nil })
		wantCode(t, "update with "+name, err, simguard.EINVALID)
		wantCode(t, "delete with "+name, f.s.DeleteSMPPAccount(f.ctx, f.alpha.ID, a.ID, 0, bad), simguard.EINVALID)
	}
	if h := f.head(t); h != head {
		t.Errorf("unattributed writes added %d audit records", h-head)
	}
	wantCode(t, "stale version", f.s.DeleteSMPPAccount(f.ctx, f.alpha.ID, a.ID, 5, ch), simguard.EPRECONDITION)
	wantCode(t, "other tenant", f.s.DeleteSMPPAccount(f.ctx, f.beta.ID, a.ID, 0, ch), simguard.ENOTFOUND)
	must(t, "DeleteSMPPAccount", f.s.DeleteSMPPAccount(f.ctx, f.alpha.ID, a.ID, 1, ch))
	_, err = f.s.SMPPAccountBySystemID(f.ctx, "meterapp")
	wantCode(t, "deleted account", err, simguard.ENOTFOUND)
	wantCode(t, "deleted twice", f.s.DeleteSMPPAccount(f.ctx, f.alpha.ID, a.ID, 0, ch), simguard.ENOTFOUND)
	rec := f.lastAudit(t)
	if rec.Action != "smpp_account.delete" || rec.Object != "smpp_account:meterapp" || rec.Before == nil || rec.After != nil ||
		bytes.Contains(rec.Before, []byte("$2a$")) {
		t.Errorf("audit of deletion = %+v", rec)
	}
	// The system_id is free again.
	_, err = f.s.CreateSMPPAccount(f.ctx, simguard.SMPPAccount{TenantID: f.beta.ID, SystemID: "meterapp", PasswordHash: hashB},
		Change(f.beta.ID, "smpp_account.create"))
	must(t, "reuse of a deleted system_id", err)
}
