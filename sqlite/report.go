package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// maxBuckets bounds the buckets of one CountDecisions: a chart has no use
// for more, and a tiny bucket over a long range is a mistake.
const maxBuckets = 10_000

// decisionWhere builds the conditions of a report over decision events.
// Reports name the time index (INDEXED BY events_time) because SQLite
// would otherwise pick events_tenant or events_sim, which spare it a sort
// but walk the tenant's or every SIM's whole history; the time index
// holds only the range asked for.
func decisionWhere(f simguard.DecisionFilter, deniedOnly bool) (string, []any, error) {
	if f.Since.IsZero() {
		return "", nil, simguard.FieldError("since", "a report needs the start of its time range")
	}
	if !f.Until.IsZero() && !f.Until.After(f.Since) {
		return "", nil, simguard.FieldError("until", "must be after since")
	}
	where := []string{"time >= ?"}
	args := []any{ts(f.Since)}
	if !f.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, ts(f.Until))
	}
	if f.TenantID != 0 {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.SIMID != 0 {
		where, args = append(where, "sim_id = ?"), append(args, f.SIMID)
	}
	if deniedOnly {
		where = append(where, "decision = 'deny'")
	} else {
		where = append(where, "decision <> ''")
	}
	return strings.Join(where, " AND "), args, nil
}

// CountDecisions counts decision events per bucket, decision and reason.
func (db *DB) CountDecisions(ctx context.Context, f simguard.DecisionFilter) ([]simguard.DecisionCount, error) {
	q, args, err := db.countDecisionsQuery(f)
	if err != nil {
		return nil, err
	}
	width := f.Bucket.Nanoseconds()
	return queryAll(ctx, db.r, "count decisions", func(r rowScanner) (simguard.DecisionCount, error) {
		var b int64
		var c simguard.DecisionCount
		err := r.Scan(&b, &c.Decision, &c.Reason, &c.Count)
		c.Start = fromTS(b * width)
		return c, err
	}, q, args...)
}

func (db *DB) countDecisionsQuery(f simguard.DecisionFilter) (string, []any, error) {
	where, args, err := decisionWhere(f, false)
	if err != nil {
		return "", nil, err
	}
	if f.Bucket < time.Second {
		return "", nil, simguard.FieldError("bucket", "must be at least 1s, got %s", f.Bucket)
	}
	end := f.Until
	if end.IsZero() {
		end = db.now()
	}
	if n := end.Sub(f.Since) / f.Bucket; n > maxBuckets {
		return "", nil, simguard.FieldError("bucket", "%s over %s makes %d buckets; at most %d", f.Bucket, end.Sub(f.Since), n, maxBuckets)
	}
	q := `SELECT time / ? AS b, decision, reason, count(*) FROM events INDEXED BY events_time WHERE ` + where +
		` GROUP BY b, decision, reason ORDER BY b, decision, reason`
	return q, append([]any{f.Bucket.Nanoseconds()}, args...), nil
}

// What the top-denied reports group by.
const (
	topSIM = "sim_id"
	topDst = "json_extract(attrs, '$.dst')"
)

// TopDeniedSIMs returns the most denied SIMs.
func (db *DB) TopDeniedSIMs(ctx context.Context, f simguard.DecisionFilter, limit int) ([]simguard.DeniedCount, error) {
	return db.topDenied(ctx, f, limit, topSIM, "sim_id <> 0")
}

// TopDeniedDestinations returns the most denied "dst" attributes.
func (db *DB) TopDeniedDestinations(ctx context.Context, f simguard.DecisionFilter, limit int) ([]simguard.DeniedCount, error) {
	return db.topDenied(ctx, f, limit, topDst, "attrs IS NOT NULL")
}

func (db *DB) topDenied(ctx context.Context, f simguard.DecisionFilter, limit int, key, cond string) ([]simguard.DeniedCount, error) {
	q, args, err := topDeniedQuery(f, limit, key, cond)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, db.r, "top denied", scanDeniedCount, q, args...)
}

