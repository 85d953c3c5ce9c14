package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

const peerColumns = `id, tenant_id, origin_host, realm, prefix, plmns, version, created_at, updated_at`

func scanPeer(row rowScanner) (simguard.DiameterPeer, error) {
	var p simguard.DiameterPeer
	var prefix, plmns string
	var created, updated int64
	if err := row.Scan(&p.ID, &p.TenantID, &p.OriginHost, &p.Realm, &prefix, &plmns, &p.Version, &created, &updated); err != nil {
		return p, err
	}
	var err error
	if p.Prefix, err = netip.ParsePrefix(prefix); err != nil {
		return p, fmt.Errorf("diameter peer %d: prefix: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(plmns), &p.PLMNs); err != nil {
		return p, fmt.Errorf("diameter peer %d: plmns: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return p, nil
}

// CreateDiameterPeer adds a peer (audited).
func (db *DB) CreateDiameterPeer(ctx context.Context, p simguard.DiameterPeer, ch simguard.Change) (simguard.DiameterPeer, error) {
	if err := checkChange(ch); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	plmns, err := json.Marshal(append([]string{}, p.PLMNs...))
	if err != nil {
		return p, err
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, p.TenantID); err != nil {
			return err
		}
		p.Version, p.CreatedAt, p.UpdatedAt = 1, fromTS(ts(now)), fromTS(ts(now))
		res, err := tx.ExecContext(ctx, `INSERT INTO diameter_peers (tenant_id, origin_host, realm, prefix, plmns, version,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, p.TenantID, p.OriginHost, p.Realm, p.Prefix.String(), string(plmns), ts(now), ts(now))
		if _, ok := uniqueViolation(err); ok {
			return &simguard.Error{Code: simguard.ECONFLICT, Field: "origin_host", Message: fmt.Sprintf("a Diameter peer %q exists", p.OriginHost)}
		}
		if err != nil {
			return fmt.Errorf("create diameter peer: %w", err)
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create diameter peer: %w", err)
		}
		return appendAudit(ctx, tx, now, p.TenantID, ch, "diameter_peer:"+strconv.FormatInt(p.ID, 10), nil, p)
	})
	return p, err
}

// ListDiameterPeers lists a tenant's peers, or every tenant's for 0.
func (db *DB) ListDiameterPeers(ctx context.Context, tenantID int64) ([]simguard.DiameterPeer, error) {
	return queryAll(ctx, db.r, "list diameter peers", scanPeer,
		`SELECT `+peerColumns+` FROM diameter_peers WHERE ? = 0 OR tenant_id = ? ORDER BY id`, tenantID, tenantID)
}

// DeleteDiameterPeer removes a peer (audited).
func (db *DB) DeleteDiameterPeer(ctx context.Context, tenantID, id int64, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := scanPeer(tx.QueryRowContext(ctx, `SELECT `+peerColumns+` FROM diameter_peers WHERE tenant_id = ? AND id = ?`, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return &simguard.Error{Code: simguard.ENOTFOUND, Field: "diameter_peer", Message: fmt.Sprintf("no Diameter peer %d", id)}
		}
		if err != nil {
			return fmt.Errorf("delete diameter peer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM diameter_peers WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete diameter peer: %w", err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, "diameter_peer:"+strconv.FormatInt(id, 10), before, nil)
	})
}

// devicesAudit is what one audit record says about a bulk write: the
// count and the first entries, so that a 100,000-line import does not
// make one giant record.
type devicesAudit struct {
	Count int               `json:"count"`
	First []simguard.Device `json:"first"`
}

// PutDevices inserts or replaces devices in one transaction, one audit
// record for all.
func (db *DB) PutDevices(ctx context.Context, tenantID int64, devs []simguard.Device, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	if len(devs) == 0 {
		return simguard.FieldError("devices", "no devices given")
	}
	for i := range devs {
		devs[i].TenantID = tenantID
		if err := devs[i].Validate(); err != nil {
			var se *simguard.Error
			if errors.As(err, &se) {
				se.Field = fmt.Sprintf("devices[%d].%s", i, se.Field)
			}
			return err
		}
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO devices (tenant_id, imei, status, note, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, imei) DO UPDATE SET status = excluded.status,
			note = excluded.note, updated_at = excluded.updated_at RETURNING id, created_at`)
		if err != nil {
			return fmt.Errorf("put devices: %w", err)
		}
		defer st.Close()
		for i := range devs {
			d := &devs[i]
			var created int64
			if err := st.QueryRowContext(ctx, tenantID, d.IMEI, string(d.Status), d.Note, ts(now), ts(now)).Scan(&d.ID, &created); err != nil {
				return fmt.Errorf("put device %s: %w", d.IMEI, err)
			}
			d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(ts(now))
		}
		first := devs[:min(len(devs), 20)]
		return appendAudit(ctx, tx, now, tenantID, ch, "devices", nil, devicesAudit{Count: len(devs), First: first})
	})
}

const deviceColumns = `id, tenant_id, imei, status, note, created_at, updated_at`

func scanDevice(row rowScanner) (simguard.Device, error) {
	var d simguard.Device
	var created, updated int64
	err := row.Scan(&d.ID, &d.TenantID, &d.IMEI, &d.Status, &d.Note, &created, &updated)
	d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(updated)
	return d, err
}

// ListDevices lists a tenant's device list, or every tenant's for 0.
func (db *DB) ListDevices(ctx context.Context, tenantID int64) ([]simguard.Device, error) {
	var out []simguard.Device
	err := db.scanDevices(ctx, tenantID, func(d simguard.Device) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// ScanDevices calls fn for every device of every tenant.
func (db *DB) ScanDevices(ctx context.Context, fn func(simguard.Device) error) error {
	return db.scanDevices(ctx, 0, fn)
}

func (db *DB) scanDevices(ctx context.Context, tenantID int64, fn func(simguard.Device) error) error {
	return queryEach(ctx, db.r, "list devices", `SELECT `+deviceColumns+` FROM devices WHERE ? = 0 OR tenant_id = ? ORDER BY id`,
		[]any{tenantID, tenantID}, func(rows *sql.Rows) error {
			d, err := scanDevice(rows)
			if err != nil {
				return fmt.Errorf("list devices: %w", err)
			}
			return fn(d)
		})
}

// DeleteDevice removes one entry (audited).
func (db *DB) DeleteDevice(ctx context.Context, tenantID int64, imei string, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	imei, err := simguard.NormalizeIMEI(imei)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE tenant_id = ? AND imei = ?`, tenantID, imei))
		if errors.Is(err, sql.ErrNoRows) {
			return &simguard.Error{Code: simguard.ENOTFOUND, Field: "imei", Message: fmt.Sprintf("device %s is not on the list", imei)}
		}
		if err != nil {
			return fmt.Errorf("delete device: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE id = ?`, before.ID); err != nil {
			return fmt.Errorf("delete device: %w", err)
		}
		return appendAudit(ctx, tx, now, tenantID, ch, "device:"+imei, before, nil)
	})
}
