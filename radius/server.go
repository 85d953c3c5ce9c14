package radius

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"layeh.com/radius"
)

// Deps are what the server needs from the rest of simguard.
type Deps struct {
	// Evaluator decides; the enforce package's atomic snapshot holder.
	Evaluator simguard.Evaluator
	// Feedback takes learned IMEIs, mismatches and usage.
	Feedback simguard.Feedback
	Events   simguard.EventSink
	Sessions simguard.RADIUSSessionStore
	// Leases is needed only when Config.Pools is not empty.
	Leases simguard.IPLeaseStore
	// Clients are the NAS clients at start; SetClients replaces them.
	Clients []simguard.NASClient
	// StaticIPTaken tells whether a SIM holds the address as its static
	// IP, so that a pool never leases it to another SIM (optional; without
	// it only the pool's exclude list keeps static IPs out).
	StaticIPTaken func(netip.Addr) bool

	Logger     *slog.Logger          // default: discard
	Now        func() time.Time      // default: time.Now
	Registerer prometheus.Registerer // default: a private registry
}

// Server is the RADIUS authentication and accounting server.
type Server struct {
	cfg      Config
	eval     simguard.Evaluator
	feedback simguard.Feedback
	events   simguard.EventSink
	sessions simguard.RADIUSSessionStore
	log      *slog.Logger
	now      func() time.Time
	m        *metrics

	clients atomic.Pointer[clientTable]
	dup     dedup
	authCtx *genMap[uint64, authContext] // by the sequence number in Class
	// mismatches remembers reported SIM/IMEI pairs, so that a cloned SIM
	// retrying all the time costs one control-plane write a minute.
	mismatches *genMap[string, bool]
	discQ      chan discJob
	live       *liveIndex
	pools      *pools
	disc       *Disconnector
	drops      dropSampler
	locks      [64]sync.Mutex // accounting, by session key hash
	lockSeed   maphash.Seed

	classPrefix string
	classSeq    atomic.Uint64

	mu      sync.Mutex
	conns   []*listener
	serving bool
	wg      sync.WaitGroup // handlers, disconnects, background loops
}

type listener struct {
	conn *net.UDPConn
	acct bool
}

// New checks cfg and deps and builds a server; Listen binds its sockets.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Evaluator == nil:
		return nil, errors.New("radius: Deps.Evaluator is required")
	case deps.Feedback == nil:
		return nil, errors.New("radius: Deps.Feedback is required")
	case deps.Events == nil:
		return nil, errors.New("radius: Deps.Events is required")
	case deps.Sessions == nil:
		return nil, errors.New("radius: Deps.Sessions is required")
	case len(cfg.Pools) > 0 && deps.Leases == nil:
		return nil, errors.New("radius: Deps.Leases is required when pools are configured")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("radius: register metrics: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	s := &Server{
		cfg: cfg, eval: deps.Evaluator, feedback: deps.Feedback, events: deps.Events,
		sessions: deps.Sessions, log: deps.Logger, now: deps.Now, m: m,
		dup:         dedup{newGenMap[dupKey, dupEntry](cfg.DuplicateTTL, dupCacheMax, deps.Now)},
		authCtx:     newGenMap[uint64, authContext](authContextTTL, authContextMax, deps.Now),
		mismatches:  newGenMap[string, bool](time.Minute, 1<<16, deps.Now),
		live:        newLiveIndex(),
		pools:       newPools(cfg.Pools, deps.Leases, deps.StaticIPTaken),
		drops:       dropSampler{perSecond: cfg.DropEventsPerSecond},
		classPrefix: "sg1:" + hex.EncodeToString(rnd[:]) + ":",
		lockSeed:    maphash.MakeSeed(),
	}
	s.disc = NewDisconnector(cfg.Disconnect, deps.Now)
	s.discQ = make(chan discJob, discQueueLen)
	if err := s.SetClients(deps.Clients); err != nil {
		return nil, err
	}
	return s, nil
}

