package control_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

func TestSMPPAccounts(t *testing.T) {
	f := newFixture(t)
	published := make(chan struct{}, 16)
	f.svc.OnTopic(control.TopicSMPPAccounts, func() { published <- struct{}{} })
	wantPublished := func(what string) {
		t.Helper()
		select {
		case <-published:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not publish %s", what, control.TopicSMPPAccounts)
		}
	}
	acme, err := f.svc.CreateTenant(f.admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acmeAdmin := f.as(t, acme.ID, simguard.RoleAdmin)
	operator := f.as(t, simguard.ProviderTenantID, simguard.RoleOperator)
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	nodeCtx := f.as(t, simguard.ProviderTenantID, simguard.RoleNode)

	in := control.SMPPAccountInput{SystemID: "meterapp", Password: "s3cret", MOPrefixes: []string{"+12345"}}
	a, err := f.svc.CreateSMPPAccount(f.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	wantPublished("create")
	if a.ID == 0 || a.TenantID != simguard.ProviderTenantID || a.PasswordHash != "" || a.MOPrefixes[0] != "12345" {
		t.Fatalf("created %+v: want an ID, the caller's tenant, no hash, normalized prefixes", a)
	}
	recs, err := f.svc.FindAudit(f.admin, simguard.AuditFilter{Object: "smpp_account:meterapp"})
	if err != nil || len(recs) != 1 || recs[0].Action != "smpp_account.create" {
		t.Fatalf("audit: %+v, %v", recs, err)
	}

	refusals := []struct {
		name string
		ctx  context.Context
		in   control.SMPPAccountInput
		code string
	}{
		{"operator", operator, control.SMPPAccountInput{SystemID: "op", Password: "pw"}, simguard.EFORBIDDEN},
		{"auditor", auditor, control.SMPPAccountInput{SystemID: "au", Password: "pw"}, simguard.EFORBIDDEN},
		{"node", nodeCtx, control.SMPPAccountInput{SystemID: "nd", Password: "pw"}, simguard.EFORBIDDEN},
		{"taken in another tenant", acmeAdmin, control.SMPPAccountInput{SystemID: "meterapp", Password: "pw"}, simguard.ECONFLICT},
		{"password of 9", f.admin, control.SMPPAccountInput{SystemID: "long", Password: "123456789"}, simguard.EINVALID},
		{"empty password", f.admin, control.SMPPAccountInput{SystemID: "empty"}, simguard.EINVALID},
		{"password with a space", f.admin, control.SMPPAccountInput{SystemID: "space", Password: "a b"}, simguard.EINVALID},
		{"bad system_id", f.admin, control.SMPPAccountInput{SystemID: "", Password: "pw"}, simguard.EINVALID},
		{"no actor", context.Background(), control.SMPPAccountInput{SystemID: "anon", Password: "pw"}, simguard.EUNAUTHORIZED},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.svc.CreateSMPPAccount(tc.ctx, tc.in); simguard.ErrorCode(err) != tc.code {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}

	// Every role of the tenant reads; other tenants see nothing.
	if list, err := f.svc.ListSMPPAccounts(auditor); err != nil || len(list) != 1 || list[0].PasswordHash != "" {
		t.Errorf("auditor list: %+v, %v", list, err)
	}
	if list, err := f.svc.ListSMPPAccounts(acmeAdmin); err != nil || len(list) != 0 {
		t.Errorf("acme sees %+v, %v", list, err)
	}
	if _, err := f.svc.GetSMPPAccount(acmeAdmin, "meterapp"); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("acme reads another tenant's account: %v", err)
	}
	off := true
	if _, err := f.svc.UpdateSMPPAccount(acmeAdmin, "meterapp", 0, control.SMPPAccountPatch{Disabled: &off}); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("acme updates another tenant's account: %v", err)
	}
	if err := f.svc.DeleteSMPPAccount(acmeAdmin, "meterapp", 0); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("acme deletes another tenant's account: %v", err)
	}

	// Authentication, for nodes only.
	if got, err := f.svc.AuthenticateSMPP(nodeCtx, "meterapp", "s3cret"); err != nil || got.ID != a.ID || got.PasswordHash != "" {
		t.Fatalf("authenticate: %+v, %v", got, err)
	}
	for _, tc := range []struct {
		name, systemID, password, field string
	}{
		{"wrong password", "meterapp", "guess", "password"},
		{"unknown system_id", "nobody", "s3cret", "system_id"},
	} {
		_, err := f.svc.AuthenticateSMPP(nodeCtx, tc.systemID, tc.password)
		var e *simguard.Error
		if !errors.As(err, &e) || e.Code != simguard.EUNAUTHORIZED || e.Field != tc.field {
			t.Errorf("%s: %v, want unauthorized on %s", tc.name, err, tc.field)
		}
	}
	if _, err := f.svc.AuthenticateSMPP(f.admin, "meterapp", "s3cret"); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Errorf("a provider admin used the password oracle: %v", err)
	}
	inproc := simguard.WithActor(context.Background(), control.SMPPNodeActor())
	if _, err := f.svc.AuthenticateSMPP(inproc, "meterapp", "s3cret"); err != nil {
		t.Errorf("in-process firewall: %v", err)
	}

	// A new password: the old one stops working; the audit says what happened.
	pw := "n3w"
	u, err := f.svc.UpdateSMPPAccount(f.admin, "meterapp", 1, control.SMPPAccountPatch{Password: &pw})
	if err != nil || u.Version != 2 || u.PasswordHash != "" {
		t.Fatalf("password change: %+v, %v", u, err)
	}
	wantPublished("password change")
	if _, err := f.svc.AuthenticateSMPP(nodeCtx, "meterapp", "s3cret"); simguard.ErrorCode(err) != simguard.EUNAUTHORIZED {
		t.Errorf("old password after change: %v", err)
	}
	if _, err := f.svc.AuthenticateSMPP(nodeCtx, "meterapp", "n3w"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := f.svc.UpdateSMPPAccount(f.admin, "meterapp", 1, control.SMPPAccountPatch{Disabled: &off}); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Errorf("stale version: %v", err)
	}
	prefixes := []string{"8888"}
	u, err = f.svc.UpdateSMPPAccount(f.admin, "meterapp", 2, control.SMPPAccountPatch{Disabled: &off, MOPrefixes: &prefixes})
	if err != nil || !u.Disabled || u.MOPrefixes[0] != "8888" {
		t.Fatalf("update: %+v, %v", u, err)
	}
	wantPublished("update")
	recs, _ = f.svc.FindAudit(f.admin, simguard.AuditFilter{Object: "smpp_account:meterapp"})
	if len(recs) != 3 || recs[1].Action != "smpp_account.password" || recs[2].Action != "smpp_account.update" {
		t.Errorf("audit actions: %+v", recs)
	}
	if got, err := f.svc.AuthenticateSMPP(nodeCtx, "meterapp", "n3w"); err != nil || !got.Disabled {
		t.Errorf("a disabled account authenticates with Disabled set, for the firewall to refuse: %+v, %v", got, err)
	}

	if err := f.svc.DeleteSMPPAccount(operator, "meterapp", 0); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Errorf("operator delete: %v", err)
	}
	if err := f.svc.DeleteSMPPAccount(f.admin, "meterapp", 3); err != nil {
		t.Fatal(err)
	}
	wantPublished("delete")
	if _, err := f.svc.GetSMPPAccount(f.admin, "meterapp"); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("after delete: %v", err)
	}
}

