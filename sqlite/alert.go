package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

var _ simguard.AlertStore = (*DB)(nil)

func alertNotFound(id int64) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "alert", Message: fmt.Sprintf("alert %d does not exist", id)}
}

// CreateAlert stores a new open alert and sets its ID. Raising an alert
// is detection, not an operator's change: it is not audited.
func (db *DB) CreateAlert(ctx context.Context, a simguard.Alert) (simguard.Alert, error) {
	if !a.Severity.Valid() || a.Rule == "" {
		return simguard.Alert{}, simguard.FieldError("alert", "needs a rule and a valid severity")
	}
	a.State = simguard.AlertOpen
	if a.Events == nil {
		a.Events = []simguard.Event{}
	}
	evs, err := json.Marshal(a.Events)
	if err != nil {
		return simguard.Alert{}, fmt.Errorf("create alert: encode events: %w", err)
	}
	acts, err := json.Marshal(nonNilActions(a.Actions))
	if err != nil {
		return simguard.Alert{}, fmt.Errorf("create alert: encode actions: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if a.CreatedAt.IsZero() {
			a.CreatedAt = now
		}
		if err := requireTenant(ctx, tx, a.TenantID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts
			(tenant_id, rule, severity, severity_rank, key, sim_id, state, summary, count,
			 first_event_at, created_at, last_seen_at, dry_run, events, actions)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.TenantID, a.Rule, string(a.Severity), a.Severity.Rank(), a.Key, a.SIMID, string(a.State), a.Summary,
			max(a.Count, 1), ts(a.FirstEventAt), ts(a.CreatedAt), ts(a.LastSeenAt), a.DryRun, string(evs), string(acts))
		if err != nil {
			return fmt.Errorf("create alert: %w", err)
		}
		a.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return simguard.Alert{}, err
	}
	a.Count = max(a.Count, 1)
	a.CreatedAt = fromTS(ts(a.CreatedAt))
	return a, nil
}

// AddAlertFiring folds a firing into an open or acknowledged alert.
func (db *DB) AddAlertFiring(ctx context.Context, id int64, f simguard.AlertFiring) (simguard.Alert, error) {
	var out simguard.Alert
	err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		a, err := getAlert(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if !a.State.Active() {
			return simguard.Errorf(simguard.ECONFLICT, "alert %d is resolved; a new firing opens a new alert", id)
		}
		a.Count += max(f.Count, 1)
		if f.LastSeenAt.After(a.LastSeenAt) {
			a.LastSeenAt = f.LastSeenAt
		}
		room := f.MaxEvents - len(a.Events)
		a.Events = append(a.Events, f.Events[:max(0, min(room, len(f.Events)))]...)
		evs, err := json.Marshal(a.Events)
		if err != nil {
			return fmt.Errorf("add alert firing: encode events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET count = ?, last_seen_at = ?, events = ? WHERE id = ?`,
			a.Count, ts(a.LastSeenAt), string(evs), id); err != nil {
			return fmt.Errorf("add alert firing: %w", err)
		}
		out = a
		return nil
	})
	return out, err
}

// AddAlertActions appends action outcomes to an alert.
func (db *DB) AddAlertActions(ctx context.Context, id int64, actions []simguard.AlertAction) error {
	return db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		a, err := getAlert(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		b, err := json.Marshal(append(nonNilActions(a.Actions), actions...))
		if err != nil {
			return fmt.Errorf("add alert actions: encode: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET actions = ? WHERE id = ?`, string(b), id); err != nil {
			return fmt.Errorf("add alert actions: %w", err)
		}
		return nil
	})
}

// GetAlert returns one alert of the tenant.
func (db *DB) GetAlert(ctx context.Context, tenantID, id int64) (simguard.Alert, error) {
	return getAlert(ctx, db.r, `WHERE id = ? AND tenant_id = ?`, id, tenantID)
}

// ListAlerts returns alerts matching f in ID order.
func (db *DB) ListAlerts(ctx context.Context, f simguard.AlertFilter) ([]simguard.Alert, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	add("id > ?", f.AfterID)
	if f.TenantID != 0 {
		add("tenant_id = ?", f.TenantID)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return nil, simguard.FieldError("state", "must be open, acknowledged or resolved, got %q", s)
			}
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Rule != "" {
		add("rule = ?", f.Rule)
	}
	if f.SIMID != 0 {
		add("sim_id = ?", f.SIMID)
	}
	if f.Severity != "" {
		if !f.Severity.Valid() {
			return nil, simguard.FieldError("severity", "must be one of info, low, medium, high, critical, got %q", f.Severity)
		}
		add("severity_rank >= ?", f.Severity.Rank())
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", ts(f.Since))
	}
	q := `SELECT ` + alertColumns + ` FROM alerts WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id LIMIT ` + strconv.Itoa(clampLimit(f.Limit))
	return queryAll(ctx, db.r, "list alerts", scanAlert, q, args...)
}

