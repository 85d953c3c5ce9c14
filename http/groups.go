package http

import (
	"net/http"

	"github.com/simguard/simguard"
)

// groupInput is what a client may set on a group.
type groupInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Policy      simguard.Policy `json:"policy"`
}

func (in groupInput) group() simguard.Group {
	return simguard.Group{Name: in.Name, Description: in.Description, Policy: in.Policy}
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.svc.ListGroups(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(gs)})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.svc.GetGroup(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(g.Version))
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.svc.CreateGroup(r.Context(), in.group())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(g.Version))
	writeJSON(w, http.StatusCreated, g)
}

// putGroup creates or replaces a group; with ?dry_run=true it only says
// what would change (the diff "group apply" shows).
func (s *Server) putGroup(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := r.PathValue("name")
	if in.Name == "" {
		in.Name = name
	}
	if in.Name != name {
		s.writeError(w, r, simguard.FieldError("name", "the body names group %q but the URL names %q", in.Name, name))
		return
	}
	if r.URL.Query().Get("dry_run") == "true" {
		plan, err := s.svc.PlanGroup(r.Context(), in.group())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, plan)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, created, err := s.svc.ApplyGroup(r.Context(), in.group(), version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(g.Version))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, g)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.DeleteGroup(r.Context(), r.PathValue("name"), version); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
