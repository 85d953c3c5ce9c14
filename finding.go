package simguard

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Fleet exposure audit: what a scan of the fleet's devices found, and how
// it is kept. A Finding is one open service on one device address.

// Findings and issues rank by Severity (alert.go): info … critical.

// IssueKind is what is wrong with an open service. New kinds may be added;
// existing ones never change meaning.
type IssueKind string

const (
	// IssueDefaultCredential: a vendor default login (or SNMP community)
	// works. Critical: this is how Mirai-style botnets recruit devices.
	IssueDefaultCredential IssueKind = "default_credential"
	// IssuePlaintextLogin: logins cross the network in clear text (Telnet,
	// FTP, HTTP basic auth without TLS, MQTT with a password without TLS).
	IssuePlaintextLogin IssueKind = "plaintext_login"
	// IssuePlaintextProtocol: device data crosses the network unencrypted
	// (HTTP, MQTT, CoAP, Modbus, RTSP, SNMP v1/v2c, MQTT-SN).
	IssuePlaintextProtocol IssueKind = "plaintext_protocol"
	// IssueAnonymousAccess: the service accepts commands without any
	// authentication (MQTT CONNACK accepted, Modbus).
	IssueAnonymousAccess IssueKind = "anonymous_access"
	// IssuePortNotAllowed: the group's Policy.Inbound allows no traffic to
	// this protocol and port, yet the device listens on it.
	IssuePortNotAllowed IssueKind = "port_not_allowed"
	// IssueWeakTLS: the service negotiated a TLS version below 1.2.
	IssueWeakTLS IssueKind = "weak_tls"
	// IssueInfoLeak: the service tells more than it should (an NTP
	// server answering mode 6 READVAR), often also an amplification
	// vector.
	IssueInfoLeak IssueKind = "info_leak"
	// IssueLockout: the credential audit stopped because the device showed
	// signs of locking accounts; the result is incomplete.
	IssueLockout IssueKind = "lockout"
)

// Issue is one problem of a finding.
type Issue struct {
	Kind     IssueKind `json:"kind"`
	Severity Severity  `json:"severity"`
	Detail   string    `json:"detail"`
}

// Credential is a default login that worked. It never holds the password:
// ListEntry points at the line of the credential list that matched
// ("builtin:4", "user:12"), which the operator can look up.
type Credential struct {
	Service   string `json:"service"` // ssh, telnet, http, snmp
	Method    string `json:"method"`  // password, keyboard-interactive, login, basic, community
	Username  string `json:"username"`
	ListEntry string `json:"list_entry"`
}

// Remediation is what closing the finding's port means in policy terms.
// The control plane turns it into a group update guarded by GroupVersion.
type Remediation struct {
	// Action is "close_port": inbound traffic to Proto/Port of the group's
	// SIMs must be denied.
	Action string `json:"action"`
	Group  string `json:"group"`
	Proto  string `json:"proto"`
	Port   uint16 `json:"port"`
	// AllowedBy are indices into the group's Policy.Inbound of the rules
	// that allow the port now; closing it means narrowing each of them.
	// Empty: the policy already denies the port, so the device itself must
	// be fixed (or the gateway is not enforcing the policy on this path).
	AllowedBy []int `json:"allowed_by"`
	// GroupVersion is the group version the indices refer to; a remediation
	// must fail with EPRECONDITION when the group changed since.
	GroupVersion int64 `json:"group_version"`
}

// FindingKey identifies a finding across scans.
type FindingKey struct {
	Target netip.Addr
	Proto  string
	Port   uint16
}

// Finding is one open service on one device address, as one scan saw it.
type Finding struct {
	ID       int64 `json:"id,omitempty"`
	TenantID int64 `json:"tenant_id"`
	ScanID   int64 `json:"scan_id,omitempty"`
	// SIMID and Group are zero when the address belongs to no known SIM.
	SIMID  int64      `json:"sim_id,omitempty"`
	Group  string     `json:"group,omitempty"`
	Target netip.Addr `json:"target"`
	Proto  string     `json:"proto"` // tcp or udp
	Port   uint16     `json:"port"`
	// Service is what answered: ssh, telnet, http, https, tr069, mqtt,
	// mqtts, modbus, rtsp, ftp, smtp, coap, snmp, dns, ntp, mqtt-sn, tls,
	// or unknown.
	Service string `json:"service"`
	// Product is the software the banner names ("OpenSSH_9.2p1 Debian-2",
	// "lighttpd/1.4", "mosquitto").
	Product string `json:"product,omitempty"`
	// Banner is the first printable bytes the service sent, at most 256.
	Banner     string `json:"banner,omitempty"`
	TLS        bool   `json:"tls"`
	TLSVersion string `json:"tls_version,omitempty"`
	// Plaintext: logins or device data cross the network unencrypted.
	Plaintext   bool         `json:"plaintext"`
	Credentials []Credential `json:"credentials,omitempty"`
	Issues      []Issue      `json:"issues,omitempty"`
	// Severity is the highest of the issues' (info when there is none).
	Severity Severity `json:"severity"`
	// Compliant: no issue breaks the group's inbound policy or the
	// no-plaintext rule.
	Compliant   bool         `json:"compliant"`
	Remediation *Remediation `json:"remediation,omitempty"`
	// FirstSeen is when the service was first found open without a scan
	// finding it closed since; LastSeen is when this scan saw it.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// State is the service's state now, as the latest scan that looked
	// at it found it (set by the store when it returns findings): open,
	// or closed since ClosedAt.
	State    FindingState `json:"state,omitempty"`
	ClosedAt time.Time    `json:"closed_at,omitzero"`
}

