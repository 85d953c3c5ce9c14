package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/simguard/simguard"
)

// importSummary is the After of an import's single audit record: enough to
// know what was imported, and a digest that binds the exact identities,
// without storing every row again.
type importSummary struct {
	Count      int                       `json:"count"`
	FirstICCID string                    `json:"first_iccid"`
	LastICCID  string                    `json:"last_iccid"`
	Groups     map[string]int            `json:"groups"`
	States     map[simguard.SIMState]int `json:"states"`
	// IdentitiesSHA256 is the SHA-256 of "iccid,imsi,msisdn\n" for every
	// SIM in import order.
	IdentitiesSHA256 string `json:"identities_sha256"`
}

// CreateSIMs inserts every SIM or none, in one transaction with one audit
// record. Rows are checked in three passes, each reporting every bad row:
// field validation (EINVALID), duplicates within sims and against the
// inventory (ECONFLICT), and unknown groups (EINVALID).
func (db *DB) CreateSIMs(ctx context.Context, tenantID int64, sims []simguard.SIM, ch simguard.Change) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	if len(sims) == 0 {
		return nil
	}
	norm, err := validateImport(sims)
	if err != nil {
		return err
	}
	if err := batchDuplicates(norm); err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := requireTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		groupIDs, err := resolveGroups(ctx, tx, tenantID, norm)
		if err != nil {
			return err
		}
		var maxBefore int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM sims`).Scan(&maxBefore); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := db.insertSIMs(ctx, tx, now, tenantID, norm, groupIDs); err != nil {
			if _, ok := uniqueViolation(err); ok {
				return inventoryDuplicates(ctx, tx, norm, maxBefore, err)
			}
			return err
		}
		return appendAudit(ctx, tx, now, tenantID, ch, fmt.Sprintf("import:%d sims", len(norm)), nil, summarize(norm))
	})
	if err != nil {
		return err
	}
	// The caller publishes the new SIMs (to the policy snapshot): give it
	// them as stored, with their IDs.
	copy(sims, norm)
	return nil
}

// validateImport validates copies of the rows, leaving the caller's slice
// as it was.
func validateImport(sims []simguard.SIM) ([]simguard.SIM, error) {
	norm := make([]simguard.SIM, len(sims))
	var bad []simguard.RowError
	for i := range sims {
		s := sims[i]
		if err := s.Validate(); err != nil {
			var e *simguard.Error
			if errors.As(err, &e) {
				bad = append(bad, simguard.RowError{Line: i + 1, Field: e.Field, Message: e.Message})
			} else {
				bad = append(bad, simguard.RowError{Line: i + 1, Message: err.Error()})
			}
			continue
		}
		norm[i] = s
	}
	if len(bad) > 0 {
		return nil, &simguard.Error{Code: simguard.EINVALID, Message: fmt.Sprintf("%d of %d SIMs are invalid; nothing was imported", len(bad), len(sims)), Rows: bad}
	}
	return norm, nil
}

// batchDuplicates reports every row that repeats an ICCID, IMSI or MSISDN
// of an earlier row.
func batchDuplicates(sims []simguard.SIM) error {
	var seen [len(identityFields)]map[string]int
	for f := range seen {
		seen[f] = make(map[string]int, len(sims))
	}
	var rows []simguard.RowError
	for i := range sims {
		for f, v := range identities(&sims[i]) {
			if v == "" {
				continue
			}
			if first, ok := seen[f][v]; ok {
				rows = append(rows, simguard.RowError{Line: i + 1, Field: identityFields[f],
					Message: fmt.Sprintf("%s %s is also in row %d", identityFields[f], v, first)})
				continue
			}
			seen[f][v] = i + 1
		}
	}
	if len(rows) > 0 {
		return &simguard.Error{Code: simguard.ECONFLICT, Message: fmt.Sprintf("%d duplicate identities in the import; nothing was imported", len(rows)), Rows: rows}
	}
	return nil
}

// identityFields are the columns no two SIMs may share: the network names a
// SIM by the first three, and the gateway and the RADIUS server find a SIM
// by its static IP.
var identityFields = [4]string{"iccid", "imsi", "msisdn", "static_ip"}

func identities(s *simguard.SIM) [len(identityFields)]string {
	return [len(identityFields)]string{s.ICCID, s.IMSI, s.MSISDN, staticIP(s.StaticIP).String}
}

// resolveGroups maps every group name used to its ID in the tenant.
func resolveGroups(ctx context.Context, tx *sql.Tx, tenantID int64, sims []simguard.SIM) (map[string]int64, error) {
	ids := map[string]int64{}
	missing := map[string]bool{}
	var rows []simguard.RowError
	for i := range sims {
		name := sims[i].Group
		if _, ok := ids[name]; !ok && !missing[name] {
			id, err := groupID(ctx, tx, tenantID, name)
			if err != nil {
				return nil, err
			}
			if id == 0 {
				missing[name] = true
			} else {
				ids[name] = id
			}
		}
		if missing[name] {
			rows = append(rows, simguard.RowError{Line: i + 1, Field: "group", Message: fmt.Sprintf("group %q does not exist; create it first", name)})
		}
	}
	if len(rows) > 0 {
		return nil, &simguard.Error{Code: simguard.EINVALID, Field: "group",
			Message: fmt.Sprintf("%d SIMs name groups that do not exist (%v); nothing was imported", len(rows), slices.Sorted(maps.Keys(missing))), Rows: rows}
	}
	return ids, nil
}

// groupID returns 0 when the tenant has no group of that name.
func groupID(ctx context.Context, tx *sql.Tx, tenantID int64, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM sim_groups WHERE tenant_id = ? AND name = ?`, tenantID, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("look up group %q: %w", name, err)
	}
	return id, nil
}

