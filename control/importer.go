package control

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
)

// MaxImportRows bounds one import request.
const MaxImportRows = 1_000_000

// ImportRow is one SIM to import with the line it came from.
type ImportRow struct {
	Line int
	SIM  simguard.SIM
}

// importRecord is one SIM as CSV columns and JSON objects name its fields.
type importRecord struct {
	ICCID    string            `json:"iccid"`
	IMSI     string            `json:"imsi"`
	MSISDN   string            `json:"msisdn"`
	IMEI     string            `json:"imei"`
	Group    string            `json:"group"`
	State    string            `json:"state"`
	IMEILock string            `json:"imei_lock"`
	StaticIP string            `json:"static_ip"`
	Labels   map[string]string `json:"labels"`
}

var csvColumns = map[string]bool{
	"iccid": true, "imsi": true, "msisdn": true, "imei": true, "group": true, "state": true,
	"imei_lock": true, "static_ip": true, "labels": true,
}

// ImportOptions fill in what rows leave empty.
type ImportOptions struct {
	Group string // group for rows without one
	State simguard.SIMState
	// IMEILock is the lock mode for rows without an IMEI (default off);
	// rows with an IMEI are locked to it explicitly unless they say else.
	IMEILock simguard.IMEILockMode
}

// ParseCSV reads SIMs from CSV with a header row naming the columns
// (iccid and imsi required; msisdn, imei, group, state, imei_lock,
// static_ip and labels as "k=v;k=v" optional). Line numbers count the
// header as line 1. It returns every bad row, not just the first.
func ParseCSV(r io.Reader, opt ImportOptions) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, &simguard.Error{Code: simguard.EINVALID, Message: "the CSV needs a header row such as iccid,imsi,msisdn,imei,group,state",
			Rows: []simguard.RowError{{Line: 1, Message: csvMessage(err)}}}
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !csvColumns[h] {
			return nil, &simguard.Error{Code: simguard.EINVALID, Message: "unknown CSV column",
				Rows: []simguard.RowError{{Line: 1, Field: clipField(h), Message: "unknown column; known: iccid, imsi, msisdn, imei, group, state, imei_lock, static_ip, labels"}}}
		}
		if seen[h] {
			return nil, &simguard.Error{Code: simguard.EINVALID, Message: "duplicate CSV column",
				Rows: []simguard.RowError{{Line: 1, Field: h, Message: "column appears twice"}}}
		}
		seen[h] = true
		cols[i] = h
	}
	if !seen["iccid"] || !seen["imsi"] {
		return nil, &simguard.Error{Code: simguard.EINVALID, Message: "the CSV header must name at least iccid and imsi",
			Rows: []simguard.RowError{{Line: 1, Message: "missing iccid or imsi column"}}}
	}
	var rows []ImportRow
	var bad []simguard.RowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line := 0
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad = append(bad, simguard.RowError{Line: line, Message: csvMessage(err)})
			if pe == nil || len(bad) > maxRowErrors {
				break
			}
			continue
		}
		if len(rec) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if len(rows)+len(bad) >= MaxImportRows {
			return nil, simguard.Errorf(simguard.EINVALID, "more than %d rows in one import; split the file", MaxImportRows)
		}
		if len(rec) != len(cols) {
			bad = append(bad, simguard.RowError{Line: line, Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(cols))})
			continue
		}
		var ir importRecord
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch cols[i] {
			case "iccid":
				ir.ICCID = v
			case "imsi":
				ir.IMSI = v
			case "msisdn":
				ir.MSISDN = v
			case "imei":
				ir.IMEI = v
			case "group":
				ir.Group = v
			case "state":
				ir.State = v
			case "imei_lock":
				ir.IMEILock = v
			case "static_ip":
				ir.StaticIP = v
			case "labels":
				if ir.Labels, err = parseLabels(v); err != nil {
					bad = append(bad, simguard.RowError{Line: line, Field: "labels", Message: err.Error()})
				}
			}
		}
		if err != nil {
			continue
		}
		sim, rerr := ir.toSIM(opt)
		if rerr != nil {
			bad = append(bad, rowError(line, rerr))
			continue
		}
		rows = append(rows, ImportRow{Line: line, SIM: sim})
	}
	if len(bad) > 0 {
		return nil, importError(bad)
	}
	return rows, nil
}