func scanDeniedCount(r rowScanner) (simguard.DeniedCount, error) {
	var k any
	var c simguard.DeniedCount
	if err := r.Scan(&k, &c.Count); err != nil {
		return c, err
	}
	switch v := k.(type) {
	case int64:
		c.SIMID = v
	case string:
		c.Dst = v
	case []byte:
		c.Dst = string(v)
	default:
		// A "dst" stored as a JSON number or boolean by some source.
		c.Dst = fmt.Sprint(v)
	}
	return c, nil
}

func topDeniedQuery(f simguard.DecisionFilter, limit int, key, cond string) (string, []any, error) {
	if limit < 1 || limit > 1000 {
		return "", nil, simguard.FieldError("limit", "must be 1 to 1000, got %d", limit)
	}
	where, args, err := decisionWhere(f, true)
	if err != nil {
		return "", nil, err
	}
	q := `SELECT k, count(*) AS n FROM (SELECT ` + key + ` AS k FROM events INDEXED BY events_time WHERE ` + where + ` AND ` + cond +
		`) WHERE k IS NOT NULL AND k <> '' GROUP BY k ORDER BY n DESC, k LIMIT ?`
	return q, append(args, limit), nil
}

// RecentEvents returns the newest matching events first. It walks an ID
// index backwards, so a page costs the same at any depth.
func (db *DB) RecentEvents(ctx context.Context, f simguard.EventFilter, beforeID int64) ([]simguard.Event, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) { where, args = append(where, cond), append(args, arg...) }
	if f.TenantID != 0 {
		add("tenant_id = ?", f.TenantID)
	}
	if f.SIMID != 0 {
		add("sim_id = ?", f.SIMID)
	}
	if len(f.Types) > 0 {
		var or []string
		for _, t := range f.Types {
			switch {
			case t == "" || t == ".":
				return nil, simguard.FieldError("types", "want an event type or a prefix ending in '.', got %q", t)
			case strings.HasSuffix(t, "."):
				or, args = append(or, "(type >= ? AND type < ?)"), append(args, t, t[:len(t)-1]+"/")
			default:
				or, args = append(or, "type = ?"), append(args, t)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if !f.Since.IsZero() {
		add("time >= ?", ts(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", ts(f.Until))
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if beforeID > 0 {
		add("id < ?", beforeID)
	}
	q := `SELECT id, time, tenant_id, sim_id, source, type, decision, reason, attrs FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	return queryAll(ctx, db.r, "recent events", scanEvent, q, append(args, clampLimit(f.Limit))...)
}

func scanEvent(r rowScanner) (simguard.Event, error) {
	var e simguard.Event
	var t int64
	var reason string
	var attrs sql.NullString
	if err := r.Scan(&e.ID, &t, &e.TenantID, &e.SIMID, &e.Source, &e.Type, &e.Decision, &reason, &attrs); err != nil {
		return e, err
	}
	e.Time, e.Reason = fromTS(t), simguard.Reason(reason)
	if attrs.Valid {
		if err := json.Unmarshal([]byte(attrs.String), &e.Attrs); err != nil {
			return e, fmt.Errorf("decode attrs of event %d: %w", e.ID, err)
		}
	}
	return e, nil
}

// RecentAudit returns the newest matching audit records first.
func (db *DB) RecentAudit(ctx context.Context, f simguard.AuditFilter, beforeSeq int64) ([]simguard.AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if f.TenantID != 0 {
		add("tenant_id = ?", f.TenantID)
	}
	if f.Object != "" {
		add("object = ?", f.Object)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.AfterSeq > 0 {
		add("seq > ?", f.AfterSeq)
	}
	if beforeSeq > 0 {
		add("seq < ?", beforeSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	return queryAll(ctx, db.r, "recent audit", scanAudit, q, append(args, clampLimit(f.Limit))...)
}
