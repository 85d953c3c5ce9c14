package storetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
)

// changeAll makes one change of every audited kind and returns the
// "action object tenant" of each record it must write, in order.
func changeAll(t *testing.T, f *fixture) []string {
	t.Helper()
	a := f.alpha.ID
	var want []string
	rec := func(action, object string, tenant int64) {
		want = append(want, fmt.Sprintf("%s %s %d", action, object, tenant))
	}

	tok, err := f.s.CreateToken(f.ctx, simguard.Token{TenantID: a, Name: "t", Role: simguard.RoleOperator}, secretHash("s"), Change(a, "token.create"))
	must(t, "CreateToken", err)
	rec("token.create", fmt.Sprintf("token:%d", tok.ID), a)
	f.group(t, a, "trackers")
	rec("group.create", "group:trackers", a)
	f.importSIMs(t, a, SIMs(1, 3, "trackers"))
	rec("sim.import", "import:3 sims", a)
	s, err := f.s.FindSIM(f.ctx, a, ICCID(2))
	must(t, "FindSIM", err)
	_, err = f.s.UpdateSIM(f.ctx, a, s.ID, 0, Change(a, "sim.suspend"), func(s *simguard.SIM) error { s.State = simguard.SIMSuspended; return nil })
	must(t, "UpdateSIM", err)
	rec("sim.suspend", "sim:"+ICCID(2), a)
	_, err = f.s.UpdateGroup(f.ctx, a, "cameras", 0, Change(a, "group.update"), func(g *simguard.Group) error { g.Description = "x"; return nil })
	must(t, "UpdateGroup", err)
	rec("group.update", "group:cameras", a)
	must(t, "DeleteGroup", f.s.DeleteGroup(f.ctx, a, "cameras", 0, Change(a, "group.delete")))
	rec("group.delete", "group:cameras", a)
	must(t, "DeleteToken", f.s.DeleteToken(f.ctx, a, tok.ID, Change(a, "token.delete")))
	rec("token.delete", fmt.Sprintf("token:%d", tok.ID), a)
	// Neither metering nor events are audited.
	_, err = f.s.AddUsage(f.ctx, s.ID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1, 1)
	must(t, "AddUsage", err)
	must(t, "AppendEvents", f.s.AppendEvents(f.ctx, []simguard.Event{{TenantID: a, Source: "api", Type: "api.login"}}))
	return want
}

func testAuditTrail(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open) // 2 tenants and 3 groups: 5 records
	head := f.head(t)
	if head != 5 {
		t.Fatalf("fixture wrote %d audit records, want 5", head)
	}
	want := changeAll(t, f)
	var got []simguard.AuditRecord
	must(t, "ScanAudit", f.s.ScanAudit(f.ctx, func(r simguard.AuditRecord) error { got = append(got, r); return nil }))
	if len(got) != int(head)+len(want) {
		t.Fatalf("audit log has %d records, want %d", len(got), int(head)+len(want))
	}
	prev := simguard.GenesisHash
	for i, r := range got {
		if r.Seq != int64(i+1) || r.PrevHash != prev || r.Hash != r.ComputeHash() || r.Time.IsZero() || r.Actor == "" {
			t.Errorf("record %d: seq %d prev %s hash ok %v time %v actor %q", i+1, r.Seq, r.PrevHash, r.Hash == r.ComputeHash(), r.Time, r.Actor)
		}
		if i > 0 && r.Time.Before(got[i-1].Time) {
			t.Errorf("record %d is older than record %d", r.Seq, r.Seq-1)
		}
		prev = r.Hash
	}
	var trail []string
	for _, r := range got[head:] {
		trail = append(trail, fmt.Sprintf("%s %s %d", r.Action, r.Object, r.TenantID))
	}
	if !slices.Equal(trail, want) {
		t.Errorf("audit trail:\n got  %q\n want %q", trail, want)
	}
	seq, hash, err := f.s.AuditHead(f.ctx)
	must(t, "AuditHead", err)
	if last := got[len(got)-1]; seq != last.Seq || hash != last.Hash {
		t.Errorf("AuditHead = %d %s, want %d %s", seq, hash, last.Seq, last.Hash)
	}
}

