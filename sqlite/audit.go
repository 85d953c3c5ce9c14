package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// appendAudit adds the record of a change to the chain inside the change's
// own transaction. The write connection is the only writer, so reading the
// head and inserting after it cannot race.
func appendAudit(ctx context.Context, tx *sql.Tx, now time.Time, tenantID int64, ch simguard.Change, object string, before, after any) error {
	rec := simguard.AuditRecord{
		Time:     fromTS(ts(now)),
		TenantID: tenantID,
		Actor:    ch.Actor.Name,
		Action:   ch.Action,
		Object:   object,
	}
	var err error
	if rec.Before, err = auditJSON(before); err != nil {
		return fmt.Errorf("audit %s: before: %w", object, err)
	}
	if rec.After, err = auditJSON(after); err != nil {
		return fmt.Errorf("audit %s: after: %w", object, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&rec.Seq, &rec.PrevHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		rec.Seq, rec.PrevHash = 0, simguard.GenesisHash
	case err != nil:
		return fmt.Errorf("audit %s: read head: %w", object, err)
	}
	rec.Seq++
	rec.Hash = rec.ComputeHash()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(seq, time, tenant_id, actor, action, object, before, after, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.Seq, ts(rec.Time), rec.TenantID, rec.Actor, rec.Action, rec.Object,
		nullBlob(rec.Before), nullBlob(rec.After), rec.PrevHash, rec.Hash); err != nil {
		return fmt.Errorf("audit %s: insert: %w", object, err)
	}
	return nil
}

func auditJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// nullBlob stores an empty JSON document as NULL; both hash the same.
func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

const auditColumns = `seq, time, tenant_id, actor, action, object, before, after, prev_hash, hash`

func scanAudit(row rowScanner) (simguard.AuditRecord, error) {
	var r simguard.AuditRecord
	var t int64
	var before, after []byte
	if err := row.Scan(&r.Seq, &t, &r.TenantID, &r.Actor, &r.Action, &r.Object, &before, &after, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	r.Time = fromTS(t)
	if len(before) > 0 {
		r.Before = json.RawMessage(before)
	}
	if len(after) > 0 {
		r.After = json.RawMessage(after)
	}
	return r, nil
}

// FindAudit returns records matching f in Seq order.
func (db *DB) FindAudit(ctx context.Context, f simguard.AuditFilter) ([]simguard.AuditRecord, error) {
	var where []string
	var args []any
	if f.TenantID != 0 {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Object != "" {
		where, args = append(where, "object = ?"), append(args, f.Object)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.AfterSeq > 0 {
		where, args = append(where, "seq > ?"), append(args, f.AfterSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, clampLimit(f.Limit))
	return queryAll(ctx, db.r, "find audit", scanAudit, q, args...)
}

// ScanAudit streams the whole chain in Seq order from one read snapshot.
func (db *DB) ScanAudit(ctx context.Context, fn func(simguard.AuditRecord) error) error {
	return queryEach(ctx, db.r, "scan audit", `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`, nil, func(rows *sql.Rows) error {
		r, err := scanAudit(rows)
		if err != nil {
			return fmt.Errorf("scan audit: %w", err)
		}
		return fn(r)
	})
}

// AuditHead returns the last record's Seq and Hash.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := db.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, simguard.GenesisHash, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("audit head: %w", err)
	}
	return seq, hash, nil
}

// AppendCheckpoint stores a signed checkpoint. The store only checks its
// form; audit.Verify checks what it says.
func (db *DB) AppendCheckpoint(ctx context.Context, c simguard.AuditCheckpoint) error {
	switch {
	case c.Seq <= 0:
		return simguard.FieldError("seq", "a checkpoint covers at least record 1, got %d", c.Seq)
	case !isHex(c.Hash, 64):
		return simguard.FieldError("hash", "must be 64 lower-case hex digits")
	case c.KeyID == "":
		return simguard.FieldError("key_id", "must not be empty")
	case !isHex(c.Signature, 128):
		return simguard.FieldError("signature", "must be 128 hex digits (ed25519)")
	case c.Time.IsZero():
		return simguard.FieldError("time", "must be set")
	}
	return db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)`,
			c.Seq, c.Hash, ts(c.Time), c.KeyID, c.Signature); err != nil {
			return fmt.Errorf("append checkpoint: %w", err)
		}
		return nil
	})
}

// Checkpoints returns every checkpoint in the order they were made.
func (db *DB) Checkpoints(ctx context.Context) ([]simguard.AuditCheckpoint, error) {
	return queryAll(ctx, db.r, "checkpoints", func(r rowScanner) (simguard.AuditCheckpoint, error) {
		var c simguard.AuditCheckpoint
		var t int64
		err := r.Scan(&c.Seq, &c.Hash, &t, &c.KeyID, &c.Signature)
		c.Time = fromTS(t)
		return c, err
	}, `SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY id`)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
