package sqlite

import (
	"strings"

	"github.com/simguard/simguard"
)

// labelFilter is a parsed SIMFilter.Label.
type labelFilter struct {
	key, value string
	hasValue   bool
}

// parseLabelFilter reads "key" or "key=value". Keys follow the label rules
// of simguard.SIM; the value is anything up to 255 bytes.
func parseLabelFilter(s string) (labelFilter, error) {
	k, v, hasValue := strings.Cut(s, "=")
	if len(k) == 0 || len(k) > 63 || !labelKeyChars(k) {
		return labelFilter{}, simguard.FieldError("label", "want key or key=value with a key of 1-63 of a-z, A-Z, 0-9, '-', '_', '.', got %q", clip(s))
	}
	if len(v) > 255 {
		return labelFilter{}, simguard.FieldError("label", "label value is longer than 255 characters")
	}
	return labelFilter{key: k, value: v, hasValue: hasValue}, nil
}

func labelKeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseQuery reads SIMFilter.Query: a prefix of digits, with an optional
// leading "+" as MSISDNs are often written.
func parseQuery(s string) (string, error) {
	q := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if q == "" || len(q) > 20 {
		return "", simguard.FieldError("query", "want 1-20 digits of an ICCID, IMSI, MSISDN or IMEI, got %q", clip(s))
	}
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return "", simguard.FieldError("query", "want digits of an ICCID, IMSI, MSISDN or IMEI, got %q", clip(s))
		}
	}
	return q, nil
}

// digitPrefixRange turns a digit prefix into a half-open range: every
// stored identifier is digits, and ':' follows '9', so col >= p AND
// col < p+":" holds exactly the values starting with p, and uses the index.
func digitPrefixRange(p string) (lo, hi string) { return p, p + ":" }

// listSIMsQuery builds the query of ListSIMs. User input only ever
// reaches it as bound arguments.
//
// A label filter drives the query from sim_labels (CROSS JOIN fixes the
// join order): its indexes hold each label's SIMs in ID order, so a page
// is read without materializing every SIM that has the label.
func listSIMsQuery(f simguard.SIMFilter) (string, []any, error) {
	from := ` FROM sims s JOIN sim_groups g ON g.id = s.group_id`
	idCol := "s.id"
	var where []string
	var args []any
	if f.Label != "" {
		l, err := parseLabelFilter(f.Label)
		if err != nil {
			return "", nil, err
		}
		from = ` FROM sim_labels l CROSS JOIN sims s ON s.id = l.sim_id JOIN sim_groups g ON g.id = s.group_id`
		idCol = "l.sim_id"
		where, args = append(where, "l.tenant_id = ?", "l.key = ?"), append(args, f.TenantID, l.key)
		if l.hasValue {
			where, args = append(where, "l.value = ?"), append(args, l.value)
		}
	}
	where, args = append(where, "s.tenant_id = ?"), append(args, f.TenantID)
	if f.State != "" {
		if !f.State.Valid() {
			return "", nil, simguard.FieldError("state", "must be one of inventory, active, suspended, terminated, got %q", clip(string(f.State)))
		}
		where, args = append(where, "s.state = ?"), append(args, string(f.State))
	}
	if f.Group != "" {
		where = append(where, "s.group_id = (SELECT id FROM sim_groups WHERE tenant_id = ? AND name = ?)")
		args = append(args, f.TenantID, f.Group)
	}
	if f.Query != "" {
		q, err := parseQuery(f.Query)
		if err != nil {
			return "", nil, err
		}
		lo, hi := digitPrefixRange(q)
		// IMEIs are stored as their 14 identifying digits; a full IMEI
		// or IMEISV typed by an operator is cut down to match.
		imeiLo, imeiHi := lo, hi
		if len(q) > 14 {
			imeiLo, imeiHi = digitPrefixRange(q[:14])
		}
		// A compound subquery, so that each prefix range walks its own
		// index; an OR over the columns lets SQLite scan the tenant's
		// SIMs instead.
		where = append(where, `s.id IN (
			SELECT id FROM sims WHERE iccid >= ? AND iccid < ?
			UNION ALL SELECT id FROM sims WHERE imsi >= ? AND imsi < ?
			UNION ALL SELECT id FROM sims WHERE msisdn >= ? AND msisdn < ?
			UNION ALL SELECT id FROM sims WHERE imei >= ? AND imei < ?)`)
		args = append(args, lo, hi, lo, hi, lo, hi, imeiLo, imeiHi)
	}
	if f.AfterID > 0 {
		where, args = append(where, idCol+" > ?"), append(args, f.AfterID)
	}
	q := `SELECT ` + simColumns + from + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + idCol + ` LIMIT ?`
	return q, append(args, clampLimit(f.Limit)), nil
}
