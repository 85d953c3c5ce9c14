package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/sqlite"
	"github.com/simguard/simguard/storetest"
)

// chain is a real SQLite store with 12 audit records and a checkpoint at
// the head, and a second handle on the same file for tampering.
type chain struct {
	ctx    context.Context
	store  *sqlite.DB
	raw    *sql.DB
	signer *audit.Signer
	head   int64
}

func newChain(t *testing.T) *chain {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(ctx, path, sqlite.Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ch := storetest.Change(1, "test")
	tn, err := store.CreateTenant(ctx, "acme", ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateGroup(ctx, simguard.Group{TenantID: tn.ID, Name: "meters"}, ch); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateSIMs(ctx, tn.ID, storetest.SIMs(1, 3, "meters"), ch); err != nil {
		t.Fatal(err)
	}
	sims, err := store.ListSIMs(ctx, simguard.SIMFilter{TenantID: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 { // records 4..12
		_, err := store.UpdateSIM(ctx, tn.ID, sims[i%3].ID, 0, ch, func(s *simguard.SIM) error {
			s.Labels = map[string]string{"n": fmt.Sprint(i)}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{ctx: ctx, store: store, signer: audit.NewSigner(priv)}
	cp, err := audit.Checkpoint(ctx, store, c.signer, clock)
	if err != nil {
		t.Fatal(err)
	}
	c.head = cp.Seq
	if c.head != 12 {
		t.Fatalf("head at %d, want 12", c.head)
	}
	c.raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.raw.Close() })
	// The schema keeps simguard itself from rewriting history; an
	// attacker with the file drops that first.
	c.exec(t, `DROP TRIGGER audit_log_no_update`)
	c.exec(t, `DROP TRIGGER audit_log_no_delete`)
	return c
}

func (c *chain) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := c.raw.ExecContext(c.ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rewrite changes record seq with fn and stores it with a recomputed hash,
// as an attacker who knows the hash scheme would.
func (c *chain) rewrite(t *testing.T, seq int64, fn func(*simguard.AuditRecord)) {
	t.Helper()
	recs, err := c.store.FindAudit(c.ctx, simguard.AuditFilter{AfterSeq: seq - 1, Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatalf("read record %d: %v", seq, err)
	}
	r := recs[0]
	fn(&r)
	r.Hash = r.ComputeHash()
	c.exec(t, `UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.Actor, r.PrevHash, r.Hash, seq)
}

type finding struct {
	Seq  int64
	Kind audit.Kind
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, c *chain)
		want    []finding
		message string // in the problem's message
	}{
		{name: "untouched", tamper: func(*testing.T, *chain) {}},
		{
			name:    "edited field",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `UPDATE audit_log SET actor = 'nobody' WHERE seq = 5`) },
			want:    []finding{{5, audit.Edited}},
			message: "content of record 5 does not match its hash",
		},
		{
			name: "edited after-image",
			tamper: func(t *testing.T, c *chain) {
				c.exec(t, `UPDATE audit_log SET after = '{"state":"active"}' WHERE seq = 9`)
			},
			want:    []finding{{9, audit.Edited}},
			message: "record 9",
		},
		{
			name:    "edited with recomputed hash",
			tamper:  func(t *testing.T, c *chain) { c.rewrite(t, 5, func(r *simguard.AuditRecord) { r.Actor = "nobody" }) },
			want:    []finding{{5, audit.Edited}},
			message: "rewritten",
		},
		{
			// Rewriting every hash after the edit hides it from the chain;
			// the signed checkpoint still holds the old head.
			name: "edited with the rest of the chain recomputed",
			tamper: func(t *testing.T, c *chain) {
				prev := ""
				for seq := int64(5); seq <= c.head; seq++ {
					c.rewrite(t, seq, func(r *simguard.AuditRecord) {
						if seq == 5 {
							r.Actor = "nobody"
						} else {
							r.PrevHash = prev
						}
						prev = r.ComputeHash()
					})
				}
			},
			want:    []finding{{12, audit.Edited}},
			message: "does not match the checkpoint",
		},
		{
			name:    "deleted",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `DELETE FROM audit_log WHERE seq = 7`) },
			want:    []finding{{7, audit.Deleted}},
			message: "record 7 is missing",
		},
		{
			name:    "deleted first",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `DELETE FROM audit_log WHERE seq = 1`) },
			want:    []finding{{1, audit.Deleted}},
			message: "record 1 is missing",
		},
		{
			name:    "deleted range",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `DELETE FROM audit_log WHERE seq BETWEEN 3 AND 6`) },
			want:    []finding{{3, audit.Deleted}},
			message: "records 3 to 6 are missing",
		},
		{
			name: "swapped",
			tamper: func(t *testing.T, c *chain) {
				c.exec(t, `UPDATE audit_log SET seq = -1 WHERE seq = 3`)
				c.exec(t, `UPDATE audit_log SET seq = 3 WHERE seq = 4`)
				c.exec(t, `UPDATE audit_log SET seq = 4 WHERE seq = -1`)
			},
			want:    []finding{{3, audit.Reordered}, {4, audit.Reordered}},
			message: "was written as record 4",
		},
		{
			// Moved to the end: missing where it was, and out of place.
			name:    "moved",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `UPDATE audit_log SET seq = 13 WHERE seq = 5`) },
			want:    []finding{{5, audit.Deleted}, {13, audit.Reordered}},
			message: "record 5 is missing",
		},
		{
			name:    "truncated",
			tamper:  func(t *testing.T, c *chain) { c.exec(t, `DELETE FROM audit_log WHERE seq > 9`) },
			want:    []finding{{10, audit.Truncated}},
			message: "entries after seq 9 were removed",
		},
		{
			name: "forged checkpoint signature",
			tamper: func(t *testing.T, c *chain) {
				c.exec(t, `UPDATE audit_checkpoints SET signature = ?`, strings.Repeat("ab", ed25519.SignatureSize))
			},
			want:    []finding{{12, audit.BadSignature}},
			message: "does not verify",
		},
		{
			// A checkpoint moved back in time to cover a truncation.
			name: "checkpoint seq altered",
			tamper: func(t *testing.T, c *chain) {
				c.exec(t, `DELETE FROM audit_log WHERE seq > 9`)
				c.exec(t, `UPDATE audit_checkpoints SET seq = 9, hash = (SELECT hash FROM audit_log WHERE seq = 9)`)
			},
			want:    []finding{{9, audit.BadSignature}},
			message: "does not verify",
		},
		{
			name: "checkpoint signed by another key",
			tamper: func(t *testing.T, c *chain) {
				_, other, _ := ed25519.GenerateKey(rand.Reader)
				if _, err := audit.Checkpoint(c.ctx, c.store, audit.NewSigner(other), time.Now()); err != nil {
					t.Fatal(err)
				}
			},
			want:    []finding{{12, audit.BadSignature}},
			message: "not the verifying key",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			tc.tamper(t, c)
			rep, err := audit.Verify(c.ctx, c.store, c.signer.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			var got []finding
			for _, p := range rep.Problems {
				got = append(got, finding{p.Seq, p.Kind})
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems %+v, want %+v", rep.Problems, tc.want)
			}
			if rep.OK != (len(tc.want) == 0) {
				t.Errorf("OK = %v with problems %+v", rep.OK, rep.Problems)
			}
			if tc.message != "" && !strings.Contains(rep.Problems[0].Message, tc.message) {
				t.Errorf("message %q does not say %q", rep.Problems[0].Message, tc.message)
			}
			if len(tc.want) == 0 && (rep.Records != 12 || rep.LastSeq != 12 || rep.Checkpoints != 1) {
				t.Errorf("report %+v: want 12 records and 1 verified checkpoint", rep)
			}
		})
	}
}

func TestVerifyNeedsKey(t *testing.T) {
	c := newChain(t)
	if _, err := audit.Verify(c.ctx, c.store, nil); err == nil {
		t.Error("Verify without a key succeeded")
	}
}
