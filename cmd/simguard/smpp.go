package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/smpp"
)

// smppConfig is the "smpp:" section of the config: the SMS firewall. It
// is off unless listen is set. Zero values take the defaults documented in
// docs/smpp.md (those of smpp.Config).
type smppConfig struct {
	// Listen is where ESMEs bind, e.g. 127.0.0.1:2775 or :2775.
	Listen string `yaml:"listen"`
	// SystemID is what bind responses name (default simguard).
	SystemID string `yaml:"system_id"`
	// Upstreams are the SMSC routes. They are the operator's
	// infrastructure, like the listen address, so they live here and not
	// in the store; their passwords come from a file or the environment.
	Upstreams []smppUpstreamConfig `yaml:"upstreams"`

	ESMEWindow          int           `yaml:"esme_window"`
	WindowWait          time.Duration `yaml:"window_wait"`
	MaxPDU              int           `yaml:"max_pdu"`
	BindTimeout         time.Duration `yaml:"bind_timeout"`
	BindFailDelay       time.Duration `yaml:"bind_fail_delay"`
	EnquireLinkInterval time.Duration `yaml:"enquire_link_interval"`
	ResponseTimeout     time.Duration `yaml:"response_timeout"`
	ReconnectMin        time.Duration `yaml:"reconnect_min"`
	ReconnectMax        time.Duration `yaml:"reconnect_max"`
	DefaultMaxBinds     int           `yaml:"default_max_binds"`
	RateLimitKeys       int           `yaml:"rate_limit_keys"`
	ReceiptRoutes       int           `yaml:"receipt_routes"`
	ReceiptTTL          time.Duration `yaml:"receipt_ttl"`
	ShutdownTimeout     time.Duration `yaml:"shutdown_timeout"`
	UsageWait           time.Duration `yaml:"usage_wait"`
}

// smppUpstreamConfig is one SMSC route.
type smppUpstreamConfig struct {
	Name       string   `yaml:"name"`
	Addrs      []string `yaml:"addrs"` // host:port, in failover order
	SystemID   string   `yaml:"system_id"`
	SystemType string   `yaml:"system_type"`
	// PasswordFile names a file (mode 0600) holding the password;
	// PasswordEnv an environment variable. At most one; neither: empty.
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	Binds        int    `yaml:"binds"`  // parallel binds (default 1)
	Window       int    `yaml:"window"` // outstanding per bind (default 256)
}

// smppServeFlags binds the SMS firewall's flags of serve.
func smppServeFlags(fs *flag.FlagSet, cfg *serveConfig) { smppFlags(fs, &cfg.SMPP) }

// smppFlags binds the flags of the SMS firewall. --smpp-upstream is for a
// quick start: one route "main" whose password is in SIMGUARD_SMPP_PASSWORD.
func smppFlags(fs *flag.FlagSet, c *smppConfig) {
	fs.StringVar(&c.Listen, "smpp-listen", c.Listen, "SMS firewall: address ESMEs bind to, e.g. 127.0.0.1:2775 (empty: off)")
	fs.Func("smpp-upstream", "SMS firewall: the SMSC as [system_id@]host:port[,host:port…] (failover order), route \"main\", password from $SIMGUARD_SMPP_PASSWORD; replaces smpp.upstreams (default system_id simguard)", func(v string) error {
		systemID, addrs, ok := strings.Cut(v, "@")
		if !ok {
			systemID, addrs = "simguard", v
		}
		u := smppUpstreamConfig{Name: "main", SystemID: systemID, PasswordEnv: "SIMGUARD_SMPP_PASSWORD"}
		for _, a := range strings.Split(addrs, ",") {
			if _, _, err := net.SplitHostPort(strings.TrimSpace(a)); err != nil {
				return fmt.Errorf("want [system_id@]host:port[,host:port…], got %q", v)
			}
			u.Addrs = append(u.Addrs, strings.TrimSpace(a))
		}
		c.Upstreams = []smppUpstreamConfig{u}
		return nil
	})
}

