package scan

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// Report is the result of one scan.
type Report struct {
	Run      simguard.ScanRun   `json:"run"`
	Summary  Summary            `json:"summary"`
	Findings []simguard.Finding `json:"findings"`
	Diff     simguard.ScanDiff  `json:"diff"`
}

// Summary counts findings.
type Summary struct {
	Findings     int                       `json:"findings"`
	BySeverity   map[simguard.Severity]int `json:"by_severity"`
	NonCompliant int                       `json:"non_compliant"`
	Plaintext    int                       `json:"plaintext"`
	Credentials  int                       `json:"default_credentials"`
}

func summarize(fs []simguard.Finding) Summary {
	s := Summary{Findings: len(fs), BySeverity: map[simguard.Severity]int{}}
	for i := range fs {
		f := &fs[i]
		s.BySeverity[f.Severity]++
		if !f.Compliant {
			s.NonCompliant++
		}
		if f.Plaintext {
			s.Plaintext++
		}
		s.Credentials += len(f.Credentials)
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{
	"tenant_id", "scan_id", "sim_id", "group", "target", "proto", "port", "service", "product",
	"tls", "tls_version", "plaintext", "severity", "compliant", "issues", "credentials",
	"first_seen", "last_seen", "remediation", "banner",
}

// WriteCSV writes one row per finding. Text that came from a device is
// neutralized for spreadsheets: a cell starting with = + - @ or a tab
// gets a leading apostrophe, so a hostile banner cannot be a formula.
func WriteCSV(w io.Writer, findings []simguard.Finding) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for i := range findings {
		f := &findings[i]
		var issues, credList []string
		for _, is := range f.Issues {
			issues = append(issues, string(is.Kind)+":"+string(is.Severity))
		}
		for _, c := range f.Credentials {
			credList = append(credList, c.Service+":"+c.Username+" ("+c.ListEntry+")")
		}
		rem := ""
		if r := f.Remediation; r != nil {
			rem = r.Action + " " + r.Proto + "/" + strconv.Itoa(int(r.Port)) + " in group " + r.Group
		}
		row := []string{
			strconv.FormatInt(f.TenantID, 10), strconv.FormatInt(f.ScanID, 10), strconv.FormatInt(f.SIMID, 10),
			f.Group, f.Target.String(), f.Proto, strconv.Itoa(int(f.Port)), f.Service, f.Product,
			strconv.FormatBool(f.TLS), f.TLSVersion, strconv.FormatBool(f.Plaintext), string(f.Severity),
			strconv.FormatBool(f.Compliant), strings.Join(issues, ";"), strings.Join(credList, ";"),
			f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339), rem, f.Banner,
		}
		for j := range row {
			row[j] = csvSafe(row[j])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
