package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/simguard/simguard"
)

// defaultScanPorts is what the form proposes: the scanner's default.
const defaultScanPorts = "top1000,iot"

// scansListed is how many recent runs the scans page lists.
const scansListed = 50

// scanForm is the start-a-scan form, with the errors of a refused
// request next to their fields.
type scanForm struct {
	Targets, Group, Ports, Scope string
	UDP, Credentials             bool
	Errors                       map[string]string
	Message                      string
}

type scansData struct {
	Scans    []simguard.ScanRun
	Scan     *ScanSettings
	Groups   []string
	Form     scanForm
	CanStart bool
}

func (c *Console) scansPage(x *call) error {
	return c.renderScans(x, http.StatusOK, scanForm{Ports: defaultScanPorts})
}

func (c *Console) renderScans(x *call, status int, form scanForm) error {
	runs, err := c.svc.ListScans(x.ctx, scansListed)
	if err != nil {
		return err
	}
	d := scansData{Scans: runs, Scan: c.cfg.Scan, Form: form, CanStart: x.s.actor.Role.CanWrite() && c.cfg.Scan != nil}
	if d.CanStart {
		groups, err := c.svc.ListGroups(x.ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			d.Groups = append(d.Groups, g.Name)
		}
	}
	return c.page(x, status, "scans", "Scans", "exposure", d)
}

// startScan queues a scan through the control service, which records it
// with its audit record; the form comes back with the errors otherwise.
func (c *Console) startScan(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not start scans", x.s.actor.Role)
	}
	form := scanForm{
		Targets: strings.TrimSpace(x.r.PostFormValue("targets")), Group: x.r.PostFormValue("group"),
		Ports: strings.TrimSpace(x.r.PostFormValue("ports")), Scope: strings.TrimSpace(x.r.PostFormValue("scope")),
		UDP: x.r.PostFormValue("udp") == "1", Credentials: x.r.PostFormValue("credentials") == "1",
		Errors: map[string]string{},
	}
	req := simguard.ScanRequest{Targets: strings.FieldsFunc(form.Targets, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}), Group: form.Group, Ports: form.Ports, Scope: form.Scope, UDP: form.UDP, Credentials: form.Credentials}
	if len(req.Targets) == 0 && req.Group == "" {
		form.Errors["targets"] = "give addresses or CIDRs to scan, or choose a group"
		return c.renderScans(x, formErrorStatus, form)
	}
	run, err := c.svc.StartScan(x.ctx, req)
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.EINVALID:
		var se *simguard.Error
		field := ""
		if asError(err, &se) {
			field, _, _ = strings.Cut(se.Field, "[") // targets[2] is the targets field
		}
		switch field {
		case "targets", "group", "ports", "scope", "credentials":
			form.Errors[field] = se.Message
			if se.Field != field {
				form.Errors[field] = se.Field + ": " + se.Message
			}
		default:
			form.Message = simguard.ErrorMessage(err)
		}
		return c.renderScans(x, formErrorStatus, form)
	case simguard.ECONFLICT, simguard.EUNAVAILABLE:
		form.Message = "The scan was not started: " + simguard.ErrorMessage(err)
		return c.renderScans(x, formErrorStatus, form)
	default:
		return err
	}
	c.log.Info("console: scan started", "actor", x.s.actor.Name, "scan", run.ID, "credentials", run.Credentials)
	return c.redirect(x, basePath+"scans/"+itoa(run.ID), "Scan #"+itoa(run.ID)+" queued.", false)
}

type scanData struct {
	Report   simguard.ScanReport
	Findings findingsTable
	// BySeverity is the summary in severity order, worst first.
	BySeverity []stateCount
	Opened     []findingRow
	Closed     []findingRow
	NewCreds   []findingRow
	Live       bool // queued or running: the page follows it
}

func (c *Console) scanPage(x *call) error {
	id, err := objectID(x, "scan")
	if err != nil {
		return err
	}
	rep, err := c.svc.GetScan(x.ctx, id)
	if err != nil {
		return err
	}
	d := scanData{Report: rep, Live: rep.Run.Status == simguard.ScanQueued || rep.Run.Status == simguard.ScanRunning}
	d.Findings = findingsTable{Rows: c.findingRows(x, rep.Findings), CSRF: x.s.csrf}
	for _, s := range severities {
		d.BySeverity = append(d.BySeverity, stateCount{string(s), int64(rep.Summary.BySeverity[s])})
	}
	d.Opened = c.findingRows(x, rep.Diff.Opened)
	d.Closed = c.findingRows(x, rep.Diff.Closed)
	d.NewCreds = c.findingRows(x, rep.Diff.NewCredentials)
	return c.page(x, http.StatusOK, "scan", "Scan #"+itoa(id), "exposure", d)
}

// scanReportJSON and scanReportCSV are the API's reports (GET
// /api/v1/scans/{id} and its report.csv) for the browser, which holds a
// session rather than a bearer token: the same control service call, so
// the same tenant and role rules.
func (c *Console) scanReportJSON(x *call) error {
	return c.scanReport(x, "json", "application/json", func(b *bytes.Buffer, rep *simguard.ScanReport) error {
		return rep.WriteJSON(b)
	})
}

func (c *Console) scanReportCSV(x *call) error {
	return c.scanReport(x, "csv", "text/csv; charset=utf-8", func(b *bytes.Buffer, rep *simguard.ScanReport) error {
		return simguard.WriteFindingsCSV(b, rep.Findings)
	})
}

func (c *Console) scanReport(x *call, ext, ctype string, write func(*bytes.Buffer, *simguard.ScanReport) error) error {
	id, err := objectID(x, "scan")
	if err != nil {
		return err
	}
	rep, err := c.svc.GetScan(x.ctx, id)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := write(&b, &rep); err != nil {
		return err
	}
	h := x.w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="simguard-scan-`+itoa(id)+"."+ext+`"`)
	_, err = x.w.Write(b.Bytes())
	if err != nil {
		c.log.Debug("console: writing a report failed", "err", err)
	}
	return nil
}

// scanStatusJSON is what a scan's open page polls while the scan runs.
// Findings are stored when a run finishes, so the report of a running
// scan is small.
func (c *Console) scanStatusJSON(x *call) error {
	id, err := objectID(x, "scan")
	if err != nil {
		return err
	}
	rep, err := c.svc.GetScan(x.ctx, id)
	if err != nil {
		return err
	}
	x.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(x.w).Encode(struct {
		ID     int64               `json:"id"`
		Status simguard.ScanStatus `json:"status"`
	}{rep.Run.ID, rep.Run.Status})
}
