package creds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// Config bounds the credential audit.
type Config struct {
	// MaxAttemptsPerHost caps login attempts on one device across all its
	// services (default 30; at most 1000).
	MaxAttemptsPerHost int `json:"max_attempts_per_host" yaml:"max_attempts_per_host"`
	// Timeout bounds one attempt (default 15s: PAM delays a failure by up
	// to 3s, and a modem's login can be slow).
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// Delay is the pause between two attempts on one host (default 200ms).
	Delay time.Duration `json:"delay" yaml:"delay"`
}

// Validate checks c and fills in defaults.
func (c *Config) Validate() error {
	if c.MaxAttemptsPerHost == 0 {
		c.MaxAttemptsPerHost = 30
	}
	if c.MaxAttemptsPerHost < 1 || c.MaxAttemptsPerHost > 1000 {
		return simguard.FieldError("credentials.max_attempts_per_host", "must be from 1 to 1000, got %d", c.MaxAttemptsPerHost)
	}
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Timeout < 10*time.Millisecond || c.Timeout > 2*time.Minute {
		return simguard.FieldError("credentials.timeout", "must be from 10ms to 2m, got %s", c.Timeout)
	}
	if c.Delay == 0 {
		c.Delay = 200 * time.Millisecond
	}
	if c.Delay < 0 || c.Delay > time.Minute {
		return simguard.FieldError("credentials.delay", "must be from 0 to 1m, got %s", c.Delay)
	}
	return nil
}

// Target is one login service of a device.
type Target struct {
	Addr    netip.AddrPort
	Service string // "ssh", "telnet" or "http"
	TLS     bool   // http over TLS
	Path    string // http: the path that asked for basic auth (default "/")
}

// Found is the pair that worked. It carries no password: Source points
// into the list.
type Found struct {
	Username string
	Source   string
	Method   string // password, keyboard-interactive, login, basic
}

// Result is the outcome of auditing one target.
type Result struct {
	Target   Target
	Found    *Found
	Attempts int
	// Lockout, when set, says which sign of a lockout stopped the audit of
	// this host (it is then incomplete).
	Lockout string
	// Skipped says why the target was not (fully) tried, e.g. "password
	// authentication is not offered" or "attempt budget used up".
	Skipped string
}

// outcome of one attempt.
type outcome int

const (
	failed      outcome = iota // the pair was refused
	succeeded                  // the pair works
	lockedOut                  // signs of a lockout: stop the host
	unsupported                // the service offers no password login
	connError                  // no answer to judge; counts as an attempt
)

// attempt tries one pair; detail explains lockouts and unsupported.
type attempter interface {
	try(ctx context.Context, p Pair) (out outcome, method, detail string)
	close()
}

// Auditor runs credential audits.
type Auditor struct {
	cfg Config
	log *slog.Logger
}

// New returns an auditor; log may be nil.
func New(cfg Config, log *slog.Logger) (*Auditor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Auditor{cfg: cfg, log: log}, nil
}

// AuditHost tries pairs against the targets of one host, one attempt at a
// time. The host's budget is shared: each target gets the attempts left
// divided by the targets left, so a service with a quick hit leaves more
// to the next. A lockout sign stops the whole host.
func (a *Auditor) AuditHost(ctx context.Context, targets []Target, pairs []Pair) []Result {
	results := make([]Result, len(targets))
	budget := a.cfg.MaxAttemptsPerHost
	stopped := ""
	for i, t := range targets {
		results[i].Target = t
		if stopped != "" {
			results[i].Skipped = "stopped after a lockout sign on this host: " + stopped
			continue
		}
		share := budget / (len(targets) - i)
		if share == 0 {
			results[i].Skipped = "attempt budget of the host used up"
			continue
		}
		a.auditTarget(ctx, &results[i], pairs, share)
		budget -= results[i].Attempts
		stopped = results[i].Lockout
	}
	return results
}

func (a *Auditor) auditTarget(ctx context.Context, r *Result, pairs []Pair, share int) {
	var at attempter
	switch r.Target.Service {
	case "ssh":
		at = newSSHAttempter(r.Target, a.cfg.Timeout)
	case "telnet":
		at = newTelnetAttempter(r.Target, a.cfg.Timeout)
	case "http":
		at = newHTTPAttempter(r.Target, a.cfg.Timeout)
	default:
		r.Skipped = fmt.Sprintf("no credential audit for service %q", r.Target.Service)
		return
	}
	defer at.close()
	connErrors := 0
	for i, p := range pairs {
		if r.Attempts == share {
			r.Skipped = fmt.Sprintf("attempt budget reached after %d of %d pairs", i, len(pairs))
			return
		}
		if r.Attempts > 0 && !sleep(ctx, a.cfg.Delay) || ctx.Err() != nil {
			r.Skipped = "canceled"
			return
		}
		out, method, detail := at.try(ctx, p)
		if out != unsupported {
			r.Attempts++
		}
		a.log.Debug("creds: attempt", "target", r.Target.Addr, "service", r.Target.Service, "user", p.Username, "outcome", out)
		switch out {
		case succeeded:
			r.Found = &Found{Username: p.Username, Source: p.Source, Method: method}
			return
		case lockedOut:
			r.Lockout = detail
			return
		case unsupported:
			r.Skipped = detail
			return
		case connError:
			// Two in a row after the service answered before: it is
			// dropping us (MaxStartups, fail2ban, a modem's lockout).
			if connErrors++; connErrors >= 2 {
				r.Lockout = "the service stopped accepting connections: " + detail
				return
			}
		default:
			connErrors = 0
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errText is the message of err for details, without wrapping noise.
func errText(err error) string {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}
