package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// UpdateSIM changes a SIM through fn in one transaction. The store owns
// Usage (metering), Version, CreatedAt and UpdatedAt: fn's changes to them
// are ignored. A terminated SIM stays terminated.
func (db *DB) UpdateSIM(ctx context.Context, tenantID, id int64, ifVersion int64, ch simguard.Change, fn func(*simguard.SIM) error) (simguard.SIM, error) {
	if err := checkChange(ch); err != nil {
		return simguard.SIM{}, err
	}
	var out simguard.SIM
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := getSIM(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && ifVersion != before.Version {
			return versionMismatch(fmt.Sprintf("SIM %s", before.ICCID), before.Version, ifVersion)
		}
		s := cloneSIM(before)
		if err := fn(&s); err != nil {
			return err
		}
		if err := checkSIMChange(&before, &s); err != nil {
			return err
		}
		gid, err := groupID(ctx, tx, tenantID, s.Group)
		if err != nil {
			return err
		}
		if gid == 0 {
			return simguard.FieldError("group", "group %q does not exist; create it first", s.Group)
		}
		if s.MSISDN != "" && s.MSISDN != before.MSISDN {
			taken, err := exists(ctx, tx, `SELECT 1 FROM sims WHERE msisdn = ? AND id <> ?`, s.MSISDN, id)
			if err != nil {
				return fmt.Errorf("update SIM %d: check msisdn: %w", id, err)
			}
			if taken {
				return msisdnTaken(s.MSISDN)
			}
		}
		s.Usage, s.CreatedAt = before.Usage, before.CreatedAt
		s.Version, s.UpdatedAt = before.Version+1, fromTS(ts(now))
		if err := updateSIMRow(ctx, tx, &s, gid); err != nil {
			return err
		}
		if !maps.Equal(s.Labels, before.Labels) {
			if err := replaceLabels(ctx, tx, &s); err != nil {
				return err
			}
		}
		out = s
		return appendAudit(ctx, tx, now, tenantID, ch, "sim:"+s.ICCID, before, s)
	})
	if err != nil {
		return simguard.SIM{}, err
	}
	return out, nil
}

// checkSIMChange refuses changes to identity and to a terminated SIM, and
// validates the rest.
func checkSIMChange(before, s *simguard.SIM) error {
	switch {
	case s.ID != before.ID:
		return simguard.FieldError("id", "the ID of a SIM cannot be changed")
	case s.TenantID != before.TenantID:
		return simguard.FieldError("tenant_id", "a SIM cannot move to another tenant")
	case s.ICCID != before.ICCID:
		return simguard.FieldError("iccid", "the ICCID of a SIM cannot be changed; it is the card's identity")
	case s.IMSI != before.IMSI:
		return simguard.FieldError("imsi", "the IMSI of a SIM cannot be changed; import a new SIM instead")
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if before.State == simguard.SIMTerminated && s.State != simguard.SIMTerminated {
		return &simguard.Error{Code: simguard.ECONFLICT, Field: "state",
			Message: fmt.Sprintf("SIM %s is terminated and cannot come back into service", before.ICCID)}
	}
	return nil
}

func msisdnTaken(m string) error {
	return &simguard.Error{Code: simguard.ECONFLICT, Field: "msisdn", Message: fmt.Sprintf("msisdn %s is already used by another SIM", m)}
}

func updateSIMRow(ctx context.Context, tx *sql.Tx, s *simguard.SIM, groupID int64) error {
	labels, err := labelsJSON(s.Labels)
	if err != nil {
		return err
	}
	l := &s.IMEILock
	_, err = tx.ExecContext(ctx, `UPDATE sims SET msisdn = ?, state = ?, group_id = ?, labels = ?, static_ip = ?,
		imei_mode = ?, imei = ?, imei_bound_at = ?, imei_mismatch = ?, imei_mismatch_at = ?, imei_repair_until = ?,
		active_until = ?, active_from = ?, version = ?, updated_at = ?
		WHERE id = ?`,
		nullStr(s.MSISDN), string(s.State), groupID, labels, staticIP(s.StaticIP),
		string(l.Mode), nullStr(l.IMEI), nullTS(l.BoundAt), nullStr(l.MismatchIMEI), nullTS(l.MismatchAt), nullTS(l.RepairUntil),
		nullTS(s.ActiveUntil), nullTS(s.ActiveFrom), s.Version, ts(s.UpdatedAt), s.ID)
	if col, ok := uniqueViolation(err); ok {
		// The pre-check covers MSISDN; this catches a constraint added later.
		switch col {
		case "sims.msisdn":
			return msisdnTaken(s.MSISDN)
		case "sims.static_ip":
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "static_ip",
				Message: fmt.Sprintf("static IP %s is already used by another SIM", s.StaticIP)}
		}
		return &simguard.Error{Code: simguard.ECONFLICT, Message: "the change collides with another SIM: " + col}
	}
	if err != nil {
		return fmt.Errorf("update SIM %d: %w", s.ID, err)
	}
	return nil
}

