package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan"
	"github.com/simguard/simguard/scan/creds"
)

// scanConfig is the "scan:" section of the serve config: the fleet
// exposure auditor. Zero values take the scanner's defaults.
type scanConfig struct {
	Enabled bool `yaml:"enabled"`
	// AuditRanges are the CIDRs of the fleet's device addresses; nothing
	// else is ever scanned.
	AuditRanges    []string      `yaml:"audit_ranges"`
	PPS            int           `yaml:"pps"`         // probes per second, all scans together (default 1000)
	Concurrency    int           `yaml:"concurrency"` // probes in flight per scan (default 256)
	Parallel       int           `yaml:"parallel"`    // scans sending at once (default 2)
	Queue          int           `yaml:"queue"`       // API scans accepted and not finished (default 16)
	MaxHosts       int           `yaml:"max_hosts"`   // addresses per scan (default 4096)
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	Retries        int           `yaml:"retries"`
	AllowPlaintext bool          `yaml:"allow_plaintext"`
	// Identification and UDP timing (see scan.Config).
	UDPTimeout          time.Duration `yaml:"udp_timeout"`
	BannerWait          time.Duration `yaml:"banner_wait"`
	ProbeTimeout        time.Duration `yaml:"probe_timeout"`
	IdentifyConcurrency int           `yaml:"identify_concurrency"`
	// CredentialsFile holds the operator's own "user:password" defaults,
	// tried before the shipped list in every credential audit.
	CredentialsFile string         `yaml:"credentials_file"`
	CredentialAudit creds.Config   `yaml:"credential_audit"`
	Schedules       []scanSchedule `yaml:"schedules"`
}

// scanSchedule scans a group's devices periodically.
type scanSchedule struct {
	Tenant      string        `yaml:"tenant"` // default: the provider tenant
	Group       string        `yaml:"group"`
	Every       time.Duration `yaml:"every"`
	Ports       string        `yaml:"ports"`
	UDP         bool          `yaml:"udp"`
	Credentials bool          `yaml:"credentials"`
}

// scanFeature wires the auditor into serve.
var scanFeature = feature{name: "scan", flags: scanFlags, attach: attachScan}

func scanFlags(fs *flag.FlagSet, cfg *serveConfig) {
	c := &cfg.Scan
	fs.BoolVar(&c.Enabled, "scan", c.Enabled, "run the fleet exposure auditor (scans through the API and scan.schedules)")
	fs.Func("scan-audit-range", "a CIDR of the fleet's device addresses that may be scanned (repeat, or comma-separate)", func(s string) error {
		c.AuditRanges = append(c.AuditRanges, strings.Split(s, ",")...)
		return nil
	})
	fs.IntVar(&c.PPS, "scan-pps", c.PPS, "probes per second of all scans together (0: 1000)")
	fs.StringVar(&c.CredentialsFile, "scan-credentials-file", c.CredentialsFile, "your own default user:password pairs for the credential audit")
}

