package http

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// Config wires the server.
type Config struct {
	Service *control.Service
	Log     *slog.Logger
	// Registerer and Gatherer serve /metrics (nil: no metrics).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// AuditKey verifies audit checkpoints.
	AuditKey ed25519.PublicKey
	// Ready reports whether the server should take traffic (/readyz).
	Ready func(context.Context) error
	// MaxImportBytes bounds an import request body (default 256 MiB).
	MaxImportBytes int64
}

// Server is the HTTP front end of the control plane.
type Server struct {
	svc      *control.Service
	log      *slog.Logger
	auditKey ed25519.PublicKey
	ready    func(context.Context) error
	maxImp   int64
	mux      *http.ServeMux
	handler  http.Handler

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, fmt.Errorf("http: a control service is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 256 << 20
	}
	s := &Server{
		svc: cfg.Service, log: cfg.Log, auditKey: cfg.AuditKey, ready: cfg.Ready,
		maxImp: cfg.MaxImportBytes, mux: http.NewServeMux(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "simguard_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"route"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(s.requests); err != nil {
			return nil, err
		}
		if err := cfg.Registerer.Register(s.latency); err != nil {
			return nil, err
		}
	}
	if err := s.routes(cfg.Gatherer); err != nil {
		return nil, err
	}
	s.handler = s.observe(s.mux)
	return s, nil
}

// Handler is the server's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Mux lets other front ends (the web console) add their routes.
func (s *Server) Mux() *http.ServeMux { return s.mux }

func (s *Server) routes(g prometheus.Gatherer) error {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	if g != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	spec, err := openAPIJSON()
	if err != nil {
		return err
	}
	m.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})

	api := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		m.Handle(pattern, s.authenticate(http.HandlerFunc(h)))
	}
	api("GET /api/v1/whoami", s.whoami)

	api("GET /api/v1/tenants", s.listTenants)
	api("POST /api/v1/tenants", s.createTenant)
	api("GET /api/v1/tokens", s.listTokens)
	api("POST /api/v1/tokens", s.createToken)
	api("DELETE /api/v1/tokens/{id}", s.deleteToken)

	api("GET /api/v1/groups", s.listGroups)
	api("POST /api/v1/groups", s.createGroup)
	api("GET /api/v1/groups/{name}", s.getGroup)
	api("PUT /api/v1/groups/{name}", s.putGroup)
	api("DELETE /api/v1/groups/{name}", s.deleteGroup)

	api("GET /api/v1/sims", s.listSIMs)
	api("POST /api/v1/sims", s.createSIM)
	api("POST /api/v1/sims/import", s.importSIMs)
	api("GET /api/v1/sims/{ref}", s.getSIM)
	api("PATCH /api/v1/sims/{ref}", s.patchSIM)
	api("POST /api/v1/sims/{ref}/activate", s.activateSIM)
	api("POST /api/v1/sims/{ref}/suspend", s.suspendSIM)
	api("POST /api/v1/sims/{ref}/terminate", s.terminateSIM)
	api("POST /api/v1/sims/{ref}/bind-imei", s.bindIMEI)
	api("POST /api/v1/sims/{ref}/unbind-imei", s.unbindIMEI)
	api("POST /api/v1/sims/{ref}/repair", s.openRepair)
	api("GET /api/v1/stats", s.stats)

	api("POST /api/v1/policy/check", s.policyCheck)
	api("GET /api/v1/events", s.listEvents)
	api("GET /api/v1/audit", s.listAudit)
	api("GET /api/v1/audit/verify", s.verifyAudit)

	s.radiusRoutes(api)

	api("GET /api/v1/sync/state", s.syncState)
	api("GET /api/v1/sync/changes", s.syncChanges)
	api("POST /api/v1/sync/feedback", s.syncFeedback)
	api("POST /api/v1/sync/events", s.syncEvents)
	s.smppRoutes(api)
	s.scanRoutes(api)
	s.diameterRoutes(api)

	m.Handle("/api/", s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, simguard.Errorf(simguard.ENOTFOUND, "no API endpoint %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
	})))
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// authenticate resolves the bearer token into the request's actor.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			s.writeError(w, r, simguard.Errorf(simguard.EUNAUTHORIZED, "send a token: Authorization: Bearer <token>"))
			return
		}
		a, _, err := s.svc.Authenticate(r.Context(), secret)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.actor = a.Name
		}
		next.ServeHTTP(w, r.WithContext(simguard.WithActor(r.Context(), a)))
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	actor  string
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (sync, server-sent events) flush.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe adds security headers, recovers from panics, and records
// metrics and an access log line per request (never with credentials).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving a request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, simguard.Errorf(simguard.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
			level := slog.LevelDebug
			if r.Method != http.MethodGet || rec.status >= 400 {
				level = slog.LevelInfo
			}
			s.log.Log(r.Context(), level, "http", "method", r.Method, "route", route, "path", r.URL.Path,
				"status", rec.status, "actor", rec.actor, "took", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}
