package scan

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// Schedule is a periodic scan of one group's devices.
type Schedule struct {
	TenantID    int64         `json:"tenant_id" yaml:"tenant_id"`
	Group       string        `json:"group" yaml:"group"`
	Every       time.Duration `json:"every" yaml:"every"` // at least a minute
	Ports       string        `json:"ports" yaml:"ports"` // see ParsePorts
	UDP         bool          `json:"udp" yaml:"udp"`
	Credentials bool          `json:"credentials" yaml:"credentials"`
}

// Fleet lists the addresses of a group's devices now: the live data
// sessions' addresses and the static IPs of the inventory. The control
// plane implements it.
type Fleet interface {
	GroupAddrs(ctx context.Context, tenantID int64, group string) ([]netip.Addr, error)
}

// Scheduler runs Schedules until its context ends. Each schedule runs in
// its own goroutine, one scan at a time: a scan that outlasts its period
// delays the next instead of piling up.
type Scheduler struct {
	scanner   *Scanner
	fleet     Fleet
	schedules []Schedule
	log       *slog.Logger
	after     func(time.Duration) <-chan time.Time
}

// NewScheduler validates the schedules. after may be nil (time.After);
// tests pass their own to tick without waiting.
func NewScheduler(s *Scanner, fleet Fleet, schedules []Schedule, after func(time.Duration) <-chan time.Time) (*Scheduler, error) {
	for i, sc := range schedules {
		path := fmt.Sprintf("schedules[%d]", i)
		if err := simguard.ValidateName(sc.Group); err != nil {
			return nil, simguard.FieldError(path+".group", "%s", simguard.ErrorMessage(err))
		}
		if sc.Every < time.Minute {
			return nil, simguard.FieldError(path+".every", "must be at least 1m, got %s", sc.Every)
		}
		if _, err := ParsePorts(sc.Ports); err != nil {
			return nil, simguard.FieldError(path+".ports", "%s", simguard.ErrorMessage(err))
		}
	}
	if after == nil {
		after = time.After
	}
	return &Scheduler{scanner: s, fleet: fleet, schedules: schedules, log: s.log, after: after}, nil
}

// Run scans every schedule's group once per period, the first time one
// period after the start, until ctx ends; it returns nil then, after
// every scan in progress has stopped.
func (sc *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range sc.schedules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-sc.after(s.Every):
				}
				sc.runOnce(ctx, s)
			}
		}()
	}
	wg.Wait()
	return nil
}

func (sc *Scheduler) runOnce(ctx context.Context, s Schedule) {
	log := sc.log.With("tenant", s.TenantID, "group", s.Group)
	addrs, err := sc.fleet.GroupAddrs(ctx, s.TenantID, s.Group)
	if err != nil {
		log.Error("scan: list the group's addresses", "err", err)
		return
	}
	if len(addrs) == 0 {
		log.Debug("scan: no device of the group has an address; nothing to scan")
		return
	}
	targets := make([]string, len(addrs))
	for i, a := range addrs {
		targets[i] = a.String()
	}
	_, err = sc.scanner.Scan(ctx, Request{
		TenantID: s.TenantID, Scope: "group:" + s.Group, Actor: simguard.SystemActor(s.TenantID, "scan:schedule"),
		Targets: targets, Ports: s.Ports, UDP: s.UDP, Credentials: s.Credentials,
	})
	if err != nil && ctx.Err() == nil {
		// Addresses outside the audit ranges land here too: the operator
		// has to widen the ranges or fix the pool, and the log says which.
		log.Error("scan: scheduled scan failed", "err", err)
	}
}
