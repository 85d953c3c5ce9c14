package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// Follower keeps a local policy in step with a control plane.
type Follower struct {
	c      *client.Client
	log    *slog.Logger
	policy *enforce.Policy
	epoch  string
	rev    uint64

	resyncs, changes prometheus.Counter
	lastSync         prometheus.Gauge
}

// Start reads the whole policy state and returns a follower holding it;
// call Run to follow changes. reg may be nil.
func Start(ctx context.Context, c *client.Client, log *slog.Logger, reg prometheus.Registerer) (*Follower, error) {
	f := &Follower{
		c: c, log: log,
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_node_resyncs_total", Help: "Full reads of the policy state from the control plane.",
		}),
		changes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_node_changes_total", Help: "Changes applied from the control plane's feed.",
		}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_node_last_sync_timestamp_seconds", Help: "When the node last heard from the control plane.",
		}),
	}
	snap, err := f.full(ctx)
	if err != nil {
		return nil, err
	}
	f.policy = enforce.NewPolicy(snap, reg)
	if reg != nil {
		reg.MustRegister(f.resyncs, f.changes, f.lastSync)
	}
	return f, nil
}

// Policy is the local policy enforcement points evaluate.
func (f *Follower) Policy() *enforce.Policy { return f.policy }

// full reads the whole state into a new snapshot.
func (f *Follower) full(ctx context.Context) (*policy.Snapshot, error) {
	start := time.Now()
	var groups []simguard.Group
	var sims []simguard.SIM
	var devs []simguard.Device
	epoch, rev, err := f.c.SyncState(ctx, func(it client.SyncItem) error {
		switch {
		case it.Devices != nil:
			devs = it.Devices.Items
		case it.Group != nil:
			groups = append(groups, *it.Group)
		case it.SIM != nil:
			sims = append(sims, *it.SIM)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the policy from the control plane: %w", err)
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		return nil, fmt.Errorf("compile the control plane's policy: %w", err)
	}
	if snap, err = snap.WithDevices(devs); err != nil {
		return nil, fmt.Errorf("compile the control plane's device list: %w", err)
	}
	f.epoch, f.rev = epoch, rev
	f.resyncs.Inc()
	f.lastSync.SetToCurrentTime()
	f.log.Info("policy synced from the control plane", "groups", len(groups), "sims", len(sims), "rev", rev, "took", time.Since(start).Round(time.Millisecond))
	return snap, nil
}

// Run follows the change feed until ctx ends. Errors talking to the
// control plane are logged and retried with backoff; meanwhile the node
// enforces the last policy it has.
func (f *Follower) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := f.step(ctx)
		if err == nil {
			backoff = time.Second
			continue
		}
		if ctx.Err() != nil {
			break
		}
		f.log.Error("following the control plane failed; enforcing the last policy", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, time.Minute)
	}
	return nil
}

func (f *Follower) step(ctx context.Context) error {
	items, next, err := f.c.SyncChanges(ctx, f.epoch, f.rev, 30*time.Second)
	if errors.Is(err, client.ErrResync) {
		snap, err := f.full(ctx)
		if err != nil {
			return err
		}
		return f.policy.Update(func(*policy.Snapshot) (*policy.Snapshot, error) { return snap, nil })
	}
	if err != nil {
		return err
	}
	f.lastSync.SetToCurrentTime()
	if len(items) == 0 {
		return nil
	}
	var simIDs []int64 // nil (anything changed) as soon as a group is in the batch
	groups := false
	for _, it := range items {
		if it.SIM != nil {
			simIDs = append(simIDs, it.SIM.ID)
		} else {
			groups = true
		}
	}
	if groups {
		simIDs = nil
	}
	err = f.policy.UpdateSIMs(simIDs, func(s *policy.Snapshot) (*policy.Snapshot, error) {
		for _, it := range items {
			var err error
			switch {
			case it.Group != nil:
				s, err = s.WithGroup(it.Group)
			case it.Deleted != nil:
				s = s.WithoutGroup(it.Deleted.TenantID, it.Deleted.Name)
			case it.SIM != nil:
				s, err = s.WithSIM(it.SIM)
			case it.Devices != nil:
				s, err = s.WithDevices(it.Devices.Items)
			}
			if err != nil {
				return nil, err
			}
		}
		return s, nil
	})
	if err != nil {
		// A change the snapshot refuses means our copy has drifted: start over.
		f.log.Error("a change from the control plane did not apply; resyncing", "err", err)
		f.epoch = ""
		return nil
	}
	f.rev = next
	f.changes.Add(float64(len(items)))
	return nil
}
