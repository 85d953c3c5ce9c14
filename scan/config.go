package scan

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan/creds"
)

// Config tunes the scanner. The zero value of each field takes the default
// shown; Validate fills them in and rejects the rest with the field named.
type Config struct {
	// AuditRanges are the only address ranges that may be scanned (the
	// fleet's device pools). Empty: every target is refused.
	AuditRanges []netip.Prefix `json:"audit_ranges" yaml:"audit_ranges"`
	// MaxHosts caps the addresses of one scan (default 4096).
	MaxHosts int `json:"max_hosts" yaml:"max_hosts"`
	// Concurrency is how many probes may be in flight per scan (default
	// 256).
	Concurrency int `json:"concurrency" yaml:"concurrency"`
	// Parallel is how many scans may send packets at once (default 2);
	// more wait for a slot. The Rate is shared by all of them.
	Parallel int `json:"parallel" yaml:"parallel"`
	// Rate caps probes per second, TCP connects and UDP datagrams alike,
	// retries included (default 1000; cellular links are thin).
	Rate int `json:"rate" yaml:"rate"`
	// ConnectTimeout bounds one TCP connect (default 3s: NB-IoT and
	// LTE-M round trips can take seconds). A port that times out is
	// "filtered" and tried Retries more times before it is given up.
	ConnectTimeout time.Duration `json:"connect_timeout" yaml:"connect_timeout"`
	// Retries of a filtered TCP port or an unanswered UDP probe (default 1;
	// -1 for none).
	Retries int `json:"retries" yaml:"retries"`
	// UDPTimeout is how long to wait for a UDP answer (default 2s).
	UDPTimeout time.Duration `json:"udp_timeout" yaml:"udp_timeout"`
	// ProbeTimeout bounds one identification exchange (default 5s).
	ProbeTimeout time.Duration `json:"probe_timeout" yaml:"probe_timeout"`
	// BannerWait is how long to listen for a service that speaks first
	// (SSH, Telnet, FTP) before probing it (default 2s).
	BannerWait time.Duration `json:"banner_wait" yaml:"banner_wait"`
	// IdentifyConcurrency caps parallel identification of open ports
	// (default 16).
	IdentifyConcurrency int `json:"identify_concurrency" yaml:"identify_concurrency"`
	// AllowPlaintext turns off the "no plaintext protocols" compliance
	// rule; plaintext services are still reported as issues.
	AllowPlaintext bool `json:"allow_plaintext" yaml:"allow_plaintext"`
	// Creds configures the default-credential audit.
	Creds creds.Config `json:"credentials" yaml:"credentials"`
	// ExtraCredentials are the operator's own default pairs (a list file
	// read with creds.ParseList), tried in every credential audit after a
	// request's own and before the shipped list.
	ExtraCredentials []creds.Pair `json:"-" yaml:"-"`
}

// Validate checks c and fills in defaults.
func (c *Config) Validate() error {
	for i, p := range c.AuditRanges {
		if !p.IsValid() {
			return simguard.FieldError(fmt.Sprintf("audit_ranges[%d]", i), "must be a CIDR like 10.45.0.0/16")
		}
		if p.Bits() < 8 && p.Addr().Is4() || p.Bits() < 32 && p.Addr().Is6() {
			return simguard.FieldError(fmt.Sprintf("audit_ranges[%d]", i), "%s is too wide for a device pool (at most /8 for IPv4, /32 for IPv6)", p)
		}
		c.AuditRanges[i] = p.Masked()
	}
	ints := []struct {
		field    string
		v        *int
		def, max int
	}{
		{"max_hosts", &c.MaxHosts, 4096, 1 << 20},
		{"concurrency", &c.Concurrency, 256, 16384},
		{"parallel", &c.Parallel, 2, 64},
		{"rate", &c.Rate, 1000, 10_000_000},
		{"identify_concurrency", &c.IdentifyConcurrency, 16, 1024},
	}
	for _, x := range ints {
		if *x.v == 0 {
			*x.v = x.def
		}
		if *x.v < 1 || *x.v > x.max {
			return simguard.FieldError(x.field, "must be from 1 to %d, got %d", x.max, *x.v)
		}
	}
	switch {
	case c.Retries == 0:
		c.Retries = 1
	case c.Retries == -1:
		c.Retries = 0
	case c.Retries < -1 || c.Retries > 5:
		return simguard.FieldError("retries", "must be from 1 to 5, or -1 for none, got %d", c.Retries)
	}
	durs := []struct {
		field    string
		v        *time.Duration
		def, max time.Duration
	}{
		{"connect_timeout", &c.ConnectTimeout, 3 * time.Second, time.Minute},
		{"udp_timeout", &c.UDPTimeout, 2 * time.Second, time.Minute},
		{"probe_timeout", &c.ProbeTimeout, 5 * time.Second, time.Minute},
		{"banner_wait", &c.BannerWait, 2 * time.Second, time.Minute},
	}
	for _, x := range durs {
		if *x.v == 0 {
			*x.v = x.def
		}
		if *x.v < time.Millisecond || *x.v > x.max {
			return simguard.FieldError(x.field, "must be from 1ms to %s, got %s", x.max, *x.v)
		}
	}
	if err := c.Creds.Validate(); err != nil {
		return err
	}
	return nil
}