// ParseJSON reads SIMs from a JSON array of objects with the CSV's column
// names as keys (labels as an object). Line numbers are the 1-based index
// of each element.
func ParseJSON(r io.Reader, opt ImportOptions) ([]ImportRow, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, simguard.Errorf(simguard.EINVALID, "a JSON import is an array of SIM objects: [{\"iccid\": …, \"imsi\": …}, …]")
	}
	var rows []ImportRow
	var bad []simguard.RowError
	for n := 1; dec.More(); n++ {
		if n > MaxImportRows {
			return nil, simguard.Errorf(simguard.EINVALID, "more than %d rows in one import; split the file", MaxImportRows)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			bad = append(bad, simguard.RowError{Line: n, Message: "not valid JSON: " + err.Error()})
			break // the decoder cannot resynchronize after a syntax error
		}
		var ir importRecord
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&ir); err != nil {
			bad = append(bad, simguard.RowError{Line: n, Message: jsonMessage(err)})
			continue
		}
		sim, rerr := ir.toSIM(opt)
		if rerr != nil {
			bad = append(bad, rowError(n, rerr))
			continue
		}
		rows = append(rows, ImportRow{Line: n, SIM: sim})
		if len(bad) > maxRowErrors {
			break
		}
	}
	if len(bad) == 0 {
		if _, err := dec.Token(); err != nil {
			bad = append(bad, simguard.RowError{Line: len(rows) + 1, Message: "the array is not closed"})
		}
	}
	if len(bad) > 0 {
		return nil, importError(bad)
	}
	return rows, nil
}

// maxRowErrors bounds the size of an error answer to a hostile file.
const maxRowErrors = 10_000

func (ir importRecord) toSIM(opt ImportOptions) (simguard.SIM, error) {
	sim := simguard.SIM{
		ICCID:  ir.ICCID,
		IMSI:   ir.IMSI,
		MSISDN: ir.MSISDN,
		Group:  ir.Group,
		State:  simguard.SIMState(ir.State),
		Labels: ir.Labels,
	}
	if sim.Group == "" {
		sim.Group = opt.Group
	}
	if sim.Group == "" {
		return sim, simguard.FieldError("group", "is empty; set the column or pass a default group")
	}
	if sim.State == "" {
		sim.State = opt.State
	}
	if ir.StaticIP != "" {
		ip, err := netip.ParseAddr(ir.StaticIP)
		if err != nil {
			return sim, simguard.FieldError("static_ip", "%q is not an IP address", clipField(ir.StaticIP))
		}
		sim.StaticIP = ip
	}
	mode := simguard.IMEILockMode(ir.IMEILock)
	switch {
	case mode != "":
	case ir.IMEI != "":
		mode = simguard.IMEILockExplicit
	case opt.IMEILock != "":
		mode = opt.IMEILock
	default:
		mode = simguard.IMEILockOff
	}
	sim.IMEILock = simguard.IMEILock{Mode: mode, IMEI: ir.IMEI}
	if err := sim.Validate(); err != nil {
		// Name the import's column, not the SIM's field.
		var se *simguard.Error
		if errors.As(err, &se) {
			if col, ok := importColumns[se.Field]; ok {
				return sim, simguard.FieldError(col, "%s", se.Message)
			}
		}
		return sim, err
	}
	return sim, nil
}

// importColumns maps SIM field paths to the import column that sets them.
var importColumns = map[string]string{"imei_lock.imei": "imei", "imei_lock.mode": "imei_lock"}

