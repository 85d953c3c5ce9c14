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

// AppendEvents writes events in one transaction and sets their IDs (and
// their Time, when it is zero, from the store's clock).
func (db *DB) AppendEvents(ctx context.Context, events []simguard.Event) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].Type == "" || events[i].Source == "" {
			return simguard.FieldError("type", "event %d needs a source and a type", i+1)
		}
	}
	ids := make([]int64, len(events))
	var at time.Time
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		at = now
		var full *sql.Stmt // prepared once per call for whole chunks
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		args := make([]any, 0, eventChunk*eventCols)
		for start := 0; start < len(events); start += eventChunk {
			chunk := events[start:min(start+eventChunk, len(events))]
			args = args[:0]
			for i := range chunk {
				a, err := eventArgs(&chunk[i], now)
				if err != nil {
					return err
				}
				args = append(args, a[:]...)
			}
			var res sql.Result
			var err error
			if len(chunk) == eventChunk {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, insertEvents(eventChunk)); err != nil {
						return fmt.Errorf("append events: %w", err)
					}
				}
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, insertEvents(len(chunk)), args...)
			}
			if err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			if err := chunkIDs(res, ids[start:start+len(chunk)]); err != nil {
				return fmt.Errorf("append events: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Set only after the commit, so a failed append leaves no IDs behind.
	for i := range events {
		events[i].ID = ids[i]
		if events[i].Time.IsZero() {
			events[i].Time = fromTS(ts(at))
		}
	}
	return nil
}

// Events are inserted eventChunk rows per statement: one statement per row
// spends most of its time in database/sql and the driver, not in SQLite.
const (
	eventChunk = 200
	eventCols  = 8
)

func insertEvents(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (time, tenant_id, sim_id, source, type, decision, reason, attrs) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

func eventArgs(e *simguard.Event, now time.Time) ([eventCols]any, error) {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	var attrs sql.NullString
	if len(e.Attrs) > 0 {
		b, err := json.Marshal(e.Attrs)
		if err != nil {
			return [eventCols]any{}, fmt.Errorf("append events: encode attrs: %w", err)
		}
		attrs = sql.NullString{String: string(b), Valid: true}
	}
	return [eventCols]any{ts(t), e.TenantID, e.SIMID, e.Source, e.Type, e.Decision, string(e.Reason), attrs}, nil
}

// chunkIDs fills ids from a multi-row INSERT. Without an explicit ID,
// SQLite gives each new row max(rowid)+1, and this transaction is the only
// writer, so the rows of one statement hold consecutive IDs ending at the
// last insert ID.
func chunkIDs(res sql.Result, ids []int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(len(ids)) {
		return fmt.Errorf("inserted %d rows, want %d", n, len(ids))
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for i := range ids {
		ids[i] = last - int64(len(ids)-1-i)
	}
	return nil
}

// FindEvents returns events matching f in ID order. Since is inclusive,
// Until exclusive.
func (db *DB) FindEvents(ctx context.Context, f simguard.EventFilter) ([]simguard.Event, error) {
	var where []string
	var args []any
	if f.TenantID != 0 {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.SIMID != 0 {
		where, args = append(where, "sim_id = ?"), append(args, f.SIMID)
	}
	if len(f.Types) > 0 {
		var or []string
		for _, t := range f.Types {
			switch {
			case t == "" || t == ".":
				return nil, simguard.FieldError("types", "want an event type or a prefix ending in '.', got %q", t)
			case strings.HasSuffix(t, "."):
				// "radius." matches "radius.access": the range ['radius.',
				// 'radius/') holds exactly the strings with that prefix.
				or = append(or, "(type >= ? AND type < ?)")
				args = append(args, t, t[:len(t)-1]+"/")
			default:
				or = append(or, "type = ?")
				args = append(args, t)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, ts(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, ts(f.Until))
	}
	if f.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	q := `SELECT id, time, tenant_id, sim_id, source, type, decision, reason, attrs FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, clampLimit(f.Limit))
	return queryAll(ctx, db.r, "find events", scanEvent, q, args...)
}

// deleteBatch bounds each retention transaction so that deleting millions
// of old events never holds the write lock for long.
const deleteBatch = 10000

// DeleteEventsBefore removes events older than t in batches.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? LIMIT ?)`, ts(t), deleteBatch)
			if err != nil {
				return fmt.Errorf("delete events: %w", err)
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < deleteBatch {
			return total, nil
		}
	}
}
