package http

import (
	"net/http"
	"net/netip"

	"github.com/simguard/simguard"
)

// RADIUS: the packet gateways (NAS clients) simguard answers, and the
// accounting sessions they report.

// nasInput is what a client may set on a NAS client. The secret is
// write-only: it is never in an answer.
type nasInput struct {
	Name                             string                    `json:"name"`
	Prefix                           netip.Prefix              `json:"prefix"`
	Secret                           string                    `json:"secret"`
	IdentityOrder                    []simguard.IdentitySource `json:"identity_order"`
	AllowMissingMessageAuthenticator bool                      `json:"allow_missing_message_authenticator"`
	CoAPort                          uint16                    `json:"coa_port"`
	CoAAddr                          netip.Addr                `json:"coa_addr"`
}

func (in nasInput) client() simguard.NASClient {
	return simguard.NASClient{Name: in.Name, Prefix: in.Prefix, Secret: in.Secret, IdentityOrder: in.IdentityOrder,
		AllowMissingMessageAuthenticator: in.AllowMissingMessageAuthenticator, CoAPort: in.CoAPort, CoAAddr: in.CoAAddr}
}

func (s *Server) radiusRoutes(api func(string, func(http.ResponseWriter, *http.Request))) {
	api("GET /api/v1/radius/nas", s.listNAS)
	api("POST /api/v1/radius/nas", s.createNAS)
	api("PUT /api/v1/radius/nas/{id}", s.putNAS)
	api("DELETE /api/v1/radius/nas/{id}", s.deleteNAS)
	api("GET /api/v1/radius/sessions", s.listRADIUSSessions)
	s.radiusNodeRoutes(api)
}

func (s *Server) listNAS(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListNASClients(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

func (s *Server) createNAS(w http.ResponseWriter, r *http.Request) {
	var in nasInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.CreateNASClient(r.Context(), in.client())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(c.Version))
	writeJSON(w, http.StatusCreated, c)
}

func pathID(r *http.Request) (int64, error) {
	id, ok := simguard.ParseDigits(r.PathValue("id"))
	if !ok || id == 0 || id > 1<<62 {
		return 0, simguard.FieldError("id", "must be the numeric ID of the NAS client")
	}
	return int64(id), nil
}

func (s *Server) putNAS(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in nasInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.ReplaceNASClient(r.Context(), id, version, in.client())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(c.Version))
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteNAS(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.DeleteNASClient(r.Context(), id, version); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listRADIUSSessions pages through sessions: ?sim=ID&nas=NAME&live=true
// &tenant=ID (provider admins)&after=ID&limit=N.
func (s *Server) listRADIUSSessions(w http.ResponseWriter, r *http.Request) {
	f, err := sessionFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.svc.ListRADIUSSessions(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, list, f.Limit, func(sess simguard.RADIUSSession) int64 { return sess.ID })
}
