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

// simWhere builds the WHERE clause of ListSIMs. User input only ever
// reaches the query as bound arguments.
func simWhere(f simguard.SIMFilter) (string, []any, error) {
	where := []string{"s.tenant_id = ?"}
	args := []any{f.TenantID}
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
	if f.Label != "" {
		l, err := parseLabelFilter(f.Label)
		if err != nil {
			return "", nil, err
		}
		if l.hasValue {
			where = append(where, "s.id IN (SELECT sim_id FROM sim_labels WHERE tenant_id = ? AND key = ? AND value = ?)")
			args = append(args, f.TenantID, l.key, l.value)
		} else {
			where = append(where, "s.id IN (SELECT sim_id FROM sim_labels WHERE tenant_id = ? AND key = ?)")
			args = append(args, f.TenantID, l.key)
		}
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
		where = append(where, `(s.iccid >= ? AND s.iccid < ? OR s.imsi >= ? AND s.imsi < ?
			OR s.msisdn >= ? AND s.msisdn < ? OR s.imei >= ? AND s.imei < ?)`)
		args = append(args, lo, hi, lo, hi, lo, hi, imeiLo, imeiHi)
	}
	if f.AfterID > 0 {
		where, args = append(where, "s.id > ?"), append(args, f.AfterID)
	}
	return strings.Join(where, " AND "), args, nil
}
