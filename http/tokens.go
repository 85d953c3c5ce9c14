package http

import (
	"net/http"
	"strconv"

	"github.com/simguard/simguard"
)

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	a, _ := simguard.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"actor": a.Name, "tenant_id": a.TenantID, "role": a.Role, "provider": a.Provider,
	})
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := s.svc.ListTenants(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(ts)})
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.CreateTenant(r.Context(), in.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.svc.ListTokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(ts)})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string        `json:"name"`
		Role     simguard.Role `json:"role"`
		TenantID int64         `json:"tenant_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.CreateToken(r.Context(), in.TenantID, in.Name, in.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.writeError(w, r, simguard.FieldError("id", "must be a token ID"))
		return
	}
	if err := s.svc.DeleteToken(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// page is one page of a listing.
type page[T any] struct {
	Items []T `json:"items"`
	// NextAfter is the cursor of the next page (?after=), set when this
	// one is full.
	NextAfter int64 `json:"next_after,omitempty"`
}

// writePage writes items, asked for with limit, as a page: a full page
// names the cursor of the next, the key of its last item.
func writePage[T any](w http.ResponseWriter, items []T, limit int, key func(T) int64) {
	out := page[T]{Items: nonNil(items)}
	if limit > 0 && len(items) == limit {
		out.NextAfter = key(items[len(items)-1])
	}
	writeJSON(w, http.StatusOK, out)
}