// FindingState says whether a finding's service is still open.
type FindingState string

const (
	FindingOpen   FindingState = "open"
	FindingClosed FindingState = "closed" // a later complete scan found the port closed
)

// Key returns the finding's identity across scans.
func (f *Finding) Key() FindingKey { return FindingKey{f.Target, f.Proto, f.Port} }

// HasIssue reports whether the finding has an issue of kind k.
func (f *Finding) HasIssue(k IssueKind) bool {
	return slices.ContainsFunc(f.Issues, func(i Issue) bool { return i.Kind == k })
}

// AddIssue appends an issue and raises Severity to it.
func (f *Finding) AddIssue(k IssueKind, s Severity, detail string) {
	f.Issues = append(f.Issues, Issue{Kind: k, Severity: s, Detail: detail})
	if s.Rank() > f.Severity.Rank() {
		f.Severity = s
	}
}

// ScanStatus is the state of a scan run.
type ScanStatus string

const (
	// ScanQueued: recorded and waiting for a free scanner slot.
	ScanQueued   ScanStatus = "queued"
	ScanRunning  ScanStatus = "running"
	ScanDone     ScanStatus = "done"
	ScanFailed   ScanStatus = "failed"
	ScanCanceled ScanStatus = "canceled"
)

// ScanRun is one scan: what it covered and how it went. Coverage (Targets,
// TCPPorts, UDPPorts) is what makes a diff between two runs honest: a port
// is "newly opened" only if the earlier run looked at it.
type ScanRun struct {
	ID       int64 `json:"id,omitempty"`
	TenantID int64 `json:"tenant_id"`
	// Scope groups runs that are compared with each other: "group:meters"
	// for scheduled scans of a group, "adhoc" or a name the operator gives.
	Scope       string         `json:"scope"`
	Actor       string         `json:"actor"`
	Targets     []netip.Prefix `json:"targets"`
	TCPPorts    []PortRange    `json:"tcp_ports"`
	UDPPorts    []PortRange    `json:"udp_ports,omitempty"`
	Credentials bool           `json:"credentials"`
	Status      ScanStatus     `json:"status"`
	Error       string         `json:"error,omitempty"`
	StartedAt   time.Time      `json:"started_at"`
	FinishedAt  time.Time      `json:"finished_at,omitzero"`
	Stats       ScanStats      `json:"stats"`
	// Unreachable lists, sorted, the addresses that answered no probe of
	// the run at all (no open port, no refusal): an offline or sleeping
	// device, or one whose every port is filtered. The run says nothing
	// about their ports, so it closes none of their findings (Covers).
	Unreachable []netip.Addr `json:"unreachable,omitempty"`
	// Inconclusive lists, sorted by target and protocol, the ports of
	// answering addresses whose state the run could not learn (filtered:
	// no answer after the retries; unknown: a local failure). They close
	// no finding either.
	Inconclusive []HostPorts `json:"inconclusive,omitempty"`
}

// HostPorts is a set of ports of one address and protocol.
type HostPorts struct {
	Target netip.Addr  `json:"target"`
	Proto  string      `json:"proto"`
	Ports  []PortRange `json:"ports"`
}

// ScanStats counts what a run did.
type ScanStats struct {
	Hosts     int   `json:"hosts"`
	Probes    int64 `json:"probes"`     // TCP connects and UDP probes sent, retries included
	OpenPorts int   `json:"open_ports"` // TCP and UDP
	// Unknown counts ports, TCP and UDP, whose state could not be learned
	// (local resource errors that persisted); non-zero means the run is
	// partial, and those ports close no finding.
	Unknown int64 `json:"unknown"`
	// Filtered counts ports, TCP and UDP, with no answer even after the
	// retry.
	Filtered int64 `json:"filtered"`
	// Unreachable counts the addresses that answered nothing at all
	// (ScanRun.Unreachable).
	Unreachable int `json:"unreachable"`
	Attempts    int `json:"credential_attempts"`
	// Narrowed counts the CIDR targets of a tenant's scan that were cut
	// down to the tenant's own devices' addresses (Targets lists what
	// was scanned); a tenant other than the provider's admins scans only
	// its own SIMs.
	Narrowed int `json:"narrowed,omitempty"`
}

