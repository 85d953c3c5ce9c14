package smpp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// Config is the proxy's configuration. Zero durations and sizes take the
// defaults documented on each field.
type Config struct {
	// Listen is the address ESMEs bind to, e.g. ":2775".
	Listen string
	// SystemID is what the proxy answers in bind_*_resp (default "simguard").
	SystemID string
	// Upstreams are the SMSC routes; accounts name theirs, the first is the
	// default.
	Upstreams []simguard.SMPPUpstream
	// MaxPDU bounds command_length (default 64 KiB).
	MaxPDU int
	// BindTimeout: a connection must bind within it (default 10s).
	BindTimeout time.Duration
	// BindFailDelay delays the answer to a failed bind, to slow password
	// guessing (default 1s).
	BindFailDelay time.Duration
	// EnquireLinkInterval: an idle link gets an enquire_link after it
	// (default 30s); one silent for this plus ResponseTimeout is dropped.
	EnquireLinkInterval time.Duration
	// ResponseTimeout: a request not answered within it is answered by the
	// proxy with an error (default 10s).
	ResponseTimeout time.Duration
	// ESMEWindow caps the outstanding requests of one ESME bind (default
	// 1024); beyond it the ESME gets ESME_RTHROTTLED.
	ESMEWindow int
	// WindowWait is how long a message waits for a free upstream window
	// slot before the ESME gets ESME_RTHROTTLED (default 200ms).
	WindowWait time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// upstream connection attempts (defaults 250ms and 30s).
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// DefaultMaxBinds caps binds per account whose MaxBinds is 0 (default 8).
	DefaultMaxBinds int
	// RateLimitKeys bounds the SIMs and sources tracked by each rate
	// limiter (default 100,000); idle ones expire after a minute.
	RateLimitKeys int
	// ReceiptRoutes bounds the remembered message IDs that route delivery
	// receipts back to their account (default 200,000), each kept for
	// ReceiptTTL (default 72h).
	ReceiptRoutes int
	ReceiptTTL    time.Duration
	// ShutdownTimeout bounds how long Serve waits for outstanding messages
	// on shutdown (default 5s).
	ShutdownTimeout time.Duration
	// UsageWait bounds how long the answer to a delivered message waits,
	// on an otherwise idle link, for its usage to be recorded, so that a
	// sender that waits for each answer meets its SMS quota exactly
	// (default 100ms). Under load answers never wait: see usage.go.
	UsageWait time.Duration
}

// Validate checks c and fills in the defaults. Errors name the config key
// (smpp.window_wait, smpp.upstreams[0].addrs …).
func (c *Config) Validate() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	if c.SystemID == "" {
		c.SystemID = "simguard"
	}
	if len(c.SystemID) > 15 {
		return simguard.FieldError("smpp.system_id", "at most 15 characters, got %d", len(c.SystemID))
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return simguard.FieldError("smpp.listen", "want host:port such as :2775, got %q", c.Listen)
		}
	}
	if len(c.Upstreams) == 0 {
		return simguard.FieldError("smpp.upstreams", "configure at least one upstream SMSC")
	}
	seen := map[string]bool{}
	for i := range c.Upstreams {
		if err := c.Upstreams[i].Validate(); err != nil {
			e := err.(*simguard.Error)
			return simguard.FieldError(fmt.Sprintf("smpp.upstreams[%d].%s", i, e.Field), "%s", e.Message)
		}
		if seen[c.Upstreams[i].Name] {
			return simguard.FieldError(fmt.Sprintf("smpp.upstreams[%d].name", i), "%q is used twice", c.Upstreams[i].Name)
		}
		seen[c.Upstreams[i].Name] = true
	}
	defInt(&c.MaxPDU, pdu.DefaultMaxLen)
	if c.MaxPDU < 512 || c.MaxPDU > 1<<20 {
		return simguard.FieldError("smpp.max_pdu", "must be 512 to 1048576 octets, got %d", c.MaxPDU)
	}
	def(&c.BindTimeout, 10*time.Second)
	def(&c.BindFailDelay, time.Second)
	def(&c.EnquireLinkInterval, 30*time.Second)
	def(&c.ResponseTimeout, 10*time.Second)
	def(&c.WindowWait, 200*time.Millisecond)
	def(&c.ReconnectMin, 250*time.Millisecond)
	def(&c.ReconnectMax, 30*time.Second)
	def(&c.ReceiptTTL, 72*time.Hour)
	def(&c.ShutdownTimeout, 5*time.Second)
	def(&c.UsageWait, 100*time.Millisecond)
	defInt(&c.ESMEWindow, 1024)
	defInt(&c.DefaultMaxBinds, 8)
	defInt(&c.RateLimitKeys, 100_000)
	defInt(&c.ReceiptRoutes, 200_000)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"bind_timeout", c.BindTimeout}, {"bind_fail_delay", c.BindFailDelay},
		{"enquire_link_interval", c.EnquireLinkInterval}, {"response_timeout", c.ResponseTimeout},
		{"window_wait", c.WindowWait}, {"reconnect_min", c.ReconnectMin}, {"reconnect_max", c.ReconnectMax},
		{"receipt_ttl", c.ReceiptTTL}, {"shutdown_timeout", c.ShutdownTimeout}, {"usage_wait", c.UsageWait},
	} {
		if d.v < 0 {
			return simguard.FieldError("smpp."+d.name, "must not be negative")
		}
	}
	if c.ReconnectMax < c.ReconnectMin {
		return simguard.FieldError("smpp.reconnect_max", "must not be below reconnect_min (%s)", c.ReconnectMin)
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"esme_window", c.ESMEWindow}, {"default_max_binds", c.DefaultMaxBinds},
		{"rate_limit_keys", c.RateLimitKeys}, {"receipt_routes", c.ReceiptRoutes},
	} {
		if n.v < 1 {
			return simguard.FieldError("smpp."+n.name, "must be positive, got %d", n.v)
		}
	}
	return nil
}

