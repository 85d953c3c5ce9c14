package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
)

// exposureRoutes serves the fleet exposure audit: findings, scans and
// their reports, and closing a finding's port.
func (c *Console) exposureRoutes(page, data func(string, handler)) {
	page("GET "+basePath+"exposure", c.exposurePage)
	page("GET "+basePath+"findings/{id}", c.findingPage)
	page("POST "+basePath+"findings/{id}/remediate", c.remediate)
	page("GET "+basePath+"scans", c.scansPage)
	page("POST "+basePath+"scans", c.startScan)
	page("GET "+basePath+"scans/{id}", c.scanPage)
	page("GET "+basePath+"scans/{id}/report.json", c.scanReportJSON)
	page("GET "+basePath+"scans/{id}/report.csv", c.scanReportCSV)
	data("GET "+basePath+"api/scans/{id}", c.scanStatusJSON)
}

// maxFindingsListed bounds one findings page. They are sorted worst
// first, so the bound is on what is fetched; a fleet with more is
// narrowed with the filters.
const maxFindingsListed = 1000

// issueKinds are the issue kinds the filter offers, in the order of the
// scan documentation (worst first).
var issueKinds = []simguard.IssueKind{
	simguard.IssueDefaultCredential, simguard.IssuePlaintextLogin, simguard.IssueAnonymousAccess,
	simguard.IssuePlaintextProtocol, simguard.IssuePortNotAllowed, simguard.IssueWeakTLS,
	simguard.IssueInfoLeak, simguard.IssueLockout,
}

// findingRow is a finding as the tables show it.
type findingRow struct {
	simguard.Finding
	SIM simRef
	// ClosedInPolicy: the finding suggests closing its port, and its
	// group's policy as it is now lets nobody in on it (someone closed it
	// since the scan, or it never was open in policy).
	ClosedInPolicy bool
	// CanRemediate: the viewer may close the port, and closing it in the
	// group's current policy would change something.
	CanRemediate bool
}

// findingsTable is what the "findings-table" template needs: the rows
// and the CSRF token of the close-port buttons.
type findingsTable struct {
	Rows     []findingRow
	CSRF     string
	ShowScan bool
}

// Actions reports whether a row has a button or a policy state to show,
// so that the column shows.
func (t findingsTable) Actions() bool {
	return slices.ContainsFunc(t.Rows, func(r findingRow) bool { return r.CanRemediate || r.ClosedInPolicy })
}

