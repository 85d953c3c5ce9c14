package simguard

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// RADIUS AAA domain: the packet gateways (NAS clients) simguard answers,
// the data sessions it accounts and the addresses it leases.

// ReasonIPPoolExhausted rejects an Access-Request that the policy allowed
// because the APN's address pool has no free address left. It is decided
// by the RADIUS adapter, not by the policy.
const ReasonIPPoolExhausted Reason = "ip_pool_exhausted"

// IdentitySource is an attribute of an Access-Request that can name the SIM.
type IdentitySource string

const (
	// IdentityIMSI is 3GPP-IMSI (vendor 10415, type 1).
	IdentityIMSI IdentitySource = "3gpp-imsi"
	// IdentityUserName is User-Name: an IMSI when it is 15 digits (an
	// "@realm" suffix is ignored), otherwise an MSISDN.
	IdentityUserName IdentitySource = "user-name"
	// IdentityCallingStationID is Calling-Station-Id, read as the MSISDN.
	IdentityCallingStationID IdentitySource = "calling-station-id"
)

// DefaultIdentityOrder is tried when a NAS client names none.
var DefaultIdentityOrder = []IdentitySource{IdentityIMSI, IdentityUserName, IdentityCallingStationID}

// NASSecretContext is the context (additional data) under which NAS
// shared secrets are sealed (package sealed) before they reach a store.
const NASSecretContext = "radius.nas_client.secret"

// TopicNASClients is the control-plane topic published after NAS clients
// changed, so that running RADIUS servers reload them.
const TopicNASClients = "radius.nas"

// DefaultCoAPort is where a NAS listens for Disconnect/CoA requests (RFC 5176).
const DefaultCoAPort = 3799

