package smpp

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// Server is the SMS firewall proxy. Create it with New and run it with
// Serve or Run; it cannot be restarted.
type Server struct {
	cfg      Config
	log      *slog.Logger
	clock    func() time.Time
	eval     simguard.Evaluator
	events   simguard.EventSink
	feedback simguard.Feedback
	auth     Authenticator
	accounts AccountStore
	// quotaBlocks is Deps.QuotaBlocks.
	quotaBlocks func(tenantID int64, group string) bool
	m           *metrics

	routes      []*route
	routeByName map[string]*route
	simLimit    *limiter
	srcLimit    *limiter
	receipts    *receiptRoutes
	usage       *usageMeter
	seed        maphash.Seed
	bindSem     chan struct{} // bounds concurrent bcrypt comparisons
	esmeGauge   prometheus.Gauge

	ctx     context.Context // Serve's context
	bgctx   context.Context // Serve's values without its cancellation, for writes that must outlive shutdown
	served  atomic.Bool
	wg      sync.WaitGroup
	rr      atomic.Uint32
	mu      sync.Mutex
	esmes   map[*esmeSession]struct{}
	bound   map[string][]*esmeSession // system_id → its bound sessions
	drained bool
}

// New checks cfg and deps and builds a Server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register smpp metrics: %w", err)
	}
	s := &Server{
		cfg:         cfg,
		log:         deps.Logger.With("component", "smpp"),
		clock:       deps.Clock,
		eval:        deps.Evaluator,
		events:      deps.Events,
		feedback:    deps.Feedback,
		auth:        deps.Auth,
		quotaBlocks: deps.QuotaBlocks,
		accounts:    deps.Accounts,
		m:           m,
		routeByName: map[string]*route{},
		simLimit:    newLimiter(cfg.RateLimitKeys),
		srcLimit:    newLimiter(cfg.RateLimitKeys),
		receipts:    newReceiptRoutes(cfg.ReceiptRoutes, int64(cfg.ReceiptTTL)),
		seed:        maphash.MakeSeed(),
		bindSem:     make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		esmeGauge:   m.inflight.WithLabelValues("esme", ""),
		esmes:       map[*esmeSession]struct{}{},
		bound:       map[string][]*esmeSession{},
	}
	s.usage = newUsageMeter(deps.Feedback, s.log, m.usageErrors)
	for _, u := range cfg.Upstreams {
		r := newRoute(s, u)
		s.routes = append(s.routes, r)
		s.routeByName[u.Name] = r
	}
	return s, nil
}

// Run listens on cfg.Listen and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Listen == "" {
		return simguard.FieldError("smpp.listen", "set the address ESMEs bind to, e.g. :2775")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("smpp listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts ESMEs on ln and keeps the upstream binds until ctx ends;
// then it stops accepting, answers what is outstanding (waiting up to
// ShutdownTimeout for the SMSC's answers), unbinds both sides and returns
// once every goroutine it started has ended. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("smpp: Serve called twice")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.ctx, s.bgctx = ctx, context.WithoutCancel(ctx)
	go s.usage.run(s.bgctx)
	upCtx, upCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer upCancel()
	for _, r := range s.routes {
		for _, u := range r.binds {
			s.goFunc(func() { u.run(upCtx) })
		}
	}
	s.goFunc(func() { s.sweepLoop(ctx) })
	s.goFunc(func() { s.gaugeLoop(ctx) })
	s.goFunc(func() { s.acceptLoop(ctx, cancel, ln) })
	<-ctx.Done()
	ln.Close()
	s.drain()
	upCancel()
	s.wg.Wait()
	s.usage.close() // every relay has ended: report what they delivered
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// acceptLoop accepts ESMEs until the listener closes. Other accept errors
// (out of file descriptors, say) are retried after a pause, as net/http
// does, rather than taking the proxy down.
func (s *Server) acceptLoop(ctx context.Context, cancel context.CancelCauseFunc, ln net.Listener) {
	pause := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err == nil {
			pause = 5 * time.Millisecond
			s.startESME(nc)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, net.ErrClosed) {
			cancel(fmt.Errorf("smpp accept: %w", err))
			return
		}
		s.log.Warn("smpp accept", "err", err, "retry_in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

func (s *Server) goFunc(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// drain refuses new messages, waits for the outstanding ones to be
// answered, then unbinds and closes every ESME.
func (s *Server) drain() {
	s.mu.Lock()
	s.drained = true
	s.mu.Unlock()
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	for time.Now().Before(deadline) && s.outstanding() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	all := make([]*esmeSession, 0, len(s.esmes))
	for e := range s.esmes {
		all = append(all, e)
	}
	s.mu.Unlock()
	for _, e := range all {
		e.shutdown()
	}
	// Let the ESME readers answer the SMSC for deliveries they leave
	// behind before the upstream links go.
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		n := len(s.esmes)
		s.mu.Unlock()
		if n == 0 {
			break
		}
	}
}

func (s *Server) draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drained
}

// outstanding counts requests in flight on every link.
func (s *Server) outstanding() int {
	n := 0
	for _, r := range s.routes {
		for _, u := range r.binds {
			if l := u.cur.Load(); l != nil {
				n += l.outstanding()
			}
		}
	}
	s.mu.Lock()
	for e := range s.esmes {
		n += e.l.outstanding()
	}
	s.mu.Unlock()
	return n
}

// sweepLoop expires idle rate-limit buckets and old receipt routes.
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.clock().UnixNano()
		s.m.limiterKeys.WithLabelValues("sim").Set(float64(s.simLimit.sweep(now)))
		s.m.limiterKeys.WithLabelValues("source").Set(float64(s.srcLimit.sweep(now)))
		s.receipts.sweep(now)
	}
}

// UpstreamBinds returns how many binds of the named route are up; for
// health checks and tests.
func (s *Server) UpstreamBinds(name string) int {
	r, ok := s.routeByName[name]
	if !ok {
		return 0
	}
	n := 0
	for _, u := range r.binds {
		if u.cur.Load() != nil {
			n++
		}
	}
	return n
}
