package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

// CreateTenant adds a tenant. Its audit record belongs to the new tenant:
// a tenant owns itself, so its auditors see how it came to be.
func (db *DB) CreateTenant(ctx context.Context, name string, ch simguard.Change) (simguard.Tenant, error) {
	if err := checkChange(ch); err != nil {
		return simguard.Tenant{}, err
	}
	if err := simguard.ValidateName(name); err != nil {
		return simguard.Tenant{}, err
	}
	var t simguard.Tenant
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, created_at) VALUES (?, ?)`, name, ts(now))
		if _, ok := uniqueViolation(err); ok {
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "name", Message: fmt.Sprintf("a tenant named %q already exists; choose another name", name)}
		}
		if err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		t.Name, t.CreatedAt = name, fromTS(ts(now))
		return appendAudit(ctx, tx, now, t.ID, ch, "tenant:"+name, nil, t)
	})
	if err != nil {
		return simguard.Tenant{}, err
	}
	return t, nil
}

func tenantNotFound(id int64) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "tenant", Message: fmt.Sprintf("tenant %d does not exist", id)}
}

// GetTenant returns a tenant by ID.
func (db *DB) GetTenant(ctx context.Context, id int64) (simguard.Tenant, error) {
	t := simguard.Tenant{ID: id}
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT name, created_at FROM tenants WHERE id = ?`, id).Scan(&t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.Tenant{}, tenantNotFound(id)
	}
	if err != nil {
		return simguard.Tenant{}, fmt.Errorf("get tenant %d: %w", id, err)
	}
	t.CreatedAt = fromTS(created)
	return t, nil
}

// ListTenants returns every tenant in ID order.
func (db *DB) ListTenants(ctx context.Context) ([]simguard.Tenant, error) {
	return queryAll(ctx, db.r, "list tenants", func(r rowScanner) (simguard.Tenant, error) {
		var t simguard.Tenant
		var created int64
		err := r.Scan(&t.ID, &t.Name, &created)
		t.CreatedAt = fromTS(created)
		return t, err
	}, `SELECT id, name, created_at FROM tenants ORDER BY id`)
}

// requireTenant fails with ENOTFOUND unless the tenant exists.
func requireTenant(ctx context.Context, tx *sql.Tx, id int64) error {
	ok, err := exists(ctx, tx, `SELECT 1 FROM tenants WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("check tenant %d: %w", id, err)
	}
	if !ok {
		return tenantNotFound(id)
	}
	return nil
}
