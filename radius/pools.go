package radius

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

var errPoolExhausted = errors.New("address pool exhausted")

// maxScan bounds the search for a free address per request, so that a
// huge (IPv6) or nearly full pool costs a bounded time; a pool whose free
// addresses are all further away counts as exhausted for this request.
const maxScan = 1 << 16

// pool hands out addresses of one PoolConfig. The store is the authority
// (it refuses a taken address); the in-memory maps only avoid asking it
// about addresses known to be taken.
type pool struct {
	PoolConfig
	store   simguard.IPLeaseStore
	mu      sync.Mutex
	bySIM   map[int64]netip.Addr
	used    map[netip.Addr]int64
	exclude map[netip.Addr]bool
	// static tells whether a SIM holds an address as its static IP (nil:
	// none known); such an address is never leased.
	static func(netip.Addr) bool
	next   netip.Addr // where the next search starts
	prefix int        // index into Prefixes of next
}

type pools struct {
	byAPN map[string]*pool
	all   []*pool
}

func newPools(cfgs []PoolConfig, store simguard.IPLeaseStore, static func(netip.Addr) bool) *pools {
	ps := &pools{byAPN: map[string]*pool{}}
	for _, c := range cfgs {
		p := &pool{PoolConfig: c, store: store, bySIM: map[int64]netip.Addr{},
			used: map[netip.Addr]int64{}, exclude: map[netip.Addr]bool{}, static: static}
		for _, a := range c.Exclude {
			p.exclude[a.Unmap()] = true
		}
		p.next = firstHost(c.Prefixes[0])
		ps.all = append(ps.all, p)
		for _, apn := range c.APNs {
			ps.byAPN[apn] = p
		}
	}
	return ps
}

// load reads every pool's leases, so that a restart keeps them.
func (ps *pools) load(ctx context.Context) error {
	for _, p := range ps.all {
		leases, err := p.store.ListLeases(ctx, p.Name)
		if err != nil {
			return fmt.Errorf("pool %s: %w", p.Name, err)
		}
		p.mu.Lock()
		for _, l := range leases {
			p.bySIM[l.SIMID] = l.IP
			p.used[l.IP] = l.SIMID
		}
		p.mu.Unlock()
	}
	return nil
}

// acquire returns the SIM's address in the APN's pool, leasing one when it
// has none. No pool for the APN: an invalid address (the NAS assigns).
func (ps *pools) acquire(ctx context.Context, timeout time.Duration, apn string, simID, tenantID int64, now time.Time) (netip.Addr, error) {
	p := ps.byAPN[apn]
	if p == nil || simID == 0 {
		return netip.Addr{}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.bySIM[simID]; ok {
		return a, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for range 8 { // conflicts come from other servers sharing the store
		a, ok := p.findFree()
		if !ok {
			return netip.Addr{}, errPoolExhausted
		}
		err := p.store.CreateLease(ctx, simguard.IPLease{Pool: p.Name, IP: a, SIMID: simID, TenantID: tenantID, CreatedAt: now})
		if err == nil {
			p.bySIM[simID], p.used[a] = a, simID
			return a, nil
		}
		if simguard.ErrorCode(err) != simguard.ECONFLICT {
			return netip.Addr{}, err
		}
		if l, err := p.store.GetLease(ctx, p.Name, simID); err == nil {
			p.bySIM[simID], p.used[l.IP] = l.IP, simID
			return l.IP, nil
		}
		p.used[a] = -1 // held by a SIM we have not seen yet
	}
	return netip.Addr{}, fmt.Errorf("pool %s: too many lease conflicts", p.Name)
}

// findFree walks the pool's prefixes from where the last search stopped.
func (p *pool) findFree() (netip.Addr, bool) {
	a := p.next
	for range maxScan {
		if !a.IsValid() || !p.Prefixes[p.prefix].Contains(a) || isLast(p.Prefixes[p.prefix], a) {
			p.prefix = (p.prefix + 1) % len(p.Prefixes)
			a = firstHost(p.Prefixes[p.prefix])
		}
		if _, taken := p.used[a]; !taken && !p.exclude[a] && (p.static == nil || !p.static(a)) {
			p.next = a.Next()
			return a, true
		}
		a = a.Next()
	}
	return netip.Addr{}, false
}

// firstHost skips the network address of IPv4 prefixes up to /30, and the
// IPv6 subnet-router anycast address.
func firstHost(p netip.Prefix) netip.Addr {
	a := p.Addr()
	if p.Addr().Is4() && p.Bits() <= 30 || p.Addr().Is6() && p.Bits() <= 126 {
		a = a.Next()
	}
	return a
}

// isLast reports whether a is the IPv4 broadcast address of p.
func isLast(p netip.Prefix, a netip.Addr) bool {
	if !a.Is4() || p.Bits() > 30 {
		return false
	}
	n := a.Next()
	return !n.IsValid() || !p.Contains(n)
}

// ReleaseLeases frees every address the SIM holds (call it when a SIM is
// terminated), in the store and in this server's pools.
func (s *Server) ReleaseLeases(ctx context.Context, simID int64) (int64, error) {
	if len(s.pools.all) == 0 {
		return 0, nil
	}
	n, err := s.pools.all[0].store.ReleaseLeases(ctx, simID)
	if err != nil {
		return 0, fmt.Errorf("radius: release leases of SIM %d: %w", simID, err)
	}
	for _, p := range s.pools.all {
		p.mu.Lock()
		if a, ok := p.bySIM[simID]; ok {
			delete(p.bySIM, simID)
			delete(p.used, a)
		}
		p.mu.Unlock()
	}
	return n, nil
}