// Authenticator checks the credentials of a bind. The control plane
// implements it (control.Service for the proxy inside "simguard serve",
// client.Client for a remote node): passwords are verified where their
// hashes are, and only there.
type Authenticator interface {
	// AuthenticateSMPP returns the account when password is its password;
	// Disabled is the proxy's to enforce. Wrong credentials are a
	// *simguard.Error with code EUNAUTHORIZED and Field "system_id" (no
	// such account) or "password"; any other error means the check could
	// not be made.
	AuthenticateSMPP(ctx context.Context, systemID, password string) (simguard.SMPPAccount, error)
}

// AccountStore reads an account by system_id. simguard.SMPPStore
// implements it. The proxy uses it to re-check the binds it holds when
// accounts change (AccountsChanged); it never reads password hashes.
type AccountStore interface {
	// SMPPAccountBySystemID returns ENOTFOUND (a *simguard.Error) when
	// there is no such account.
	SMPPAccountBySystemID(ctx context.Context, systemID string) (simguard.SMPPAccount, error)
}

// Deps are the proxy's collaborators. Logger, Clock and Registerer may be
// nil (discard, time.Now, no metrics registered).
type Deps struct {
	Logger     *slog.Logger
	Clock      func() time.Time
	Registerer prometheus.Registerer
	// Evaluator decides every message; enforce's atomic snapshot holder in
	// production.
	Evaluator simguard.Evaluator
	// Events receives one event per decision and per bind attempt. Emit
	// must not block for long.
	Events simguard.EventSink
	// Feedback meters each delivered message against the SIM's quota,
	// from a goroutine of its own (see the usage meter), never from the
	// relay path.
	Feedback simguard.Feedback
	// Auth checks binds.
	Auth Authenticator
	// Accounts, when set, lets AccountsChanged re-check live binds;
	// without it a changed account applies from its next bind.
	Accounts AccountStore
	// QuotaBlocks reports whether a group refuses messages once its SMS
	// quota is used up (quotas.sms_count set, on_exhaustion block). Only
	// for such SIMs does an answer wait for its message to be metered
	// (see usageMeter.record). nil: assume every group does.
	QuotaBlocks func(tenantID int64, group string) bool
}

func (d *Deps) validate() error {
	if d.Evaluator == nil || d.Events == nil || d.Feedback == nil || d.Auth == nil {
		return simguard.Errorf(simguard.EINVALID, "smpp: Evaluator, Events, Feedback and Auth are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Registerer == nil {
		d.Registerer = prometheus.NewRegistry()
	}
	if d.QuotaBlocks == nil {
		d.QuotaBlocks = func(int64, string) bool { return true }
	}
	return nil
}
