package control

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// Config holds what the service needs besides the store.
type Config struct {
	Log        *slog.Logger
	Now        func() time.Time
	Registerer prometheus.Registerer
	// Events receives the events the control plane itself raises
	// (imei.learned, imei.mismatch, sim state changes).
	Events simguard.EventSink
	// Secrets seals secrets the store keeps for components (RADIUS NAS
	// shared secrets); nil refuses to store any.
	Secrets Sealer
	// FeedSize is how many changes the feed for remote nodes remembers;
	// a node further behind re-reads the whole state. Default 100,000.
	FeedSize int
}

// Service is the control plane. It is safe for concurrent use.
type Service struct {
	store   simguard.Store
	policy  *enforce.Policy
	events  simguard.EventSink
	log     *slog.Logger
	now     func() time.Time
	feed    *Feed
	topics  topics
	secrets Sealer
	scans   atomic.Value // scanRunnerBox: the fleet auditor, see SetScanRunner
}

// New loads the whole state from the store, compiles the first snapshot
// and returns the service.
func New(ctx context.Context, store simguard.Store, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = discardEvents{}
	}
	if cfg.FeedSize <= 0 {
		cfg.FeedSize = 100_000
	}
	start := time.Now()
	snap, err := LoadSnapshot(ctx, store)
	if err != nil {
		return nil, err
	}
	cfg.Log.Info("policy snapshot compiled", "sims", snap.Len(), "took", time.Since(start).Round(time.Millisecond))
	s := &Service{
		store:  store,
		policy: enforce.NewPolicy(snap, cfg.Registerer),
		events: cfg.Events,
		log:    cfg.Log,
		now:    cfg.Now,
		feed:   newFeed(cfg.FeedSize),
	}
	s.secrets = cfg.Secrets
	if err := s.loadDevices(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadSnapshot compiles a snapshot from everything in the store.
func LoadSnapshot(ctx context.Context, store simguard.Store) (*policy.Snapshot, error) {
	var groups []simguard.Group
	if err := store.ScanGroups(ctx, func(g simguard.Group) error {
		groups = append(groups, g)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	b, err := policy.NewBuilder(groups)
	if err != nil {
		return nil, fmt.Errorf("compile groups: %w", err)
	}
	if err := store.ScanSIMs(ctx, b.AddSIM); err != nil {
		return nil, fmt.Errorf("load sims: %w", err)
	}
	return b.Build(), nil
}

// Policy is the live policy that local enforcement points evaluate.
func (s *Service) Policy() *enforce.Policy { return s.policy }

// Store is the service's store, for read paths that need no checks
// (metrics, readiness).
func (s *Service) Store() simguard.Store { return s.store }

// Feed is the change feed remote enforcement nodes follow.
func (s *Service) Feed() *Feed { return s.feed }

// simChanged publishes a changed SIM to the snapshot and the feed.
func (s *Service) simChanged(sim simguard.SIM) {
	err := s.policy.UpdateSIMs([]int64{sim.ID}, func(p *policy.Snapshot) (*policy.Snapshot, error) {
		return p.WithSIM(&sim)
	})
	if err != nil {
		// The store accepted the SIM, so the snapshot must too; if not it
		// is a bug, and enforcement keeps the last good view.
		s.log.Error("snapshot rejected a stored SIM", "iccid", sim.ICCID, "err", err)
	}
	s.feed.add(Change{Kind: ChangeSIM, TenantID: sim.TenantID, SIMID: sim.ID})
}

// simsAdded publishes many new SIMs at once.
func (s *Service) simsAdded(sims []simguard.SIM) {
	ids := make([]int64, len(sims))
	for i := range sims {
		ids[i] = sims[i].ID
	}
	err := s.policy.UpdateSIMs(ids, func(p *policy.Snapshot) (*policy.Snapshot, error) {
		return p.WithSIMs(sims)
	})
	if err != nil {
		s.log.Error("snapshot rejected stored SIMs", "count", len(sims), "err", err)
	}
	for _, sim := range sims {
		s.feed.add(Change{Kind: ChangeSIM, TenantID: sim.TenantID, SIMID: sim.ID})
	}
}

func (s *Service) groupChanged(g simguard.Group) {
	err := s.policy.Update(func(p *policy.Snapshot) (*policy.Snapshot, error) {
		return p.WithGroup(&g)
	})
	if err != nil {
		s.log.Error("snapshot rejected a stored group", "group", g.Name, "err", err)
	}
	s.feed.add(Change{Kind: ChangeGroup, TenantID: g.TenantID, Group: g.Name})
}

func (s *Service) groupDeleted(tenantID int64, name string) {
	_ = s.policy.Update(func(p *policy.Snapshot) (*policy.Snapshot, error) {
		return p.WithoutGroup(tenantID, name), nil
	})
	s.feed.add(Change{Kind: ChangeGroup, TenantID: tenantID, Group: name, Deleted: true})
}

type discardEvents struct{}

func (discardEvents) Emit(simguard.Event) {}