func replaceLabels(ctx context.Context, tx *sql.Tx, s *simguard.SIM) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sim_labels WHERE sim_id = ?`, s.ID); err != nil {
		return fmt.Errorf("update labels of SIM %d: %w", s.ID, err)
	}
	for k, v := range s.Labels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sim_labels (sim_id, tenant_id, key, value) VALUES (?, ?, ?, ?)`, s.ID, s.TenantID, k, v); err != nil {
			return fmt.Errorf("update labels of SIM %d: %w", s.ID, err)
		}
	}
	return nil
}

// cloneSIM deep-copies the maps and pointers of s so that fn cannot change
// the "before" value.
func cloneSIM(s simguard.SIM) simguard.SIM {
	c := s
	c.Labels = maps.Clone(s.Labels)
	c.IMEILock.BoundAt = clonePtr(s.IMEILock.BoundAt)
	c.IMEILock.MismatchAt = clonePtr(s.IMEILock.MismatchAt)
	c.IMEILock.RepairUntil = clonePtr(s.IMEILock.RepairUntil)
	c.ActiveUntil = clonePtr(s.ActiveUntil)
	c.ActiveFrom = clonePtr(s.ActiveFrom)
	return c
}

func clonePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func staticIP(a netip.Addr) sql.NullString {
	if !a.IsValid() {
		return sql.NullString{}
	}
	return sql.NullString{String: a.String(), Valid: true}
}

// AddUsage meters usage against the period starting at periodStart. A
// later period replaces the stored one (its counters start from zero); a
// report for an earlier period than the stored one arrives too late to
// count and leaves the usage unchanged, rather than wiping the current
// period. The returned Usage is what is stored afterwards.
func (db *DB) AddUsage(ctx context.Context, simID int64, periodStart time.Time, dataBytes, smsCount int64) (simguard.Usage, error) {
	if dataBytes < 0 || smsCount < 0 {
		return simguard.Usage{}, simguard.FieldError("usage", "data bytes and SMS count must not be negative")
	}
	if periodStart.IsZero() {
		return simguard.Usage{}, simguard.FieldError("period_start", "must be set")
	}
	p := ts(periodStart)
	var u simguard.Usage
	err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		var period sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE sims SET
			usage_data = CASE WHEN usage_period = ?1 THEN usage_data + ?2 WHEN usage_period > ?1 THEN usage_data ELSE ?2 END,
			usage_sms  = CASE WHEN usage_period = ?1 THEN usage_sms + ?3  WHEN usage_period > ?1 THEN usage_sms  ELSE ?3 END,
			usage_period = max(coalesce(usage_period, ?1), ?1)
			WHERE id = ?4
			RETURNING usage_period, usage_data, usage_sms`, p, dataBytes, smsCount, simID).Scan(&period, &u.DataBytes, &u.SMSCount)
		if errors.Is(err, sql.ErrNoRows) {
			return simNotFound(fmt.Sprint(simID))
		}
		if err != nil {
			return fmt.Errorf("add usage to SIM %d: %w", simID, err)
		}
		u.PeriodStart = timeOrZero(period)
		return nil
	})
	if err != nil {
		return simguard.Usage{}, err
	}
	return u, nil
}
