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

const simColumns = `s.id, s.tenant_id, s.iccid, s.imsi, s.msisdn, s.state, g.name, s.labels, s.static_ip,
	s.imei_mode, s.imei, s.imei_bound_at, s.imei_mismatch, s.imei_mismatch_at, s.imei_repair_until,
	s.active_until, s.usage_period, s.usage_data, s.usage_sms, s.version, s.created_at, s.updated_at, s.active_from`

const simFrom = ` FROM sims s JOIN sim_groups g ON g.id = s.group_id`

// simScanner holds the nullable intermediates of a SIM row so that a scan
// of a million rows reuses them.
type simScanner struct {
	msisdn, labels, staticIP, imei, mismatch              sql.NullString
	boundAt, mismatchAt, repairUntil, activeUntil, period sql.NullInt64
	activeFrom                                            sql.NullInt64
	state, mode                                           string
	created, updated                                      int64
	dest                                                  []any
}

func newSIMScanner(s *simguard.SIM) *simScanner {
	sc := &simScanner{}
	sc.dest = []any{&s.ID, &s.TenantID, &s.ICCID, &s.IMSI, &sc.msisdn, &sc.state, &s.Group, &sc.labels, &sc.staticIP,
		&sc.mode, &sc.imei, &sc.boundAt, &sc.mismatch, &sc.mismatchAt, &sc.repairUntil,
		&sc.activeUntil, &sc.period, &s.Usage.DataBytes, &s.Usage.SMSCount, &s.Version, &sc.created, &sc.updated, &sc.activeFrom}
	return sc
}

// scan reads one row into s (the SIM newSIMScanner was made for). Maps and
// pointers are fresh for every row so that a shallow copy of s is a copy.
func (sc *simScanner) scan(row rowScanner, s *simguard.SIM) error {
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	s.MSISDN = sc.msisdn.String
	s.State = simguard.SIMState(sc.state)
	s.Labels = nil
	if sc.labels.Valid && sc.labels.String != "" {
		if err := json.Unmarshal([]byte(sc.labels.String), &s.Labels); err != nil {
			return fmt.Errorf("decode labels of SIM %d: %w", s.ID, err)
		}
	}
	s.StaticIP = netip.Addr{}
	if sc.staticIP.Valid {
		ip, err := netip.ParseAddr(sc.staticIP.String)
		if err != nil {
			return fmt.Errorf("decode static IP of SIM %d: %w", s.ID, err)
		}
		s.StaticIP = ip
	}
	s.IMEILock = simguard.IMEILock{
		Mode:         simguard.IMEILockMode(sc.mode),
		IMEI:         sc.imei.String,
		BoundAt:      ptrTS(sc.boundAt),
		MismatchIMEI: sc.mismatch.String,
		MismatchAt:   ptrTS(sc.mismatchAt),
		RepairUntil:  ptrTS(sc.repairUntil),
	}
	s.ActiveUntil = ptrTS(sc.activeUntil)
	s.ActiveFrom = ptrTS(sc.activeFrom)
	s.Usage.PeriodStart = timeOrZero(sc.period)
	s.CreatedAt, s.UpdatedAt = fromTS(sc.created), fromTS(sc.updated)
	return nil
}

func simNotFound(what string) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "sim", Message: fmt.Sprintf("SIM %s does not exist", what)}
}

func getSIM(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenantID, id int64) (simguard.SIM, error) {
	var s simguard.SIM
	err := newSIMScanner(&s).scan(q.QueryRowContext(ctx, `SELECT `+simColumns+simFrom+` WHERE s.id = ? AND s.tenant_id = ?`, id, tenantID), &s)
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.SIM{}, simNotFound(fmt.Sprint(id))
	}
	if err != nil {
		return simguard.SIM{}, fmt.Errorf("get SIM %d: %w", id, err)
	}
	return s, nil
}

// GetSIM returns a tenant's SIM by ID.
func (db *DB) GetSIM(ctx context.Context, tenantID, id int64) (simguard.SIM, error) {
	return getSIM(ctx, db.r, tenantID, id)
}

// FindSIM looks a tenant's SIM up by ICCID, IMSI or MSISDN.
func (db *DB) FindSIM(ctx context.Context, tenantID int64, key string) (simguard.SIM, error) {
	key = strings.TrimPrefix(strings.TrimSpace(key), "+")
	if key == "" {
		return simguard.SIM{}, simguard.FieldError("key", "give an ICCID, IMSI or MSISDN")
	}
	// Three separate lookups, each on its unique index; one row at most
	// matches each because the columns are unique installation-wide.
	var s simguard.SIM
	sc := newSIMScanner(&s)
	for _, col := range []string{"iccid", "imsi", "msisdn"} {
		err := sc.scan(db.r.QueryRowContext(ctx, `SELECT `+simColumns+simFrom+` WHERE s.`+col+` = ? AND s.tenant_id = ?`, key, tenantID), &s)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return simguard.SIM{}, fmt.Errorf("find SIM by %s: %w", col, err)
		}
		return s, nil
	}
	return simguard.SIM{}, simNotFound(fmt.Sprintf("with ICCID, IMSI or MSISDN %q", clip(key)))
}

// ListSIMs returns one page of a tenant's SIMs in ID order.
func (db *DB) ListSIMs(ctx context.Context, f simguard.SIMFilter) ([]simguard.SIM, error) {
	q, args, err := listSIMsQuery(f)
	if err != nil {
		return nil, err
	}
	var s simguard.SIM
	sc := newSIMScanner(&s)
	return queryAll(ctx, db.r, "list SIMs", func(r rowScanner) (simguard.SIM, error) {
		err := sc.scan(r, &s)
		return s, err
	}, q, args...)
}

// CountSIMs counts a tenant's SIMs in each state; every state is present.
func (db *DB) CountSIMs(ctx context.Context, tenantID int64) (map[simguard.SIMState]int64, error) {
	out := map[simguard.SIMState]int64{
		simguard.SIMInventory: 0, simguard.SIMActive: 0, simguard.SIMSuspended: 0, simguard.SIMTerminated: 0,
	}
	err := queryEach(ctx, db.r, "count SIMs", `SELECT state, count(*) FROM sims WHERE tenant_id = ? GROUP BY state`,
		[]any{tenantID}, func(rows *sql.Rows) error {
			var state string
			var n int64
			if err := rows.Scan(&state, &n); err != nil {
				return fmt.Errorf("count SIMs: %w", err)
			}
			out[simguard.SIMState(state)] = n
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanSIMs streams every SIM in ID order from one read snapshot, so the
// caller sees a consistent inventory. Memory stays flat: one SIM value is
// reused.
func (db *DB) ScanSIMs(ctx context.Context, fn func(*simguard.SIM) error) error {
	var s simguard.SIM
	sc := newSIMScanner(&s)
	return queryEach(ctx, db.r, "scan SIMs", `SELECT `+simColumns+simFrom+` ORDER BY s.id`, nil, func(rows *sql.Rows) error {
		if err := sc.scan(rows, &s); err != nil {
			return fmt.Errorf("scan SIMs: %w", err)
		}
		return fn(&s)
	})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
