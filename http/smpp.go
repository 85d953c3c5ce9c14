package http

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// smppRoutes serves the SMS firewall's ESME accounts and the bind check
// that remote SMS firewall nodes ask for.
func (s *Server) smppRoutes(api func(string, func(http.ResponseWriter, *http.Request))) {
	api("GET /api/v1/smpp/accounts", s.listSMPPAccounts)
	api("POST /api/v1/smpp/accounts", s.createSMPPAccount)
	api("GET /api/v1/smpp/accounts/{system_id}", s.getSMPPAccount)
	api("PATCH /api/v1/smpp/accounts/{system_id}", s.patchSMPPAccount)
	api("DELETE /api/v1/smpp/accounts/{system_id}", s.deleteSMPPAccount)
	// Every check costs a bcrypt comparison (tens of milliseconds of CPU):
	// a node gone wrong, or a bind storm behind it, must not take the
	// control plane's CPU. Binds are rare; 20 a second is plenty.
	lim := &tokenBucket{rate: 20, burst: 40, now: time.Now}
	api("POST /api/v1/sync/smpp/auth", func(w http.ResponseWriter, r *http.Request) { s.smppAuth(w, r, lim) })
	api("GET /api/v1/sync/smpp/accounts/{system_id}", s.nodeSMPPAccount)
}

// nodeSMPPAccount lets a node re-check the binds it holds.
func (s *Server) nodeSMPPAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.SMPPAccountForNode(r.Context(), r.PathValue("system_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listSMPPAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListSMPPAccounts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

func (s *Server) writeSMPPAccount(w http.ResponseWriter, status int, a simguard.SMPPAccount) {
	w.Header().Set("ETag", etag(a.Version))
	writeJSON(w, status, a)
}

func (s *Server) getSMPPAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.GetSMPPAccount(r.Context(), r.PathValue("system_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSMPPAccount(w, http.StatusOK, a)
}

func (s *Server) createSMPPAccount(w http.ResponseWriter, r *http.Request) {
	var in control.SMPPAccountInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.svc.CreateSMPPAccount(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSMPPAccount(w, http.StatusCreated, a)
}

func (s *Server) patchSMPPAccount(w http.ResponseWriter, r *http.Request) {
	var p control.SMPPAccountPatch
	if err := decodeJSON(r, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.svc.UpdateSMPPAccount(r.Context(), r.PathValue("system_id"), version, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSMPPAccount(w, http.StatusOK, a)
}

func (s *Server) deleteSMPPAccount(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.DeleteSMPPAccount(r.Context(), r.PathValue("system_id"), version); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// smppAuthResult is the answer to a bind check. Wrong credentials are an
// answer, not an HTTP error: the node's own token was fine.
type smppAuthResult struct {
	// Result is "ok", "unknown_system_id" or "bad_password".
	Result  string                `json:"result"`
	Account *simguard.SMPPAccount `json:"account,omitempty"`
}

func (s *Server) smppAuth(w http.ResponseWriter, r *http.Request, lim *tokenBucket) {
	var in struct {
		SystemID string `json:"system_id"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !lim.take() {
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, simguard.Errorf(simguard.EUNAVAILABLE, "too many SMPP bind checks; retry in a second"))
		return
	}
	a, err := s.svc.AuthenticateSMPP(r.Context(), in.SystemID, in.Password)
	if err == nil {
		writeJSON(w, http.StatusOK, smppAuthResult{Result: "ok", Account: &a})
		return
	}
	var se *simguard.Error
	if errors.As(err, &se) && se.Code == simguard.EUNAUTHORIZED {
		switch se.Field {
		case "system_id":
			writeJSON(w, http.StatusOK, smppAuthResult{Result: "unknown_system_id"})
			return
		case "password":
			writeJSON(w, http.StatusOK, smppAuthResult{Result: "bad_password"})
			return
		}
	}
	s.writeError(w, r, err)
}

// tokenBucket allows rate events per second on average and burst at once.
type tokenBucket struct {
	rate, burst float64
	now         func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