// SetClients replaces the NAS clients; packets in flight finish with the
// old table. An invalid list changes nothing.
func (s *Server) SetClients(list []simguard.NASClient) error {
	t, err := newClientTable(list)
	if err != nil {
		return fmt.Errorf("radius: %w", err)
	}
	s.clients.Store(t)
	return nil
}

// Listen binds the auth and accounting sockets.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) > 0 {
		return errors.New("radius: already listening")
	}
	bind := func(addr string, acct bool) error {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return err
		}
		c, err := net.ListenUDP("udp", ua)
		if err != nil {
			return err
		}
		_ = c.SetReadBuffer(4 << 20) // absorb bursts; best effort
		s.conns = append(s.conns, &listener{conn: c, acct: acct})
		return nil
	}
	for _, a := range s.cfg.AuthAddrs {
		if err := bind(a, false); err != nil {
			s.closeLocked()
			return fmt.Errorf("radius: listen auth %s: %w", a, err)
		}
	}
	for _, a := range s.cfg.AcctAddrs {
		if err := bind(a, true); err != nil {
			s.closeLocked()
			return fmt.Errorf("radius: listen accounting %s: %w", a, err)
		}
	}
	return nil
}

func (s *Server) closeLocked() {
	for _, l := range s.conns {
		l.conn.Close()
	}
	s.conns = nil
}

// Close releases the sockets of a server that Listened but will not Serve
// (Serve closes them itself when it ends).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.serving {
		s.closeLocked()
	}
	return nil
}

// AuthAddrs and AcctAddrs return the bound addresses (ports chosen by the
// system when configured as 0).
func (s *Server) AuthAddrs() []netip.AddrPort { return s.addrs(false) }
func (s *Server) AcctAddrs() []netip.AddrPort { return s.addrs(true) }

func (s *Server) addrs(acct bool) []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []netip.AddrPort
	for _, l := range s.conns {
		if l.acct == acct {
			out = append(out, l.conn.LocalAddr().(*net.UDPAddr).AddrPort())
		}
	}
	return out
}

// Run listens (unless Listen was called) and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	bound := len(s.conns) > 0
	s.mu.Unlock()
	if !bound {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	return s.Serve(ctx)
}

// Serve loads live sessions and leases, then handles packets until ctx
// ends; it returns after every handler and Disconnect-Request finished.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if len(s.conns) == 0 || s.serving {
		s.mu.Unlock()
		return errors.New("radius: Serve needs Listen first, once")
	}
	s.serving = true
	conns := s.conns
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.closeLocked()
		s.mu.Unlock()
	}()

	if err := s.pools.load(ctx); err != nil {
		return fmt.Errorf("radius: load leases: %w", err)
	}
	if err := s.loadLive(ctx); err != nil {
		return fmt.Errorf("radius: load live sessions: %w", err)
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	for _, l := range conns {
		for range s.cfg.Workers {
			if l.acct {
				s.wg.Go(func() { s.readLoop(hctx, l) })
			} else {
				s.wg.Go(func() { s.batchLoop(hctx, l) })
			}
		}
	}
	if s.cfg.RecheckInterval > 0 {
		s.wg.Go(func() { s.recheckLoop(ctx) })
	}
	for range s.cfg.Disconnect.Concurrency {
		s.wg.Go(func() { s.disconnectLoop(ctx) })
	}
	// What changed while no server watched (a suspension, a window that
	// ended) ends now; the deadlines of the rest are set.
	s.OnPolicyChange(ctx, s.eval)
	s.wg.Go(func() { s.deadlineLoop(ctx) })
	<-ctx.Done()
	s.mu.Lock()
	for _, l := range conns {
		l.conn.Close() // unblocks the readers
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) readLoop(ctx context.Context, l *listener) {
	buf := make([]byte, radius.MaxPacketLength+1)
	sc := newScratch()
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("radius: read", "err", err)
			continue
		}
		s.handle(ctx, l, buf[:n], from, sc)
	}
}
