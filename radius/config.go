package radius

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Config is the RADIUS server's configuration. Zero fields take the
// documented defaults; Validate rejects nonsense and names the field.
type Config struct {
	// AuthAddrs and AcctAddrs are UDP listen addresses ("host:port";
	// ":1812" listens on every IPv4 and IPv6 address). Defaults ":1812"
	// and ":1813".
	AuthAddrs []string `json:"auth_addrs,omitempty" yaml:"auth_addrs,omitempty"`
	AcctAddrs []string `json:"acct_addrs,omitempty" yaml:"acct_addrs,omitempty"`
	// Workers is how many goroutines read and handle each socket; a slow
	// store blocks one worker, not the socket. Default 16.
	Workers int `json:"workers,omitempty" yaml:"workers,omitempty"`
	// DuplicateTTL is how long an answer is kept to be resent to a
	// retransmitted request (RFC 5080 §2.2.2). Default 5s, like
	// FreeRADIUS' cleanup_delay.
	DuplicateTTL time.Duration `json:"duplicate_ttl,omitempty" yaml:"duplicate_ttl,omitempty"`
	// MaxSessionTimeout caps Session-Timeout in Access-Accept; 0 sends
	// Session-Timeout only when an activation window ends the session.
	MaxSessionTimeout time.Duration `json:"max_session_timeout,omitempty" yaml:"max_session_timeout,omitempty"`
	// InterimInterval is sent as Acct-Interim-Interval so that usage (and
	// quota) is seen during a session; 0 sends none.
	InterimInterval time.Duration `json:"interim_interval,omitempty" yaml:"interim_interval,omitempty"`
	// Pools hand out Framed-IP-Address per APN to SIMs without a static IP.
	Pools []PoolConfig `json:"pools,omitempty" yaml:"pools,omitempty"`
	// WriteTimeout bounds each store or feedback write. Default 5s.
	WriteTimeout time.Duration `json:"write_timeout,omitempty" yaml:"write_timeout,omitempty"`
	// Disconnect tunes Disconnect-Requests.
	Disconnect DisconnectConfig `json:"disconnect,omitzero" yaml:"disconnect,omitempty"`
	// RecheckInterval re-evaluates every live session against the current
	// policy, so that sessions end when a window closes even without a
	// policy change. Default 1m; negative disables.
	RecheckInterval time.Duration `json:"recheck_interval,omitempty" yaml:"recheck_interval,omitempty"`
	// DropEventsPerSecond caps events for dropped packets per cause (a
	// flood must not flood the event log); metrics count every drop.
	// Default 10.
	DropEventsPerSecond int `json:"drop_events_per_second,omitempty" yaml:"drop_events_per_second,omitempty"`
}

