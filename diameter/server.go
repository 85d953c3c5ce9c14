package diameter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// Deps are what the server needs from the rest of simguard.
type Deps struct {
	Evaluator simguard.Evaluator
	Feedback  simguard.Feedback
	Events    simguard.EventSink
	Logger    *slog.Logger
	Now       func() time.Time
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Server is the Diameter enforcement point.
type Server struct {
	cfg      Config
	eval     simguard.Evaluator
	feedback simguard.Feedback
	events   simguard.EventSink
	log      *slog.Logger
	now      func() time.Time
	m        *metrics

	peers atomic.Pointer[peerTable]

	mu     sync.Mutex
	conns  map[*conn]struct{} // every open connection, MMEs and the HSS
	byHost map[string]*conn   // open MME connections by Origin-Host
	hss    *conn              // the open HSS connection, nil when down
	ln     net.Listener
	wg     sync.WaitGroup

	pend       pendingTable
	hbh        atomic.Uint32
	stateID    uint32
	mismatches mismatchCache
	rejected   mismatchCache // remote addresses whose rejection was reported in the last minute
	unauth     atomic.Int64  // MME connections that have not finished their CER
	unknownSIM uint32
	origin     [2]wire.AVP
	hssDest    [2]wire.AVP // Destination-Host and -Realm of requests relayed to the HSS
}

// peerTable is the set of known peers, replaced whole.
type peerTable struct {
	byHost   map[string]simguard.DiameterPeer
	prefixes []netip.Prefix // every peer's, to refuse other addresses at accept
}

func (t *peerTable) admits(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(nc net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// clip bounds a string a peer chose (Origin-Host, Origin-Realm) before
// it goes into logs and events.
func clip(s string) string {
	const max = 255
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// New checks cfg and builds a server; Run starts it.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Evaluator == nil:
		return nil, errors.New("diameter: Deps.Evaluator is required")
	case deps.Feedback == nil:
		return nil, errors.New("diameter: Deps.Feedback is required")
	case deps.Events == nil:
		return nil, errors.New("diameter: Deps.Events is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{
		cfg: cfg, eval: deps.Evaluator, feedback: deps.Feedback, events: deps.Events,
		log: deps.Logger, now: deps.Now, m: newMetrics(deps.Registerer),
		conns: map[*conn]struct{}{}, byHost: map[string]*conn{},
		stateID:    uint32(deps.Now().Unix()),
		unknownSIM: uint32(equipmentStatus(cfg.UnknownSIM)),
	}
	s.origin = [2]wire.AVP{
		wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, cfg.OriginHost),
		wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, cfg.OriginRealm),
	}
	s.hssDest = [2]wire.AVP{
		wire.NewString(wire.AVPDestinationHost, 0, wire.AVPMandatory, cfg.HSS.Host),
		wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, cfg.HSS.Realm),
	}
	s.pend.m = map[uint32]*pending{}
	s.pend.byFrom = map[*conn]int{}
	s.hbh.Store(rand.Uint32())
	s.peers.Store(&peerTable{byHost: map[string]simguard.DiameterPeer{}})
	s.mismatches.m = map[string]time.Time{}
	s.rejected.m = map[string]time.Time{}
	return s, nil
}

// SetPeers replaces the known peers. Connections of peers that are gone,
// or whose address or realm no longer fits, are disconnected (DPR; until
// the DPA they are served nothing).
func (s *Server) SetPeers(list []simguard.DiameterPeer) {
	t := &peerTable{byHost: make(map[string]simguard.DiameterPeer, len(list))}
	for _, p := range list {
		t.byHost[p.OriginHost] = p
		t.prefixes = append(t.prefixes, p.Prefix)
	}
	s.peers.Store(t)
	s.mu.Lock()
	var stale []*conn
	for host, c := range s.byHost {
		p, ok := t.byHost[host]
		if !ok || !p.Prefix.Contains(c.remote) || (p.Realm != "" && p.Realm != c.realm) {
			stale = append(stale, c)
			continue
		}
		c.peer.Store(&p)
	}
	s.mu.Unlock()
	for _, c := range stale {
		s.log.Info("diameter: peer removed; disconnecting", "peer", c.hostName())
		c.disconnect(discRebooting)
	}
}

