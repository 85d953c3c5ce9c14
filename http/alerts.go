package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// AlertService is what the alert routes use: the alert store for reading,
// and the detection engine for acknowledging and resolving (so that its
// deduplication and notifications follow).
type AlertService interface {
	ListAlerts(ctx context.Context, f simguard.AlertFilter) ([]simguard.Alert, error)
	GetAlert(ctx context.Context, tenantID, id int64) (simguard.Alert, error)
	Acknowledge(ctx context.Context, tenantID, id int64, note string, actor simguard.Actor) (simguard.Alert, error)
	Resolve(ctx context.Context, tenantID, id int64, note string, actor simguard.Actor) (simguard.Alert, error)
}

// HandleAlerts adds the alert routes (when detection runs). Every role may
// read its tenant's alerts; operators and admins acknowledge and resolve.
func (s *Server) HandleAlerts(a AlertService) {
	h := alertHandlers{s: s, a: a}
	api := func(pattern string, fn func(http.ResponseWriter, *http.Request)) {
		s.mux.Handle(pattern, s.authenticate(http.HandlerFunc(fn)))
	}
	api("GET /api/v1/alerts", h.list)
	api("GET /api/v1/alerts/{id}", h.get)
	api("POST /api/v1/alerts/{id}/acknowledge", h.transition(simguard.AlertAcknowledged))
	api("POST /api/v1/alerts/{id}/resolve", h.transition(simguard.AlertResolved))
}

type alertHandlers struct {
	s *Server
	a AlertService
}

func (h alertHandlers) actor(r *http.Request) (simguard.Actor, error) {
	a, ok := simguard.ActorFrom(r.Context())
	if !ok {
		return a, simguard.Errorf(simguard.EUNAUTHORIZED, "send a token: Authorization: Bearer <token>")
	}
	return a, nil
}

func (h alertHandlers) list(w http.ResponseWriter, r *http.Request) {
	a, err := h.actor(r)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := simguard.AlertFilter{TenantID: a.TenantID, Rule: q.Get("rule"), Severity: simguard.Severity(q.Get("severity"))}
	if st := q.Get("state"); st != "" {
		for _, x := range strings.Split(st, ",") {
			f.States = append(f.States, simguard.AlertState(x))
		}
	}
	if f.SIMID, err = h.s.simIDParam(r, q.Get("sim")); err != nil {
		h.s.writeError(w, r, err)
		return
	}
	if f.Since, err = queryTime(r, "since", time.Now()); err != nil {
		h.s.writeError(w, r, err)
		return
	}
	if f.AfterID, err = queryInt(r, "after"); err != nil {
		h.s.writeError(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil || limit < 0 || limit > 10000 {
		h.s.writeError(w, r, simguard.FieldError("limit", "must be 1 to 10000"))
		return
	}
	f.Limit = int(limit)
	if f.Limit == 0 {
		f.Limit = 100
	}
	alerts, err := h.a.ListAlerts(r.Context(), f)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	writePage(w, alerts, f.Limit, func(a simguard.Alert) int64 { return a.ID })
}

func alertID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, simguard.FieldError("id", "must be an alert number, got %q", r.PathValue("id"))
	}
	return id, nil
}

func (h alertHandlers) get(w http.ResponseWriter, r *http.Request) {
	a, err := h.actor(r)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	id, err := alertID(r)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	al, err := h.a.GetAlert(r.Context(), a.TenantID, id)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (h alertHandlers) transition(to simguard.AlertState) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := h.actor(r)
		if err != nil {
			h.s.writeError(w, r, err)
			return
		}
		if !a.Role.CanWrite() {
			h.s.writeError(w, r, simguard.Errorf(simguard.EFORBIDDEN, "%s tokens cannot change alerts", a.Role))
			return
		}
		id, err := alertID(r)
		if err != nil {
			h.s.writeError(w, r, err)
			return
		}
		var in struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &in); err != nil {
				h.s.writeError(w, r, err)
				return
			}
		}
		var al simguard.Alert
		if to == simguard.AlertAcknowledged {
			al, err = h.a.Acknowledge(r.Context(), a.TenantID, id, in.Note, a)
		} else {
			al, err = h.a.Resolve(r.Context(), a.TenantID, id, in.Note, a)
		}
		if err != nil {
			h.s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, al)
	}
}
