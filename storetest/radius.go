package storetest

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// RADIUSStores is what a RADIUS server writes: accounting sessions and
// address leases.
type RADIUSStores interface {
	simguard.RADIUSSessionStore
	simguard.IPLeaseStore
}

// RADIUSSessionsAndLeases is the session and lease part of the suite, for
// any implementation: a store, or a RADIUS node's store over the API.
// open must return a new, empty one for each call.
func RADIUSSessionsAndLeases(t *testing.T, open func(t *testing.T) RADIUSStores) {
	t.Run("Sessions", func(t *testing.T) { testRADIUSSessions(t, open(t)) })
	t.Run("Leases", func(t *testing.T) { testIPLeases(t, open(t)) })
}

func testRADIUS(t *testing.T, open func(t *testing.T) simguard.Store) {
	RADIUSSessionsAndLeases(t, func(t *testing.T) RADIUSStores { return open(t) })
	t.Run("NASClients", func(t *testing.T) { testNASClients(t, open) })
}

func testRADIUSSessions(t *testing.T, db RADIUSStores) {
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	s := simguard.RADIUSSession{TenantID: 1, SIMID: 7, NAS: "pgw", NASAddr: netip.MustParseAddr("192.0.2.1"), SessionID: "s1",
		Class: "sg1:x:1", IMSI: "001010000000007", IMEI: "3530000000000101", APN: "iot", RAT: simguard.RAT4G,
		Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}, Area: 1, HasArea: true, Cell: simguard.CGICell(1, 2), HasCell: true},
		IP:       netip.MustParseAddr("10.0.0.7"), Start: t0, LastUpdate: t0}
	if err := db.SaveSession(ctx, &s); err != nil || s.ID == 0 || s.Version != 1 {
		t.Fatalf("insert: %v %+v", err, s)
	}
	dup := s
	dup.ID = 0
	wantCode(t, "a second live session", db.SaveSession(ctx, &dup), simguard.ECONFLICT)
	s.InputOctets, s.OutputOctets, s.UsageReported = 1<<33, 500, 1<<33+500
	s.LastUpdate = t0.Add(time.Minute)
	if err := db.SaveSession(ctx, &s); err != nil || s.Version != 2 {
		t.Fatalf("update: %v, version %d", err, s.Version)
	}
	stale := s
	stale.Version = 1
	wantCode(t, "a stale update", db.SaveSession(ctx, &stale), simguard.EPRECONDITION)
	wantCode(t, "a session without Acct-Session-Id", db.SaveSession(ctx, &simguard.RADIUSSession{TenantID: 1, NAS: "pgw", Start: t0, LastUpdate: t0}), simguard.EINVALID)
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
		got.NASAddr != s.NASAddr || got.Disconnect == nil || got.Disconnect.Outcome != simguard.DisconnectACK ||
		!got.Start.Equal(t0) || got.Version != 3 || got.UsageReported != s.UsageReported {
		t.Errorf("read back %+v", got)
	}
	_, err = db.LiveSession(ctx, "pgw", "nope")
	wantCode(t, "a missing live session", err, simguard.ENOTFOUND)

	// Stop, then a new live session with the same Acct-Session-Id.
	s.Stop, s.TerminateCause = t0.Add(time.Hour), "user-request"
	if err := db.SaveSession(ctx, &s); err != nil {
		t.Fatal(err)
	}
	_, err = db.LiveSession(ctx, "pgw", "s1")
	wantCode(t, "the live session after its Stop", err, simguard.ENOTFOUND)
	again := simguard.RADIUSSession{TenantID: 1, SIMID: 7, NAS: "pgw", SessionID: "s1", Start: t0.Add(2 * time.Hour), LastUpdate: t0.Add(2 * time.Hour)}
	if err := db.SaveSession(ctx, &again); err != nil {
		t.Fatalf("a stopped session blocks a new one: %v", err)
	}
	if last, err := db.LastSession(ctx, "pgw", "s1"); err != nil || last.ID != again.ID {
		t.Errorf("LastSession = %d, %v; want %d", last.ID, err, again.ID)
	}
	_, err = db.LastSession(ctx, "pgw", "never")
	wantCode(t, "LastSession of an unknown session", err, simguard.ENOTFOUND)
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
	if l, _ := db.LastSession(ctx, "pgw", "s1"); l.Live() || l.TerminateCause != "nas-reboot" || !l.Stop.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("after NAS reboot: %+v", l)
	}
}