// proxyConfig turns the section into the proxy's configuration, reading
// upstream passwords. Errors name the config key.
func (c *smppConfig) proxyConfig(getenv func(string) string) (smpp.Config, error) {
	cfg := smpp.Config{
		Listen: c.Listen, SystemID: c.SystemID, MaxPDU: c.MaxPDU, BindTimeout: c.BindTimeout, BindFailDelay: c.BindFailDelay,
		EnquireLinkInterval: c.EnquireLinkInterval, ResponseTimeout: c.ResponseTimeout, ESMEWindow: c.ESMEWindow,
		WindowWait: c.WindowWait, ReconnectMin: c.ReconnectMin, ReconnectMax: c.ReconnectMax, DefaultMaxBinds: c.DefaultMaxBinds,
		RateLimitKeys: c.RateLimitKeys, ReceiptRoutes: c.ReceiptRoutes, ReceiptTTL: c.ReceiptTTL,
		ShutdownTimeout: c.ShutdownTimeout, UsageWait: c.UsageWait,
	}
	if len(c.Upstreams) == 0 {
		return cfg, simguard.FieldError("smpp.upstreams", "the SMS firewall needs an upstream SMSC: set smpp.upstreams in the config, or --smpp-upstream host:port")
	}
	for i, u := range c.Upstreams {
		key := fmt.Sprintf("smpp.upstreams[%d]", i)
		pw, err := upstreamPassword(u, key, getenv)
		if err != nil {
			return cfg, err
		}
		cfg.Upstreams = append(cfg.Upstreams, simguard.SMPPUpstream{Name: u.Name, Addrs: u.Addrs, SystemID: u.SystemID,
			SystemType: u.SystemType, Password: pw, Binds: u.Binds, Window: u.Window})
	}
	return cfg, nil
}

func upstreamPassword(u smppUpstreamConfig, key string, getenv func(string) string) (string, error) {
	switch {
	case u.PasswordFile != "" && u.PasswordEnv != "":
		return "", simguard.FieldError(key+".password_file", "give password_file or password_env, not both")
	case u.PasswordEnv != "":
		// An unset variable means an empty password, which some SMSCs
		// expect; the SMSC refusing the bind says so in the log.
		return getenv(u.PasswordEnv), nil
	case u.PasswordFile != "":
		fi, err := os.Stat(u.PasswordFile)
		if err != nil {
			return "", simguard.FieldError(key+".password_file", "%v", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", simguard.FieldError(key+".password_file", "%s can be read by other users (mode %04o); run chmod 600 %s",
				u.PasswordFile, fi.Mode().Perm(), u.PasswordFile)
		}
		b, err := os.ReadFile(u.PasswordFile)
		if err != nil {
			return "", simguard.FieldError(key+".password_file", "%v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// localSMPPAuth lets the proxy inside serve check binds with the control
// plane directly, as a node would over the API.
type localSMPPAuth struct{ svc *control.Service }

func (a localSMPPAuth) AuthenticateSMPP(ctx context.Context, systemID, password string) (simguard.SMPPAccount, error) {
	return a.svc.AuthenticateSMPP(simguard.WithActor(ctx, control.SMPPNodeActor()), systemID, password)
}

// attachSMPP starts the SMS firewall inside serve when smpp.listen is set.
func attachSMPP(cp *controlPlane) error {
	c := &cp.cfg.SMPP
	if c.Listen == "" {
		return nil
	}
	cfg, err := c.proxyConfig(cp.env.getenv)
	if err != nil {
		return err
	}
	srv, err := smpp.New(cfg, smpp.Deps{
		Logger: cp.log, Registerer: cp.reg, Clock: time.Now,
		Evaluator: cp.svc.Policy(), Events: cp.events, Feedback: cp.svc,
		Auth: localSMPPAuth{cp.svc}, Accounts: cp.db, QuotaBlocks: smsQuotaBlocks(cp.svc.Policy()),
	})
	if err != nil {
		return err
	}
	// Listen now, so that a taken port fails the start, not later.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set smpp.listen or --smpp-listen)", c.Listen, err)
	}
	cp.closers = append(cp.closers, func() { ln.Close() })
	cp.svc.OnTopic(control.TopicSMPPAccounts, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.AccountsChanged(ctx)
	})
	cp.components = append(cp.components, component{name: "smpp", run: func(ctx context.Context) error { return srv.Serve(ctx, ln) }})
	fmt.Fprintf(cp.env.stdout, "SMS firewall (SMPP) listening on %s, relaying to %s\n", ln.Addr(), routeNames(cfg.Upstreams))
	return nil
}

// smsQuotaBlocks says, from the live policy, whether a group refuses
// messages once its SMS quota runs out.
func smsQuotaBlocks(p *enforce.Policy) func(tenantID int64, group string) bool {
	return func(tenantID int64, group string) bool {
		g, ok := p.Snapshot().GroupPolicy(tenantID, group)
		return ok && g.Policy.Quotas.SMSCount > 0 && g.Policy.Quotas.OnExhaustion != "alert"
	}
}

func routeNames(us []simguard.SMPPUpstream) string {
	var b strings.Builder
	for i, u := range us {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", u.Name, strings.Join(u.Addrs, " "))
	}
	return b.String()
}

// checkSMPP validates the smpp section before serve opens anything.
func checkSMPP(cfg *serveConfig, env *cliEnv) error {
	if cfg.SMPP.Listen == "" {
		return nil
	}
	pc, err := cfg.SMPP.proxyConfig(env.getenv)
	if err != nil {
		return err
	}
	return pc.Validate()
}
