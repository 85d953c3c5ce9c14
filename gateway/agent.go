package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// Deps are what the agent needs from its host.
type Deps struct {
	Policy *enforce.Policy       // the live snapshot (in serve, or a node's)
	Events simguard.EventSink    // flow.denied events
	Logger *slog.Logger          // nil: discard
	Reg    prometheus.Registerer // nil: not registered
	Clock  func() time.Time      // nil: time.Now
	// Addrs returns addresses handed out beyond the static ones (RADIUS
	// pool leases); nil when there are none to follow.
	Addrs func(context.Context) (simguard.DeviceAddrs, error)
	// NetNS is a descriptor of the network namespace to program; 0 means
	// the agent's own.
	NetNS int
}

// Options are the agent's run settings beyond the ruleset.
type Options struct {
	// Resync recompiles the whole ruleset this often, so that activation
	// windows, ActiveUntil and new leases take effect (default 30s).
	Resync time.Duration
	// RemoveOnExit deletes the table when Run ends. The default leaves
	// the last rules in place: devices stay fenced while the agent is
	// down (fail closed).
	RemoveOnExit bool
	// NoNFLog skips reading denied packets (no flow.denied events).
	NoNFLog bool
}

// Agent keeps the kernel's table equal to what the policy says.
type Agent struct {
	cfg  Config
	opt  Options
	deps Deps
	log  *slog.Logger
	now  func() time.Time
	nl   *Netlink
	m    *metrics

	kick chan struct{}

	mu       sync.Mutex // guards everything below
	cur      *Ruleset   // what the kernel holds; nil before the first install
	addrs    simguard.DeviceAddrs
	pending  map[int64]bool
	noted    simguard.DeviceAddrs // addresses heard of since the last sync
	full     bool
	gen      int64
	install  time.Time
	updated  time.Time
	lastErr  error
	verified time.Time // when the kernel's table last matched cur
	watchers []chan struct{}

	outside  int // SIM addresses outside DeviceNets at the last compile (Run's goroutine)
	verifies int // kernel checks so far (Run's goroutine)
}

// deepVerifyAddrs: up to this many device addresses every check reads
// the verdict maps too.
const deepVerifyAddrs = 20_000

// New checks cfg and builds an agent; nothing is programmed until Run.
func New(cfg Config, opt Options, deps Deps) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Policy == nil {
		return nil, errors.New("gateway: no policy")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if opt.Resync <= 0 {
		opt.Resync = 30 * time.Second
	}
	a := &Agent{
		cfg: cfg, opt: opt, deps: deps, log: deps.Logger.With("component", "gateway"), now: deps.Clock,
		nl: NewNetlink(deps.NetNS), kick: make(chan struct{}, 1), pending: map[int64]bool{}, full: true,
	}
	a.m = newMetrics(a, deps.Reg)
	return a, nil
}

// Run reconciles the table with the policy (a whole install on start, so
// that whatever was left there is replaced), then follows every policy
// change until ctx ends. A change to single SIMs changes set elements
// only; anything else recompiles and, if the structure changed, replaces
// the table whole in one batch.
func (a *Agent) Run(ctx context.Context) error {
	unsubscribe := a.deps.Policy.Subscribe(func(_, _ *policy.Snapshot, ids []int64) {
		a.mu.Lock()
		if ids == nil {
			a.full = true
		}
		for _, id := range ids {
			a.pending[id] = true
		}
		a.mu.Unlock()
		a.poke()
	})
	defer unsubscribe()
	if err := a.sync(ctx); err != nil {
		return err // the first install must work: no privilege, no kernel support
	}
	a.log.Info("gateway table installed", "table", "inet "+a.cfg.Table, "device_nets", fmt.Sprint(a.cfg.DeviceNets),
		"device_ifaces", fmt.Sprint(a.cfg.DeviceIfaces), "uplink", a.cfg.Uplink, "snat", a.cfg.SNAT, "nflog_group", a.cfg.NFLogGroup)
	for _, w := range a.cfg.Warnings() {
		a.log.Warn("gateway: " + w)
	}
	var wg sync.WaitGroup
	if !a.opt.NoNFLog {
		nfl, err := OpenNFLog(a.deps.NetNS, a.cfg.NFLogGroup)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer nfl.Close()
			if err := nfl.Run(ctx, a.denied); err != nil {
				a.log.Error("denied packets are no longer read: no flow.denied events until restart", "err", err)
			}
		}()
	}
	defer wg.Wait()
	tick := time.NewTicker(a.opt.Resync)
	defer tick.Stop()
	// After a failure the agent retries on its own (1 s, doubling up to
	// the resync interval) rather than waiting for the next change: a
	// table someone removed must come back quickly.
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			if a.opt.RemoveOnExit {
				if err := a.nl.Remove(a.cfg.Table); err != nil {
					return err
				}
				a.log.Info("gateway table removed on exit", "table", "inet "+a.cfg.Table)
			} else {
				a.log.Info("gateway stopping; its table stays in place (fail closed)", "table", "inet "+a.cfg.Table)
			}
			return nil
		case <-tick.C:
			a.mu.Lock()
			a.full = true
			a.mu.Unlock()
		case <-retry.C:
		case <-a.kick:
		}
		if err := a.sync(ctx); err != nil {
			// Keep whatever the kernel holds (fail closed), install the
			// table whole on the next try, and try again soon.
			backoff = min(max(2*backoff, time.Second), a.opt.Resync)
			a.log.Error("gateway table not updated; retrying with a whole install", "err", err, "retry_in", backoff)
			retry.Reset(backoff)
		} else {
			backoff = 0
		}
	}
}

