package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := simguard.EventFilter{}
	var err error
	now := time.Now()
	if f.SIMID, err = s.simIDParam(r, q.Get("sim")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if t := q.Get("type"); t != "" {
		f.Types = strings.Split(t, ",")
	}
	if f.Since, err = queryTime(r, "since", now); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Until, err = queryTime(r, "until", now); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.AfterID, err = queryInt(r, "after"); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil || limit > 10000 {
		s.writeError(w, r, simguard.FieldError("limit", "must be 1 to 10000"))
		return
	}
	f.Limit = int(limit)
	if f.Limit == 0 {
		f.Limit = 100
	}
	events, err := s.svc.FindEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, events, f.Limit, func(e simguard.Event) int64 { return e.ID })
}

// simIDParam resolves a SIM given by ICCID, IMSI or MSISDN to its ID.
func (s *Server) simIDParam(r *http.Request, ref string) (int64, error) {
	if ref == "" {
		return 0, nil
	}
	sim, err := s.svc.GetSIM(r.Context(), ref)
	if err != nil {
		return 0, err
	}
	return sim.ID, nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := queryInt(r, "after")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil || limit > 10000 {
		s.writeError(w, r, simguard.FieldError("limit", "must be 1 to 10000"))
		return
	}
	if limit == 0 {
		limit = 100
	}
	recs, err := s.svc.FindAudit(r.Context(), simguard.AuditFilter{
		Object: q.Get("object"), Action: q.Get("action"), AfterSeq: after, Limit: int(limit),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, recs, int(limit), func(a simguard.AuditRecord) int64 { return a.Seq })
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := s.svc.VerifyAudit(r.Context(), s.auditKey)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
