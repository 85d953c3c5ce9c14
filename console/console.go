package console

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard/control"
)

// Config wires the console.
type Config struct {
	Service *control.Service
	Log     *slog.Logger
	// Now is the clock for sessions and reports. Default time.Now.
	Now        func() time.Time
	Registerer prometheus.Registerer
	// AuditKey verifies the audit log's signed checkpoints.
	AuditKey ed25519.PublicKey
	// SessionTTL ends a session this long after login (default 12h);
	// IdleTimeout ends it after this long without a request (default 1h).
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// MaxSessions bounds the session table (default 10,000).
	MaxSessions int
	// SecureCookie marks the session cookie Secure even on plain HTTP:
	// set it when a proxy terminates TLS in front of simguard. Requests
	// that arrive over TLS always get Secure cookies.
	SecureCookie bool
	// MaxImportBytes bounds a CSV upload (default 64 MiB).
	MaxImportBytes int64
	// Refresh is how often live panels poll (default 5s).
	Refresh time.Duration
	// Sessions and Alerts are optional; their panels are hidden while
	// they are nil.
	Sessions SessionSource
	Alerts   AlertSource
	// Scan describes the fleet auditor when it runs in serve. The
	// exposure pages always show stored scans and findings; without it
	// they offer no start-a-scan form and say how to turn the auditor on.
	Scan *ScanSettings
}

// ScanSettings is what the console tells operators about the fleet
// auditor.
type ScanSettings struct {
	// AuditRanges are the CIDRs a scan may cover (scan.audit_ranges).
	AuditRanges []string
}

// Console is the web console. Mount its routes on the API's mux and run
// it beside the server.
type Console struct {
	cfg      Config
	svc      *control.Service
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	pages    *pages
	assets   *assets
	nav      []navItem
	metrics  *metrics
	overview *cache[overviewData]
	verify   *cache[verifyView]
	exposure *exposureMemo
}

// navItem is one entry of the navigation. A feature adds a page by
// adding an item, a handler and a template.
type navItem struct {
	Key, Title, Path string
}

// New builds the console and parses its embedded templates.
func New(cfg Config) (*Console, error) {
	if cfg.Service == nil {
		return nil, fmt.Errorf("console: a control service is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10_000
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 64 << 20
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	c := &Console{
		cfg: cfg, svc: cfg.Service, log: cfg.Log, now: cfg.Now,
		sessions: newSessions(cfg.SessionTTL, cfg.IdleTimeout, cfg.MaxSessions, cfg.Now),
		nav: []navItem{
			{"overview", "Overview", basePath},
			{"sims", "SIMs", basePath + "sims"},
			{"groups", "Groups", basePath + "groups"},
			{"check", "Check", basePath + "check"},
			{"events", "Events", basePath + "events"},
			{"audit", "Audit log", basePath + "audit"},
		},
	}
	if cfg.Alerts != nil {
		events := len(c.nav) - 2 // Alerts go before Events
		c.nav = slices.Insert(c.nav, events, navItem{"alerts", "Alerts", basePath + "alerts"})
	}
	events := len(c.nav) - 2 // Exposure goes before Events too
	c.nav = slices.Insert(c.nav, events, navItem{"exposure", "Exposure", basePath + "exposure"})
	// Reports are shared by every viewer of a tenant for a moment, so
	// that ten open overviews cost the store what one does.
	c.overview = newCache[overviewData](cfg.Refresh/2, cfg.Now)
	c.verify = newCache[verifyView](30*time.Second, cfg.Now)
	c.exposure = newExposureMemo(cfg.Now)
	var err error
	if c.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if c.pages, err = loadPages(c.assets); err != nil {
		return nil, err
	}
	if c.metrics, err = newMetrics(cfg.Registerer, c.sessions); err != nil {
		return nil, err
	}
	return c, nil
}

// basePath is where the console lives; the API keeps /api/.
const basePath = "/console/"

// Mount adds the console's routes to mux (the API server's), and sends
// "/" to the console.
func (c *Console) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, basePath, http.StatusSeeOther)
	})
	mux.Handle("GET "+basePath+"static/{file}", c.headers(http.HandlerFunc(c.assets.serve)))
	mux.Handle("GET "+basePath+"login", c.headers(http.HandlerFunc(c.loginPage)))
	mux.Handle("POST "+basePath+"login", c.headers(http.HandlerFunc(c.login)))

	page := func(pattern string, h handler) { mux.Handle(pattern, c.headers(c.authed(h, false))) }
	data := func(pattern string, h handler) { mux.Handle(pattern, c.headers(c.authed(h, true))) }
	page("POST "+basePath+"logout", c.logout)
	page("GET "+basePath+"{$}", c.overviewPage)
	data("GET "+basePath+"api/overview", c.overviewJSON)
	page("GET "+basePath+"sims", c.simsPage)
	page("POST "+basePath+"sims/import", c.importSIMs)
	page("GET "+basePath+"sims/{ref}", c.simPage)
	page("POST "+basePath+"sims/{ref}/{action}", c.simAction)
	page("GET "+basePath+"groups", c.groupsPage)
	page("GET "+basePath+"groups/new", c.newGroupPage)
	page("GET "+basePath+"groups/{name}", c.groupPage)
	page("POST "+basePath+"groups/plan", c.planGroup)
	page("POST "+basePath+"groups/apply", c.applyGroup)
	page("GET "+basePath+"check", c.checkPage)
	page("GET "+basePath+"events", c.eventsPage)
	page("GET "+basePath+"audit", c.auditPage)
	if c.cfg.Alerts != nil {
		page("GET "+basePath+"alerts", c.alertsPage)
		page("GET "+basePath+"alerts/{id}", c.alertPage)
		page("POST "+basePath+"alerts/{id}/{action}", c.alertAction)
	}
	c.exposureRoutes(page, data)
	page(basePath, func(x *call) error {
		return notFound("there is no console page %s", x.r.URL.Path)
	})
}

// Run drops expired sessions every minute until ctx ends.
func (c *Console) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.sessions.prune()
		case <-ctx.Done():
			return nil
		}
	}
}
