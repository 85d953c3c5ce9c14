package simguard

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
)

// ScanRequest is an operator's request for a scan, as the API takes it.
// Either Targets or Group says what to scan.
type ScanRequest struct {
	// Targets are addresses or CIDRs; each must lie inside the configured
	// audit ranges.
	Targets []string `json:"targets,omitempty"`
	// Group scans the addresses of the group's active SIMs now (live
	// sessions, else static IPs); the run's scope is then "group:<name>".
	Group string `json:"group,omitempty"`
	// Scope names the series of runs this one is compared with; default
	// "adhoc" (or "group:<name>" with Group).
	Scope string `json:"scope,omitempty"`
	// Ports is a port specification: "top1000,iot" (the default), "all",
	// "topN", "iot", or ports and ranges such as "22,80,8000-8100".
	Ports string `json:"ports,omitempty"`
	// UDP adds the UDP probes (SNMP, CoAP, DNS, NTP, MQTT-SN).
	UDP bool `json:"udp,omitempty"`
	// Credentials opts in to the bounded default-credential audit.
	Credentials bool `json:"credentials,omitempty"`
}

// ScanReport is one run with its findings, a summary and what changed
// since the previous run of its scope.
type ScanReport struct {
	Run      ScanRun     `json:"run"`
	Summary  ScanSummary `json:"summary"`
	Findings []Finding   `json:"findings"`
	Diff     ScanDiff    `json:"diff"`
}

// ScanSummary counts findings.
type ScanSummary struct {
	Findings     int              `json:"findings"`
	BySeverity   map[Severity]int `json:"by_severity"`
	NonCompliant int              `json:"non_compliant"`
	Plaintext    int              `json:"plaintext"`
	Credentials  int              `json:"default_credentials"`
}

// Summarize counts fs.
func Summarize(fs []Finding) ScanSummary {
	s := ScanSummary{Findings: len(fs), BySeverity: map[Severity]int{}}
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
func (r *ScanReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// FindingsCSVHeader is the header row of WriteFindingsCSV.
var FindingsCSVHeader = []string{
	"tenant_id", "scan_id", "finding_id", "sim_id", "group", "target", "proto", "port", "service", "product",
	"tls", "tls_version", "plaintext", "severity", "compliant", "issues", "credentials",
	"first_seen", "last_seen", "state", "remediation", "banner",
}

// WriteFindingsCSV writes one row per finding. Text that came from a
// device is neutralized for spreadsheets: a cell starting with = + - @ or
// a tab gets a leading apostrophe, so a hostile banner cannot be a
// formula.
func WriteFindingsCSV(w io.Writer, findings []Finding) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(FindingsCSVHeader); err != nil {
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
			strconv.FormatInt(f.TenantID, 10), strconv.FormatInt(f.ScanID, 10), strconv.FormatInt(f.ID, 10),
			strconv.FormatInt(f.SIMID, 10), f.Group, f.Target.String(), f.Proto, strconv.Itoa(int(f.Port)), f.Service, f.Product,
			strconv.FormatBool(f.TLS), f.TLSVersion, strconv.FormatBool(f.Plaintext), string(f.Severity),
			strconv.FormatBool(f.Compliant), strings.Join(issues, ";"), strings.Join(credList, ";"),
			f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339), string(f.State), rem, f.Banner,
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