// scannerConfig turns the section into the scanner's config.
func (c *scanConfig) scannerConfig() (scan.Config, error) {
	cfg := scan.Config{
		MaxHosts: c.MaxHosts, Concurrency: c.Concurrency, Parallel: c.Parallel, Rate: c.PPS,
		ConnectTimeout: c.ConnectTimeout, Retries: c.Retries, AllowPlaintext: c.AllowPlaintext, Creds: c.CredentialAudit,
		UDPTimeout: c.UDPTimeout, BannerWait: c.BannerWait, ProbeTimeout: c.ProbeTimeout, IdentifyConcurrency: c.IdentifyConcurrency,
	}
	if len(c.AuditRanges) == 0 {
		return cfg, fmt.Errorf("scan.audit_ranges: give the CIDRs of the fleet's device addresses (for example the APN's IP pool, 10.45.0.0/16); nothing outside them is ever scanned")
	}
	for i, s := range c.AuditRanges {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return cfg, fmt.Errorf("scan.audit_ranges[%d]: %q is not a CIDR like 10.45.0.0/16", i, s)
		}
		cfg.AuditRanges = append(cfg.AuditRanges, p)
	}
	if c.CredentialsFile != "" {
		f, err := os.Open(c.CredentialsFile)
		if err != nil {
			return cfg, fmt.Errorf("scan.credentials_file: %w", err)
		}
		defer f.Close()
		if cfg.ExtraCredentials, err = creds.ParseList(f, "file"); err != nil {
			return cfg, fmt.Errorf("scan.credentials_file %s: %w", c.CredentialsFile, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("scan.%s", simguard.ErrorMessage(err))
	}
	return cfg, nil
}

// scanSessions is where live data sessions reach the auditor, so that
// devices with dynamic addresses are found and named: the addresses of
// the live RADIUS sessions in the store (written by this server's RADIUS
// component, or by any RADIUS node sharing the store), reloaded at most
// every 30 seconds. Without RADIUS the table is empty and devices are
// found by their static IPs.
func scanSessions(cp *controlPlane, log *slog.Logger) scan.Sessions {
	return scan.NewLiveSessions(cp.db, 30*time.Second, nil, log)
}

func attachScan(cp *controlPlane) error {
	if !cp.cfg.Scan.Enabled {
		return nil
	}
	cfg, err := cp.cfg.Scan.scannerConfig()
	if err != nil {
		return err
	}
	log := cp.log.With("component", "scan")
	inv := scan.NewPolicyInventory(cp.svc.Policy().Snapshot, scanSessions(cp, log))
	s, err := scan.New(cfg, scan.Deps{Logger: log, Registerer: cp.reg, Store: cp.db, Inventory: inv, Fleet: inv, Events: cp.events})
	if err != nil {
		return err
	}
	schedules, err := cp.scanSchedules()
	if err != nil {
		return err
	}
	sched, err := scan.NewScheduler(s, inv, schedules, nil)
	if err != nil {
		return fmt.Errorf("scan.%s", simguard.ErrorMessage(err))
	}
	q, err := scan.NewQueue(s, cp.cfg.Scan.Queue)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := cp.db.AbandonScanRuns(ctx, "simguard stopped before the scan finished"); err != nil {
		return err
	} else if n > 0 {
		log.Warn("scans left unfinished by the last run were marked failed", "count", n)
	}
	cp.svc.SetScanRunner(q)
	cp.components = append(cp.components, component{name: "scan", run: func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- sched.Run(ctx) }()
		err := q.Run(ctx)
		if serr := <-done; err == nil {
			err = serr
		}
		return err
	}})
	log.Info("fleet auditor on", "audit_ranges", cfg.AuditRanges, "pps", cfg.Rate, "schedules", len(schedules), "extra_credentials", len(cfg.ExtraCredentials))
	return nil
}

// scanSchedules resolves the schedules' tenant names.
func (cp *controlPlane) scanSchedules() ([]scan.Schedule, error) {
	if len(cp.cfg.Scan.Schedules) == 0 {
		return nil, nil
	}
	tenants, err := cp.db.ListTenants(context.Background())
	if err != nil {
		return nil, err
	}
	var out []scan.Schedule
	for i, sc := range cp.cfg.Scan.Schedules {
		name := sc.Tenant
		if name == "" {
			name = cp.cfg.Tenant
		}
		var id int64
		for _, t := range tenants {
			if t.Name == name {
				id = t.ID
			}
		}
		if id == 0 {
			return nil, fmt.Errorf("scan.schedules[%d].tenant: no tenant %q", i, name)
		}
		out = append(out, scan.Schedule{TenantID: id, Group: sc.Group, Every: sc.Every, Ports: sc.Ports, UDP: sc.UDP, Credentials: sc.Credentials})
	}
	return out, nil
}
