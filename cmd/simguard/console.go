package main

import (
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/simguard/simguard/console"
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
	con, err := console.New(console.Config{
		Service: cp.svc, Log: cp.log.With("component", "console"), Registerer: cp.reg, AuditKey: cp.signer.PublicKey(),
		SessionTTL: c.SessionTTL, IdleTimeout: c.IdleTimeout, SecureCookie: c.SecureCookie,
	})
	if err != nil {
		return err
	}
	cp.mounts = append(cp.mounts, func(mux *http.ServeMux) { con.Mount(mux) })
	cp.components = append(cp.components, component{name: "console", run: con.Run})
	return nil
}