func (a *Agent) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// sync brings the kernel up to date with what is pending.
func (a *Agent) sync(ctx context.Context) error {
	a.mu.Lock()
	full, ids := a.full, make([]int64, 0, len(a.pending))
	for id := range a.pending {
		ids = append(ids, id)
	}
	noted := a.noted
	a.full, a.pending, a.noted = false, map[int64]bool{}, nil
	a.mu.Unlock()
	// a.addrs belongs to this goroutine (Run's): only sync and swap,
	// which runs inside it, touch it.
	for id, ips := range noted {
		if a.addrs == nil {
			a.addrs = simguard.DeviceAddrs{}
		}
		for _, ip := range ips {
			if !slices.Contains(a.addrs[id], ip) {
				a.addrs[id] = append(a.addrs[id], ip)
			}
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	snap := a.deps.Policy.Snapshot()
	now := a.now()
	var err error
	switch {
	case full || a.cur == nil:
		err = a.syncFull(ctx, snap, now)
	case len(ids) > 0:
		err = a.syncSIMs(snap, ids, now)
	}
	a.mu.Lock()
	a.lastErr = err
	if err != nil {
		// What the kernel holds is no longer known: the next sync
		// installs the table whole instead of computing a delta against
		// a ruleset that may never have reached the kernel.
		a.full, a.cur = true, nil
	}
	ws := a.watchers
	a.watchers = nil
	a.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
	return err
}

func (a *Agent) syncFull(ctx context.Context, snap *policy.Snapshot, now time.Time) error {
	addrs := a.addrs
	if a.deps.Addrs != nil {
		got, err := a.deps.Addrs(ctx)
		if err != nil {
			// Old leases are better than none: a device keeps its access.
			a.log.Warn("device address leases not read; using the last ones", "err", err)
		} else {
			addrs = got
		}
	}
	start := time.Now()
	next := Compile(snap, a.cfg, now, addrs)
	if next.Outside != a.outside {
		a.outside = next.Outside
		if next.Outside > 0 {
			a.log.Warn("SIM addresses outside device_nets are not fenced by this table (their traffic is not device traffic here); widen device_nets or fix the addresses",
				"count", next.Outside, "device_nets", fmt.Sprint(a.cfg.DeviceNets))
		}
	}
	if c := next.Conflicts(); len(c) > 0 {
		a.log.Warn("device addresses claimed by more than one SIM are blocked for all of them; give each SIM its own address",
			"count", len(c), "addresses", fmt.Sprint(c[:min(len(c), 10)]))
	}
	a.mu.Lock()
	cur := a.cur
	a.mu.Unlock()
	if cur != nil {
		// The kernel's table must still be the one installed: someone
		// may have flushed the ruleset or changed the table, and a delta
		// against it would leave devices unfenced.
		// The verdict maps are read whole every tenth check at scale
		// (they cost over a second at 100,000 SIMs and fail closed),
		// every time for smaller fleets.
		a.verifies++
		deep := len(cur.Addrs) <= deepVerifyAddrs || a.verifies%10 == 1
		if err := a.nl.Verify(cur, deep); err != nil {
			if !errors.Is(err, ErrDrift) {
				a.m.errors.WithLabelValues("verify").Inc()
				return err
			}
			a.m.repairs.Inc()
			a.log.Warn("gateway table was changed or removed outside simguard; installing it whole again", "table", "inet "+a.cfg.Table, "drift", err)
			cur = nil
		} else {
			a.mu.Lock()
			a.verified = a.now()
			a.mu.Unlock()
		}
	}
	if cur != nil && SameStructure(cur, next) {
		d := Diff(cur, next)
		if err := a.nl.Apply(next, d); err != nil {
			a.m.errors.WithLabelValues("update").Inc()
			return err
		}
		a.m.observeUpdate(d, time.Since(start))
		a.swap(next, addrs, false)
		return nil
	}
	if err := a.nl.Install(next); err != nil {
		a.m.errors.WithLabelValues("install").Inc()
		return err
	}
	a.m.installs.Inc()
	a.m.installSeconds.Observe(time.Since(start).Seconds())
	a.swap(next, addrs, true)
	a.log.Debug("gateway table replaced", "addresses", len(next.Addrs), "groups", len(next.Groups), "took", time.Since(start))
	return nil
}

func (a *Agent) syncSIMs(snap *policy.Snapshot, ids []int64, now time.Time) error {
	start := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.cur.UpdateSIMs(snap, ids, now, a.addrs)
	if err := a.nl.Apply(a.cur, d); err != nil {
		a.m.errors.WithLabelValues("update").Inc()
		return fmt.Errorf("update %d SIMs: %w", len(ids), err)
	}
	a.m.observeUpdate(d, time.Since(start))
	if !d.Empty() {
		a.updated = a.now()
		a.log.Debug("gateway elements updated", "sims", len(ids), "elements", d.Len(), "took", time.Since(start))
	}
	return nil
}

func (a *Agent) swap(rs *Ruleset, addrs simguard.DeviceAddrs, installed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur, a.addrs = rs, addrs
	a.updated = a.now()
	a.verified = a.updated
	if installed {
		a.gen++
		a.install = a.updated
	}
}

// NoteAddr tells the agent that the network gave a SIM an address (a
// RADIUS Access-Accept with a pool address), so that the device gets its
// group's access now rather than at the next resync. Cheap when the
// address is already bound to the SIM.
func (a *Agent) NoteAddr(simID int64, ip netip.Addr) {
	ip = ip.Unmap()
	if !ip.IsValid() || simID == 0 || !a.cfg.isDevice(ip) {
		return
	}
	a.mu.Lock()
	if a.cur != nil {
		if b, ok := a.cur.Addrs[ip]; ok && b.SIMID == simID {
			a.mu.Unlock()
			return
		}
	}
	if a.noted == nil {
		a.noted = simguard.DeviceAddrs{}
	}
	a.noted[simID] = append(a.noted[simID], ip)
	a.mu.Unlock()
	a.poke()
}

// Synced returns a channel closed after the next sync, for tests and for
// callers that must know a change reached the kernel.
func (a *Agent) Synced() <-chan struct{} {
	ch := make(chan struct{})
	a.mu.Lock()
	a.watchers = append(a.watchers, ch)
	a.mu.Unlock()
	a.poke()
	return ch
}

// Status describes the installed table; withRuleset adds its nft text.
// Healthy is false, with Error saying why, when the last sync failed or
// the table cannot be read from the kernel (removed by hand, say). The
// kernel's counters are read outside the agent's lock, so that a slow
// scrape never holds up a suspension.
func (a *Agent) Status(withRuleset bool) (simguard.GatewayStatus, error) {
	a.mu.Lock()
	st := simguard.GatewayStatus{Table: "inet " + a.cfg.Table, Installed: a.install, Updated: a.updated, Generation: a.gen, Verified: a.verified}
	cur, lastErr := a.cur, a.lastErr
	var text string
	if cur != nil {
		for _, b := range cur.Addrs {
			if b.Blocked() {
				st.Blocked++
			} else {
				st.SIMs++
			}
		}
		st.Groups = len(cur.Groups)
		st.Outside = cur.Outside
		if withRuleset {
			text = cur.Text()
		}
	}
	a.mu.Unlock()
	st.Ruleset = text
	switch {
	case lastErr != nil:
		st.Error = lastErr.Error()
	case cur == nil:
		st.Error = "no table installed yet"
	}
	if cur != nil {
		// A table removed by hand lists no counters and no error: ask
		// for the table itself.
		ok, err := a.nl.HasTable(a.cfg.Table)
		if err == nil && !ok {
			err = fmt.Errorf("the table is missing")
		}
		var cs map[string]Counter
		if err == nil {
			cs, err = a.nl.Counters(a.cfg.Table)
		}
		if err != nil {
			if st.Error == "" {
				st.Error = fmt.Sprintf("table inet %s cannot be read from the kernel (removed outside simguard? the next resync installs it again): %v", a.cfg.Table, err)
			}
		} else {
			st.Counters = cur.labelCounters(cs)
		}
	}
	st.Healthy = st.Error == ""
	return st, nil
}

// Ruleset returns the nft text of what the agent installed last.
func (a *Agent) Ruleset() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == nil {
		return ""
	}
	return a.cur.Text()
}

// labelCounters names the kernel's counters after groups and reasons.
func (rs *Ruleset) labelCounters(cs map[string]Counter) []simguard.GatewayCounter {
	var out []simguard.GatewayCounter
	for _, r := range denyReasons {
		c := cs[string(r)]
		out = append(out, simguard.GatewayCounter{Name: string(r), Kind: string(r), Packets: c.Packets, Bytes: c.Bytes})
	}
	for _, g := range rs.Groups {
		for _, k := range []string{"allowed", "denied"} {
			n := g.Chain + "_" + k
			c := cs[n]
			out = append(out, simguard.GatewayCounter{Name: n, TenantID: g.TenantID, Group: g.Name, Kind: k, Packets: c.Packets, Bytes: c.Bytes})
		}
	}
	return out
}

// denied turns a logged packet into a flow.denied event. The reason is
// the policy engine's for the flow when it denies it (the precise state
// of a blocked SIM); the deny chain's otherwise (the policy changed since).
func (a *Agent) denied(p DeniedPacket) {
	a.m.deniedEvents.Inc()
	if a.deps.Events == nil {
		return
	}
	a.mu.Lock()
	egress := a.egress(p)
	dev, remote, port := p.Dst, p.Src, p.DstPort
	if egress {
		dev, remote = p.Src, p.Dst
	}
	var b Binding
	var known bool
	if a.cur != nil && simguard.Reason(p.Reason) != reasonSourceSpoofed {
		b, known = a.cur.Addrs[dev]
	}
	a.mu.Unlock()
	dir := "inbound"
	if egress {
		dir = "egress"
	}
	ev := simguard.Event{
		Time: a.now(), Source: simguard.SourceGateway, Type: simguard.EventFlowDenied, Decision: "deny",
		Reason: simguard.Reason(p.Reason),
		Attrs: map[string]string{
			"src": p.Src.String(), "dst": p.Dst.String(), "device": dev.String(), "remote": remote.String(),
			"proto": protoName(p.Proto), "port": strconv.Itoa(int(port)), "direction": dir,
		},
	}
	if known {
		ev.SIMID, ev.TenantID = b.SIMID, b.TenantID
		ev.Attrs["imsi"] = b.IMSI
		ev.Attrs["group"] = b.Group
		d := a.deps.Policy.Evaluate(&simguard.Request{Kind: simguard.KindFlow, Time: ev.Time, IMSI: b.IMSI,
			Flow: simguard.Flow{Inbound: !egress, Remote: remote, Proto: p.Proto, Port: port}})
		if !d.Allow {
			ev.Reason = d.Reason
			ev.Attrs["rule"] = d.Rule
		}
	} else if p.Reason == string(reasonSIMBlocked) {
		ev.Reason = simguard.ReasonSIMUnknown
	}
	if ev.Reason == reasonSIMBlocked {
		ev.Reason = simguard.ReasonSIMSuspended
	}
	a.deps.Events.Emit(ev)
}

// egress says which way a denied packet went, from the chain that
// dropped it (its reason), not from whether its source is a device: a
// packet from one device to another is inbound for the second when the
// second's inbound rules drop it. a.mu must be held.
func (a *Agent) egress(p DeniedPacket) bool {
	switch simguard.Reason(p.Reason) {
	case simguard.ReasonInboundDenied:
		return false
	case simguard.ReasonDestinationDenied, simguard.ReasonSIMUnknown, reasonSourceSpoofed:
		return true
	case reasonSIMBlocked:
		// The egress chain checks the source first; a blocked source
		// means egress, otherwise the destination was the blocked one.
		if a.cur != nil {
			if b, ok := a.cur.Addrs[p.Src]; ok && b.Blocked() {
				return true
			}
			if b, ok := a.cur.Addrs[p.Dst]; ok && b.Blocked() {
				return false
			}
		}
	}
	return a.cfg.isDevice(p.Src)
}

func (c *Config) isDevice(ip netip.Addr) bool {
	for _, p := range c.DeviceNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return strconv.Itoa(int(p))
}
