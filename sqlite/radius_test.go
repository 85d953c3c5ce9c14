package sqlite

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func TestRADIUSSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "simguard.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	s := simguard.RADIUSSession{TenantID: 1, SIMID: 7, NAS: "pgw", NASAddr: netip.MustParseAddr("192.0.2.1"), SessionID: "s1",
		Class: "sg1:x:1", IMSI: "001010000000007", IMEI: "3530000000000101", APN: "iot", RAT: simguard.RAT4G,
		Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}, Area: 1, HasArea: true},
		IP:       netip.MustParseAddr("10.0.0.7"), Start: t0, LastUpdate: t0}
	if err := db.SaveSession(ctx, &s); err != nil || s.ID == 0 || s.Version != 1 {
		t.Fatalf("insert: %v %+v", err, s)
	}
	dup := s
	dup.ID = 0
	if err := db.SaveSession(ctx, &dup); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("second live session: %v, want ECONFLICT", err)
	}
	s.InputOctets, s.OutputOctets, s.UsageReported = 1<<33, 500, 1<<33+500
	s.LastUpdate = t0.Add(time.Minute)
	if err := db.SaveSession(ctx, &s); err != nil || s.Version != 2 {
		t.Fatalf("update: %v, version %d", err, s.Version)
	}
	stale := s
	stale.Version = 1
	if err := db.SaveSession(ctx, &stale); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Errorf("stale update: %v, want EPRECONDITION", err)
	}
	d := simguard.RADIUSDisconnect{At: t0, Reason: simguard.ReasonSIMSuspended, Outcome: simguard.DisconnectACK, Attempts: 1}
	if err := db.SetSessionDisconnect(ctx, s.ID, d); err != nil {
		t.Fatal(err)
	}
	// SaveSession leaves the disconnect record alone.
	if err := db.SaveSession(ctx, &s); err != nil {
		t.Fatal(err)
	}
	got, err := db.LiveSession(ctx, "pgw", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.InputOctets != 1<<33 || got.IMEI != s.IMEI || got.Location != s.Location || got.IP != s.IP || got.Class != s.Class ||
		got.Disconnect == nil || got.Disconnect.Outcome != simguard.DisconnectACK || !got.Start.Equal(t0) || got.Version != 3 {
		t.Errorf("read back %+v", got)
	}
	if _, err := db.LiveSession(ctx, "pgw", "nope"); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("missing live session: %v", err)
	}

	// Stop, then a new live session with the same Acct-Session-Id.
	s.Stop, s.TerminateCause = t0.Add(time.Hour), "user-request"
	if err := db.SaveSession(ctx, &s); err != nil {
		t.Fatal(err)
	}
	again := simguard.RADIUSSession{TenantID: 1, SIMID: 7, NAS: "pgw", SessionID: "s1", Start: t0.Add(2 * time.Hour), LastUpdate: t0.Add(2 * time.Hour)}
	if err := db.SaveSession(ctx, &again); err != nil {
		t.Fatalf("a stopped session blocks a new one: %v", err)
	}
	if last, err := db.LastSession(ctx, "pgw", "s1"); err != nil || last.ID != again.ID {
		t.Errorf("LastSession = %d, %v; want %d", last.ID, err, again.ID)
	}
	other := simguard.RADIUSSession{TenantID: 2, NAS: "pgw2", SessionID: "x", Start: t0, LastUpdate: t0}
	if err := db.SaveSession(ctx, &other); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    simguard.RADIUSSessionFilter
		want int
	}{
		"all": {simguard.RADIUSSessionFilter{}, 3}, "live": {simguard.RADIUSSessionFilter{LiveOnly: true}, 2},
		"sim": {simguard.RADIUSSessionFilter{SIMID: 7}, 2}, "tenant": {simguard.RADIUSSessionFilter{TenantID: 2}, 1},
		"nas": {simguard.RADIUSSessionFilter{NAS: "pgw", LiveOnly: true}, 1}, "page": {simguard.RADIUSSessionFilter{AfterID: s.ID, Limit: 1}, 1},
	} {
		if l, err := db.ListSessions(ctx, tc.f); err != nil || len(l) != tc.want {
			t.Errorf("%s: %d sessions, %v; want %d", name, len(l), err, tc.want)
		}
	}
	if n, err := db.StopNASSessions(ctx, "pgw", t0.Add(3*time.Hour), "nas-reboot"); err != nil || n != 1 {
		t.Errorf("StopNASSessions = %d, %v", n, err)
	}
	if l, _ := db.LastSession(ctx, "pgw", "s1"); l.Live() || l.TerminateCause != "nas-reboot" {
		t.Errorf("after NAS reboot: %+v", l)
	}
	// Durable: a reopened store has every session.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if l, err := db.ListSessions(ctx, simguard.RADIUSSessionFilter{}); err != nil || len(l) != 3 {
		t.Errorf("after reopen: %d sessions, %v", len(l), err)
	}
}

func TestIPLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "simguard.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a := netip.MustParseAddr("10.64.0.2")
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "iot", IP: a, SIMID: 1, TenantID: 1}); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]simguard.IPLease{
		"address taken":        {Pool: "iot", IP: a, SIMID: 2, TenantID: 1},
		"sim holds an address": {Pool: "iot", IP: netip.MustParseAddr("10.64.0.3"), SIMID: 1, TenantID: 1},
	} {
		if err := db.CreateLease(ctx, l); simguard.ErrorCode(err) != simguard.ECONFLICT {
			t.Errorf("%s: %v, want ECONFLICT", name, err)
		}
	}
	// Another pool is another address space.
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "other", IP: a, SIMID: 1, TenantID: 1}); err != nil {
		t.Errorf("same address in another pool: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if l, err := db.GetLease(ctx, "iot", 1); err != nil || l.IP != a {
		t.Errorf("after reopen: %+v, %v", l, err)
	}
	if l, err := db.ListLeases(ctx, "iot"); err != nil || len(l) != 1 {
		t.Errorf("ListLeases = %v, %v", l, err)
	}
	if n, err := db.ReleaseLeases(ctx, 1); err != nil || n != 2 {
		t.Errorf("ReleaseLeases = %d, %v", n, err)
	}
	if _, err := db.GetLease(ctx, "iot", 1); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("released lease: %v", err)
	}
}

func TestNASClients(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	ch := simguard.Change{Actor: simguard.SystemActor(1, "test"), Action: "nas.create"}
	if _, err := db.CreateTenant(ctx, "provider", ch); err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateNASClient(ctx, simguard.NASClient{TenantID: 1, Name: "pgw-1", Prefix: netip.MustParsePrefix("192.0.2.0/24"),
		Secret: "sealed:v1:opaque", CoAPort: 3799}, ch)
	if err != nil || c.ID == 0 || c.Version != 1 {
		t.Fatalf("create: %v %+v", err, c)
	}
	for name, bad := range map[string]simguard.NASClient{
		"name taken":   {TenantID: 1, Name: "pgw-1", Prefix: netip.MustParsePrefix("198.51.100.0/24"), Secret: "x"},
		"prefix taken": {TenantID: 1, Name: "pgw-2", Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: "x"},
	} {
		if _, err := db.CreateNASClient(ctx, bad, ch); simguard.ErrorCode(err) != simguard.ECONFLICT {
			t.Errorf("%s: %v, want ECONFLICT", name, err)
		}
	}
	if _, err := db.CreateNASClient(ctx, simguard.NASClient{TenantID: 1, Name: "nosecret", Prefix: netip.MustParsePrefix("203.0.113.0/24")}, ch); err == nil {
		t.Error("a client without secret was stored")
	}
	c2, err := db.UpdateNASClient(ctx, 1, c.ID, 1, ch, func(c *simguard.NASClient) error {
		c.AllowMissingMessageAuthenticator = true
		c.Secret = "sealed:v1:rotated"
		return nil
	})
	if err != nil || c2.Version != 2 {
		t.Fatalf("update: %v", err)
	}
	if _, err := db.UpdateNASClient(ctx, 1, c.ID, 1, ch, func(*simguard.NASClient) error { return nil }); simguard.ErrorCode(err) != simguard.EPRECONDITION {
		t.Errorf("stale update: %v", err)
	}
	got, err := db.GetNASClient(ctx, 1, c.ID)
	if err != nil || got.Secret != "sealed:v1:rotated" || !got.AllowMissingMessageAuthenticator || got.CoAPort != 3799 ||
		len(got.IdentityOrder) != 3 {
		t.Errorf("read back %+v, %v", got, err)
	}
	if l, err := db.ListNASClients(ctx, 0); err != nil || len(l) != 1 {
		t.Errorf("list: %d, %v", len(l), err)
	}
	recs, err := db.FindAudit(ctx, simguard.AuditFilter{TenantID: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if strings.HasPrefix(r.Object, "nas:") {
			n++
			if strings.Contains(string(r.Before)+string(r.After), "sealed:v1") {
				t.Errorf("audit record %d holds the secret: %s %s", r.Seq, r.Before, r.After)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d NAS audit records, want 2", n)
	}
	if err := db.DeleteNASClient(ctx, 1, c.ID, 2, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetNASClient(ctx, 1, c.ID); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("deleted client: %v", err)
	}
}
