package scan

import (
	"io"

	"github.com/simguard/simguard"
)

// Report is the result of one scan (run, summary, findings and the diff
// from the previous run of its scope).
type Report = simguard.ScanReport

// Summary counts a report's findings.
type Summary = simguard.ScanSummary

func summarize(fs []simguard.Finding) Summary { return simguard.Summarize(fs) }

// CSVHeader is the header row of WriteCSV.
var CSVHeader = simguard.FindingsCSVHeader

// WriteCSV writes one row per finding, neutralizing cells a spreadsheet
// would take for formulas (see simguard.WriteFindingsCSV).
func WriteCSV(w io.Writer, findings []simguard.Finding) error {
	return simguard.WriteFindingsCSV(w, findings)
}
