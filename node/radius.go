package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// RADIUSStore is the session and lease store of a RADIUS node: the
// control plane's, over the API. Each write returns once the control
// plane committed it, so the node's RADIUS server acknowledges
// accounting only for what is durable there; sessions are listed in one
// place; leases are allocated by the control plane's store, which keeps
// an address to one SIM whichever server asks.
type RADIUSStore struct{ c *client.Client }

var (
	_ simguard.RADIUSSessionStore = (*RADIUSStore)(nil)
	_ simguard.IPLeaseStore       = (*RADIUSStore)(nil)
)

// NewRADIUSStore uses c, which must hold a node token.
func NewRADIUSStore(c *client.Client) *RADIUSStore { return &RADIUSStore{c: c} }

// LiveSession implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) LiveSession(ctx context.Context, nas, sessionID string) (simguard.RADIUSSession, error) {
	return s.c.RADIUSLiveSession(ctx, nas, sessionID)
}

// LastSession implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) LastSession(ctx context.Context, nas, sessionID string) (simguard.RADIUSSession, error) {
	return s.c.RADIUSLastSession(ctx, nas, sessionID)
}

// SaveSession implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) SaveSession(ctx context.Context, rs *simguard.RADIUSSession) error {
	return s.c.SaveRADIUSSession(ctx, rs)
}

// SetSessionDisconnect implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) SetSessionDisconnect(ctx context.Context, id int64, d simguard.RADIUSDisconnect) error {
	return s.c.SetRADIUSSessionDisconnect(ctx, id, d)
}

// StopNASSessions implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) StopNASSessions(ctx context.Context, nas string, t time.Time, cause string) (int64, error) {
	return s.c.StopNASSessions(ctx, nas, t, cause)
}

// ListSessions implements simguard.RADIUSSessionStore.
func (s *RADIUSStore) ListSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	return s.c.NodeRADIUSSessions(ctx, f)
}

// ListLeases implements simguard.IPLeaseStore.
func (s *RADIUSStore) ListLeases(ctx context.Context, pool string) ([]simguard.IPLease, error) {
	return s.c.IPLeases(ctx, pool)
}

// GetLease implements simguard.IPLeaseStore.
func (s *RADIUSStore) GetLease(ctx context.Context, pool string, simID int64) (simguard.IPLease, error) {
	return s.c.IPLease(ctx, pool, simID)
}

// CreateLease implements simguard.IPLeaseStore.
func (s *RADIUSStore) CreateLease(ctx context.Context, l simguard.IPLease) error {
	return s.c.CreateIPLease(ctx, l)
}

// ReleaseLeases implements simguard.IPLeaseStore.
func (s *RADIUSStore) ReleaseLeases(ctx context.Context, simID int64) (int64, error) {
	return s.c.ReleaseIPLeases(ctx, simID)
}

// NASClients keeps a RADIUS node's NAS clients (with their shared
// secrets) in step with the control plane by polling with the ETag of
// the last answer: an unchanged list costs one small request.
type NASClients struct {
	c        *client.Client
	log      *slog.Logger
	interval time.Duration
	tag      string
}

// NewNASClients polls through c every interval (default 5s).
func NewNASClients(c *client.Client, log *slog.Logger, interval time.Duration) *NASClients {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &NASClients{c: c, log: log, interval: interval}
}

// Fetch reads the clients; changed is false (and list nil) when they are
// what the last Fetch returned.
func (n *NASClients) Fetch(ctx context.Context) (list []simguard.NASClient, changed bool, err error) {
	list, tag, changed, err := n.c.NodeNASClients(ctx, n.tag)
	if err != nil {
		return nil, false, err
	}
	if changed {
		n.tag = tag
	}
	return list, changed, nil
}

// Run polls until ctx ends and calls apply with every changed list. A
// failed poll or a list apply refuses is logged and tried again at the
// next interval; meanwhile the node keeps the clients it has.
func (n *NASClients) Run(ctx context.Context, apply func([]simguard.NASClient) error) {
	t := time.NewTicker(n.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		list, changed, err := n.Fetch(fctx)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				n.log.Error("reading the NAS clients from the control plane failed; keeping the ones we have", "err", err)
			}
		case changed:
			if err := apply(list); err != nil {
				n.log.Error("the control plane's NAS clients were refused; keeping the ones we have", "err", err)
				n.tag = "" // read them again next time
				continue
			}
			n.log.Info("NAS clients updated from the control plane", "clients", len(list))
		}
	}
}