// findingRows sorts findings worst first and says, against each group's
// policy as it is now, whether closing the port would still change
// anything: the scan's view (Remediation.AllowedBy) is older.
func (c *Console) findingRows(x *call, fs []simguard.Finding) []findingRow {
	sortFindings(fs)
	refs := map[int64]simRef{}
	groups := map[string]*simguard.Group{}
	group := func(name string) *simguard.Group {
		if g, ok := groups[name]; ok {
			return g
		}
		var gp *simguard.Group
		if g, err := c.svc.GetGroup(x.ctx, name); err == nil {
			gp = &g
		}
		groups[name] = gp
		return gp
	}
	rows := make([]findingRow, 0, len(fs))
	for _, f := range fs {
		row := findingRow{Finding: f, SIM: c.simRefFor(x, f.SIMID, refs)}
		if r := f.Remediation; r != nil && r.Action == "close_port" {
			if g := group(r.Group); g != nil {
				row.ClosedInPolicy = len(simguard.InboundAllowing(&g.Policy, r.Proto, r.Port)) == 0
				row.CanRemediate = !row.ClosedInPolicy && x.s.actor.Role.CanWrite() && f.State != simguard.FindingClosed
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// sortFindings puts the worst first, then by address and port.
func sortFindings(fs []simguard.Finding) {
	slices.SortStableFunc(fs, func(a, b simguard.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), a.Target.Compare(b.Target),
			cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
}

type exposureFilter struct {
	State, Severity, Kind, SIM, Group string
}

type exposureData struct {
	Filter     exposureFilter
	FieldError map[string]string
	States     []string
	Severities []simguard.Severity
	Kinds      []simguard.IssueKind
	Groups     []string
	Findings   findingsTable
	Truncated  bool
	// Counts is the tenant's open findings by severity; nil before the
	// first scan.
	Counts *exposureCounts
	Latest *simguard.ScanRun
	Scan   *ScanSettings
}

func (c *Console) exposurePage(x *call) error {
	q := x.r.URL.Query()
	d := exposureData{
		Filter: exposureFilter{State: q.Get("state"), Severity: q.Get("severity"), Kind: q.Get("kind"),
			SIM: strings.TrimSpace(q.Get("sim")), Group: q.Get("group")},
		FieldError: map[string]string{},
		States:     []string{"open", "closed", "any"},
		Severities: severities,
		Kinds:      issueKinds,
		Scan:       c.cfg.Scan,
	}
	f := simguard.FindingFilter{Group: d.Filter.Group, Limit: maxFindingsListed}
	switch st := simguard.FindingState(d.Filter.State); {
	case d.Filter.State == "":
		f.State = simguard.FindingOpen
	case d.Filter.State == "any":
	case st == simguard.FindingOpen || st == simguard.FindingClosed:
		f.State = st
	default:
		d.FieldError["state"] = "choose open, closed or any"
	}
	if sev := simguard.Severity(d.Filter.Severity); sev != "" {
		if !sev.Valid() {
			d.FieldError["severity"] = "choose critical, high, medium, low or info"
		}
		f.MinSeverity = sev
	}
	if k := simguard.IssueKind(d.Filter.Kind); k != "" {
		if !slices.Contains(issueKinds, k) {
			d.FieldError["kind"] = "choose one of the listed issue kinds"
		}
		f.Kind = k
	}
	if d.Filter.SIM != "" {
		sim, err := c.svc.GetSIM(x.ctx, d.Filter.SIM)
		if err != nil {
			d.FieldError["sim"] = simguard.ErrorMessage(err)
		}
		f.SIMID = sim.ID
	}
	groups, err := c.svc.ListGroups(x.ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		d.Groups = append(d.Groups, g.Name)
	}
	if d.Counts, err = c.exposureCard(x); err != nil {
		return err
	}
	latest, err := c.svc.ListScans(x.ctx, 1)
	if err != nil {
		return err
	}
	if len(latest) > 0 {
		d.Latest = &latest[0]
	}
	status := http.StatusOK
	if len(d.FieldError) > 0 {
		status = formErrorStatus
	} else {
		fs, err := c.svc.FindFindings(x.ctx, f)
		if err != nil {
			return err
		}
		d.Truncated = len(fs) == maxFindingsListed
		d.Findings = findingsTable{Rows: c.findingRows(x, fs), CSRF: x.s.csrf, ShowScan: true}
	}
	return c.page(x, status, "exposure", "Exposure", "exposure", d)
}

// simFindings are the open findings of a SIM, for its page.
type simFindings struct {
	Table findingsTable
	More  string // a link to all of them when the panel shows only some
}

// maxSIMFindings bounds the SIM page's panel; a device with more open
// services than that is a story for the exposure page.
const maxSIMFindings = 50

// simFindingsPanel returns the SIM's open findings, or nil when there is
// nothing to show: no finding and no auditor to produce one.
func (c *Console) simFindingsPanel(x *call, sim simguard.SIM) (*simFindings, error) {
	fs, err := c.svc.FindFindings(x.ctx, simguard.FindingFilter{SIMID: sim.ID, State: simguard.FindingOpen, Limit: maxSIMFindings})
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 && c.cfg.Scan == nil {
		return nil, nil
	}
	p := &simFindings{Table: findingsTable{Rows: c.findingRows(x, fs), CSRF: x.s.csrf}}
	if len(fs) == maxSIMFindings {
		p.More = basePath + "exposure?" + url.Values{"sim": {sim.ICCID}}.Encode()
	}
	return p, nil
}

// objectID reads the {id} of a scan or finding.
func objectID(x *call, what string) (int64, error) {
	id, err := strconv.ParseInt(x.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("there is no %s %q", what, clip(x.r.PathValue("id")))
	}
	return id, nil
}
