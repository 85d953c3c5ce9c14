package scan

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan/creds"
)

// Device is the SIM behind an address.
type Device struct {
	SIMID int64
	Group string
}

// Inventory tells which SIM holds an address and what its group allows.
// The control plane implements it from the policy snapshot (static IPs)
// and the live data sessions; all methods must be cheap and safe for
// concurrent use.
type Inventory interface {
	DeviceByIP(tenantID int64, addr netip.Addr) (Device, bool)
	Group(tenantID int64, name string) (simguard.Group, bool)
	// TenantAddrs lists, sorted, the addresses that are the tenant's
	// devices now: the static IPs and live-session addresses of its SIMs,
	// less any address a live session of another tenant's SIM holds.
	// A tenant's scan reaches nothing else (see Request.Actor).
	TenantAddrs(tenantID int64) []netip.Addr
}

// Deps are the scanner's collaborators. All are optional: without Store
// there is no history, no diff and no Queue; without Inventory findings
// name no SIM; without Fleet a request cannot name a group; without
// Events nothing is emitted.
type Deps struct {
	Logger     *slog.Logger
	Clock      func() time.Time
	Registerer prometheus.Registerer
	Store      simguard.FindingStore
	Inventory  Inventory
	Fleet      Fleet
	Events     simguard.EventSink
}

// Scanner audits the fleet's exposure. It is safe for concurrent scans;
// they share one packets-per-second budget.
type Scanner struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	limit   *bucket
	dialer  *net.Dialer
	metrics *metrics
	creds   *creds.Auditor
	deps    Deps
	// slots holds a token per scan sending packets (Config.Parallel).
	slots chan struct{}
	// connectTCP is connectTCP; tests make a device fall silent with it,
	// which loopback cannot do.
	connectTCP func(ctx context.Context, ap netip.AddrPort, timeout time.Duration, spare *socket) (PortState, error)
}

// New validates cfg and returns a scanner.
func New(cfg Config, deps Deps) (*Scanner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register scan metrics: %w", err)
	}
	ca, err := creds.New(cfg.Creds, deps.Logger)
	if err != nil {
		return nil, err
	}
	return &Scanner{
		cfg:     cfg,
		log:     deps.Logger,
		now:     deps.Clock,
		limit:   newBucket(cfg.Rate, time.Now),
		dialer:  &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: -1},
		metrics: m,
		creds:   ca,
		deps:    deps,
		slots:   make(chan struct{}, cfg.Parallel),

		connectTCP: connectTCP,
	}, nil
}

// Request is one scan.
type Request struct {
	TenantID int64
	// Scope names the series of scans this one is compared with
	// ("group:meters"); default "adhoc".
	Scope string
	// Actor is who asked; it goes into the audit record of the run. Only
	// a provider admin (Actor.Provider) or a scan outside any tenant
	// (TenantID 0: a local scan) may reach every address of the audit
	// ranges; any other scan is confined to the addresses of its tenant's
	// SIMs (Inventory.TenantAddrs): an address target that is not one is
	// refused (EFORBIDDEN), a CIDR target is narrowed to the tenant's
	// addresses inside it (ScanStats.Narrowed counts such targets).
	Actor simguard.Actor
	// Targets are addresses or CIDRs inside the audit ranges.
	Targets []string
	// Group, instead of Targets, scans the addresses of the group's
	// devices now (Deps.Fleet); the scope defaults to "group:<name>".
	Group string
	// Ports is a port specification (see ParsePorts); default "top1000,iot".
	Ports string
	// UDP adds the UDP probes (SNMP, CoAP, DNS, NTP, MQTT-SN).
	UDP bool
	// Credentials opts in to the default-credential audit.
	Credentials bool
	// ExtraCredentials are tried before the shipped list (a user file read
	// with creds.ParseList).
	ExtraCredentials []creds.Pair
	// PortsOnly skips identification (and so the credential audit): a
	// fast sweep that reports open ports only.
	PortsOnly bool
}

// plan is a validated request.
type plan struct {
	req     Request
	targets []netip.Prefix
	addrs   []netip.Addr
	ports   PortList
	udp     []udpProbe
	// confined: only the tenant's own addresses may be probed, checked
	// again just before the sweep (a dynamic address can move to another
	// tenant's SIM while the scan waits in the queue).
	confined bool
	// narrowed counts CIDR targets cut down to the tenant's addresses.
	narrowed int
}

