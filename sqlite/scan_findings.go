package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
)

// insertFindings stores a run's findings and sets their IDs.
func insertFindings(ctx context.Context, tx *sql.Tx, run *simguard.ScanRun, findings []simguard.Finding) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO scan_findings
		(scan_id, tenant_id, sim_id, grp, target, proto, port, severity, kinds, finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`)
	if err != nil {
		return fmt.Errorf("finish scan %d: %w", run.ID, err)
	}
	defer stmt.Close()
	for i := range findings {
		f := &findings[i]
		f.ScanID, f.TenantID, f.Target = run.ID, run.TenantID, f.Target.Unmap()
		kinds := ","
		for _, is := range f.Issues {
			kinds += string(is.Kind) + ","
		}
		res, err := stmt.ExecContext(ctx, run.ID, run.TenantID, f.SIMID, f.Group, f.Target.String(), f.Proto, int(f.Port), f.Severity.Rank(), kinds)
		if err != nil {
			return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
		}
		if f.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
		}
	}
	return nil
}

type exposureKey struct {
	target string
	proto  string
	port   uint16
}

// updateExposures records what the run saw in scan_exposures and writes
// each finding's document with its FirstSeen and State. Time only moves
// forward: a run that finishes after a newer one touched a service does
// not overwrite what the newer one saw.
func updateExposures(ctx context.Context, tx *sql.Tx, run *simguard.ScanRun, findings []simguard.Finding) error {
	seen := ts(run.StartedAt)
	found := make(map[exposureKey]bool, len(findings))
	for i := range findings {
		f := &findings[i]
		k := exposureKey{f.Target.String(), f.Proto, f.Port}
		found[k] = true
		var id, first, last int64
		var closed sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, first_seen, last_seen, closed_at FROM scan_exposures
			WHERE tenant_id = ? AND target = ? AND proto = ? AND port = ?`, run.TenantID, k.target, k.proto, int(k.port)).Scan(&id, &first, &last, &closed)
		f.State = simguard.FindingOpen
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO scan_exposures (tenant_id, target, proto, port, finding_id, first_seen, last_seen)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, run.TenantID, k.target, k.proto, int(k.port), f.ID, seen, seen)
			f.FirstSeen = run.StartedAt
		case err != nil:
		case seen >= last && (!closed.Valid || seen >= closed.Int64):
			if closed.Valid {
				first = seen // it had closed: a new open streak begins
			}
			_, err = tx.ExecContext(ctx, `UPDATE scan_exposures SET finding_id = ?, first_seen = ?, last_seen = ?, closed_at = NULL, closed_scan = NULL
				WHERE id = ?`, f.ID, first, seen, id)
			f.FirstSeen = fromTS(first)
		default:
			// An older run: the exposure keeps the newer state.
			if closed.Valid {
				f.State, f.ClosedAt = simguard.FindingClosed, fromTS(closed.Int64)
			} else if first <= seen {
				f.FirstSeen = fromTS(first)
			}
		}
		if err != nil {
			return fmt.Errorf("finish scan %d: exposure of %s/%s/%d: %w", run.ID, k.target, k.proto, k.port, err)
		}
		doc, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scan_findings SET finding = ? WHERE id = ?`, doc, f.ID); err != nil {
			return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
		}
	}
	if run.Status != simguard.ScanDone {
		return nil // a partial run proves nothing closed
	}
	return closeExposures(ctx, tx, run, found)
}

// closeExposures closes the open services the run looked at and did not
// find.
func closeExposures(ctx context.Context, tx *sql.Tx, run *simguard.ScanRun, found map[exposureKey]bool) error {
	seen := ts(run.StartedAt)
	rows, err := tx.QueryContext(ctx, `SELECT id, target, proto, port, last_seen FROM scan_exposures
		WHERE tenant_id = ? AND closed_at IS NULL AND last_seen < ?`, run.TenantID, seen)
	if err != nil {
		return fmt.Errorf("finish scan %d: open exposures: %w", run.ID, err)
	}
	var closing []int64
	for rows.Next() {
		var id, last int64
		var k exposureKey
		if err := rows.Scan(&id, &k.target, &k.proto, &k.port, &last); err != nil {
			rows.Close()
			return fmt.Errorf("finish scan %d: open exposures: %w", run.ID, err)
		}
		addr, err := netip.ParseAddr(k.target)
		if err == nil && !found[k] && run.Covers(addr, k.proto, k.port) {
			closing = append(closing, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("finish scan %d: open exposures: %w", run.ID, err)
	}
	for _, id := range closing {
		if _, err := tx.ExecContext(ctx, `UPDATE scan_exposures SET closed_at = ?, closed_scan = ? WHERE id = ?`, seen, run.ID, id); err != nil {
			return fmt.Errorf("finish scan %d: close exposure: %w", run.ID, err)
		}
	}
	return nil
}

// FindFindings returns findings matching f in ID order: a run's findings
// with ScanID, the tenant's exposure (latest finding per service) without.
func (db *DB) FindFindings(ctx context.Context, f simguard.FindingFilter) ([]simguard.Finding, error) {
	return queryFindings(ctx, db.r, f, 0)
}

// GetFinding returns one finding of the tenant with its service's state.
func (db *DB) GetFinding(ctx context.Context, tenantID, id int64) (simguard.Finding, error) {
	fs, err := queryFindings(ctx, db.r, simguard.FindingFilter{TenantID: tenantID, Limit: 1}, id)
	if err != nil {
		return simguard.Finding{}, err
	}
	if len(fs) == 0 {
		return simguard.Finding{}, simguard.Errorf(simguard.ENOTFOUND, "finding %d not found", id)
	}
	return fs[0], nil
}

// queryFindings runs FindFindings; with oneID, GetFinding. Limit < 0
// means every match.
func queryFindings(ctx context.Context, q queryer, f simguard.FindingFilter, oneID int64) ([]simguard.Finding, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	from := `scan_exposures e JOIN scan_findings f ON f.id = e.finding_id`
	if f.ScanID != 0 || oneID != 0 {
		from = `scan_findings f LEFT JOIN scan_exposures e ON e.tenant_id = f.tenant_id AND e.target = f.target AND e.proto = f.proto AND e.port = f.port`
	}
	if f.ScanID != 0 {
		add("f.scan_id = ?", f.ScanID)
	}
	if oneID != 0 {
		add("f.id = ?", oneID)
	}
	if f.TenantID != 0 {
		add("f.tenant_id = ?", f.TenantID)
	}
	if f.SIMID != 0 {
		add("f.sim_id = ?", f.SIMID)
	}
	if f.Group != "" {
		add("f.grp = ?", f.Group)
	}
	if f.Target.IsValid() {
		add("f.target = ?", f.Target.Unmap().String())
	}
	if f.MinSeverity != "" {
		if !f.MinSeverity.Valid() {
			return nil, simguard.FieldError("severity", "must be info, low, medium, high or critical, got %q", clipText(string(f.MinSeverity)))
		}
		add("f.severity >= ?", f.MinSeverity.Rank())
	}
	switch f.State {
	case "":
	case simguard.FindingOpen:
		where = append(where, "e.closed_at IS NULL")
	case simguard.FindingClosed:
		where = append(where, "e.closed_at IS NOT NULL")
	default:
		return nil, simguard.FieldError("state", "must be open or closed, got %q", clipText(string(f.State)))
	}
	if f.Kind != "" {
		if !kindChars(string(f.Kind)) {
			return nil, simguard.FieldError("kind", "must be an issue kind such as default_credential or plaintext_login, got %q", clipText(string(f.Kind)))
		}
		add("f.kinds LIKE ?", "%,"+string(f.Kind)+",%")
	}
	if f.AfterID > 0 {
		add("f.id > ?", f.AfterID)
	}
	query := `SELECT f.id, f.finding, e.closed_at FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY f.id`
	if f.Limit >= 0 {
		query += ` LIMIT ?`
		args = append(args, clampLimit(f.Limit))
	}
	return queryAll(ctx, q, "find findings", scanFinding, query, args...)
}

func scanFinding(r rowScanner) (simguard.Finding, error) {
	var id int64
	var doc []byte
	var closed sql.NullInt64
	var fd simguard.Finding
	if err := r.Scan(&id, &doc, &closed); err != nil {
		return fd, err
	}
	if err := json.Unmarshal(doc, &fd); err != nil {
		return fd, fmt.Errorf("decode finding %d: %w", id, err)
	}
	fd.ID, fd.State, fd.ClosedAt = id, simguard.FindingOpen, timeOrZero(closed)
	if closed.Valid {
		fd.State = simguard.FindingClosed
	}
	return fd, nil
}

// kindChars reports whether s can be an issue kind (a-z and '_'); the
// check also keeps LIKE wildcards out of the filter.
func kindChars(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
