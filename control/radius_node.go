package control

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"

	"github.com/simguard/simguard"
)

// What a separate RADIUS enforcement node ("simguard radius --server
// URL") needs from the control plane besides the policy: the NAS clients
// with their shared secrets, and the session and lease stores, which stay
// on the control plane so that sessions are seen in one place and leases
// are unique across every server.

// radiusNode allows node tokens only. Provider admins, who may read the
// sync state for debugging, are refused here: these answers carry opened
// shared secrets, and the session and lease stores are written by
// enforcement, not by people.
func radiusNode(ctx context.Context) (simguard.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if a.Role != simguard.RoleNode {
		return a, simguard.Errorf(simguard.EFORBIDDEN, "only node tokens may do this (simguard token create --role node)")
	}
	return a, nil
}

// NodeNASClients returns every tenant's NAS clients with their shared
// secrets opened, for a RADIUS node (node tokens only: they are created by
// provider admins and trusted like the control plane). tag changes
// whenever a client is added, changed or removed, so that a node polling
// with it is answered "unchanged" cheaply.
func (s *Service) NodeNASClients(ctx context.Context) (list []simguard.NASClient, tag string, err error) {
	if _, err := radiusNode(ctx); err != nil {
		return nil, "", err
	}
	ns, err := s.nasStore()
	if err != nil {
		return nil, "", err
	}
	list, err = ns.ListNASClients(ctx, 0)
	if err != nil {
		return nil, "", err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	h := sha256.New()
	var b [16]byte
	for i := range list {
		binary.BigEndian.PutUint64(b[:8], uint64(list[i].ID))
		binary.BigEndian.PutUint64(b[8:], uint64(list[i].Version))
		h.Write(b[:])
		if list[i].Secret, err = s.secrets.Open(list[i].Secret, simguard.NASSecretContext); err != nil {
			return nil, "", simguard.Errorf(simguard.EINTERNAL, "NAS client %s: open its secret: %v", list[i].Name, err)
		}
	}
	return list, hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// NodeRADIUSSessions authorizes a RADIUS node to use the session store
// (node tokens only) and returns it. The node's server calls the same
// methods the control plane's own RADIUS server calls on the store, so
// an Accounting-Response is sent only after this store committed.
func (s *Service) NodeRADIUSSessions(ctx context.Context) (simguard.RADIUSSessionStore, error) {
	if _, err := radiusNode(ctx); err != nil {
		return nil, err
	}
	return s.store, nil
}

// NodeIPLeases authorizes a RADIUS node to use the lease store (node
// tokens only) and returns it. The store allocates atomically: an address
// is held by one SIM per pool, whichever server asks.
func (s *Service) NodeIPLeases(ctx context.Context) (simguard.IPLeaseStore, error) {
	if _, err := radiusNode(ctx); err != nil {
		return nil, err
	}
	return s.store, nil
}