// prepare resolves a group request into its devices' addresses and plans
// the scan.
func (s *Scanner) prepare(ctx context.Context, req Request) (*plan, error) {
	if req.Group != "" {
		if len(req.Targets) > 0 {
			return nil, simguard.FieldError("group", "give targets or a group, not both")
		}
		if err := simguard.ValidateName(req.Group); err != nil {
			return nil, simguard.FieldError("group", "%s", simguard.ErrorMessage(err))
		}
		if s.deps.Fleet == nil {
			return nil, simguard.Errorf(simguard.EUNAVAILABLE, "this scanner has no fleet inventory; give targets instead of a group")
		}
		if inv := s.deps.Inventory; inv != nil {
			if _, ok := inv.Group(req.TenantID, req.Group); !ok {
				return nil, simguard.FieldError("group", "no group %q in this tenant", req.Group)
			}
		}
		addrs, err := s.deps.Fleet.GroupAddrs(ctx, req.TenantID, req.Group)
		if err != nil {
			return nil, fmt.Errorf("addresses of group %s: %w", req.Group, err)
		}
		if len(addrs) == 0 {
			return nil, simguard.FieldError("group", "no active SIM of group %s has an address (a live data session or a static IP): nothing to scan", req.Group)
		}
		for _, a := range addrs {
			req.Targets = append(req.Targets, a.String())
		}
		if req.Scope == "" {
			req.Scope = "group:" + req.Group
		}
	}
	return s.plan(req)
}

// plan validates req without sending anything: the targets must lie in
// the audit ranges, the ports must parse.
func (s *Scanner) plan(req Request) (*plan, error) {
	if req.Scope == "" {
		req.Scope = "adhoc"
	}
	if len(req.Scope) > 128 {
		return nil, simguard.FieldError("scope", "at most 128 characters")
	}
	targets, err := ParseTargets(req.Targets, s.cfg.AuditRanges)
	if err != nil {
		return nil, err
	}
	confined := confinedTo(req) != 0
	narrowed := 0
	if confined {
		if targets, narrowed, err = s.confine(req.TenantID, targets); err != nil {
			return nil, err
		}
	}
	addrs, err := ExpandTargets(targets, s.cfg.MaxHosts)
	if err != nil {
		return nil, err
	}
	ports, err := ParsePorts(req.Ports)
	if err != nil {
		return nil, err
	}
	if req.Credentials && req.PortsOnly {
		return nil, simguard.FieldError("credentials", "a credential audit needs identification; drop ports_only")
	}
	p := &plan{req: req, targets: targets, addrs: addrs, ports: ports, confined: confined, narrowed: narrowed}
	if req.UDP {
		p.udp = udpProbes
	}
	return p, nil
}

// Validate checks a request as Scan would, without scanning: for an API
// that must refuse bad targets before it queues a job.
func (s *Scanner) Validate(ctx context.Context, req Request) error {
	_, err := s.prepare(ctx, req)
	return err
}

// confinedTo returns the tenant whose own addresses are all req may
// reach, or 0 when it may reach the whole audit ranges: a provider admin
// audits the shared address pools, a local scan (no tenant) answers to
// the --audit-range of whoever runs it.
func confinedTo(req Request) int64 {
	if req.TenantID == 0 || req.Actor.Provider && req.TenantID == simguard.ProviderTenantID {
		return 0
	}
	return req.TenantID
}

// ownAddrs is the set of the tenant's addresses now.
func (s *Scanner) ownAddrs(tenantID int64) (map[netip.Addr]bool, error) {
	if s.deps.Inventory == nil {
		return nil, simguard.Errorf(simguard.EUNAVAILABLE,
			"this scanner has no fleet inventory, so it cannot tell which addresses are your tenant's: only a provider admin may scan here")
	}
	own := map[netip.Addr]bool{}
	for _, a := range s.deps.Inventory.TenantAddrs(tenantID) {
		own[a.Unmap()] = true
	}
	return own, nil
}

// confine keeps a tenant's scan on its own devices: an address target
// must be one of them (EFORBIDDEN, naming it, if not), a CIDR target is
// replaced by the tenant's addresses inside it (EFORBIDDEN when there is
// none). The run's targets are then exactly what is scanned, so the
// coverage that closes findings stays honest.
func (s *Scanner) confine(tenantID int64, targets []netip.Prefix) ([]netip.Prefix, int, error) {
	own, err := s.ownAddrs(tenantID)
	if err != nil {
		return nil, 0, err
	}
	var sorted []netip.Addr
	var out []netip.Prefix
	narrowed := 0
	for i, t := range targets {
		field := fmt.Sprintf("targets[%d]", i)
		if t.IsSingleIP() {
			if !own[t.Addr()] {
				return nil, 0, &simguard.Error{Code: simguard.EFORBIDDEN, Field: field, Message: fmt.Sprintf(
					"%s is not the address of a SIM of your tenant (a static IP, or a live data session's): a tenant may scan only its own devices", t.Addr())}
			}
			out = append(out, t)
			continue
		}
		if sorted == nil {
			sorted = make([]netip.Addr, 0, len(own))
			for a := range own {
				sorted = append(sorted, a)
			}
			slices.SortFunc(sorted, netip.Addr.Compare)
		}
		n := 0
		for _, a := range sorted {
			if t.Contains(a) {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				n++
			}
		}
		if n == 0 {
			return nil, 0, &simguard.Error{Code: simguard.EFORBIDDEN, Field: field, Message: fmt.Sprintf(
				"%s holds no address of a SIM of your tenant (static IPs, live data sessions): a tenant may scan only its own devices", t)}
		}
		narrowed++
	}
	return out, narrowed, nil
}