// Addr is the listening address once Run has started listening.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Listen opens the listening socket (Run calls it when it was not
// called), so that callers know the address before Run.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("diameter: listen %s: %w", s.cfg.Listen, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Run accepts MMEs and keeps the HSS connection up until ctx ends; then
// it sends DPR to every peer, closes every connection and waits for
// every goroutine it started.
func (s *Server) Run(ctx context.Context) error {
	if s.Addr() == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.log.Info("diameter: listening", "addr", ln.Addr().String(), "origin_host", s.cfg.OriginHost,
		"eir", *s.cfg.EIR, "hss", s.cfg.HSS.Addr)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.cfg.HSS.Addr != "" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.keepHSS(runCtx)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sweepPending(runCtx)
	}()
	go func() {
		<-runCtx.Done()
		ln.Close()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if runCtx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.log.Error("diameter: accept", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		remote := remoteAddr(nc)
		if !s.peers.Load().admits(remote) {
			// No configured peer may connect from there: close before a
			// goroutine, a buffer or a per-connection event is spent.
			s.m.dropped.WithLabelValues("unknown_address").Inc()
			if s.rejected.first(remote.String(), s.now()) {
				s.log.Warn("diameter: connection from an address of no peer; closing (logged once a minute per address)", "remote", remote.String())
				s.emit(EventPeer, "", "", 0, simguard.ProviderTenantID, map[string]string{"role": "mme", "state": "rejected",
					"remote": remote.String(), "why": "source address of no configured peer (reported once a minute per address)"})
			}
			nc.Close()
			continue
		}
		if s.unauth.Load() >= int64(s.cfg.MaxUnauthenticated) {
			s.m.dropped.WithLabelValues("too_many_unauthenticated").Inc()
			if s.rejected.first("unauthenticated", s.now()) {
				s.log.Warn("diameter: too many connections without a CER; closing new ones (logged once a minute)", "remote", remote.String(), "max", s.cfg.MaxUnauthenticated)
			}
			nc.Close()
			continue
		}
		s.mu.Lock()
		full := len(s.conns) >= s.cfg.MaxConnections
		s.mu.Unlock()
		if full {
			// Before any goroutine or buffer is spent on it.
			s.m.dropped.WithLabelValues("too_many_connections").Inc()
			s.log.Warn("diameter: too many connections; closing a new one", "remote", nc.RemoteAddr().String(), "max", s.cfg.MaxConnections)
			nc.Close()
			continue
		}
		c := s.newConn(nc, roleMME)
		c.unauth.Store(true)
		s.unauth.Add(1)
		s.start(c)
	}
	s.shutdown()
	s.wg.Wait()
	return nil
}

// shutdown disconnects every peer politely (DPR), then closes what is left.
func (s *Server) shutdown() {
	s.mu.Lock()
	all := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.disconnect(discRebooting)
	}
	deadline := time.After(2 * time.Second)
	for _, c := range all {
		select {
		case <-c.done:
		case <-deadline:
			c.close("shutdown")
		}
	}
	for _, c := range all {
		c.close("shutdown")
	}
}

func (s *Server) register(c *conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.m.conns.WithLabelValues(c.role.String()).Inc()
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if h := c.hostName(); h != "" && s.byHost[h] == c {
		delete(s.byHost, h)
	}
	if s.hss == c {
		s.hss = nil
	}
	s.mu.Unlock()
	s.m.conns.WithLabelValues(c.role.String()).Dec()
	s.pend.failConn(s, c)
}

// openMME records an MME connection that finished CER/CEA. An older
// connection of the same host is replaced (election: the newer wins, the
// MME restarted).
func (s *Server) openMME(c *conn) {
	s.mu.Lock()
	old := s.byHost[c.hostName()]
	s.byHost[c.hostName()] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close("replaced by a new connection")
	}
}

func (s *Server) mmeByHost(host string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byHost[host]
}

func (s *Server) hssConn() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hss
}

func (s *Server) nextHopByHop() uint32 { return s.hbh.Add(1) }

// knownPeer finds the configured peer for host connecting from remote.
func (s *Server) knownPeer(host, realm string, remote netip.Addr) (simguard.DiameterPeer, string) {
	p, ok := s.peers.Load().byHost[host]
	switch {
	case !ok:
		return p, "unknown Origin-Host"
	case !p.Prefix.Contains(remote):
		return p, "source address " + remote.String() + " is not the peer's " + p.Prefix.String()
	case p.Realm != "" && p.Realm != realm:
		return p, "Origin-Realm " + clip(realm) + " is not the peer's " + p.Realm
	}
	return p, ""
}

// ourApps are the applications simguard offers to MMEs.
func (s *Server) ourApps() []uint32 {
	var apps []uint32
	if *s.cfg.EIR {
		apps = append(apps, wire.AppS13)
	}
	if s.cfg.HSS.Addr != "" {
		apps = append(apps, wire.AppS6a)
	}
	return apps
}
