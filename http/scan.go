package http

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/simguard/simguard"
)

// scanRoutes serves the fleet exposure audit: scans, their reports and
// findings, and remediation.
func (s *Server) scanRoutes(api func(string, func(http.ResponseWriter, *http.Request))) {
	api("POST /api/v1/scans", s.startScan)
	api("GET /api/v1/scans", s.listScans)
	api("GET /api/v1/scans/{id}", s.getScan)
	api("GET /api/v1/scans/{id}/report.csv", s.scanCSV)
	api("GET /api/v1/findings", s.listFindings)
	api("GET /api/v1/findings/{id}", s.getFinding)
	api("POST /api/v1/findings/{id}/remediate", s.remediateFinding)
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request) {
	var in simguard.ScanRequest
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.svc.StartScan(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/scans/"+strconv.FormatInt(run.ID, 10))
	writeJSON(w, http.StatusAccepted, run)
}

func (s *Server) listScans(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	runs, err := s.svc.ListScans(r.Context(), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(runs)})
}

// scanObjectID reads the {id} of a scan or finding; anything but a
// positive integer names nothing there is.
func scanObjectID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, simguard.Errorf(simguard.ENOTFOUND, "no %s %q: IDs are positive integers", what, clipQuery(r.PathValue("id")))
	}
	return id, nil
}

func clipQuery(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (s *Server) getScan(w http.ResponseWriter, r *http.Request) {
	id, err := scanObjectID(r, "scan")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.svc.GetScan(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// scanCSV serves a run's findings as CSV, one row per finding; cells a
// spreadsheet would run as formulas are neutralized.
func (s *Server) scanCSV(w http.ResponseWriter, r *http.Request) {
	id, err := scanObjectID(r, "scan")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.svc.GetScan(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := simguard.WriteFindingsCSV(&b, rep.Findings); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="simguard-scan-`+strconv.FormatInt(id, 10)+`.csv"`)
	_, _ = w.Write(b.Bytes())
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := simguard.FindingFilter{
		Group: q.Get("group"), MinSeverity: simguard.Severity(q.Get("severity")),
		State: simguard.FindingState(q.Get("state")), Kind: simguard.IssueKind(q.Get("kind")),
	}
	var err error
	if f.SIMID, err = s.simIDParam(r, q.Get("sim")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if t := q.Get("target"); t != "" {
		if f.Target, err = parseAddr("target", t); err != nil {
			s.writeError(w, r, err)
			return
		}
		f.Target = f.Target.Unmap()
	}
	if f.ScanID, err = queryInt(r, "scan"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.AfterID, err = queryInt(r, "after"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = queryLimit(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	findings, err := s.svc.FindFindings(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, findings, f.Limit, func(fd simguard.Finding) int64 { return fd.ID })
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) {
	id, err := scanObjectID(r, "finding")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.svc.GetFinding(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// remediateFinding closes the finding's port in its group's policy.
// If-Match overrides the group version the scan saw.
func (s *Server) remediateFinding(w http.ResponseWriter, r *http.Request) {
	id, err := scanObjectID(r, "finding")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.RemediateFinding(r.Context(), id, version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(res.Group.Version))
	writeJSON(w, http.StatusOK, res)
}

// queryLimit reads limit: 1 to 10,000, default 100.
func queryLimit(r *http.Request) (int, error) {
	limit, err := queryInt(r, "limit")
	if err != nil || limit > 10000 {
		return 0, simguard.FieldError("limit", "must be 1 to 10000")
	}
	if limit == 0 {
		limit = 100
	}
	return int(limit), nil
}
