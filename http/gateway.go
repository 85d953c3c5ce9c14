package http

import (
	"net/http"

	"github.com/simguard/simguard"
)

// GatewayService reports what the gateway firewall installed.
type GatewayService interface {
	Status(withRuleset bool) (simguard.GatewayStatus, error)
}

// HandleGateway adds the gateway route (when serve runs the gateway
// firewall). The table spans every tenant's devices, so only the
// provider's admins may read it.
func (s *Server) HandleGateway(g GatewayService) {
	s.mux.Handle("GET /api/v1/gateway", s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := simguard.ActorFrom(r.Context())
		if !ok {
			s.writeError(w, r, simguard.Errorf(simguard.EUNAUTHORIZED, "send a token: Authorization: Bearer <token>"))
			return
		}
		if !a.Provider {
			s.writeError(w, r, simguard.Errorf(simguard.EFORBIDDEN, "the gateway table covers every tenant: only admins of the provider tenant may read it"))
			return
		}
		var with bool
		switch r.URL.Query().Get("ruleset") {
		case "", "0", "false":
		case "1", "true":
			with = true
		default:
			s.writeError(w, r, simguard.FieldError("ruleset", "must be true or false"))
			return
		}
		st, err := g.Status(with)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if st.Counters == nil {
			st.Counters = []simguard.GatewayCounter{}
		}
		writeJSON(w, http.StatusOK, st)
	})))
}
