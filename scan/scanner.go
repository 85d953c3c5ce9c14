package scan

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
// and the live data sessions; both methods must be cheap and safe for
// concurrent use.
type Inventory interface {
	DeviceByIP(tenantID int64, addr netip.Addr) (Device, bool)
	Group(tenantID int64, name string) (simguard.Group, bool)
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
	}, nil
}

// Request is one scan.
type Request struct {
	TenantID int64
	// Scope names the series of scans this one is compared with
	// ("group:meters"); default "adhoc".
	Scope string
	// Actor is who asked; it goes into the audit record of the run.
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
	p := &plan{req: req, targets: targets, addrs: addrs, ports: ports}
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
