package control

import (
	"context"
	"fmt"

	"github.com/simguard/simguard"
)

// ScanRunner runs scans in the background. The fleet auditor (scan.Queue)
// implements it and serve connects it with SetScanRunner when the scan
// feature is on. Submit validates the request against the configured
// audit ranges, records the run (and its "scan.start" audit record with
// the actor) and returns it queued.
type ScanRunner interface {
	Submit(ctx context.Context, a simguard.Actor, req simguard.ScanRequest) (simguard.ScanRun, error)
}

type scanRunnerBox struct{ r ScanRunner }

// SetScanRunner connects the fleet auditor. Without one, StartScan fails
// with ECONFLICT (the server is not set up to scan: retrying will not
// help); runs and findings already stored stay readable.
func (s *Service) SetScanRunner(r ScanRunner) { s.scans.Store(scanRunnerBox{r}) }

// StartScan queues a scan of the caller's tenant (writers only).
func (s *Service) StartScan(ctx context.Context, req simguard.ScanRequest) (simguard.ScanRun, error) {
	a, err := writer(ctx)
	if err != nil {
		return simguard.ScanRun{}, err
	}
	box, _ := s.scans.Load().(scanRunnerBox)
	if box.r == nil {
		return simguard.ScanRun{}, simguard.Errorf(simguard.ECONFLICT,
			"the fleet auditor is off on this server: set scan.enabled and scan.audit_ranges in its config (or scan from your machine with 'simguard scan --local')")
	}
	return box.r.Submit(ctx, a, req)
}

// ListScans lists the caller's tenant's scan runs, newest first.
func (s *Service) ListScans(ctx context.Context, limit int) ([]simguard.ScanRun, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ListScanRuns(ctx, a.TenantID, limit)
}

// maxReportFindings bounds one report; a run with more findings is
// reported in part (the findings listing pages through all of them).
const maxReportFindings = 100_000

// GetScan returns a run of the caller's tenant with all its findings (as
// of now: open or closed since) and, for a finished run, what changed
// since the previous finished run of its scope.
func (s *Service) GetScan(ctx context.Context, id int64) (simguard.ScanReport, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.ScanReport{}, err
	}
	run, err := s.store.GetScanRun(ctx, a.TenantID, id)
	if err != nil {
		return simguard.ScanReport{}, err
	}
	findings := []simguard.Finding{}
	f := simguard.FindingFilter{TenantID: a.TenantID, ScanID: id, Limit: 10_000}
	for len(findings) < maxReportFindings {
		page, err := s.store.FindFindings(ctx, f)
		if err != nil {
			return simguard.ScanReport{}, err
		}
		findings = append(findings, page...)
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	rep := simguard.ScanReport{Run: run, Findings: findings}
	if run.Status == simguard.ScanDone {
		prev, prevFindings, err := s.store.LastScanRun(ctx, a.TenantID, run.Scope, run.ID)
		switch simguard.ErrorCode(err) {
		case "":
			rep.Diff = simguard.DiffScans(&prev, prevFindings, &run, findings)
		case simguard.ENOTFOUND:
		default:
			return simguard.ScanReport{}, err
		}
	}
	rep.Summary = simguard.Summarize(findings)
	return rep, nil
}

// FindFindings lists findings of the caller's tenant: a run's with
// f.ScanID, else the exposure (the latest finding of every service).
func (s *Service) FindFindings(ctx context.Context, f simguard.FindingFilter) ([]simguard.Finding, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return s.store.FindFindings(ctx, f)
}

// GetFinding returns one finding of the caller's tenant.
func (s *Service) GetFinding(ctx context.Context, id int64) (simguard.Finding, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.Finding{}, err
	}
	return s.store.GetFinding(ctx, a.TenantID, id)
}

// Remediation is the outcome of closing a finding's port.
type Remediation struct {
	Finding simguard.Finding `json:"finding"`
	// Group is the group after the change; the gateway enforces it like
	// any group change.
	Group simguard.Group `json:"group"`
}

// RemediateFinding closes the finding's port in its group's policy: the
// inbound rules that let it in are narrowed (simguard.ClosePort), through
// the same guarded, audited group update as ApplyGroup, recorded as
// "group.remediate" by the caller. ifVersion guards the group (0: the
// version the scan saw, Remediation.GroupVersion), so a group changed
// since the scan is not edited blind.
func (s *Service) RemediateFinding(ctx context.Context, id, ifVersion int64) (Remediation, error) {
	a, err := writer(ctx)
	if err != nil {
		return Remediation{}, err
	}
	f, err := s.store.GetFinding(ctx, a.TenantID, id)
	if err != nil {
		return Remediation{}, err
	}
	rem, err := remediationOf(&f, id)
	if err != nil {
		return Remediation{}, err
	}
	version := ifVersion
	if version == 0 {
		version = rem.GroupVersion
	}
	g, err := s.store.UpdateGroup(ctx, a.TenantID, rem.Group, version, simguard.Change{Actor: a, Action: "group.remediate"},
		func(g *simguard.Group) error { return closePort(g, &f, rem) })
	if simguard.ErrorCode(err) == simguard.EPRECONDITION {
		cur, gerr := s.store.GetGroup(ctx, a.TenantID, rem.Group)
		if gerr == nil {
			return Remediation{}, &simguard.Error{Code: simguard.EPRECONDITION, Field: "If-Match", Message: fmt.Sprintf(
				"group %s changed since scan %d looked at it (version %d then, %d now): review it with 'simguard group get %s', then remediate with --if-match %d, or scan again",
				rem.Group, f.ScanID, version, cur.Version, rem.Group, cur.Version)}
		}
	}
	if err != nil {
		return Remediation{}, err
	}
	s.groupChanged(g)
	return Remediation{Finding: f, Group: g}, nil
}
