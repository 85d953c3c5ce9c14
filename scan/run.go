package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan/creds"
)

// Scan validates req (refusing targets outside the audit ranges before any
// packet leaves), waits for a free scanner slot (Config.Parallel), scans,
// records the run and its findings, compares them with the previous run
// of the same scope and emits an event for each newly opened port. A
// canceled scan is recorded as canceled and returns ctx's error with the
// partial report.
func (s *Scanner) Scan(ctx context.Context, req Request) (*Report, error) {
	p, err := s.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	run := s.newRun(p, simguard.ScanRunning)
	if store := s.deps.Store; store != nil {
		if run, err = store.CreateScanRun(ctx, run, simguard.Change{Actor: p.req.Actor, Action: "scan.start"}); err != nil {
			return nil, fmt.Errorf("record scan run: %w", err)
		}
	}
	return s.runRecorded(ctx, p, run)
}

// newRun describes the run a plan makes, before it has an ID.
func (s *Scanner) newRun(p *plan, status simguard.ScanStatus) simguard.ScanRun {
	run := simguard.ScanRun{
		TenantID:    p.req.TenantID,
		Scope:       p.req.Scope,
		Actor:       p.req.Actor.Name,
		Targets:     p.targets,
		TCPPorts:    p.ports.Ranges(),
		Credentials: p.req.Credentials,
		Status:      status,
		StartedAt:   s.now(),
		Stats:       simguard.ScanStats{Narrowed: p.narrowed},
	}
	for _, u := range p.udp {
		run.UDPPorts = append(run.UDPPorts, simguard.PortRange{From: u.port, To: u.port})
	}
	slices.SortFunc(run.UDPPorts, func(a, b simguard.PortRange) int { return cmp.Compare(a.From, b.From) })
	return run
}

