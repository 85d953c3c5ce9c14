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

var _ simguard.FindingStore = (*DB)(nil)

// CreateScanRun stores run and appends the audit record of ch in the same
// transaction (Object "scan:<id>", After the run as requested).
func (db *DB) CreateScanRun(ctx context.Context, run simguard.ScanRun, ch simguard.Change) (simguard.ScanRun, error) {
	if err := checkChange(ch); err != nil {
		return simguard.ScanRun{}, err
	}
	if run.Scope == "" {
		return simguard.ScanRun{}, simguard.FieldError("scope", "a scan run needs a scope")
	}
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if run.StartedAt.IsZero() {
			run.StartedAt = now
		}
		if run.Status == "" {
			run.Status = simguard.ScanRunning
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM tenants WHERE id = ?`, run.TenantID); err != nil || !ok {
			if err == nil {
				err = simguard.Errorf(simguard.ENOTFOUND, "tenant %d not found", run.TenantID)
			}
			return err
		}
		doc, err := json.Marshal(run)
		if err != nil {
			return fmt.Errorf("create scan run: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO scan_runs (tenant_id, scope, status, started_at, finished_at, run)
			VALUES (?, ?, ?, ?, NULL, ?)`, run.TenantID, run.Scope, string(run.Status), ts(run.StartedAt), doc)
		if err != nil {
			return fmt.Errorf("create scan run: %w", err)
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create scan run: %w", err)
		}
		return appendAudit(ctx, tx, now, run.TenantID, ch, "scan:"+strconv.FormatInt(run.ID, 10), nil, run)
	})
	if err != nil {
		return simguard.ScanRun{}, err
	}
	return run, nil
}

// FinishScanRun writes the run's final state and its findings in one
// transaction. A run can be finished once; its findings replace none.
func (db *DB) FinishScanRun(ctx context.Context, run simguard.ScanRun, findings []simguard.Finding) error {
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM scan_runs WHERE id = ? AND tenant_id = ?`, run.ID, run.TenantID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return simguard.Errorf(simguard.ENOTFOUND, "scan %d not found", run.ID)
		}
		if err != nil {
			return fmt.Errorf("finish scan %d: %w", run.ID, err)
		}
		if status != string(simguard.ScanRunning) {
			return simguard.Errorf(simguard.ECONFLICT, "scan %d is already %s", run.ID, status)
		}
		if run.FinishedAt.IsZero() {
			run.FinishedAt = now
		}
		doc, err := json.Marshal(run)
		if err != nil {
			return fmt.Errorf("finish scan %d: %w", run.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scan_runs SET status = ?, finished_at = ?, run = ? WHERE id = ?`,
			string(run.Status), ts(run.FinishedAt), doc, run.ID); err != nil {
			return fmt.Errorf("finish scan %d: %w", run.ID, err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO scan_findings
			(scan_id, tenant_id, sim_id, grp, target, proto, port, severity, finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("finish scan %d: %w", run.ID, err)
		}
		defer stmt.Close()
		for i := range findings {
			f := findings[i]
			f.ID, f.ScanID, f.TenantID = 0, run.ID, run.TenantID
			doc, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
			}
			if _, err := stmt.ExecContext(ctx, run.ID, run.TenantID, f.SIMID, f.Group, f.Target.String(), f.Proto, int(f.Port), f.Severity.Rank(), doc); err != nil {
				return fmt.Errorf("finish scan %d: finding %d: %w", run.ID, i+1, err)
			}
		}
		return nil
	})
}

// LastScanRun returns the newest done run of the scope and its findings.
func (db *DB) LastScanRun(ctx context.Context, tenantID int64, scope string) (simguard.ScanRun, []simguard.Finding, error) {
	// One read transaction: the run and its findings come from the same
	// snapshot.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return simguard.ScanRun{}, nil, fmt.Errorf("last scan of %s: %w", scope, err)
	}
	defer tx.Rollback()
	var id int64
	var doc []byte
	err = tx.QueryRowContext(ctx, `SELECT id, run FROM scan_runs WHERE tenant_id = ? AND scope = ? AND status = ?
		ORDER BY id DESC LIMIT 1`, tenantID, scope, string(simguard.ScanDone)).Scan(&id, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.ScanRun{}, nil, simguard.Errorf(simguard.ENOTFOUND, "no finished scan in scope %s", scope)
	}
	if err != nil {
		return simguard.ScanRun{}, nil, fmt.Errorf("last scan of %s: %w", scope, err)
	}
	run, err := decodeRun(id, doc)
	if err != nil {
		return simguard.ScanRun{}, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, finding FROM scan_findings WHERE scan_id = ? ORDER BY id`, id)
	if err != nil {
		return simguard.ScanRun{}, nil, fmt.Errorf("last scan of %s: %w", scope, err)
	}
	findings, err := scanFindings(rows)
	return run, findings, err
}

// ListScanRuns returns a tenant's runs, newest first.
func (db *DB) ListScanRuns(ctx context.Context, tenantID int64, limit int) ([]simguard.ScanRun, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, run FROM scan_runs WHERE tenant_id = ? ORDER BY id DESC LIMIT ?`, tenantID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	defer rows.Close()
	out := []simguard.ScanRun{}
	for rows.Next() {
		var id int64
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("list scans: %w", err)
		}
		run, err := decodeRun(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, rows.Err()
}

// FindFindings returns findings matching f in ID order.
func (db *DB) FindFindings(ctx context.Context, f simguard.FindingFilter) ([]simguard.Finding, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.TenantID != 0 {
		add("tenant_id = ?", f.TenantID)
	}
	if f.ScanID != 0 {
		add("scan_id = ?", f.ScanID)
	}
	if f.SIMID != 0 {
		add("sim_id = ?", f.SIMID)
	}
	if f.Group != "" {
		add("grp = ?", f.Group)
	}
	if f.Target.IsValid() {
		add("target = ?", f.Target.Unmap().String())
	}
	if f.MinSeverity != "" {
		if !f.MinSeverity.Valid() {
			return nil, simguard.FieldError("min_severity", "must be info, low, medium, high or critical, got %q", f.MinSeverity)
		}
		add("severity >= ?", f.MinSeverity.Rank())
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	q := `SELECT id, finding FROM scan_findings`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id LIMIT ?`
	rows, err := db.r.QueryContext(ctx, q, append(args, clampLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("find findings: %w", err)
	}
	return scanFindings(rows)
}

func decodeRun(id int64, doc []byte) (simguard.ScanRun, error) {
	var run simguard.ScanRun
	if err := json.Unmarshal(doc, &run); err != nil {
		return run, fmt.Errorf("decode scan %d: %w", id, err)
	}
	run.ID = id
	return run, nil
}

func scanFindings(rows *sql.Rows) ([]simguard.Finding, error) {
	defer rows.Close()
	out := []simguard.Finding{}
	for rows.Next() {
		var id int64
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		var f simguard.Finding
		if err := json.Unmarshal(doc, &f); err != nil {
			return nil, fmt.Errorf("decode finding %d: %w", id, err)
		}
		f.ID = id
		out = append(out, f)
	}
	return out, rows.Err()
}