// NASClient is a packet gateway (PGW, GGSN, or any RADIUS NAS) allowed to
// ask simguard. Packets are matched to a client by their source address:
// the client with the longest Prefix containing it wins.
type NASClient struct {
	ID int64 `json:"id"`
	// TenantID 1 (the provider) may ask about any SIM; a client of another
	// tenant gets answers only about that tenant's SIMs.
	TenantID int64        `json:"tenant_id"`
	Name     string       `json:"name"`
	Prefix   netip.Prefix `json:"prefix"`
	// Secret is the RADIUS shared secret. It is never serialized, logged or
	// written into an audit record. In memory it is plaintext; on its way
	// to a NASClientStore it is sealed (NASSecretContext) by the control
	// service, and whoever reads it back opens it.
	Secret string `json:"-"`
	// IdentityOrder is tried in order until one attribute names a SIM;
	// empty means DefaultIdentityOrder.
	IdentityOrder []IdentitySource `json:"identity_order,omitempty"`
	// AllowMissingMessageAuthenticator accepts Access-Requests without
	// Message-Authenticator (RFC 3579). Off by default: without it an
	// Access-Request can be forged (Blast-RADIUS, CVE-2024-3596).
	AllowMissingMessageAuthenticator bool `json:"allow_missing_message_authenticator,omitempty"`
	// CoAPort is the NAS's Disconnect/CoA port; 0 means DefaultCoAPort.
	CoAPort uint16 `json:"coa_port,omitempty"`
	// CoAAddr is where Disconnect-Requests go; invalid means the source
	// address the NAS's accounting came from.
	CoAAddr   netip.Addr `json:"coa_addr,omitzero"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// String never shows the secret.
func (c NASClient) String() string { return fmt.Sprintf("nas:%s(%s)", c.Name, c.Prefix) }

// Validate checks a client and fills in defaults (identity order, CoA
// port, masked prefix). The error names the field.
func (c *NASClient) Validate() error {
	if err := ValidateName(c.Name); err != nil {
		return FieldError("name", "%s", err.(*Error).Message)
	}
	if !c.Prefix.IsValid() {
		return FieldError("prefix", "must be an address or CIDR like 192.0.2.10/32 or 2001:db8::/64")
	}
	c.Prefix = netip.PrefixFrom(c.Prefix.Addr().Unmap(), c.Prefix.Bits()).Masked()
	if len(c.Secret) < 8 || len(c.Secret) > 128 {
		return FieldError("secret", "must be 8 to 128 characters (RFC 2865 shared secret)")
	}
	if len(c.IdentityOrder) == 0 {
		c.IdentityOrder = append([]IdentitySource(nil), DefaultIdentityOrder...)
	}
	seen := map[IdentitySource]bool{}
	for i, s := range c.IdentityOrder {
		switch s {
		case IdentityIMSI, IdentityUserName, IdentityCallingStationID:
		default:
			return FieldError(fmt.Sprintf("identity_order[%d]", i), "must be 3gpp-imsi, user-name or calling-station-id, got %q", clip(string(s)))
		}
		if seen[s] {
			return FieldError(fmt.Sprintf("identity_order[%d]", i), "%s is listed twice", s)
		}
		seen[s] = true
	}
	if c.CoAPort == 0 {
		c.CoAPort = DefaultCoAPort
	}
	if c.CoAAddr.IsValid() {
		c.CoAAddr = c.CoAAddr.Unmap()
		if c.CoAAddr.IsUnspecified() || c.CoAAddr.IsMulticast() {
			return FieldError("coa_addr", "%s cannot receive Disconnect-Requests", c.CoAAddr)
		}
	}
	return nil
}

// NASClientStore keeps NAS clients. Writes are audited; the audit record
// never contains the secret. The store keeps Secret as given (sealed by
// the caller) and checks the other fields with Validate.
type NASClientStore interface {
	// CreateNASClient fails with ECONFLICT when the name or the prefix is
	// taken.
	CreateNASClient(ctx context.Context, c NASClient, ch Change) (NASClient, error)
	GetNASClient(ctx context.Context, tenantID, id int64) (NASClient, error)
	// ListNASClients lists a tenant's clients; tenantID 0 lists every
	// tenant's (what the RADIUS server loads).
	ListNASClients(ctx context.Context, tenantID int64) ([]NASClient, error)
	// UpdateNASClient works like UpdateGroup.
	UpdateNASClient(ctx context.Context, tenantID, id, ifVersion int64, ch Change, fn func(*NASClient) error) (NASClient, error)
	DeleteNASClient(ctx context.Context, tenantID, id, ifVersion int64, ch Change) error
}

// RADIUSSession is one data session seen in accounting. A session is live
// until it has a Stop time. Counters are totals for the session as the NAS
// reported them, Gigawords included.
type RADIUSSession struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	SIMID    int64 `json:"sim_id,omitempty"` // 0: the SIM is not known
	// NAS is the NASClient name; SessionID is its Acct-Session-Id. At most
	// one live session exists per (NAS, SessionID).
	NAS       string     `json:"nas"`
	NASAddr   netip.Addr `json:"nas_addr"`
	SessionID string     `json:"session_id"`
	// Class is the correlation value simguard put in the Access-Accept.
	Class    string     `json:"class,omitempty"`
	UserName string     `json:"user_name,omitempty"`
	IMSI     string     `json:"imsi,omitempty"`
	MSISDN   string     `json:"msisdn,omitempty"`
	IMEI     string     `json:"imei,omitempty"`
	APN      string     `json:"apn,omitempty"`
	RAT      RAT        `json:"rat,omitempty"`
	Location Location   `json:"location,omitzero"`
	IP       netip.Addr `json:"ip,omitzero"`

	Start      time.Time `json:"start"`
	Stop       time.Time `json:"stop,omitzero"`
	LastUpdate time.Time `json:"last_update"`
	// TerminateCause is Acct-Terminate-Cause as a name ("user-request",
	// "admin-reset" …), or how simguard closed the session.
	TerminateCause string `json:"terminate_cause,omitempty"`

	InputOctets   uint64 `json:"input_octets"`
	OutputOctets  uint64 `json:"output_octets"`
	InputPackets  uint64 `json:"input_packets"`
	OutputPackets uint64 `json:"output_packets"`
	// UsageReported is how many octets (in+out) were already passed to
	// Feedback.AddUsage, so that each octet is metered once.
	UsageReported uint64 `json:"usage_reported"`

	Disconnect *RADIUSDisconnect `json:"disconnect,omitempty"`
	// Version increases with every SaveSession.
	Version int64 `json:"version"`
}

// Live reports whether the session has not stopped.
func (s *RADIUSSession) Live() bool { return s.Stop.IsZero() }

// DisconnectOutcome is how a Disconnect-Request ended.
type DisconnectOutcome string

const (
	DisconnectACK     DisconnectOutcome = "ack"     // the NAS ended the session
	DisconnectNAK     DisconnectOutcome = "nak"     // the NAS refused; see ErrorCause
	DisconnectTimeout DisconnectOutcome = "timeout" // no answer after every retry
	DisconnectError   DisconnectOutcome = "error"   // could not be sent
)

// RADIUSDisconnect records the last Disconnect-Request (RFC 5176) sent for
// a session.
type RADIUSDisconnect struct {
	At      time.Time         `json:"at"`
	Reason  Reason            `json:"reason"` // why the policy now denies the session
	Outcome DisconnectOutcome `json:"outcome"`
	// ErrorCause is the NAK's Error-Cause (RFC 5176 §3.6), 0 if none.
	ErrorCause uint32 `json:"error_cause,omitempty"`
	Attempts   int    `json:"attempts"`
}

// RADIUSSessionFilter selects sessions. Zero fields do not filter.
type RADIUSSessionFilter struct {
	TenantID int64
	SIMID    int64
	NAS      string
	LiveOnly bool
	// AfterID pages forward in ID order.
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// RADIUSSessionStore keeps accounting sessions. Every write is durable
// when the method returns: the RADIUS server answers an Accounting-Request
// only after that. Sessions are metering, not operator changes, and are
// not audited.
type RADIUSSessionStore interface {
	// LiveSession returns the live session of nas with Acct-Session-Id
	// sessionID, ENOTFOUND when there is none.
	LiveSession(ctx context.Context, nas, sessionID string) (RADIUSSession, error)
	// LastSession returns the most recent session (live or not) of nas
	// with sessionID, ENOTFOUND when there is none.
	LastSession(ctx context.Context, nas, sessionID string) (RADIUSSession, error)
	// SaveSession inserts s when s.ID is 0 (setting ID and Version 1) and
	// fails with ECONFLICT if s is live and a live session with the same
	// (NAS, SessionID) exists. Otherwise it updates the session s.ID,
	// failing with EPRECONDITION unless the stored Version is s.Version,
	// and increments s.Version. It never writes the Disconnect field, which
	// SetSessionDisconnect owns.
	SaveSession(ctx context.Context, s *RADIUSSession) error
	// SetSessionDisconnect records d on session id without touching the
	// rest (nor the Version).
	SetSessionDisconnect(ctx context.Context, id int64, d RADIUSDisconnect) error
	// StopNASSessions stops every live session of nas at t with cause (the
	// NAS restarted: Accounting-On/Off) and says how many it stopped.
	StopNASSessions(ctx context.Context, nas string, t time.Time, cause string) (int64, error)
	// ListSessions returns sessions matching f in ID order.
	ListSessions(ctx context.Context, f RADIUSSessionFilter) ([]RADIUSSession, error)
}

// IPLease is an address of a pool held by a SIM. A SIM keeps its lease
// across sessions and restarts until it is released.
type IPLease struct {
	Pool      string     `json:"pool"`
	IP        netip.Addr `json:"ip"`
	SIMID     int64      `json:"sim_id"`
	TenantID  int64      `json:"tenant_id"`
	CreatedAt time.Time  `json:"created_at"`
}

// IPLeaseStore keeps address leases. Every write is durable when the
// method returns. The store enforces both uniqueness rules itself, so
// several RADIUS servers can share it: within a pool an address is held
// by at most one SIM, and a SIM holds at most one address.
type IPLeaseStore interface {
	// ListLeases returns every lease of pool.
	ListLeases(ctx context.Context, pool string) ([]IPLease, error)
	// GetLease returns the SIM's lease in pool, ENOTFOUND when it has none.
	GetLease(ctx context.Context, pool string, simID int64) (IPLease, error)
	// CreateLease records l. It fails with ECONFLICT when l.IP is held in
	// l.Pool or l.SIMID already holds an address in l.Pool.
	CreateLease(ctx context.Context, l IPLease) error
	// ReleaseLeases deletes every lease of the SIM (it was terminated) and
	// says how many it deleted.
	ReleaseLeases(ctx context.Context, simID int64) (int64, error)
}
