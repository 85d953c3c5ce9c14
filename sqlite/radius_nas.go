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

// NAS client secrets are stored as the caller gives them: sealed (package
// sealed) before they reach the store, opened after they leave it. The
// audit records never contain them (NASClient.Secret is not serialized).

type nasOptions struct {
	IdentityOrder                    []simguard.IdentitySource `json:"identity_order,omitempty"`
	AllowMissingMessageAuthenticator bool                      `json:"allow_missing_message_authenticator,omitempty"`
	CoAPort                          uint16                    `json:"coa_port,omitempty"`
	CoAAddr                          netip.Addr                `json:"coa_addr,omitzero"`
}

const nasColumns = `id, tenant_id, name, prefix, secret, options, version, created_at, updated_at`

func scanNAS(row rowScanner) (simguard.NASClient, error) {
	var c simguard.NASClient
	var prefix, opts string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.Name, &prefix, &c.Secret, &opts, &c.Version, &created, &updated); err != nil {
		return c, err
	}
	var err error
	if c.Prefix, err = netip.ParsePrefix(prefix); err != nil {
		return c, fmt.Errorf("nas client %d: prefix: %w", c.ID, err)
	}
	var o nasOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		return c, fmt.Errorf("nas client %d: options: %w", c.ID, err)
	}
	c.IdentityOrder, c.AllowMissingMessageAuthenticator, c.CoAPort, c.CoAAddr = o.IdentityOrder, o.AllowMissingMessageAuthenticator, o.CoAPort, o.CoAAddr
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return c, nil
}

// checkNAS validates what the store owns: the secret itself was validated
// (as plaintext) and sealed by the caller.
func checkNAS(c *simguard.NASClient) error {
	if c.Secret == "" {
		return simguard.FieldError("secret", "a NAS client needs its (sealed) shared secret")
	}
	secret := c.Secret
	c.Secret = "placeholder-for-validation"
	err := c.Validate()
	c.Secret = secret
	return err
}

func nasConflict(err error, c *simguard.NASClient) error {
	cols, ok := uniqueViolation(err)
	if !ok {
		return nil
	}
	if strings.Contains(cols, "prefix") {
		return &simguard.Error{Code: simguard.ECONFLICT, Field: "prefix", Message: fmt.Sprintf("prefix %s belongs to another NAS client", c.Prefix)}
	}
	return &simguard.Error{Code: simguard.ECONFLICT, Field: "name", Message: fmt.Sprintf("a NAS client named %q exists", c.Name)}
}

func nasOptionsJSON(c *simguard.NASClient) (string, error) {
	b, err := json.Marshal(nasOptions{c.IdentityOrder, c.AllowMissingMessageAuthenticator, c.CoAPort, c.CoAAddr})
	return string(b), err
}

// CreateNASClient adds a NAS client (audited, without its secret).
func (db *DB) CreateNASClient(ctx context.Context, c simguard.NASClient, ch simguard.Change) (simguard.NASClient, error) {
	if err := checkChange(ch); err != nil {
		return c, err
	}
	if err := checkNAS(&c); err != nil {
		return c, err
	}
	opts, err := nasOptionsJSON(&c)
	if err != nil {
		return c, err
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, c.TenantID); err != nil {
			return err
		}
		c.Version, c.CreatedAt, c.UpdatedAt = 1, fromTS(ts(now)), fromTS(ts(now))
		res, err := tx.ExecContext(ctx, `INSERT INTO radius_nas_clients (tenant_id, name, prefix, secret, options, version,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, c.TenantID, c.Name, c.Prefix.String(), c.Secret, opts, ts(now), ts(now))
		if cerr := nasConflict(err, &c); cerr != nil {
			return cerr
		}
		if err != nil {
			return fmt.Errorf("create nas client: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create nas client: %w", err)
		}
		return appendAudit(ctx, tx, now, c.TenantID, ch, "nas:"+strconv.FormatInt(c.ID, 10), nil, c)
	})
	return c, err
}

func nasNotFound(id int64) error {
	return &simguard.Error{Code: simguard.ENOTFOUND, Field: "nas_client", Message: fmt.Sprintf("no NAS client %d", id)}
}

// GetNASClient returns one of a tenant's NAS clients.
func (db *DB) GetNASClient(ctx context.Context, tenantID, id int64) (simguard.NASClient, error) {
	c, err := scanNAS(db.r.QueryRowContext(ctx, `SELECT `+nasColumns+` FROM radius_nas_clients WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, nasNotFound(id)
	}
	if err != nil {
		return c, fmt.Errorf("get nas client: %w", err)
	}
	return c, nil
}

// ListNASClients lists a tenant's clients, or every tenant's for 0.
func (db *DB) ListNASClients(ctx context.Context, tenantID int64) ([]simguard.NASClient, error) {
	return queryAll(ctx, db.r, "list nas clients", scanNAS,
		`SELECT `+nasColumns+` FROM radius_nas_clients WHERE ? = 0 OR tenant_id = ? ORDER BY id`, tenantID, tenantID)
}

// UpdateNASClient changes a client in a transaction, with the optimistic
// version check of UpdateGroup.
func (db *DB) UpdateNASClient(ctx context.Context, tenantID, id, ifVersion int64, ch simguard.Change, fn func(*simguard.NASClient) error) (simguard.NASClient, error) {
	if err := checkChange(ch); err != nil {
		return simguard.NASClient{}, err
	}
	var c simguard.NASClient
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := scanNAS(tx.QueryRowContext(ctx, `SELECT `+nasColumns+` FROM radius_nas_clients WHERE tenant_id = ? AND id = ?`, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nasNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("update nas client: %w", err)
		}
		if ifVersion != 0 && ifVersion != before.Version {
			return &simguard.Error{Code: simguard.EPRECONDITION, Field: "version",
				Message: fmt.Sprintf("NAS client %d is at version %d, not %d", id, before.Version, ifVersion)}
		}
		c = before
		if err := fn(&c); err != nil {
			return err
		}
		c.ID, c.TenantID = before.ID, before.TenantID
		if err := checkNAS(&c); err != nil {
			return err
		}
		opts, err := nasOptionsJSON(&c)
		if err != nil {
			return err
		}
		c.Version, c.UpdatedAt = before.Version+1, fromTS(ts(now))
		_, err = tx.ExecContext(ctx, `UPDATE radius_nas_clients SET name = ?, prefix = ?, secret = ?, options = ?, version = ?,
			updated_at = ? WHERE id = ?`, c.Name, c.Prefix.String(), c.Secret, opts, c.Version, ts(now), id)
		if cerr := nasConflict(err, &c); cerr != nil {
			return cerr
		}
		if err != nil {
			return fmt.Errorf("update nas client: %w", err)
		}
		return appendAudit(ctx, tx, now, c.TenantID, ch, "nas:"+strconv.FormatInt(id, 10), before, c)
	})
	return c, err
}

// DeleteNASClient removes a client (audited).
func (db *DB) DeleteNASClient(ctx context.Context, tenantID, id, ifVersion int64, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := scanNAS(tx.QueryRowContext(ctx, `SELECT `+nasColumns+` FROM radius_nas_clients WHERE tenant_id = ? AND id = ?`, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nasNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("delete nas client: %w", err)
		}
		if ifVersion != 0 && ifVersion != before.Version {
			return &simguard.Error{Code: simguard.EPRECONDITION, Field: "version",
				Message: fmt.Sprintf("NAS client %d is at version %d, not %d", id, before.Version, ifVersion)}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM radius_nas_clients WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete nas client: %w", err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, "nas:"+strconv.FormatInt(id, 10), before, nil)
	})
}
