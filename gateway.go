package simguard

import (
	"net/netip"
	"time"
)

// Gateway firewall domain: what the nftables agent on the packet gateway
// reports about the ruleset it installed. The policy it enforces is the
// groups' Policy.Egress and Policy.Inbound and the SIMs' states, read from
// the one policy snapshot; the gateway keeps no policy of its own.

// EventFlowDenied is the event type of a packet flow the gateway dropped.
// Its attrs are src, dst, proto, port, direction ("egress" or "inbound")
// and the SIM's imsi when the device address belongs to a known SIM.
const EventFlowDenied = "flow.denied"

// SourceGateway is the Event.Source of the gateway firewall.
const SourceGateway = "gateway"

// SNATMode says how device traffic leaving through the uplink is
// translated.
type SNATMode string

const (
	SNATMasquerade SNATMode = "masquerade" // the uplink's own address
	SNATAddress    SNATMode = "address"    // one fixed address
	SNATOff        SNATMode = "off"        // routed without translation
)

// GatewayStatus is what a gateway agent has installed, for the API and the
// CLI. Counters are packets since the table was last replaced whole.
type GatewayStatus struct {
	// Table is the nftables table the agent owns, e.g. "inet simguard".
	Table string `json:"table"`
	// Installed is when the table was last replaced whole; Updated when
	// it last changed at all (set elements included).
	Installed time.Time `json:"installed"`
	Updated   time.Time `json:"updated"`
	// Generation counts whole-table replacements since the agent started.
	Generation int64 `json:"generation"`
	// SIMs are device addresses let through to their group's allowlist;
	// Blocked are device addresses whose SIM may not use data now.
	SIMs    int `json:"sims"`
	Blocked int `json:"blocked"`
	// Outside are SIM addresses outside the device prefixes: this table
	// does not fence them (a configuration error to fix).
	Outside int `json:"outside"`
	Groups  int `json:"groups"`
	// Counters are the named nftables counters: per group
	// ("<group>/allowed", "<group>/denied") and per reason.
	Counters []GatewayCounter `json:"counters"`
	// Ruleset is the installed table as nft text.
	Ruleset string `json:"ruleset,omitempty"`
	// Healthy: the last sync worked and the table is in the kernel.
	// Error says what is wrong otherwise (the agent keeps retrying).
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
	// Verified is when the kernel's table was last read back and found
	// equal to what the agent installed (every resync does).
	Verified time.Time `json:"verified"`
}

// GatewayCounter is one named nftables counter.
type GatewayCounter struct {
	Name     string `json:"name"`
	TenantID int64  `json:"tenant_id,omitempty"`
	Group    string `json:"group,omitempty"`
	// Kind is allowed or denied for a group's counter, or the reason
	// (sim_blocked, sim_unknown, destination_denied, inbound_denied).
	Kind    string `json:"kind"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// DeviceAddrs maps SIM IDs to addresses the network handed out beyond the
// static ones (RADIUS pool leases). The gateway treats them like static
// addresses.
type DeviceAddrs map[int64][]netip.Addr
