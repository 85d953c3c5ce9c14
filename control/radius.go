package control

import (
	"context"

	"github.com/simguard/simguard"
)

// Sealer seals secrets before they reach the store and opens them after
// (package sealed's Box).
type Sealer interface {
	Seal(plaintext, context string) (string, error)
	Open(sealed, context string) (string, error)
}

// nasStore returns the store's NAS client side; a store without one
// cannot manage RADIUS clients.
func (s *Service) nasStore() (simguard.NASClientStore, error) {
	ns, ok := s.store.(simguard.NASClientStore)
	if !ok || s.secrets == nil {
		return nil, simguard.Errorf(simguard.EUNAVAILABLE, "this server keeps no RADIUS NAS clients (store or secrets key missing)")
	}
	return ns, nil
}

// withoutSecret is how NAS clients leave the control plane: the secret is
// write-only.
func withoutSecret(c simguard.NASClient) simguard.NASClient {
	c.Secret = ""
	return c
}

// ListNASClients lists the caller's tenant's NAS clients, without secrets.
func (s *Service) ListNASClients(ctx context.Context) ([]simguard.NASClient, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	ns, err := s.nasStore()
	if err != nil {
		return nil, err
	}
	list, err := ns.ListNASClients(ctx, a.TenantID)
	for i := range list {
		list[i] = withoutSecret(list[i])
	}
	return list, err
}

// CreateNASClient registers a packet gateway (admins: it carries a
// secret). The secret is validated, sealed, stored, and never returned;
// running RADIUS servers reload their clients.
func (s *Service) CreateNASClient(ctx context.Context, c simguard.NASClient) (simguard.NASClient, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.NASClient{}, err
	}
	ns, err := s.nasStore()
	if err != nil {
		return simguard.NASClient{}, err
	}
	c.ID, c.TenantID = 0, a.TenantID
	if err := c.Validate(); err != nil {
		return simguard.NASClient{}, err
	}
	if c.Secret, err = s.secrets.Seal(c.Secret, simguard.NASSecretContext); err != nil {
		return simguard.NASClient{}, err
	}
	created, err := ns.CreateNASClient(ctx, c, simguard.Change{Actor: a, Action: "nas.create"})
	if err != nil {
		return simguard.NASClient{}, err
	}
	s.Publish(simguard.TopicNASClients)
	return withoutSecret(created), nil
}

// ReplaceNASClient replaces a NAS client's settings (admins); an empty
// Secret keeps the current one.
func (s *Service) ReplaceNASClient(ctx context.Context, id, ifVersion int64, in simguard.NASClient) (simguard.NASClient, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.NASClient{}, err
	}
	ns, err := s.nasStore()
	if err != nil {
		return simguard.NASClient{}, err
	}
	updated, err := ns.UpdateNASClient(ctx, a.TenantID, id, ifVersion, simguard.Change{Actor: a, Action: "nas.update"},
		func(c *simguard.NASClient) error {
			secret := in.Secret
			if secret == "" {
				if secret, err = s.secrets.Open(c.Secret, simguard.NASSecretContext); err != nil {
					return err
				}
			}
			next := in
			next.ID, next.TenantID, next.Secret = c.ID, c.TenantID, secret
			if err := next.Validate(); err != nil {
				return err
			}
			if next.Secret, err = s.secrets.Seal(next.Secret, simguard.NASSecretContext); err != nil {
				return err
			}
			next.Version, next.CreatedAt = c.Version, c.CreatedAt
			*c = next
			return nil
		})
	if err != nil {
		return simguard.NASClient{}, err
	}
	s.Publish(simguard.TopicNASClients)
	return withoutSecret(updated), nil
}

// DeleteNASClient removes a NAS client (admins).
func (s *Service) DeleteNASClient(ctx context.Context, id, ifVersion int64) error {
	a, err := admin(ctx)
	if err != nil {
		return err
	}
	ns, err := s.nasStore()
	if err != nil {
		return err
	}
	if err := ns.DeleteNASClient(ctx, a.TenantID, id, ifVersion, simguard.Change{Actor: a, Action: "nas.delete"}); err != nil {
		return err
	}
	s.Publish(simguard.TopicNASClients)
	return nil
}

// ListRADIUSSessions lists accounting sessions: the caller's tenant's, or,
// for provider admins, any tenant's (f.TenantID, 0 for all, including
// sessions of SIMs no policy knew).
func (s *Service) ListRADIUSSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	ss, ok := s.store.(simguard.RADIUSSessionStore)
	if !ok {
		return nil, simguard.Errorf(simguard.EUNAVAILABLE, "this server keeps no RADIUS sessions")
	}
	if !a.Provider {
		f.TenantID = a.TenantID
	}
	return ss.ListSessions(ctx, f)
}