// SetAlertState acknowledges or resolves an alert, with its audit record
// in the same transaction.
func (db *DB) SetAlertState(ctx context.Context, tenantID, id int64, state simguard.AlertState, note string, ch simguard.Change) (simguard.Alert, error) {
	if err := checkChange(ch); err != nil {
		return simguard.Alert{}, err
	}
	if state != simguard.AlertAcknowledged && state != simguard.AlertResolved {
		return simguard.Alert{}, simguard.FieldError("state", "an alert can be set to acknowledged or resolved, got %q", state)
	}
	if len(note) > 4096 {
		return simguard.Alert{}, simguard.FieldError("note", "longer than 4096 characters")
	}
	var out simguard.Alert
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		a, err := getAlert(ctx, tx, `WHERE id = ? AND tenant_id = ?`, id, tenantID)
		if err != nil {
			return err
		}
		switch {
		case a.State == simguard.AlertResolved:
			return simguard.Errorf(simguard.ECONFLICT, "alert %d is already resolved", id)
		case a.State == state:
			return simguard.Errorf(simguard.ECONFLICT, "alert %d is already %s", id, state)
		}
		before := map[string]any{"state": a.State}
		at := fromTS(ts(now))
		if state == simguard.AlertAcknowledged {
			a.AcknowledgedAt, a.AcknowledgedBy = &at, ch.Actor.Name
		} else {
			a.ResolvedAt, a.ResolvedBy = &at, ch.Actor.Name
		}
		a.State = state
		if note != "" {
			a.Note = note
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET state = ?, note = ?,
			acknowledged_at = ?, acknowledged_by = ?, resolved_at = ?, resolved_by = ? WHERE id = ?`,
			string(a.State), a.Note, nullTS(a.AcknowledgedAt), nullString(a.AcknowledgedBy),
			nullTS(a.ResolvedAt), nullString(a.ResolvedBy), id); err != nil {
			return fmt.Errorf("set alert state: %w", err)
		}
		after := map[string]any{"state": a.State, "note": a.Note, "rule": a.Rule, "key": a.Key}
		if err := appendAudit(ctx, tx, now, a.TenantID, ch, fmt.Sprintf("alert:%d", id), before, after); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

const alertColumns = `id, tenant_id, rule, severity, key, sim_id, state, summary, count, first_event_at,
	created_at, last_seen_at, dry_run, acknowledged_at, acknowledged_by, resolved_at, resolved_by, note, events, actions`

func scanAlert(r rowScanner) (simguard.Alert, error) {
	var a simguard.Alert
	var sev, state, evs, acts string
	var first, created, last int64
	var ackAt, resAt sql.NullInt64
	var ackBy, resBy sql.NullString
	if err := r.Scan(&a.ID, &a.TenantID, &a.Rule, &sev, &a.Key, &a.SIMID, &state, &a.Summary, &a.Count, &first,
		&created, &last, &a.DryRun, &ackAt, &ackBy, &resAt, &resBy, &a.Note, &evs, &acts); err != nil {
		return a, err
	}
	a.Severity, a.State = simguard.Severity(sev), simguard.AlertState(state)
	a.FirstEventAt, a.CreatedAt, a.LastSeenAt = fromTS(first), fromTS(created), fromTS(last)
	if ackAt.Valid {
		t := fromTS(ackAt.Int64)
		a.AcknowledgedAt = &t
	}
	if resAt.Valid {
		t := fromTS(resAt.Int64)
		a.ResolvedAt = &t
	}
	a.AcknowledgedBy, a.ResolvedBy = ackBy.String, resBy.String
	if err := json.Unmarshal([]byte(evs), &a.Events); err != nil {
		return a, fmt.Errorf("alert %d: decode events: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(acts), &a.Actions); err != nil {
		return a, fmt.Errorf("alert %d: decode actions: %w", a.ID, err)
	}
	if len(a.Actions) == 0 {
		a.Actions = nil
	}
	return a, nil
}

func getAlert(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, where string, args ...any) (simguard.Alert, error) {
	a, err := scanAlert(q.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.Alert{}, alertNotFound(args[0].(int64))
	}
	if err != nil {
		return simguard.Alert{}, fmt.Errorf("get alert: %w", err)
	}
	return a, nil
}

func nonNilActions(a []simguard.AlertAction) []simguard.AlertAction {
	if a == nil {
		return []simguard.AlertAction{}
	}
	return a
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
