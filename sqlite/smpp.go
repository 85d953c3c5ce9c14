package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

const smppColumns = `id, tenant_id, system_id, password_hash, upstream, mo_prefixes, max_binds, disabled, version, created_at, updated_at`

func scanSMPPAccount(row rowScanner) (simguard.SMPPAccount, error) {
	var a simguard.SMPPAccount
	var prefixes sql.NullString
	var created, updated int64
	if err := row.Scan(&a.ID, &a.TenantID, &a.SystemID, &a.PasswordHash, &a.Upstream, &prefixes, &a.MaxBinds,
		&a.Disabled, &a.Version, &created, &updated); err != nil {
		return simguard.SMPPAccount{}, err
	}
	if prefixes.Valid {
		if err := json.Unmarshal([]byte(prefixes.String), &a.MOPrefixes); err != nil {
			return simguard.SMPPAccount{}, fmt.Errorf("decode mo_prefixes of smpp account %d: %w", a.ID, err)
		}
	}
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	return a, nil
}

func smppNotFound(what string) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "system_id", Message: fmt.Sprintf("no SMPP account %s", what)}
}

func smppTaken(systemID string) error {
	return &simguard.Error{Code: simguard.ECONFLICT, Field: "system_id",
		Message: fmt.Sprintf("an SMPP account with system_id %q already exists (system_ids are unique across all tenants); choose another", systemID)}
}

// checkSMPPAccount validates what is written. The store refuses anything
// but a bcrypt hash, so that a plaintext password handed over by mistake
// is never stored.
func checkSMPPAccount(a *simguard.SMPPAccount) error {
	if err := a.Validate(); err != nil {
		return err
	}
	h := a.PasswordHash
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) {
		return simguard.FieldError("password_hash", "must be a bcrypt hash; hash the password before storing it")
	}
	return nil
}

func prefixesJSON(p []string) (sql.NullString, error) {
	if len(p) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode mo_prefixes: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// smppObject names an account in the audit log.
func smppObject(a simguard.SMPPAccount) string { return "smpp_account:" + a.SystemID }

// CreateSMPPAccount stores a new account with Version 1. Its audit record
// never holds the password hash (SMPPAccount does not marshal it).
func (db *DB) CreateSMPPAccount(ctx context.Context, a simguard.SMPPAccount, ch simguard.Change) (simguard.SMPPAccount, error) {
	if err := checkChange(ch); err != nil {
		return simguard.SMPPAccount{}, err
	}
	if err := checkSMPPAccount(&a); err != nil {
		return simguard.SMPPAccount{}, err
	}
	prefixes, err := prefixesJSON(a.MOPrefixes)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, a.TenantID); err != nil {
			return err
		}
		a.Version, a.CreatedAt, a.UpdatedAt = 1, fromTS(ts(now)), fromTS(ts(now))
		res, err := tx.ExecContext(ctx, `INSERT INTO smpp_accounts
			(tenant_id, system_id, password_hash, upstream, mo_prefixes, max_binds, disabled, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.TenantID, a.SystemID, a.PasswordHash, a.Upstream, prefixes, a.MaxBinds, a.Disabled, a.Version, ts(now), ts(now))
		if _, ok := uniqueViolation(err); ok {
			return smppTaken(a.SystemID)
		}
		if err != nil {
			return fmt.Errorf("create smpp account: %w", err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create smpp account: %w", err)
		}
		return appendAudit(ctx, tx, now, a.TenantID, ch, smppObject(a), nil, a)
	})
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	return a, nil
}

// GetSMPPAccount returns an account of the tenant by ID.
func (db *DB) GetSMPPAccount(ctx context.Context, tenantID, id int64) (simguard.SMPPAccount, error) {
	a, err := scanSMPPAccount(db.r.QueryRowContext(ctx, `SELECT `+smppColumns+` FROM smpp_accounts WHERE id = ? AND tenant_id = ?`, id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.SMPPAccount{}, smppNotFound(fmt.Sprintf("with ID %d", id))
	}
	if err != nil {
		return simguard.SMPPAccount{}, fmt.Errorf("get smpp account %d: %w", id, err)
	}
	return a, nil
}

// SMPPAccountBySystemID finds the account of a bind, in any tenant. The
// lookup uses the UNIQUE index on system_id.
func (db *DB) SMPPAccountBySystemID(ctx context.Context, systemID string) (simguard.SMPPAccount, error) {
	a, err := scanSMPPAccount(db.r.QueryRowContext(ctx, `SELECT `+smppColumns+` FROM smpp_accounts WHERE system_id = ?`, systemID))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.SMPPAccount{}, smppNotFound(fmt.Sprintf("%q", systemID))
	}
	if err != nil {
		return simguard.SMPPAccount{}, fmt.Errorf("smpp account by system_id: %w", err)
	}
	return a, nil
}

// ListSMPPAccounts returns a tenant's accounts in ID order.
func (db *DB) ListSMPPAccounts(ctx context.Context, tenantID int64) ([]simguard.SMPPAccount, error) {
	return queryAll(ctx, db.r, "list smpp accounts", scanSMPPAccount, `SELECT `+smppColumns+` FROM smpp_accounts WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// loadSMPPAccount reads an account inside a write transaction and checks
// ifVersion.
func loadSMPPAccount(ctx context.Context, tx *sql.Tx, tenantID, id, ifVersion int64) (simguard.SMPPAccount, error) {
	a, err := scanSMPPAccount(tx.QueryRowContext(ctx, `SELECT `+smppColumns+` FROM smpp_accounts WHERE id = ? AND tenant_id = ?`, id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.SMPPAccount{}, smppNotFound(fmt.Sprintf("with ID %d", id))
	}
	if err != nil {
		return simguard.SMPPAccount{}, fmt.Errorf("load smpp account %d: %w", id, err)
	}
	if ifVersion != 0 && ifVersion != a.Version {
		return simguard.SMPPAccount{}, versionMismatch(fmt.Sprintf("SMPP account %q", a.SystemID), a.Version, ifVersion)
	}
	return a, nil
}

// UpdateSMPPAccount changes an account through fn. fn may change the
// system_id (ECONFLICT if taken) and the password hash; not ID or TenantID.
func (db *DB) UpdateSMPPAccount(ctx context.Context, tenantID, id, ifVersion int64, ch simguard.Change, fn func(*simguard.SMPPAccount) error) (simguard.SMPPAccount, error) {
	if err := checkChange(ch); err != nil {
		return simguard.SMPPAccount{}, err
	}
	var out simguard.SMPPAccount
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := loadSMPPAccount(ctx, tx, tenantID, id, ifVersion)
		if err != nil {
			return err
		}
		a := before
		a.MOPrefixes = append([]string(nil), before.MOPrefixes...) // fn must not reach before's array
		if err := fn(&a); err != nil {
			return err
		}
		switch {
		case a.ID != before.ID:
			return simguard.FieldError("id", "the ID of an SMPP account cannot be changed")
		case a.TenantID != before.TenantID:
			return simguard.FieldError("tenant_id", "an SMPP account cannot move to another tenant")
		}
		if err := checkSMPPAccount(&a); err != nil {
			return err
		}
		prefixes, err := prefixesJSON(a.MOPrefixes)
		if err != nil {
			return err
		}
		a.Version, a.CreatedAt, a.UpdatedAt = before.Version+1, before.CreatedAt, fromTS(ts(now))
		_, err = tx.ExecContext(ctx, `UPDATE smpp_accounts SET system_id = ?, password_hash = ?, upstream = ?, mo_prefixes = ?,
			max_binds = ?, disabled = ?, version = ?, updated_at = ? WHERE id = ?`,
			a.SystemID, a.PasswordHash, a.Upstream, prefixes, a.MaxBinds, a.Disabled, a.Version, ts(now), a.ID)
		if _, ok := uniqueViolation(err); ok {
			return smppTaken(a.SystemID)
		}
		if err != nil {
			return fmt.Errorf("update smpp account %d: %w", id, err)
		}
		out = a
		return appendAudit(ctx, tx, now, tenantID, ch, smppObject(before), before, a)
	})
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	return out, nil
}

// DeleteSMPPAccount removes an account of the tenant.
func (db *DB) DeleteSMPPAccount(ctx context.Context, tenantID, id, ifVersion int64, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		a, err := loadSMPPAccount(ctx, tx, tenantID, id, ifVersion)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM smpp_accounts WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete smpp account %d: %w", id, err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, smppObject(a), a, nil)
	})
}

