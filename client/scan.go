package client

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// StartScan queues a scan; the run comes back queued.
func (c *Client) StartScan(ctx context.Context, req simguard.ScanRequest) (simguard.ScanRun, error) {
	var run simguard.ScanRun
	return run, c.call(ctx, "POST", "/api/v1/scans", req, &run)
}

// Scans lists the tenant's scan runs, newest first.
func (c *Client) Scans(ctx context.Context, limit int) ([]simguard.ScanRun, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var l list[simguard.ScanRun]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/scans", query: q}, &l)
	return l.Items, err
}

// Scan reads a run's report: the run, its findings and the diff from the
// previous run of its scope.
func (c *Client) Scan(ctx context.Context, id int64) (simguard.ScanReport, error) {
	var rep simguard.ScanReport
	return rep, c.call(ctx, "GET", "/api/v1/scans/"+strconv.FormatInt(id, 10), nil, &rep)
}

// WaitScan polls a run every poll until it has finished (done, failed or
// canceled) or ctx ends, and returns its report.
func (c *Client) WaitScan(ctx context.Context, id int64, poll time.Duration) (simguard.ScanReport, error) {
	for {
		rep, err := c.Scan(ctx, id)
		if err != nil {
			return rep, err
		}
		if st := rep.Run.Status; st != simguard.ScanQueued && st != simguard.ScanRunning {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			return rep, fmt.Errorf("waiting for scan %d: %w", id, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// ScanCSV copies a run's CSV report to w.
func (c *Client) ScanCSV(ctx context.Context, id int64, w io.Writer) error {
	u := *c.base
	u.Path += "/api/v1/scans/" + strconv.FormatInt(id, 10) + "/report.csv"
	req, err := newRequest(ctx, "GET", u.String(), c.token)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("CSV report of scan %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return decodeError(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("CSV report of scan %d: %w", id, err)
	}
	return nil
}

// FindingQuery selects findings (see GET /api/v1/findings). Without Scan
// it lists the exposure: the latest finding of every service.
type FindingQuery struct {
	Scan                                      int64
	SIM, Group, Target, Severity, State, Kind string
	After                                     int64
	Limit                                     int
}

// Findings lists a page of findings and the ID to continue after (0 at
// the end).
func (c *Client) Findings(ctx context.Context, q FindingQuery) ([]simguard.Finding, int64, error) {
	v := url.Values{}
	for k, s := range map[string]string{"sim": q.SIM, "group": q.Group, "target": q.Target, "severity": q.Severity, "state": q.State, "kind": q.Kind} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for k, n := range map[string]int64{"scan": q.Scan, "after": q.After, "limit": int64(q.Limit)} {
		if n > 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	var l list[simguard.Finding]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/findings", query: v}, &l)
	return l.Items, l.NextAfter, err
}

// Finding reads one finding.
func (c *Client) Finding(ctx context.Context, id int64) (simguard.Finding, error) {
	var f simguard.Finding
	return f, c.call(ctx, "GET", "/api/v1/findings/"+strconv.FormatInt(id, 10), nil, &f)
}

// Remediation is a closed port: the finding and its group after the
// change.
type Remediation struct {
	Finding simguard.Finding `json:"finding"`
	Group   simguard.Group   `json:"group"`
}

// RemediateFinding closes the finding's port in its group's policy.
// ifVersion overrides the group version the scan saw (0: keep it).
func (c *Client) RemediateFinding(ctx context.Context, id, ifVersion int64) (Remediation, error) {
	var r Remediation
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/findings/" + strconv.FormatInt(id, 10) + "/remediate", ifMatch: ifVersion}, &r)
	return r, err
}
