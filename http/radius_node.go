package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// The RADIUS node endpoints (/api/v1/sync/radius/…, node tokens only):
// what "simguard radius --server URL" reads and writes on the control
// plane. They carry opened shared secrets: in production the API must be
// served behind TLS.

func (s *Server) radiusNodeRoutes(api func(string, func(http.ResponseWriter, *http.Request))) {
	api("GET /api/v1/sync/radius/nas", s.nodeNAS)
	api("GET /api/v1/sync/radius/sessions", s.nodeListSessions)
	api("GET /api/v1/sync/radius/sessions/live", s.nodeFindSession)
	api("GET /api/v1/sync/radius/sessions/last", s.nodeFindSession)
	api("POST /api/v1/sync/radius/sessions", s.nodeSaveSession)
	api("PUT /api/v1/sync/radius/sessions/{id}/disconnect", s.nodeSetDisconnect)
	api("POST /api/v1/sync/radius/sessions/stop", s.nodeStopNASSessions)
	api("GET /api/v1/sync/radius/leases", s.nodeListLeases)
	api("GET /api/v1/sync/radius/leases/{pool}/{sim}", s.nodeGetLease)
	api("POST /api/v1/sync/radius/leases", s.nodeCreateLease)
	api("DELETE /api/v1/sync/radius/leases", s.nodeReleaseLeases)
}

// nodeNASClient is a NAS client as a RADIUS node receives it: with its
// shared secret.
type nodeNASClient struct {
	simguard.NASClient
	Secret string `json:"secret"`
}

// nodeNAS answers the NAS clients with their secrets; If-None-Match with
// the last ETag gets 304 when nothing changed.
func (s *Server) nodeNAS(w http.ResponseWriter, r *http.Request) {
	list, tag, err := s.svc.NodeNASClients(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	etag := `"` + tag + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	out := make([]nodeNASClient, len(list))
	for i, c := range list {
		out[i] = nodeNASClient{NASClient: c, Secret: c.Secret}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// sessionFilter reads ?live=&nas=&sim=&tenant=&after=&limit=.
func sessionFilter(r *http.Request) (simguard.RADIUSSessionFilter, error) {
	var f simguard.RADIUSSessionFilter
	for name, dst := range map[string]*int64{"sim": &f.SIMID, "tenant": &f.TenantID, "after": &f.AfterID} {
		v, err := queryInt(r, name)
		if err != nil {
			return f, err
		}
		*dst = v
	}
	limit, err := queryInt(r, "limit")
	if err != nil || limit > 10000 {
		return f, simguard.FieldError("limit", "must be a number up to 10000")
	}
	if limit == 0 {
		limit = 100
	}
	f.Limit, f.NAS = int(limit), r.URL.Query().Get("nas")
	switch r.URL.Query().Get("live") {
	case "", "false":
	case "true":
		f.LiveOnly = true
	default:
		return f, simguard.FieldError("live", "must be true or false")
	}
	return f, nil
}

func (s *Server) nodeListSessions(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeRADIUSSessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := sessionFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := store.ListSessions(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

// nodeFindSession is LiveSession (…/live) or LastSession (…/last) of
// ?nas=&session_id=.
func (s *Server) nodeFindSession(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeRADIUSSessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	nas, id := q.Get("nas"), q.Get("session_id")
	if nas == "" || id == "" {
		s.writeError(w, r, simguard.FieldError("session_id", "give nas and session_id"))
		return
	}
	find := store.LastSession
	if strings.HasSuffix(r.URL.Path, "/live") {
		find = store.LiveSession
	}
	sess, err := find(r.Context(), nas, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

// nodeSaveSession inserts (id 0) or updates a session and answers it with
// its ID and new version, once it is committed.
func (s *Server) nodeSaveSession(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeRADIUSSessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var sess simguard.RADIUSSession
	if err := decodeJSON(r, &sess); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := store.SaveSession(r.Context(), &sess); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

func (s *Server) nodeSetDisconnect(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeRADIUSSessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, ok := simguard.ParseDigits(r.PathValue("id"))
	if !ok || id == 0 || id > 1<<62 {
		s.writeError(w, r, simguard.FieldError("id", "must be the numeric ID of the session"))
		return
	}
	var d simguard.RADIUSDisconnect
	if err := decodeJSON(r, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := store.SetSessionDisconnect(r.Context(), int64(id), d); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nodeStopNASSessions stops a NAS's live sessions (it sent Accounting-On
// or -Off: it restarted).
func (s *Server) nodeStopNASSessions(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeRADIUSSessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		NAS   string    `json:"nas"`
		At    time.Time `json:"at"`
		Cause string    `json:"cause"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.NAS == "" || in.At.IsZero() {
		s.writeError(w, r, simguard.FieldError("nas", "give nas and at"))
		return
	}
	n, err := store.StopNASSessions(r.Context(), in.NAS, in.At, in.Cause)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"stopped": n})
}

func (s *Server) nodeListLeases(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeIPLeases(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pool := r.URL.Query().Get("pool")
	if pool == "" {
		s.writeError(w, r, simguard.FieldError("pool", "name the pool"))
		return
	}
	list, err := store.ListLeases(r.Context(), pool)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

func (s *Server) nodeGetLease(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeIPLeases(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sim, ok := simguard.ParseDigits(r.PathValue("sim"))
	if !ok || sim == 0 || sim > 1<<62 {
		s.writeError(w, r, simguard.FieldError("sim", "must be the numeric ID of the SIM"))
		return
	}
	l, err := store.GetLease(r.Context(), r.PathValue("pool"), int64(sim))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// nodeCreateLease records a lease; 409 when the address or the SIM is
// already taken in the pool (the node then tries another address).
func (s *Server) nodeCreateLease(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeIPLeases(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var l simguard.IPLease
	if err := decodeJSON(r, &l); err != nil {
		s.writeError(w, r, err)
		return
	}
	if l.Pool == "" || !l.IP.IsValid() || l.SIMID <= 0 {
		s.writeError(w, r, simguard.FieldError("pool", "a lease needs pool, ip and sim_id"))
		return
	}
	if err := store.CreateLease(r.Context(), l); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, l)
}

func (s *Server) nodeReleaseLeases(w http.ResponseWriter, r *http.Request) {
	store, err := s.svc.NodeIPLeases(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sim, err := queryInt(r, "sim")
	if err != nil || sim <= 0 {
		s.writeError(w, r, simguard.FieldError("sim", "must be the numeric ID of the SIM"))
		return
	}
	n, err := store.ReleaseLeases(r.Context(), sim)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"released": n})
}