const insertSIM = `INSERT INTO sims (tenant_id, iccid, imsi, msisdn, state, group_id, labels, static_ip,
	imei_mode, imei, imei_bound_at, imei_mismatch, imei_mismatch_at, imei_repair_until, active_until,
	usage_period, usage_data, usage_sms, version, created_at, updated_at, active_from)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, 0, 1, ?, ?, ?)`

func (db *DB) insertSIMs(ctx context.Context, tx *sql.Tx, now time.Time, tenantID int64, sims []simguard.SIM, groupIDs map[string]int64) error {
	ins, err := tx.PrepareContext(ctx, insertSIM)
	if err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	defer ins.Close()
	insLabel, err := tx.PrepareContext(ctx, `INSERT INTO sim_labels (sim_id, tenant_id, key, value) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	defer insLabel.Close()
	for i := range sims {
		s := &sims[i]
		labels, err := labelsJSON(s.Labels)
		if err != nil {
			return fmt.Errorf("import row %d: %w", i+1, err)
		}
		l := &s.IMEILock
		res, err := ins.ExecContext(ctx, tenantID, s.ICCID, s.IMSI, nullStr(s.MSISDN), string(s.State), groupIDs[s.Group],
			labels, staticIP(s.StaticIP), string(l.Mode), nullStr(l.IMEI), nullTS(l.BoundAt), nullStr(l.MismatchIMEI),
			nullTS(l.MismatchAt), nullTS(l.RepairUntil), nullTS(s.ActiveUntil), ts(now), ts(now), nullTS(s.ActiveFrom))
		if err != nil {
			return fmt.Errorf("import row %d: %w", i+1, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("import row %d: %w", i+1, err)
		}
		s.ID, s.TenantID, s.Version, s.CreatedAt, s.UpdatedAt = id, tenantID, 1, now, now
		if len(s.Labels) > 0 {
			for k, v := range s.Labels {
				if _, err := insLabel.ExecContext(ctx, id, tenantID, k, v); err != nil {
					return fmt.Errorf("import row %d: label %q: %w", i+1, k, err)
				}
			}
		}
		if db.hookImportRow != nil {
			db.hookImportRow(i + 1)
		}
	}
	return nil
}

// inventoryDuplicates runs after an insert hit a UNIQUE constraint: it
// finds every row that collides with a SIM that existed before the import
// (batch duplicates were ruled out already), so the caller can fix them all
// at once. The transaction is rolled back by the caller.
func inventoryDuplicates(ctx context.Context, tx *sql.Tx, sims []simguard.SIM, maxBefore int64, cause error) error {
	var stmts [len(identityFields)]*sql.Stmt
	for f, col := range identityFields {
		st, err := tx.PrepareContext(ctx, `SELECT 1 FROM sims WHERE `+col+` = ? AND id <= ?`)
		if err != nil {
			return fmt.Errorf("import: find duplicates: %w", err)
		}
		defer st.Close()
		stmts[f] = st
	}
	var rows []simguard.RowError
	for i := range sims {
		for f, v := range identities(&sims[i]) {
			if v == "" {
				continue
			}
			var one int
			err := stmts[f].QueryRowContext(ctx, v, maxBefore).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("import: find duplicates: %w", err)
			}
			rows = append(rows, simguard.RowError{Line: i + 1, Field: identityFields[f],
				Message: fmt.Sprintf("%s %s is already in the inventory", identityFields[f], v)})
		}
	}
	if len(rows) == 0 {
		// The constraint that failed is not one of the identities.
		return fmt.Errorf("import: %w", cause)
	}
	return &simguard.Error{Code: simguard.ECONFLICT, Message: fmt.Sprintf("%d identities are already in the inventory; nothing was imported", len(rows)), Rows: rows}
}

func summarize(sims []simguard.SIM) importSummary {
	sum := importSummary{
		Count:      len(sims),
		FirstICCID: sims[0].ICCID,
		LastICCID:  sims[len(sims)-1].ICCID,
		Groups:     map[string]int{},
		States:     map[simguard.SIMState]int{},
	}
	h := sha256.New()
	var line []byte
	for i := range sims {
		s := &sims[i]
		sum.Groups[s.Group]++
		sum.States[s.State]++
		line = append(line[:0], s.ICCID...)
		line = append(line, ',')
		line = append(line, s.IMSI...)
		line = append(line, ',')
		line = append(line, s.MSISDN...)
		line = append(line, '\n')
		h.Write(line)
	}
	sum.IdentitiesSHA256 = hex.EncodeToString(h.Sum(nil))
	return sum
}

func labelsJSON(l map[string]string) (sql.NullString, error) {
	if len(l) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode labels: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}