var _ simguard.UsageBatchStore = (*DB)(nil)

// AddUsages meters many SIMs in one transaction: the SMS firewall's usage
// meter sends the messages of many SIMs at once, and one fsync for all of
// them is what makes metering every message affordable. Each element is
// added as AddUsage adds it (same statement); unknown SIMs are skipped.
func (db *DB) AddUsages(ctx context.Context, adds []simguard.UsageAdd) ([]simguard.Usage, error) {
	for i, a := range adds {
		if a.DataBytes < 0 || a.SMSCount < 0 {
			return nil, simguard.FieldError(fmt.Sprintf("usage[%d]", i), "data bytes and SMS count must not be negative")
		}
		if a.PeriodStart.IsZero() {
			return nil, simguard.FieldError(fmt.Sprintf("usage[%d].period_start", i), "must be set")
		}
	}
	out := make([]simguard.Usage, len(adds))
	err := db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE sims SET
			usage_data = CASE WHEN usage_period = ?1 THEN usage_data + ?2 WHEN usage_period > ?1 THEN usage_data ELSE ?2 END,
			usage_sms  = CASE WHEN usage_period = ?1 THEN usage_sms + ?3  WHEN usage_period > ?1 THEN usage_sms  ELSE ?3 END,
			usage_period = max(coalesce(usage_period, ?1), ?1)
			WHERE id = ?4
			RETURNING usage_period, usage_data, usage_sms`)
		if err != nil {
			return fmt.Errorf("add usages: %w", err)
		}
		defer stmt.Close()
		for i, a := range adds {
			var period sql.NullInt64
			u := &out[i]
			err := stmt.QueryRowContext(ctx, ts(a.PeriodStart), a.DataBytes, a.SMSCount, a.SIMID).Scan(&period, &u.DataBytes, &u.SMSCount)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("add usage to SIM %d: %w", a.SIMID, err)
			}
			u.PeriodStart = timeOrZero(period)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