// Covers reports whether the run looked at proto/port on target and
// learned its state: the port was in the run's lists, the target in its
// targets, the target answered at least one probe (not Unreachable) and
// the port got an answer (not Inconclusive). Only a covered port that
// was not found open is closed.
func (r *ScanRun) Covers(target netip.Addr, proto string, port uint16) bool {
	ranges := r.TCPPorts
	if strings.EqualFold(proto, "udp") {
		ranges, proto = r.UDPPorts, "udp"
	} else {
		proto = "tcp"
	}
	inPorts := slices.ContainsFunc(ranges, func(pr PortRange) bool { return pr.Contains(port) })
	if !inPorts {
		return false
	}
	if !slices.ContainsFunc(r.Targets, func(p netip.Prefix) bool { return p.Contains(target) }) {
		return false
	}
	if _, silent := slices.BinarySearchFunc(r.Unreachable, target, netip.Addr.Compare); silent {
		return false
	}
	i, ok := slices.BinarySearchFunc(r.Inconclusive, HostPorts{Target: target, Proto: proto}, compareHostPorts)
	return !ok || !slices.ContainsFunc(r.Inconclusive[i].Ports, func(pr PortRange) bool { return pr.Contains(port) })
}

// compareHostPorts orders HostPorts by target, then protocol.
func compareHostPorts(a, b HostPorts) int {
	if c := a.Target.Compare(b.Target); c != 0 {
		return c
	}
	return strings.Compare(a.Proto, b.Proto)
}

// SortUnanswered sorts Unreachable and Inconclusive as Covers needs them.
func (r *ScanRun) SortUnanswered() {
	slices.SortFunc(r.Unreachable, netip.Addr.Compare)
	slices.SortFunc(r.Inconclusive, compareHostPorts)
}

// FindingFilter selects findings. Zero fields do not filter.
//
// With ScanID, the findings of that run; without, the tenant's exposure:
// the latest finding of every service ever found open, one per address,
// protocol and port, open or closed.
type FindingFilter struct {
	TenantID    int64
	ScanID      int64
	SIMID       int64
	Group       string
	Target      netip.Addr
	MinSeverity Severity
	State       FindingState
	// Kind keeps findings that have an issue of this kind.
	Kind    IssueKind
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// FindingStore keeps scan runs and their findings.
type FindingStore interface {
	// CreateScanRun stores run (Status queued or running) and sets its ID.
	// It appends the audit record ch ("scan.start", Object "scan:<id>") in
	// the same transaction: a credential audit touches devices and must
	// not be deniable. Durable before it returns.
	CreateScanRun(ctx context.Context, run ScanRun, ch Change) (ScanRun, error)
	// StartScanRun moves a queued run to running as of at; ECONFLICT when
	// it is not queued, ENOTFOUND when there is no such run.
	StartScanRun(ctx context.Context, tenantID, id int64, at time.Time) error
	// FinishScanRun writes the run's final state and all its findings in
	// one transaction; a run is never visible as done with only part of
	// its findings. It sets ID, ScanID, TenantID, FirstSeen and State of
	// each element of findings, and keeps every service's exposure: a
	// finding opens (or refreshes) it, and a done run closes the open
	// ones it covered (ScanRun.Covers: looked at and got an answer) and
	// did not find. ENOTFOUND for an unknown run.
	FinishScanRun(ctx context.Context, run ScanRun, findings []Finding) error
	// AbandonScanRuns marks every queued or running run failed with
	// reason: on start, for runs a stopped process left behind. It
	// returns how many it marked.
	AbandonScanRuns(ctx context.Context, reason string) (int64, error)
	// GetScanRun returns one run of the tenant; ENOTFOUND if none.
	GetScanRun(ctx context.Context, tenantID, id int64) (ScanRun, error)
	// LastScanRun returns the most recent run of the tenant in scope with
	// status done and an ID below beforeID (0: any), and its findings;
	// ENOTFOUND when there is none.
	LastScanRun(ctx context.Context, tenantID int64, scope string, beforeID int64) (ScanRun, []Finding, error)
	// ListScanRuns returns a tenant's runs, newest first (limit as in
	// FindingFilter).
	ListScanRuns(ctx context.Context, tenantID int64, limit int) ([]ScanRun, error)
	// FindFindings returns findings matching f in ID order.
	FindFindings(ctx context.Context, f FindingFilter) ([]Finding, error)
	// GetFinding returns one finding of the tenant; ENOTFOUND if none.
	GetFinding(ctx context.Context, tenantID, id int64) (Finding, error)
}
