package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/console"
	"github.com/simguard/simguard/control"
	sghttp "github.com/simguard/simguard/http"
)

// consoleConfig is the "console" section of the serve config.
type consoleConfig struct {
	Enabled bool `yaml:"enabled"`
	// SessionTTL ends a browser session this long after login;
	// IdleTimeout after this long without a request.
	SessionTTL  time.Duration `yaml:"session_ttl"`
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// SecureCookie marks the session cookie Secure on plain HTTP too, for
	// a TLS-terminating proxy in front of simguard.
	SecureCookie bool `yaml:"secure_cookie"`
}

func (c *consoleConfig) defaults() {
	c.Enabled = true
	c.SessionTTL = 12 * time.Hour
	c.IdleTimeout = time.Hour
}

var consoleFeature = feature{
	name: "console",
	flags: func(fs *flag.FlagSet, cfg *serveConfig) {
		c := &cfg.Console
		fs.BoolVar(&c.Enabled, "console", c.Enabled, "serve the web console at /console/")
		fs.DurationVar(&c.SessionTTL, "console-session-ttl", c.SessionTTL, "console sessions end this long after login")
		fs.DurationVar(&c.IdleTimeout, "console-idle-timeout", c.IdleTimeout, "console sessions end after this long without a request")
		fs.BoolVar(&c.SecureCookie, "console-secure-cookie", c.SecureCookie, "mark the console's cookies Secure on plain HTTP (TLS terminated by a proxy)")
	},
	attach: attachConsole,
}

func attachConsole(cp *controlPlane) error {
	c := cp.cfg.Console
	if !c.Enabled {
		return nil
	}
	if c.SessionTTL < time.Minute || c.IdleTimeout < time.Minute {
		return fmt.Errorf("console.session_ttl and console.idle_timeout: at least 1m, got %s and %s", c.SessionTTL, c.IdleTimeout)
	}
	cfg := console.Config{
		Service: cp.svc, Log: cp.log.With("component", "console"), Registerer: cp.reg, AuditKey: cp.signer.PublicKey(),
		SessionTTL: c.SessionTTL, IdleTimeout: c.IdleTimeout, SecureCookie: c.SecureCookie,
	}
	if cp.cfg.RADIUS.Enabled {
		cfg.Sessions = consoleSessions{cp.svc}
	}
	if cp.alerts != nil { // detection runs (its feature attaches first)
		cfg.Alerts = consoleAlerts{cp.alerts}
	}
	if sc := cp.cfg.Scan; sc.Enabled { // the start-a-scan form; findings show either way
		cfg.Scan = &console.ScanSettings{}
		for _, r := range sc.AuditRanges {
			cfg.Scan.AuditRanges = append(cfg.Scan.AuditRanges, strings.TrimSpace(r))
		}
	}
	con, err := console.New(cfg)
	if err != nil {
		return err
	}
	cp.apiHooks = append(cp.apiHooks, func(api *sghttp.Server) { con.Mount(api.Mux()) })
	cp.components = append(cp.components, component{name: "console", run: con.Run})
	return nil
}

// consoleSessions shows the RADIUS server's accounting sessions in the
// console's live-session panels.
type consoleSessions struct{ svc *control.Service }

var _ console.SessionSource = consoleSessions{}

// LiveSessions pages through the live sessions of the caller's tenant (a
// provider admin too sees only its own tenant's here), counting up to
// console.SessionCountCap and keeping the newest limit.
func (r consoleSessions) LiveSessions(ctx context.Context, simID int64, limit int) ([]console.Session, int64, error) {
	a, ok := simguard.ActorFrom(ctx)
	if !ok {
		return nil, 0, simguard.Errorf(simguard.EUNAUTHORIZED, "no credentials")
	}
	var newest []simguard.RADIUSSession
	var n int64
	for after := int64(0); n < console.SessionCountCap; {
		page, err := r.svc.ListRADIUSSessions(ctx, simguard.RADIUSSessionFilter{
			TenantID: a.TenantID, SIMID: simID, LiveOnly: true, AfterID: after, Limit: int(min(10_000, console.SessionCountCap-n)),
		})
		if err != nil {
			return nil, 0, err
		}
		if len(page) == 0 {
			break
		}
		n += int64(len(page))
		after = page[len(page)-1].ID
		newest = append(newest, page[max(0, len(page)-limit):]...)
		newest = newest[max(0, len(newest)-limit):]
	}
	out := make([]console.Session, 0, len(newest))
	for i := len(newest) - 1; i >= 0; i-- { // newest first
		s := newest[i]
		v := console.Session{SIMID: s.SIMID, IMSI: s.IMSI, APN: s.APN, NAS: s.NAS, RAT: string(s.RAT), Start: s.Start,
			LastUpdate: s.LastUpdate, InputOctets: s.InputOctets, OutputOctets: s.OutputOctets}
		if s.IP.IsValid() {
			v.IP = s.IP.String()
		}
		if !s.Location.PLMN.IsZero() {
			v.PLMN = s.Location.PLMN.String()
		}
		out = append(out, v)
	}
	return out, n, nil
}

// consoleAlerts gives the console detection's alerts with the rules of the
// alert API: the caller's tenant only, no node tokens, and acknowledging
// or resolving for admins and operators.
type consoleAlerts struct{ a sghttp.AlertService }

var _ console.AlertSource = consoleAlerts{}

func (c consoleAlerts) actor(ctx context.Context, write bool) (simguard.Actor, error) {
	a, ok := simguard.ActorFrom(ctx)
	switch {
	case !ok:
		return a, simguard.Errorf(simguard.EUNAUTHORIZED, "no credentials")
	case a.Role == simguard.RoleNode:
		return a, simguard.Errorf(simguard.EFORBIDDEN, "node tokens may only sync policy and report feedback")
	case write && !a.Role.CanWrite():
		return a, simguard.Errorf(simguard.EFORBIDDEN, "%s tokens cannot change alerts", a.Role)
	}
	return a, nil
}

func (c consoleAlerts) ListAlerts(ctx context.Context, f simguard.AlertFilter) ([]simguard.Alert, error) {
	a, err := c.actor(ctx, false)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return c.a.ListAlerts(ctx, f)
}

func (c consoleAlerts) GetAlert(ctx context.Context, id int64) (simguard.Alert, error) {
	a, err := c.actor(ctx, false)
	if err != nil {
		return simguard.Alert{}, err
	}
	return c.a.GetAlert(ctx, a.TenantID, id)
}

func (c consoleAlerts) Acknowledge(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	a, err := c.actor(ctx, true)
	if err != nil {
		return simguard.Alert{}, err
	}
	return c.a.Acknowledge(ctx, a.TenantID, id, note, a)
}

func (c consoleAlerts) Resolve(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	a, err := c.actor(ctx, true)
	if err != nil {
		return simguard.Alert{}, err
	}
	return c.a.Resolve(ctx, a.TenantID, id, note, a)
}