// acquire waits for one of the Config.Parallel scanner slots.
func (s *Scanner) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		s.metrics.active.Inc()
		return func() { <-s.slots; s.metrics.active.Dec() }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runRecorded scans for a run that is recorded as running (or that has
// no store), then records how it ended.
func (s *Scanner) runRecorded(ctx context.Context, p *plan, run simguard.ScanRun) (*Report, error) {
	req := p.req
	s.log.Info("scan: started", "scan", run.ID, "scope", run.Scope, "hosts", len(p.addrs), "tcp_ports", len(p.ports), "udp", req.UDP, "credentials", req.Credentials)
	findings, scanErr := s.execute(ctx, p, &run)
	run.FinishedAt = s.now()
	switch {
	case scanErr == nil:
		run.Status = simguard.ScanDone
	case ctx.Err() != nil:
		run.Status = simguard.ScanCanceled
		scanErr = ctx.Err()
	default:
		run.Status, run.Error = simguard.ScanFailed, simguard.ErrorMessage(scanErr)
	}
	rep := &Report{Run: run, Findings: findings}
	if store := s.deps.Store; store != nil {
		// The run's record must land even when ctx was canceled, and even
		// when the baseline cannot be read (the diff is then missing, the
		// findings are not).
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if run.Status == simguard.ScanDone {
			prev, prevFindings, err := store.LastScanRun(wctx, run.TenantID, run.Scope, run.ID)
			switch {
			case err == nil:
				rep.Diff = simguard.DiffScans(&prev, prevFindings, &run, findings)
			case simguard.ErrorCode(err) == simguard.ENOTFOUND:
				rep.Diff = simguard.DiffScans(nil, nil, &run, findings) // the first of its scope
			default:
				scanErr = fmt.Errorf("load previous scan of %s: %w", run.Scope, err)
			}
		}
		err := store.FinishScanRun(wctx, run, findings)
		cancel()
		if err != nil {
			return rep, fmt.Errorf("record findings of scan %d: %w", run.ID, errors.Join(err, scanErr))
		}
		// FinishScanRun set IDs and first-seen times: the diff's copies
		// must show the same.
		refreshDiff(&rep.Diff, findings)
	}
	s.emit(rep)
	s.metrics.runs.WithLabelValues(string(run.Status)).Inc()
	for i := range findings {
		s.metrics.findings.WithLabelValues(string(findings[i].Severity)).Inc()
	}
	s.log.Info("scan: finished", "scan", run.ID, "status", run.Status, "open_ports", run.Stats.OpenPorts,
		"opened", len(rep.Diff.Opened), "closed", len(rep.Diff.Closed), "took", run.FinishedAt.Sub(run.StartedAt))
	rep.Summary = summarize(findings)
	return rep, scanErr
}

// refreshDiff replaces the diff's copies of current findings with the
// stored ones.
func refreshDiff(d *simguard.ScanDiff, findings []simguard.Finding) {
	byKey := make(map[simguard.FindingKey]*simguard.Finding, len(findings))
	for i := range findings {
		byKey[findings[i].Key()] = &findings[i]
	}
	for _, list := range [][]simguard.Finding{d.Opened, d.NewCredentials} {
		for i := range list {
			if f, ok := byKey[list[i].Key()]; ok {
				list[i] = *f
			}
		}
	}
}

// execute does the network work and builds the findings.
func (s *Scanner) execute(ctx context.Context, p *plan, run *simguard.ScanRun) ([]simguard.Finding, error) {
	if p.confined {
		// The plan was checked when the scan was asked for; a queued scan
		// may start later, when a dynamic address has moved to another
		// tenant's SIM. Such an address is left out, not probed.
		own, err := s.ownAddrs(p.req.TenantID)
		if err != nil {
			return nil, err
		}
		kept := p.addrs[:0:0]
		for _, a := range p.addrs {
			if own[a] {
				kept = append(kept, a)
			} else {
				s.log.Warn("scan: an address is no longer the tenant's; not scanned", "scan", run.ID, "target", a, "tenant", p.req.TenantID)
			}
		}
		if len(kept) < len(p.addrs) {
			// A confined plan's targets are single addresses: the run
			// must not claim to have looked at the ones left out.
			run.Targets = run.Targets[:0:0]
			for _, a := range kept {
				run.Targets = append(run.Targets, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		p.addrs = kept
	}
	var st tcpStats
	var (
		mu   sync.Mutex
		open []netip.AddrPort
	)
	book := newLedger(p.addrs)
	err := s.sweepTCP(ctx, p.addrs, p.ports, &st, func(host int, ap netip.AddrPort, state PortState) {
		book.record(host, "tcp", ap.Port(), state)
		if state == PortOpen {
			mu.Lock()
			open = append(open, ap)
			mu.Unlock()
		}
	})
	var ust udpStats
	var udpOpen []udpResult
	if err == nil && len(p.udp) > 0 {
		udpOpen = s.sweepUDP(ctx, p.addrs, p.udp, &ust, book)
		err = ctx.Err()
	}
	slices.SortFunc(open, func(a, b netip.AddrPort) int { return a.Compare(b) })
	services := make([]service, len(open))
	if err == nil && !p.req.PortsOnly {
		s.identifyAll(ctx, open, services)
		err = ctx.Err()
	}
	var results map[netip.AddrPort]creds.Result
	if err == nil && p.req.Credentials {
		results = s.auditCredentials(ctx, open, services, p.req.ExtraCredentials)
		err = ctx.Err()
	}
	run.Stats = simguard.ScanStats{
		Hosts:     len(p.addrs),
		Probes:    st.probes.Load() + ust.sent.Load(),
		OpenPorts: len(open) + len(udpOpen),
		Unknown:   st.unknown.Load() + ust.unknown.Load(),
		Filtered:  st.filtered.Load() + ust.filtered.Load(),
		Narrowed:  p.narrowed,
	}
	book.apply(run)
	for _, r := range results {
		run.Stats.Attempts += r.Attempts
	}
	s.metrics.attempts.Add(float64(run.Stats.Attempts))
	findings := make([]simguard.Finding, 0, len(open)+len(udpOpen))
	for i, ap := range open {
		f := s.newFinding(run, ap, "tcp", services[i])
		if r, ok := results[ap]; ok {
			applyCredResult(&f, r)
		}
		findings = append(findings, f)
	}
	for _, u := range udpOpen {
		findings = append(findings, s.newFinding(run, u.ap, "udp", u.svc))
	}
	for i := range findings {
		s.assess(&findings[i])
	}
	slices.SortFunc(findings, func(a, b simguard.Finding) int {
		return cmp.Or(a.Target.Compare(b.Target), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return findings, err
}

func (s *Scanner) identifyAll(ctx context.Context, open []netip.AddrPort, out []service) {
	idx := make(chan int)
	var wg sync.WaitGroup
	for range min(s.cfg.IdentifyConcurrency, len(open)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				out[i] = s.identify(ctx, open[i])
			}
		}()
	}
	for i := range open {
		select {
		case idx <- i:
		case <-ctx.Done():
		}
	}
	close(idx)
	wg.Wait()
}

// auditCredentials runs the credential audit host by host (a few hosts at
// a time, one attempt at a time per host).
func (s *Scanner) auditCredentials(ctx context.Context, open []netip.AddrPort, services []service, extra []creds.Pair) map[netip.AddrPort]creds.Result {
	byHost := map[netip.Addr][]creds.Target{}
	var hosts []netip.Addr
	for i, svc := range services {
		if svc.login == nil {
			continue
		}
		a := open[i].Addr()
		if byHost[a] == nil {
			hosts = append(hosts, a)
		}
		byHost[a] = append(byHost[a], *svc.login)
	}
	pairs := creds.Merge(extra, s.cfg.ExtraCredentials, creds.Builtin())
	out := make(map[netip.AddrPort]creds.Result)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res := s.creds.AuditHost(ctx, byHost[h], pairs)
			mu.Lock()
			for _, r := range res {
				out[r.Target.Addr] = r
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (s *Scanner) newFinding(run *simguard.ScanRun, ap netip.AddrPort, proto string, svc service) simguard.Finding {
	f := simguard.Finding{
		TenantID:   run.TenantID,
		ScanID:     run.ID,
		Target:     ap.Addr(),
		Proto:      proto,
		Port:       ap.Port(),
		Service:    svc.name,
		Product:    svc.product,
		Banner:     printable(joinNonEmpty(" | ", svc.banner, svc.detail)),
		TLS:        svc.tls,
		TLSVersion: tlsVersionName(svc.tlsVersion),
		Severity:   simguard.SeverityInfo,
		FirstSeen:  run.StartedAt,
		LastSeen:   run.StartedAt,
	}
	if f.Service == "" {
		f.Service = "unknown"
	}
	if inv := s.deps.Inventory; inv != nil {
		if d, ok := inv.DeviceByIP(run.TenantID, f.Target); ok {
			f.SIMID, f.Group = d.SIMID, d.Group
		}
	}
	f.Issues = serviceIssues(f.Proto, svc)
	for _, is := range f.Issues {
		if is.Severity.Rank() > f.Severity.Rank() {
			f.Severity = is.Severity
		}
	}
	f.Plaintext = plaintextService(f.Service, f.TLS)
	return f
}

func applyCredResult(f *simguard.Finding, r creds.Result) {
	if r.Found != nil {
		f.Credentials = append(f.Credentials, simguard.Credential{
			Service: r.Target.Service, Method: r.Found.Method, Username: r.Found.Username, ListEntry: r.Found.Source,
		})
		f.AddIssue(simguard.IssueDefaultCredential, simguard.SeverityCritical,
			fmt.Sprintf("vendor default login works: user %q (%s, after %d attempts)", r.Found.Username, r.Found.Source, r.Attempts))
	}
	if r.Lockout != "" {
		f.AddIssue(simguard.IssueLockout, simguard.SeverityInfo, "credential audit stopped after "+strconv.Itoa(r.Attempts)+" attempts: "+r.Lockout)
	}
}
