package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// CreateToken stores a token with the SHA-256 of its secret. Neither the
// secret nor its hash reaches the audit record.
func (db *DB) CreateToken(ctx context.Context, t simguard.Token, secretHash string, ch simguard.Change) (simguard.Token, error) {
	if err := checkChange(ch); err != nil {
		return simguard.Token{}, err
	}
	switch {
	case !t.Role.Valid():
		return simguard.Token{}, simguard.FieldError("role", "must be admin, operator or auditor, got %q", t.Role)
	case t.Name == "" || len(t.Name) > 100:
		return simguard.Token{}, simguard.FieldError("name", "a token needs a name of 1-100 characters")
	case !isHex(secretHash, 64):
		return simguard.Token{}, simguard.FieldError("secret_hash", "must be the lower-case hex SHA-256 of the secret")
	}
	t.Secret = ""
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, t.TenantID); err != nil {
			return err
		}
		t.CreatedAt = fromTS(ts(now))
		res, err := tx.ExecContext(ctx, `INSERT INTO tokens (tenant_id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			t.TenantID, t.Name, string(t.Role), secretHash, ts(now))
		if _, ok := uniqueViolation(err); ok {
			// Only a reused secret collides; say so without echoing it.
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "secret", Message: "a token with this secret already exists; generate a new secret"}
		}
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return appendAudit(ctx, tx, now, t.TenantID, ch, "token:"+strconv.FormatInt(t.ID, 10), nil, t)
	})
	if err != nil {
		return simguard.Token{}, err
	}
	return t, nil
}

const tokenColumns = `id, tenant_id, name, role, created_at`

func scanToken(row rowScanner) (simguard.Token, error) {
	var t simguard.Token
	var role string
	var created int64
	if err := row.Scan(&t.ID, &t.TenantID, &t.Name, &role, &created); err != nil {
		return simguard.Token{}, err
	}
	t.Role, t.CreatedAt = simguard.Role(role), fromTS(created)
	return t, nil
}

// TokenBySecretHash finds the token for a presented secret.
func (db *DB) TokenBySecretHash(ctx context.Context, secretHash string) (simguard.Token, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE secret_hash = ?`, secretHash))
	if errors.Is(err, sql.ErrNoRows) {
		return simguard.Token{}, &simguard.Error{Code: simguard.ENOTFOUND, Field: "token", Message: "no such token"}
	}
	if err != nil {
		return simguard.Token{}, fmt.Errorf("token by secret: %w", err)
	}
	return t, nil
}

// ListTokens returns a tenant's tokens in ID order.
func (db *DB) ListTokens(ctx context.Context, tenantID int64) ([]simguard.Token, error) {
	return queryAll(ctx, db.r, "list tokens", scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE tenant_id = ? ORDER BY id`, tenantID)
}

// DeleteToken revokes a token of the tenant.
func (db *DB) DeleteToken(ctx context.Context, tenantID, id int64, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ? AND tenant_id = ?`, id, tenantID))
		if errors.Is(err, sql.ErrNoRows) {
			return &simguard.Error{Code: simguard.ENOTFOUND, Field: "token", Message: fmt.Sprintf("token %d does not exist", id)}
		}
		if err != nil {
			return fmt.Errorf("delete token %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete token %d: %w", id, err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, "token:"+strconv.FormatInt(id, 10), t, nil)
	})
}