// TestUsageBatch: metering many SIMs at once flips quotas as AddUsage does,
// and a bad element does not stop the others.
func TestUsageBatch(t *testing.T) {
	f := newFixture(t)
	g, _ := f.svc.GetGroup(f.admin, "smart-meters")
	g.Policy.Quotas.SMSCount = 3
	if _, _, err := f.svc.ApplyGroup(f.admin, g, 0); err != nil {
		t.Fatal(err)
	}
	mo := func(i int) simguard.Decision {
		return f.decide(simguard.Request{Kind: simguard.KindSMSMO, MSISDN: demo.MSISDN(i), Peer: "12345"})
	}
	id := func(i int) int64 { return mo(i).SIMID }
	a, b := id(0), id(1)
	if err := f.svc.AddUsageBatch(context.Background(), []simguard.SIMUsage{{SIMID: a, SMSCount: 2}, {SIMID: b, SMSCount: 1}}); err != nil {
		t.Fatal(err)
	}
	if d := mo(0); !d.Allow {
		t.Fatalf("under quota: %+v", d)
	}
	err := f.svc.AddUsageBatch(context.Background(), []simguard.SIMUsage{{SIMID: 999999, SMSCount: 1}, {SIMID: a, SMSCount: 1}, {SIMID: b, SMSCount: -1}})
	if simguard.ErrorCode(err) == "" {
		t.Error("an unknown SIM and negative usage went unreported")
	}
	if d := mo(0); d.Reason != simguard.ReasonQuotaExceeded {
		t.Fatalf("after the third message: %+v", d)
	}
	if d := mo(1); !d.Allow {
		t.Fatalf("the other SIM: %+v", d)
	}
	if n := strings.Count(strings.Join(f.ev.types(), " "), "quota.exhausted"); n != 1 {
		t.Errorf("%d quota.exhausted events", n)
	}
	sim, err := f.svc.GetSIM(f.admin, demo.IMSI(1))
	if err != nil || sim.Usage.SMSCount != 1 {
		t.Errorf("usage of the other SIM: %+v, %v", sim.Usage, err)
	}
}