func testIPLeases(t *testing.T, db RADIUSStores) {
	ctx := context.Background()
	a := netip.MustParseAddr("10.64.0.2")
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "iot", IP: a, SIMID: 1, TenantID: 1, CreatedAt: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]simguard.IPLease{
		"address taken":        {Pool: "iot", IP: a, SIMID: 2, TenantID: 1},
		"sim holds an address": {Pool: "iot", IP: netip.MustParseAddr("10.64.0.3"), SIMID: 1, TenantID: 1},
	} {
		wantCode(t, name, db.CreateLease(ctx, l), simguard.ECONFLICT)
	}
	// Another pool is another address space.
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "other", IP: a, SIMID: 1, TenantID: 1}); err != nil {
		t.Errorf("same address in another pool: %v", err)
	}
	if l, err := db.GetLease(ctx, "iot", 1); err != nil || l.IP != a || l.TenantID != 1 {
		t.Errorf("GetLease = %+v, %v", l, err)
	}
	_, err := db.GetLease(ctx, "iot", 2)
	wantCode(t, "a SIM without lease", err, simguard.ENOTFOUND)
	if l, err := db.ListLeases(ctx, "iot"); err != nil || len(l) != 1 || l[0].SIMID != 1 {
		t.Errorf("ListLeases = %v, %v", l, err)
	}
	if n, err := db.ReleaseLeases(ctx, 1); err != nil || n != 2 {
		t.Errorf("ReleaseLeases = %d, %v", n, err)
	}
	_, err = db.GetLease(ctx, "iot", 1)
	wantCode(t, "a released lease", err, simguard.ENOTFOUND)
	if err := db.CreateLease(ctx, simguard.IPLease{Pool: "iot", IP: a, SIMID: 2, TenantID: 1}); err != nil {
		t.Errorf("a released address is not free again: %v", err)
	}
}

func testNASClients(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	db, ctx, tid := f.s, f.ctx, f.alpha.ID
	ch := Change(tid, "nas.create")
	c, err := db.CreateNASClient(ctx, simguard.NASClient{TenantID: tid, Name: "pgw-1", Prefix: netip.MustParsePrefix("192.0.2.0/24"),
		Secret: "sealed:v1:opaque", CoAPort: 3799}, ch)
	if err != nil || c.ID == 0 || c.Version != 1 {
		t.Fatalf("create: %v %+v", err, c)
	}
	for name, bad := range map[string]simguard.NASClient{
		"name taken":   {TenantID: tid, Name: "pgw-1", Prefix: netip.MustParsePrefix("198.51.100.0/24"), Secret: "sealed:v1:x"},
		"prefix taken": {TenantID: f.beta.ID, Name: "pgw-2", Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: "sealed:v1:x"},
	} {
		_, err := db.CreateNASClient(ctx, bad, ch)
		wantCode(t, name, err, simguard.ECONFLICT)
	}
	if _, err := db.CreateNASClient(ctx, simguard.NASClient{TenantID: tid, Name: "nosecret", Prefix: netip.MustParsePrefix("203.0.113.0/24")}, ch); err == nil {
		t.Error("a client without secret was stored")
	}
	c2, err := db.UpdateNASClient(ctx, tid, c.ID, 1, Change(tid, "nas.update"), func(c *simguard.NASClient) error {
		c.AllowMissingMessageAuthenticator = true
		c.Secret = "sealed:v1:rotated"
		return nil
	})
	if err != nil || c2.Version != 2 {
		t.Fatalf("update: %v", err)
	}
	_, err = db.UpdateNASClient(ctx, tid, c.ID, 1, ch, func(*simguard.NASClient) error { return nil })
	wantCode(t, "a stale update", err, simguard.EPRECONDITION)
	_, err = db.GetNASClient(ctx, f.beta.ID, c.ID)
	wantCode(t, "another tenant's client", err, simguard.ENOTFOUND)
	got, err := db.GetNASClient(ctx, tid, c.ID)
	if err != nil || got.Secret != "sealed:v1:rotated" || !got.AllowMissingMessageAuthenticator || got.CoAPort != 3799 ||
		len(got.IdentityOrder) != 3 {
		t.Errorf("read back %+v, %v", got, err)
	}
	for tenant, want := range map[int64]int{0: 1, tid: 1, f.beta.ID: 0} {
		if l, err := db.ListNASClients(ctx, tenant); err != nil || len(l) != want {
			t.Errorf("list tenant %d: %d, %v; want %d", tenant, len(l), err, want)
		}
	}
	recs, err := db.FindAudit(ctx, simguard.AuditFilter{TenantID: tid})
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
	if err := db.DeleteNASClient(ctx, tid, c.ID, 2, Change(tid, "nas.delete")); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetNASClient(ctx, tid, c.ID)
	wantCode(t, "a deleted client", err, simguard.ENOTFOUND)
}
