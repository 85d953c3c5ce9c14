package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

var (
	_ simguard.RADIUSSessionStore = (*DB)(nil)
	_ simguard.IPLeaseStore       = (*DB)(nil)
	_ simguard.NASClientStore     = (*DB)(nil)
)

// sessionDetail is the part of a RADIUS session no query filters on.
type sessionDetail struct {
	NASAddr        netip.Addr        `json:"nas_addr,omitzero"`
	Class          string            `json:"class,omitempty"`
	UserName       string            `json:"user_name,omitempty"`
	IMSI           string            `json:"imsi,omitempty"`
	MSISDN         string            `json:"msisdn,omitempty"`
	IMEI           string            `json:"imei,omitempty"`
	APN            string            `json:"apn,omitempty"`
	RAT            simguard.RAT      `json:"rat,omitempty"`
	Location       simguard.Location `json:"location,omitzero"`
	IP             netip.Addr        `json:"ip,omitzero"`
	TerminateCause string            `json:"terminate_cause,omitempty"`
}

const sessionColumns = `id, tenant_id, sim_id, nas, session_id, start, stop, last_update, input_octets,
	output_octets, input_packets, output_packets, usage_reported, detail, disconnect, version`

func scanSession(row rowScanner) (simguard.RADIUSSession, error) {
	var s simguard.RADIUSSession
	var simID, stop sql.NullInt64
	var start, last, in, out, inP, outP, rep int64
	var detail string
	var disc sql.NullString
	if err := row.Scan(&s.ID, &s.TenantID, &simID, &s.NAS, &s.SessionID, &start, &stop, &last, &in, &out,
		&inP, &outP, &rep, &detail, &disc, &s.Version); err != nil {
		return s, err
	}
	var d sessionDetail
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return s, fmt.Errorf("radius session %d: detail: %w", s.ID, err)
	}
	if disc.Valid {
		s.Disconnect = new(simguard.RADIUSDisconnect)
		if err := json.Unmarshal([]byte(disc.String), s.Disconnect); err != nil {
			return s, fmt.Errorf("radius session %d: disconnect: %w", s.ID, err)
		}
	}
	s.SIMID, s.Start, s.Stop, s.LastUpdate = simID.Int64, fromTS(start), timeOrZero(stop), fromTS(last)
	s.InputOctets, s.OutputOctets = uint64(in), uint64(out)
	s.InputPackets, s.OutputPackets, s.UsageReported = uint64(inP), uint64(outP), uint64(rep)
	s.NASAddr, s.Class, s.UserName, s.IMSI, s.MSISDN, s.IMEI = d.NASAddr, d.Class, d.UserName, d.IMSI, d.MSISDN, d.IMEI
	s.APN, s.RAT, s.Location, s.IP, s.TerminateCause = d.APN, d.RAT, d.Location, d.IP, d.TerminateCause
	return s, nil
}

func sessionNotFound(nas, id string) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "session", Message: fmt.Sprintf("no such session %q of NAS %q", id, nas)}
}

// LiveSession returns the live session of nas with Acct-Session-Id id.
func (db *DB) LiveSession(ctx context.Context, nas, id string) (simguard.RADIUSSession, error) {
	s, err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM radius_sessions
		WHERE nas = ? AND session_id = ? AND stop IS NULL`, nas, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, sessionNotFound(nas, id)
	}
	if err != nil {
		return s, fmt.Errorf("live radius session: %w", err)
	}
	return s, nil
}

// LastSession returns the newest session of nas with id, live or not.
func (db *DB) LastSession(ctx context.Context, nas, id string) (simguard.RADIUSSession, error) {
	s, err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM radius_sessions
		WHERE nas = ? AND session_id = ? ORDER BY id DESC LIMIT 1`, nas, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, sessionNotFound(nas, id)
	}
	if err != nil {
		return s, fmt.Errorf("last radius session: %w", err)
	}
	return s, nil
}

