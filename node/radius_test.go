package node_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/control"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/node"
	"github.com/simguard/simguard/sqlite"
	"github.com/simguard/simguard/storetest"
)

// TestRADIUSStoreConformance runs the store conformance suite's session
// and lease part against a RADIUS node's store: the control plane's store
// over the API, with a node token. It must behave exactly like the store
// it stands for, error codes included.
func TestRADIUSStoreConformance(t *testing.T) {
	storetest.RADIUSSessionsAndLeases(t, func(t *testing.T) storetest.RADIUSStores {
		return node.NewRADIUSStore(controlPlane(t, simguard.RoleNode))
	})
}

// TestRADIUSStoreNeedsNodeToken: even a provider admin may not write
// sessions or leases through the node endpoints.
func TestRADIUSStoreNeedsNodeToken(t *testing.T) {
	s := node.NewRADIUSStore(controlPlane(t, simguard.RoleAdmin))
	ctx := context.Background()
	_, err := s.ListSessions(ctx, simguard.RADIUSSessionFilter{})
	if simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Errorf("admin listing through the node endpoint: %v", err)
	}
	if err := s.CreateLease(ctx, simguard.IPLease{Pool: "p", SIMID: 1}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Errorf("admin leasing through the node endpoint: %v", err)
	}
}

// controlPlane starts a control plane on an empty store and returns a
// client with a new token of role.
func controlPlane(t *testing.T, role simguard.Role) *client.Client {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := control.New(ctx, db, control.Config{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := svc.Bootstrap(ctx, "provider")
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.CreateToken(simguard.WithActor(ctx, a), 0, "t-"+string(role), role)
	if err != nil {
		t.Fatal(err)
	}
	api, err := sghttp.New(sghttp.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, tok.Secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