func testAuditChain(t *testing.T, open func(t *testing.T) simguard.Store) {
	s := open(t)
	ctx := t.Context()
	seq, hash, err := s.AuditHead(ctx)
	if err != nil || seq != 0 || hash != simguard.GenesisHash {
		t.Fatalf("AuditHead of an empty log = %d %q %v, want 0 and the genesis hash", seq, hash, err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, "GenerateKey", err)
	signer := audit.NewSigner(priv)
	c, err := audit.Checkpoint(ctx, s, signer, time.Now())
	if err != nil || c.Seq != 0 {
		t.Fatalf("Checkpoint of an empty log = %+v, %v; want nothing signed", c, err)
	}

	f := &fixture{ctx: ctx, s: s}
	f.alpha = f.tenant(t, "alpha")
	f.group(t, f.alpha.ID, "cameras")
	c1, err := audit.Checkpoint(ctx, s, signer, time.Now())
	must(t, "Checkpoint", err)
	again, err := audit.Checkpoint(ctx, s, signer, time.Now().Add(time.Minute))
	must(t, "Checkpoint", err)
	if c1.Seq != 2 || again.Seq != c1.Seq || again.Signature != c1.Signature || !again.Time.Equal(c1.Time) {
		t.Errorf("checkpoints %+v then %+v: want seq 2, and no new one while the head stays", c1, again)
	}
	changeAll(t, f)
	c2, err := audit.Checkpoint(ctx, s, signer, time.Now())
	must(t, "Checkpoint", err)
	cps, err := s.Checkpoints(ctx)
	must(t, "Checkpoints", err)
	if len(cps) != 2 || !cps[0].Time.Equal(c1.Time) || cps[0].Signature != c1.Signature || cps[1].Seq != c2.Seq || cps[1].Hash != c2.Hash {
		t.Errorf("Checkpoints = %+v, want %+v and %+v", cps, c1, c2)
	}

	rep, err := audit.Verify(ctx, s, signer.PublicKey())
	must(t, "Verify", err)
	if !rep.OK || rep.Records != c2.Seq || rep.LastSeq != c2.Seq || rep.LastHash != c2.Hash || rep.Checkpoints != 2 {
		t.Errorf("Verify = %+v, want OK over %d records with 2 checkpoints", rep, c2.Seq)
	}
	err = s.AppendCheckpoint(ctx, simguard.AuditCheckpoint{Seq: 0, Hash: c2.Hash, Time: time.Now(), KeyID: "x", Signature: c2.Signature})
	wantCode(t, "checkpoint of seq 0", err, simguard.EINVALID)
}

func testAuditFind(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	changeAll(t, f)
	f.importSIMs(t, f.beta.ID, SIMs(50, 1, "meters"))
	cases := []struct {
		name   string
		filter simguard.AuditFilter
		check  func(simguard.AuditRecord) bool
		count  int
	}{
		{"tenant", simguard.AuditFilter{TenantID: f.beta.ID}, func(r simguard.AuditRecord) bool { return r.TenantID == f.beta.ID }, 3},
		{"object", simguard.AuditFilter{Object: "group:cameras"}, func(r simguard.AuditRecord) bool { return r.Object == "group:cameras" }, 3},
		{"action", simguard.AuditFilter{Action: "sim.import"}, func(r simguard.AuditRecord) bool { return r.Action == "sim.import" }, 2},
		{"after seq", simguard.AuditFilter{AfterSeq: 10}, func(r simguard.AuditRecord) bool { return r.Seq > 10 }, 3},
		{"limit", simguard.AuditFilter{Limit: 4}, func(r simguard.AuditRecord) bool { return r.Seq <= 4 }, 4},
		{"tenant and action", simguard.AuditFilter{TenantID: f.alpha.ID, Action: "group.create"}, func(r simguard.AuditRecord) bool {
			return r.TenantID == f.alpha.ID && r.Action == "group.create"
		}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.s.FindAudit(f.ctx, c.filter)
			must(t, "FindAudit", err)
			if len(got) != c.count {
				t.Errorf("FindAudit(%+v) returned %d records, want %d", c.filter, len(got), c.count)
			}
			for i, r := range got {
				if !c.check(r) || i > 0 && r.Seq <= got[i-1].Seq {
					t.Errorf("FindAudit(%+v) returned %+v", c.filter, r)
				}
			}
		})
	}
}

// testUnattributed: a write without an actor or action is refused before
// it changes anything.
func testUnattributed(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	id := f.importSIMs(t, f.alpha.ID, SIMs(1, 1, "meters"))[0].ID
	head := f.head(t)
	for name, ch := range map[string]simguard.Change{
		"no actor":  {Action: "sim.update"},
		"no action": {Actor: simguard.Actor{Name: "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.s.CreateTenant(f.ctx, "gamma", ch)
			wantCode(t, "CreateTenant", err, simguard.EINVALID)
			_, err = f.s.CreateGroup(f.ctx, simguard.Group{TenantID: f.alpha.ID, Name: "g"}, ch)
			wantCode(t, "CreateGroup", err, simguard.EINVALID)
			err = f.s.CreateSIMs(f.ctx, f.alpha.ID, SIMs(9, 1, "meters"), ch)
			wantCode(t, "CreateSIMs", err, simguard.EINVALID)
			_, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, id, 0, ch, func(*simguard.SIM) error { return nil })
			wantCode(t, "UpdateSIM", err, simguard.EINVALID)
			err = f.s.DeleteGroup(f.ctx, f.alpha.ID, "cameras", 0, ch)
			wantCode(t, "DeleteGroup", err, simguard.EINVALID)
		})
	}
	if h := f.head(t); h != head {
		t.Errorf("unattributed writes added %d audit records", h-head)
	}
}