// SaveSession inserts or updates s durably (synchronous=FULL commit).
func (db *DB) SaveSession(ctx context.Context, s *simguard.RADIUSSession) error {
	if s.NAS == "" || s.SessionID == "" {
		return simguard.FieldError("session_id", "a session needs its NAS and Acct-Session-Id")
	}
	detail, err := json.Marshal(sessionDetail{NASAddr: s.NASAddr, Class: s.Class, UserName: s.UserName, IMSI: s.IMSI,
		MSISDN: s.MSISDN, IMEI: s.IMEI, APN: s.APN, RAT: s.RAT, Location: s.Location, IP: s.IP, TerminateCause: s.TerminateCause})
	if err != nil {
		return fmt.Errorf("save radius session: %w", err)
	}
	simID := sql.NullInt64{Int64: s.SIMID, Valid: s.SIMID != 0}
	var stop sql.NullInt64
	if !s.Stop.IsZero() {
		stop = sql.NullInt64{Int64: ts(s.Stop), Valid: true}
	}
	args := []any{s.TenantID, simID, s.NAS, s.SessionID, ts(s.Start), stop, ts(s.LastUpdate), int64(s.InputOctets),
		int64(s.OutputOctets), int64(s.InputPackets), int64(s.OutputPackets), int64(s.UsageReported), string(detail)}
	return db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		if s.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO radius_sessions (tenant_id, sim_id, nas, session_id, start, stop,
				last_update, input_octets, output_octets, input_packets, output_packets, usage_reported, detail, version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, args...)
			if _, ok := uniqueViolation(err); ok {
				return &simguard.Error{Code: simguard.ECONFLICT, Field: "session_id",
					Message: fmt.Sprintf("NAS %q already has a live session %q", s.NAS, s.SessionID)}
			}
			if err != nil {
				return fmt.Errorf("insert radius session: %w", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("insert radius session: %w", err)
			}
			s.ID, s.Version = id, 1
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE radius_sessions SET tenant_id = ?, sim_id = ?, nas = ?, session_id = ?,
			start = ?, stop = ?, last_update = ?, input_octets = ?, output_octets = ?, input_packets = ?,
			output_packets = ?, usage_reported = ?, detail = ?, version = version + 1
			WHERE id = ? AND version = ?`, append(args, s.ID, s.Version)...)
		if _, ok := uniqueViolation(err); ok {
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "session_id",
				Message: fmt.Sprintf("NAS %q already has a live session %q", s.NAS, s.SessionID)}
		}
		if err != nil {
			return fmt.Errorf("update radius session %d: %w", s.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if ok, err := exists(ctx, tx, `SELECT 1 FROM radius_sessions WHERE id = ?`, s.ID); err != nil || !ok {
				return &simguard.Error{Code: simguard.ENOTFOUND, Field: "session", Message: fmt.Sprintf("no radius session %d", s.ID)}
			}
			return &simguard.Error{Code: simguard.EPRECONDITION, Field: "version",
				Message: fmt.Sprintf("radius session %d changed since version %d was read", s.ID, s.Version)}
		}
		s.Version++
		return nil
	})
}

// SetSessionDisconnect records the last Disconnect-Request of session id.
func (db *DB) SetSessionDisconnect(ctx context.Context, id int64, d simguard.RADIUSDisconnect) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("radius session disconnect: %w", err)
	}
	return db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE radius_sessions SET disconnect = ? WHERE id = ?`, string(b), id)
		if err != nil {
			return fmt.Errorf("radius session disconnect: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &simguard.Error{Code: simguard.ENOTFOUND, Field: "session", Message: fmt.Sprintf("no radius session %d", id)}
		}
		return nil
	})
}

// StopNASSessions closes every live session of nas.
func (db *DB) StopNASSessions(ctx context.Context, nas string, t time.Time, cause string) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE radius_sessions SET stop = ?, last_update = ?,
			detail = json_set(detail, '$.terminate_cause', ?), version = version + 1
			WHERE nas = ? AND stop IS NULL`, ts(t), ts(t), cause, nas)
		if err != nil {
			return fmt.Errorf("stop sessions of NAS %s: %w", nas, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ListSessions returns sessions matching f in ID order.
func (db *DB) ListSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	where := []string{"id > ?"}
	args := []any{f.AfterID}
	if f.TenantID != 0 {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.SIMID != 0 {
		where, args = append(where, "sim_id = ?"), append(args, f.SIMID)
	}
	if f.NAS != "" {
		where, args = append(where, "nas = ?"), append(args, f.NAS)
	}
	if f.LiveOnly {
		where = append(where, "stop IS NULL")
	}
	return queryAll(ctx, db.r, "list radius sessions", scanSession, `SELECT `+sessionColumns+` FROM radius_sessions WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, clampLimit(f.Limit))...)
}

// ListLeases returns every lease of pool.
func (db *DB) ListLeases(ctx context.Context, pool string) ([]simguard.IPLease, error) {
	return queryAll(ctx, db.r, "list leases of "+pool, scanLease, `SELECT pool, ip, sim_id, tenant_id, created_at FROM radius_leases
		WHERE pool = ? ORDER BY ip`, pool)
}

func scanLease(row rowScanner) (simguard.IPLease, error) {
	var l simguard.IPLease
	var ip string
	var created int64
	if err := row.Scan(&l.Pool, &ip, &l.SIMID, &l.TenantID, &created); err != nil {
		return l, err
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return l, fmt.Errorf("lease address %q: %w", ip, err)
	}
	l.IP, l.CreatedAt = a, fromTS(created)
	return l, nil
}

// GetLease returns the SIM's lease in pool.
func (db *DB) GetLease(ctx context.Context, pool string, simID int64) (simguard.IPLease, error) {
	l, err := scanLease(db.r.QueryRowContext(ctx, `SELECT pool, ip, sim_id, tenant_id, created_at FROM radius_leases
		WHERE pool = ? AND sim_id = ?`, pool, simID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, &simguard.Error{Code: simguard.ENOTFOUND, Field: "lease",
			Message: fmt.Sprintf("SIM %d holds no address in pool %q", simID, pool)}
	}
	if err != nil {
		return l, fmt.Errorf("get lease: %w", err)
	}
	return l, nil
}

// CreateLease records l; the table's keys refuse a taken address and a
// second address for one SIM.
func (db *DB) CreateLease(ctx context.Context, l simguard.IPLease) error {
	if l.Pool == "" || !l.IP.IsValid() || l.SIMID == 0 {
		return simguard.FieldError("lease", "a lease needs a pool, an address and a SIM")
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		created := l.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO radius_leases (pool, ip, sim_id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			l.Pool, l.IP.Unmap().String(), l.SIMID, l.TenantID, ts(created))
		if cols, ok := uniqueViolation(err); ok {
			what := "address " + l.IP.String() + " is taken"
			if strings.Contains(cols, "sim_id") {
				what = "SIM " + strconv.FormatInt(l.SIMID, 10) + " already holds an address"
			}
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "lease", Message: fmt.Sprintf("pool %q: %s", l.Pool, what)}
		}
		if err != nil {
			return fmt.Errorf("create lease: %w", err)
		}
		return nil
	})
}

// ReleaseLeases deletes the SIM's leases in every pool.
func (db *DB) ReleaseLeases(ctx context.Context, simID int64) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM radius_leases WHERE sim_id = ?`, simID)
		if err != nil {
			return fmt.Errorf("release leases of SIM %d: %w", simID, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
