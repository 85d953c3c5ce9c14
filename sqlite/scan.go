package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	if run.Status == "" {
		run.Status = simguard.ScanRunning
	}
	if run.Status != simguard.ScanRunning && run.Status != simguard.ScanQueued {
		return simguard.ScanRun{}, simguard.FieldError("status", "a new scan run is queued or running, not %s", run.Status)
	}
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if run.StartedAt.IsZero() {
			run.StartedAt = now
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

// StartScanRun moves a queued run to running.
func (db *DB) StartScanRun(ctx context.Context, tenantID, id int64, at time.Time) error {
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		run, err := loadRun(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if run.Status != simguard.ScanQueued {
			return simguard.Errorf(simguard.ECONFLICT, "scan %d is %s, not queued", id, run.Status)
		}
		run.Status, run.StartedAt = simguard.ScanRunning, at
		return saveRun(ctx, tx, run)
	})
}

// FinishScanRun writes the run's final state, its findings and the
// exposures they change, in one transaction. A run is finished once.
func (db *DB) FinishScanRun(ctx context.Context, run simguard.ScanRun, findings []simguard.Finding) error {
	if run.Status != simguard.ScanDone && run.Status != simguard.ScanFailed && run.Status != simguard.ScanCanceled {
		return simguard.FieldError("status", "a finished scan is done, failed or canceled, not %q", run.Status)
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cur, err := loadRun(ctx, tx, run.TenantID, run.ID)
		if err != nil {
			return err
		}
		if cur.Status != simguard.ScanRunning && cur.Status != simguard.ScanQueued {
			return simguard.Errorf(simguard.ECONFLICT, "scan %d is already %s", run.ID, cur.Status)
		}
		if run.FinishedAt.IsZero() {
			run.FinishedAt = now
		}
		if err := saveRun(ctx, tx, run); err != nil {
			return err
		}
		if err := insertFindings(ctx, tx, &run, findings); err != nil {
			return err
		}
		return updateExposures(ctx, tx, &run, findings)
	})
}

// AbandonScanRuns fails every run still queued or running.
func (db *DB) AbandonScanRuns(ctx context.Context, reason string) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		runs, err := queryAll(ctx, tx, "abandon scans", scanRun, `SELECT id, run FROM scan_runs WHERE status IN (?, ?)`,
			string(simguard.ScanQueued), string(simguard.ScanRunning))
		if err != nil {
			return err
		}
		for _, run := range runs {
			run.Status, run.Error, run.FinishedAt = simguard.ScanFailed, reason, now
			if err := saveRun(ctx, tx, run); err != nil {
				return err
			}
		}
		n = int64(len(runs))
		return nil
	})
	return n, err
}

// GetScanRun returns one run of the tenant.
func (db *DB) GetScanRun(ctx context.Context, tenantID, id int64) (simguard.ScanRun, error) {
	return loadRun(ctx, db.r, tenantID, id)
}

// LastScanRun returns the newest done run of the scope below beforeID
// (0: any) and its findings.
func (db *DB) LastScanRun(ctx context.Context, tenantID int64, scope string, beforeID int64) (simguard.ScanRun, []simguard.Finding, error) {
	// One read transaction: the run and its findings come from the same
	// snapshot.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return simguard.ScanRun{}, nil, fmt.Errorf("last scan of %s: %w", scope, err)
	}
	defer tx.Rollback()
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	var id int64
	var doc []byte
	err = tx.QueryRowContext(ctx, `SELECT id, run FROM scan_runs WHERE tenant_id = ? AND scope = ? AND status = ? AND id < ?
		ORDER BY id DESC LIMIT 1`, tenantID, scope, string(simguard.ScanDone), beforeID).Scan(&id, &doc)
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
	findings, err := queryFindings(ctx, tx, simguard.FindingFilter{TenantID: tenantID, ScanID: id, Limit: -1}, 0)
	return run, findings, err
}

// ListScanRuns returns a tenant's runs, newest first.
func (db *DB) ListScanRuns(ctx context.Context, tenantID int64, limit int) ([]simguard.ScanRun, error) {
	return queryAll(ctx, db.r, "list scans", scanRun, `SELECT id, run FROM scan_runs WHERE tenant_id = ? ORDER BY id DESC LIMIT ?`, tenantID, clampLimit(limit))
}

func scanRun(r rowScanner) (simguard.ScanRun, error) {
	var id int64
	var doc []byte
	if err := r.Scan(&id, &doc); err != nil {
		return simguard.ScanRun{}, err
	}
	return decodeRun(id, doc)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadRun(ctx context.Context, q queryer, tenantID, id int64) (simguard.ScanRun, error) {
	var doc []byte
	err := q.QueryRowContext(ctx, `SELECT run FROM scan_runs WHERE id = ? AND tenant_id = ?`, id, tenantID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.ScanRun{}, simguard.Errorf(simguard.ENOTFOUND, "scan %d not found", id)
	}
	if err != nil {
		return simguard.ScanRun{}, fmt.Errorf("read scan %d: %w", id, err)
	}
	return decodeRun(id, doc)
}

// saveRun writes a run's document and the columns queries use.
func saveRun(ctx context.Context, tx *sql.Tx, run simguard.ScanRun) error {
	doc, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("write scan %d: %w", run.ID, err)
	}
	var finished sql.NullInt64
	if !run.FinishedAt.IsZero() {
		finished = sql.NullInt64{Int64: ts(run.FinishedAt), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE scan_runs SET status = ?, started_at = ?, finished_at = ?, run = ? WHERE id = ?`,
		string(run.Status), ts(run.StartedAt), finished, doc, run.ID); err != nil {
		return fmt.Errorf("write scan %d: %w", run.ID, err)
	}
	return nil
}

func decodeRun(id int64, doc []byte) (simguard.ScanRun, error) {
	var run simguard.ScanRun
	if err := json.Unmarshal(doc, &run); err != nil {
		return run, fmt.Errorf("decode scan %d: %w", id, err)
	}
	run.ID = id
	return run, nil
}
