package diameter

import (
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

// Config is the Diameter server's configuration (the "diameter" section
// of the serve config).
type Config struct {
	// Listen is the TCP address MMEs connect to. Default ":3868".
	Listen string `json:"listen,omitempty" yaml:"listen,omitempty"`
	// OriginHost and OriginRealm are simguard's Diameter identity.
	// Defaults "simguard.localdomain" and "localdomain".
	OriginHost  string `json:"origin_host,omitempty" yaml:"origin_host,omitempty"`
	OriginRealm string `json:"origin_realm,omitempty" yaml:"origin_realm,omitempty"`
	// EIR answers S13 ME-Identity-Check. Default true (set false to offer
	// only the S6a guard).
	EIR *bool `json:"eir,omitempty" yaml:"eir,omitempty"`
	// HSS is the home subscriber server S6a requests are relayed to; the
	// S6a guard is offered only when it is set.
	HSS HSSConfig `json:"hss,omitzero" yaml:"hss,omitempty"`
	// UnknownSIM is the Equipment-Status for an ECR whose IMSI no SIM has
	// (or that carries none): "blacklisted" (default: known SIMs only),
	// "greylisted" or "whitelisted".
	UnknownSIM string `json:"unknown_sim,omitempty" yaml:"unknown_sim,omitempty"`
	// Watchdog is Tw (RFC 3539): after this long without a message a DWR
	// is sent, and a peer that does not answer it within Watchdog again
	// is disconnected. Default 30s; at least 1s.
	Watchdog time.Duration `json:"watchdog,omitempty" yaml:"watchdog,omitempty"`
	// CERTimeout bounds the wait for a new connection's CER. Default 10s.
	CERTimeout time.Duration `json:"cer_timeout,omitempty" yaml:"cer_timeout,omitempty"`
	// RelayTimeout is how long a relayed request waits for its answer
	// before the sender gets DIAMETER_UNABLE_TO_DELIVER. Default 10s.
	RelayTimeout time.Duration `json:"relay_timeout,omitempty" yaml:"relay_timeout,omitempty"`
	// MaxMessageSize bounds one message; a larger one closes the
	// connection. Default 65,536 bytes.
	MaxMessageSize int `json:"max_message_size,omitempty" yaml:"max_message_size,omitempty"`
	// MaxConnections bounds open connections (MMEs, including those that
	// have not sent their CER yet); more are closed at once. Default 1024.
	MaxConnections int `json:"max_connections,omitempty" yaml:"max_connections,omitempty"`
	// MaxUnauthenticated bounds connections that have not finished their
	// CER yet (they count against MaxConnections too), so that a flood
	// of idle connections from a peer's network cannot take every slot
	// of the real MMEs. Default 64.
	MaxUnauthenticated int `json:"max_unauthenticated,omitempty" yaml:"max_unauthenticated,omitempty"`
	// MaxPendingRelays bounds relayed requests waiting for their answer,
	// over all peers; beyond it a request is answered
	// DIAMETER_TOO_BUSY (3004). Default 10,000.
	MaxPendingRelays int `json:"max_pending_relays,omitempty" yaml:"max_pending_relays,omitempty"`
	// MaxPendingPerPeer bounds the relayed requests of one peer (an MME,
	// or the HSS) waiting for their answer. Default 2,000.
	MaxPendingPerPeer int `json:"max_pending_per_peer,omitempty" yaml:"max_pending_per_peer,omitempty"`
	// WriteTimeout bounds each feedback write (IMEI learning). Default 5s.
	WriteTimeout time.Duration `json:"write_timeout,omitempty" yaml:"write_timeout,omitempty"`
}

// HSSConfig names the HSS simguard relays S6a to.
type HSSConfig struct {
	Addr  string `json:"addr,omitempty" yaml:"addr,omitempty"`   // "host:port"
	Host  string `json:"host,omitempty" yaml:"host,omitempty"`   // its Origin-Host (checked in its CEA)
	Realm string `json:"realm,omitempty" yaml:"realm,omitempty"` // its realm (Destination-Realm of relayed requests)
}

// Validate fills in defaults and checks the values; errors name the field.
func (c *Config) Validate() error {
	if c.Listen == "" {
		c.Listen = ":3868"
	}
	if c.OriginHost == "" {
		c.OriginHost = "simguard.localdomain"
	}
	if c.OriginRealm == "" {
		c.OriginRealm = "localdomain"
	}
	if c.EIR == nil {
		t := true
		c.EIR = &t
	}
	if c.UnknownSIM == "" {
		c.UnknownSIM = "blacklisted"
	}
	if c.Watchdog == 0 {
		c.Watchdog = 30 * time.Second
	}
	if c.CERTimeout == 0 {
		c.CERTimeout = 10 * time.Second
	}
	if c.RelayTimeout == 0 {
		c.RelayTimeout = 10 * time.Second
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 65536
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 1024
	}
	if c.MaxUnauthenticated == 0 {
		c.MaxUnauthenticated = 64
	}
	if c.MaxPendingRelays == 0 {
		c.MaxPendingRelays = 10_000
	}
	if c.MaxPendingPerPeer == 0 {
		c.MaxPendingPerPeer = 2_000
	}
	for _, f := range []struct{ name, v string }{{"origin_host", c.OriginHost}, {"origin_realm", c.OriginRealm}} {
		p := simguard.DiameterPeer{OriginHost: f.v}
		if err := p.Validate(); err != nil && simguard.ErrorCode(err) == simguard.EINVALID && fieldOf(err) == "origin_host" {
			return fmt.Errorf("diameter config: %s: %q is not a DiameterIdentity (FQDN)", f.name, f.v)
		}
	}
	switch {
	case c.Watchdog < time.Second:
		return fmt.Errorf("diameter config: watchdog: at least 1s, got %s", c.Watchdog)
	case c.CERTimeout < 0 || c.RelayTimeout < 0 || c.WriteTimeout < 0:
		return fmt.Errorf("diameter config: cer_timeout, relay_timeout and write_timeout must be positive")
	case c.MaxConnections < 1:
		return fmt.Errorf("diameter config: max_connections: at least 1, got %d", c.MaxConnections)
	case c.MaxUnauthenticated < 1:
		return fmt.Errorf("diameter config: max_unauthenticated: at least 1, got %d", c.MaxUnauthenticated)
	case c.MaxPendingRelays < 1 || c.MaxPendingPerPeer < 1:
		return fmt.Errorf("diameter config: max_pending_relays and max_pending_per_peer: at least 1")
	case c.MaxMessageSize < 1024 || c.MaxMessageSize > 1<<24-1:
		return fmt.Errorf("diameter config: max_message_size: 1024 to 16777215 bytes, got %d", c.MaxMessageSize)
	case equipmentStatus(c.UnknownSIM) < 0:
		return fmt.Errorf("diameter config: unknown_sim: whitelisted, greylisted or blacklisted, got %q", c.UnknownSIM)
	case c.HSS.Addr != "" && (c.HSS.Host == "" || c.HSS.Realm == ""):
		return fmt.Errorf("diameter config: hss: addr needs host and realm (the HSS's Origin-Host and realm)")
	case c.HSS.Addr == "" && !*c.EIR:
		return fmt.Errorf("diameter config: nothing to serve: the EIR is off and no hss.addr is set")
	}
	return nil
}

func fieldOf(err error) string {
	if e, ok := err.(*simguard.Error); ok {
		return e.Field
	}
	return ""
}

func equipmentStatus(s string) int {
	switch s {
	case "whitelisted":
		return 0
	case "blacklisted":
		return 1
	case "greylisted":
		return 2
	}
	return -1
}
