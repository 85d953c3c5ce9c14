package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

const groupColumns = `id, tenant_id, name, description, policy, version, created_at, updated_at`

func scanGroup(row rowScanner) (simguard.Group, error) {
	var g simguard.Group
	var policy []byte
	var created, updated int64
	if err := row.Scan(&g.ID, &g.TenantID, &g.Name, &g.Description, &policy, &g.Version, &created, &updated); err != nil {
		return simguard.Group{}, err
	}
	if err := json.Unmarshal(policy, &g.Policy); err != nil {
		return simguard.Group{}, fmt.Errorf("decode policy of group %d: %w", g.ID, err)
	}
	g.CreatedAt, g.UpdatedAt = fromTS(created), fromTS(updated)
	return g, nil
}

func groupNotFound(name string) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "group", Message: fmt.Sprintf("group %q does not exist", name)}
}

func groupTaken(name string) error {
	return &simguard.Error{Code: simguard.ECONFLICT, Field: "name", Message: fmt.Sprintf("a group named %q already exists; choose another name", name)}
}

func versionMismatch(what string, have, want int64) error {
	return &simguard.Error{Code: simguard.EPRECONDITION, Field: "version",
		Message: fmt.Sprintf("%s was changed by someone else: it is at version %d, not %d; reload it and retry", what, have, want)}
}

// CreateGroup validates and adds a group with Version 1.
func (db *DB) CreateGroup(ctx context.Context, g simguard.Group, ch simguard.Change) (simguard.Group, error) {
	if err := checkChange(ch); err != nil {
		return simguard.Group{}, err
	}
	if err := g.Validate(); err != nil {
		return simguard.Group{}, err
	}
	policy, err := json.Marshal(g.Policy)
	if err != nil {
		return simguard.Group{}, fmt.Errorf("encode policy: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, g.TenantID); err != nil {
			return err
		}
		g.Version, g.CreatedAt, g.UpdatedAt = 1, fromTS(ts(now)), fromTS(ts(now))
		res, err := tx.ExecContext(ctx, `INSERT INTO sim_groups (tenant_id, name, description, policy, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, g.TenantID, g.Name, g.Description, policy, g.Version, ts(now), ts(now))
		if _, ok := uniqueViolation(err); ok {
			return groupTaken(g.Name)
		}
		if err != nil {
			return fmt.Errorf("create group: %w", err)
		}
		if g.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create group: %w", err)
		}
		return appendAudit(ctx, tx, now, g.TenantID, ch, "group:"+g.Name, nil, g)
	})
	if err != nil {
		return simguard.Group{}, err
	}
	return g, nil
}

// GetGroup returns a tenant's group by name.
func (db *DB) GetGroup(ctx context.Context, tenantID int64, name string) (simguard.Group, error) {
	g, err := scanGroup(db.r.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM sim_groups WHERE tenant_id = ? AND name = ?`, tenantID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.Group{}, groupNotFound(name)
	}
	if err != nil {
		return simguard.Group{}, fmt.Errorf("get group: %w", err)
	}
	return g, nil
}

// ListGroups returns a tenant's groups by name.
func (db *DB) ListGroups(ctx context.Context, tenantID int64) ([]simguard.Group, error) {
	return db.queryGroups(ctx, `SELECT `+groupColumns+` FROM sim_groups WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// ScanGroups calls fn for every group of every tenant in ID order. Groups
// are few; they are read first so that fn runs outside the read.
func (db *DB) ScanGroups(ctx context.Context, fn func(simguard.Group) error) error {
	groups, err := db.queryGroups(ctx, `SELECT `+groupColumns+` FROM sim_groups ORDER BY id`)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) queryGroups(ctx context.Context, q string, args ...any) ([]simguard.Group, error) {
	return queryAll(ctx, db.r, "list groups", scanGroup, q, args...)
}

// loadGroup reads a group inside a write transaction and checks ifVersion.
func loadGroup(ctx context.Context, tx *sql.Tx, tenantID int64, name string, ifVersion int64) (simguard.Group, error) {
	g, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM sim_groups WHERE tenant_id = ? AND name = ?`, tenantID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.Group{}, groupNotFound(name)
	}
	if err != nil {
		return simguard.Group{}, fmt.Errorf("load group: %w", err)
	}
	if ifVersion != 0 && ifVersion != g.Version {
		return simguard.Group{}, versionMismatch(fmt.Sprintf("group %q", name), g.Version, ifVersion)
	}
	return g, nil
}

// UpdateGroup changes a group through fn. fn may rename it; it may not
// change ID or TenantID.
func (db *DB) UpdateGroup(ctx context.Context, tenantID int64, name string, ifVersion int64, ch simguard.Change, fn func(*simguard.Group) error) (simguard.Group, error) {
	if err := checkChange(ch); err != nil {
		return simguard.Group{}, err
	}
	var out simguard.Group
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := loadGroup(ctx, tx, tenantID, name, ifVersion)
		if err != nil {
			return err
		}
		g, err := cloneGroup(before)
		if err != nil {
			return err
		}
		if err := fn(&g); err != nil {
			return err
		}
		switch {
		case g.ID != before.ID:
			return simguard.FieldError("id", "the ID of a group cannot be changed")
		case g.TenantID != before.TenantID:
			return simguard.FieldError("tenant_id", "a group cannot move to another tenant")
		}
		if err := g.Validate(); err != nil {
			return err
		}
		policy, err := json.Marshal(g.Policy)
		if err != nil {
			return fmt.Errorf("encode policy: %w", err)
		}
		g.Version, g.CreatedAt, g.UpdatedAt = before.Version+1, before.CreatedAt, fromTS(ts(now))
		_, err = tx.ExecContext(ctx, `UPDATE sim_groups SET name = ?, description = ?, policy = ?, version = ?, updated_at = ? WHERE id = ?`,
			g.Name, g.Description, policy, g.Version, ts(now), g.ID)
		if _, ok := uniqueViolation(err); ok {
			return groupTaken(g.Name)
		}
		if err != nil {
			return fmt.Errorf("update group %q: %w", name, err)
		}
		out = g
		return appendAudit(ctx, tx, now, tenantID, ch, "group:"+name, before, g)
	})
	if err != nil {
		return simguard.Group{}, err
	}
	return out, nil
}

// cloneGroup deep-copies g so that fn cannot reach the "before" value
// through shared slices.
func cloneGroup(g simguard.Group) (simguard.Group, error) {
	b, err := json.Marshal(g.Policy)
	if err != nil {
		return simguard.Group{}, fmt.Errorf("copy policy: %w", err)
	}
	c := g
	c.Policy = simguard.Policy{}
	if err := json.Unmarshal(b, &c.Policy); err != nil {
		return simguard.Group{}, fmt.Errorf("copy policy: %w", err)
	}
	return c, nil
}

// DeleteGroup removes an empty group.
func (db *DB) DeleteGroup(ctx context.Context, tenantID int64, name string, ifVersion int64, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		g, err := loadGroup(ctx, tx, tenantID, name, ifVersion)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sims WHERE group_id = ?`, g.ID).Scan(&n); err != nil {
			return fmt.Errorf("delete group %q: count sims: %w", name, err)
		}
		if n > 0 {
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "group",
				Message: fmt.Sprintf("group %q still has %d SIMs; move them to another group first", name, n)}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sim_groups WHERE id = ?`, g.ID); err != nil {
			return fmt.Errorf("delete group %q: %w", name, err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, "group:"+name, g, nil)
	})
}