// ImportSIMs adds rows to the caller's tenant, all or none. Every problem
// is reported with its line: bad fields, unknown groups, duplicates within
// the rows and against the inventory.
func (s *Service) ImportSIMs(ctx context.Context, rows []ImportRow) (int, error) {
	a, err := writer(ctx)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, simguard.Errorf(simguard.EINVALID, "nothing to import")
	}
	groups, err := s.store.ListGroups(ctx, a.TenantID)
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, g := range groups {
		known[g.Name] = true
	}
	var bad []simguard.RowError
	firstLine := map[string]int{}
	dup := func(line int, field, v string) {
		if v == "" {
			return
		}
		k := field + ":" + v
		if l, ok := firstLine[k]; ok {
			bad = append(bad, simguard.RowError{Line: line, Field: field, Message: fmt.Sprintf("%s %s is also on line %d", field, v, l)})
			return
		}
		firstLine[k] = line
	}
	for _, r := range rows {
		if !known[r.SIM.Group] {
			bad = append(bad, simguard.RowError{Line: r.Line, Field: "group", Message: fmt.Sprintf("no group %q in this tenant; create it first", clipField(r.SIM.Group))})
		}
		dup(r.Line, "iccid", r.SIM.ICCID)
		dup(r.Line, "imsi", r.SIM.IMSI)
		dup(r.Line, "msisdn", r.SIM.MSISDN)
		if len(bad) > maxRowErrors {
			break
		}
	}
	if len(bad) > 0 {
		return 0, importError(bad)
	}
	sims := make([]simguard.SIM, len(rows))
	now := s.now().UTC()
	for i, r := range rows {
		sims[i] = r.SIM
		sims[i].TenantID = a.TenantID
		if sims[i].IMEILock.IMEI != "" {
			sims[i].IMEILock.BoundAt = &now
		}
	}
	err = s.store.CreateSIMs(ctx, a.TenantID, sims, simguard.Change{Actor: a, Action: "sim.import"})
	var se *simguard.Error
	if errors.As(err, &se) && len(se.Rows) > 0 {
		// The store numbers rows by position; the caller wants file lines.
		out := *se
		out.Rows = make([]simguard.RowError, len(se.Rows))
		for i, re := range se.Rows {
			out.Rows[i] = re
			if re.Line >= 1 && re.Line <= len(rows) {
				out.Rows[i].Line = rows[re.Line-1].Line
			}
		}
		return 0, &out
	}
	if err != nil {
		return 0, err
	}
	s.simsAdded(sims)
	return len(sims), nil
}

// CreateSIM adds one SIM.
func (s *Service) CreateSIM(ctx context.Context, sim simguard.SIM) (simguard.SIM, error) {
	if err := sim.Validate(); err != nil {
		return simguard.SIM{}, err
	}
	if _, err := s.ImportSIMs(ctx, []ImportRow{{Line: 1, SIM: sim}}); err != nil {
		var se *simguard.Error
		if errors.As(err, &se) && len(se.Rows) == 1 {
			// One SIM: say what is wrong directly, not as "row 1".
			return simguard.SIM{}, &simguard.Error{Code: se.Code, Field: se.Rows[0].Field, Message: se.Rows[0].Message}
		}
		return simguard.SIM{}, err
	}
	return s.GetSIM(ctx, sim.ICCID)
}

func importError(bad []simguard.RowError) error {
	msg := fmt.Sprintf("%d rows rejected; nothing was imported", len(bad))
	if len(bad) > maxRowErrors {
		bad = bad[:maxRowErrors]
		msg = fmt.Sprintf("more than %d rows rejected; nothing was imported", maxRowErrors)
	}
	return &simguard.Error{Code: simguard.EINVALID, Message: msg, Rows: bad}
}

func rowError(line int, err error) simguard.RowError {
	var se *simguard.Error
	if errors.As(err, &se) {
		return simguard.RowError{Line: line, Field: se.Field, Message: se.Message}
	}
	return simguard.RowError{Line: line, Message: err.Error()}
}

func parseLabels(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("labels are written key=value;key=value, got %q", clipField(kv))
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "CSV syntax: " + pe.Err.Error()
	}
	if err == io.EOF {
		return "the file is empty"
	}
	return "CSV: " + err.Error()
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s must be a %s", te.Field, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func clipField(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