// PoolConfig is an address pool for some APNs.
type PoolConfig struct {
	Name     string         `json:"name" yaml:"name"`
	APNs     []string       `json:"apns" yaml:"apns"`
	Prefixes []netip.Prefix `json:"prefixes" yaml:"prefixes"`
	// Exclude lists addresses never handed out (gateways, static IPs).
	Exclude []netip.Addr `json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// DisconnectConfig tunes Disconnect-Requests (RFC 5176).
type DisconnectConfig struct {
	// Timeout is the wait for an answer to one attempt. Default 2s.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Attempts is how often a request is sent before giving up. Default 3.
	Attempts int `json:"attempts,omitempty" yaml:"attempts,omitempty"`
	// Concurrency caps Disconnect-Requests in flight. Default 32.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// RetryAfter is how long a session that was not disconnected (NAK,
	// timeout) waits before the next try. Default 1m.
	RetryAfter time.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
}

func (c *Config) setDefaults() {
	if len(c.AuthAddrs) == 0 {
		c.AuthAddrs = []string{":1812"}
	}
	if len(c.AcctAddrs) == 0 {
		c.AcctAddrs = []string{":1813"}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Workers == 0 {
		c.Workers = 16
	}
	def(&c.DuplicateTTL, 5*time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	def(&c.RecheckInterval, time.Minute)
	def(&c.Disconnect.Timeout, 2*time.Second)
	def(&c.Disconnect.RetryAfter, time.Minute)
	if c.Disconnect.Attempts == 0 {
		c.Disconnect.Attempts = 3
	}
	if c.Disconnect.Concurrency == 0 {
		c.Disconnect.Concurrency = 32
	}
	if c.DropEventsPerSecond == 0 {
		c.DropEventsPerSecond = 10
	}
}

// Validate fills in defaults and checks c.
func (c *Config) Validate() error {
	c.setDefaults()
	for _, f := range []struct {
		name  string
		addrs []string
	}{{"auth_addrs", c.AuthAddrs}, {"acct_addrs", c.AcctAddrs}} {
		for i, a := range f.addrs {
			if _, _, err := splitHostPort(a); err != nil {
				return fmt.Errorf("radius config: %s[%d]: %q is not host:port (e.g. :1812, 127.0.0.1:1812, [::1]:1812)", f.name, i, a)
			}
		}
	}
	switch {
	case c.Workers < 1 || c.Workers > 1024:
		return fmt.Errorf("radius config: workers: must be 1-1024, got %d", c.Workers)
	case c.DuplicateTTL < 0 || c.DuplicateTTL > time.Minute:
		return fmt.Errorf("radius config: duplicate_ttl: must be 0-1m, got %s", c.DuplicateTTL)
	case c.MaxSessionTimeout < 0:
		return fmt.Errorf("radius config: max_session_timeout: must not be negative")
	case c.InterimInterval < 0 || c.InterimInterval > 0 && c.InterimInterval < time.Minute:
		return fmt.Errorf("radius config: interim_interval: must be 0 or at least 1m (RFC 2869 §5.16), got %s", c.InterimInterval)
	case c.WriteTimeout < 0:
		return fmt.Errorf("radius config: write_timeout: must not be negative")
	case c.Disconnect.Timeout < 0 || c.Disconnect.Attempts < 1 || c.Disconnect.Attempts > 10:
		return fmt.Errorf("radius config: disconnect: timeout must be positive and attempts 1-10")
	case c.Disconnect.Concurrency < 1 || c.Disconnect.RetryAfter < 0:
		return fmt.Errorf("radius config: disconnect: concurrency must be at least 1 and retry_after not negative")
	case c.DropEventsPerSecond < 0:
		return fmt.Errorf("radius config: drop_events_per_second: must not be negative")
	}
	return validatePools(c.Pools)
}

func validatePools(pools []PoolConfig) error {
	names := map[string]bool{}
	apns := map[string]string{}
	var all []netip.Prefix
	for i := range pools {
		p := &pools[i]
		path := fmt.Sprintf("radius config: pools[%d]", i)
		if p.Name == "" || names[p.Name] {
			return fmt.Errorf("%s.name: must be set and unique, got %q", path, p.Name)
		}
		names[p.Name] = true
		if len(p.APNs) == 0 {
			return fmt.Errorf("%s.apns: name at least one APN", path)
		}
		for j, a := range p.APNs {
			a = strings.ToLower(strings.TrimSpace(a))
			if a == "" {
				return fmt.Errorf("%s.apns[%d]: empty APN", path, j)
			}
			if other, ok := apns[a]; ok {
				return fmt.Errorf("%s.apns[%d]: APN %q is already in pool %q", path, j, a, other)
			}
			apns[a] = p.Name
			p.APNs[j] = a
		}
		if len(p.Prefixes) == 0 {
			return fmt.Errorf("%s.prefixes: name at least one prefix like 10.64.0.0/16", path)
		}
		for j, pr := range p.Prefixes {
			if !pr.IsValid() {
				return fmt.Errorf("%s.prefixes[%d]: not a valid prefix", path, j)
			}
			pr = pr.Masked()
			for _, o := range all {
				if o.Overlaps(pr) {
					return fmt.Errorf("%s.prefixes[%d]: %s overlaps %s of another pool entry", path, j, pr, o)
				}
			}
			all = append(all, pr)
			p.Prefixes[j] = pr
		}
	}
	return nil
}

func splitHostPort(a string) (string, string, error) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return "", "", fmt.Errorf("missing port")
	}
	host, port := a[:i], a[i+1:]
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") || port == "" {
		return "", "", fmt.Errorf("bad address")
	}
	for _, ch := range port {
		if ch < '0' || ch > '9' {
			return "", "", fmt.Errorf("bad port")
		}
	}
	return host, port, nil
}
