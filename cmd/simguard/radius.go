package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/radius"
	"github.com/simguard/simguard/sealed"
)

// radiusConfig is the "radius" section of the serve config: whether the
// RADIUS AAA server runs, and its radius.Config.
type radiusConfig struct {
	Enabled       bool `yaml:"enabled"`
	radius.Config `yaml:",inline"`
}

func radiusFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.BoolVar(&cfg.RADIUS.Enabled, "radius", cfg.RADIUS.Enabled, "run the RADIUS AAA server for packet gateways (config section radius)")
	fs.Func("radius-auth", "RADIUS authentication addresses, comma-separated (default :1812)", func(s string) error {
		cfg.RADIUS.AuthAddrs = strings.Split(s, ",")
		return nil
	})
	fs.Func("radius-acct", "RADIUS accounting addresses, comma-separated (default :1813)", func(s string) error {
		cfg.RADIUS.AcctAddrs = strings.Split(s, ",")
		return nil
	})
}

// attachRADIUS runs the RADIUS server on the control plane's policy,
// feedback, event writer and store. NAS clients come from the store (their
// secrets unsealed here) and are reloaded when TopicNASClients is
// published; every policy change rechecks the live sessions it concerns.
func attachRADIUS(cp *controlPlane) error {
	rc := cp.cfg.RADIUS
	if !rc.Enabled {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cp.closers = append(cp.closers, cancel)
	if cp.cfg.Demo {
		if err := demoNASClient(ctx, cp); err != nil {
			return err
		}
	}
	clients, err := loadNASClients(ctx, cp.db, cp.secrets)
	if err != nil {
		return err
	}
	srv, err := radius.New(rc.Config, radius.Deps{
		Evaluator: cp.svc.Policy(), Feedback: cp.svc, Events: cp.events,
		Sessions: cp.db, Leases: cp.db, Clients: clients, StaticIPTaken: staticIPTaken(cp.svc.Policy()),
		Logger: cp.log.With("component", "radius"), Registerer: cp.reg,
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	cp.radius = srv
	cp.closers = append(cp.closers, func() { _ = srv.Close() })
	unsubscribe := cp.svc.Policy().Subscribe(radiusPolicyHook(ctx, srv, cp.log))
	cp.closers = append(cp.closers, unsubscribe)
	cp.svc.OnTopic(simguard.TopicNASClients, func() {
		list, err := loadNASClients(ctx, cp.db, cp.secrets)
		if err == nil {
			err = srv.SetClients(list)
		}
		if err != nil {
			cp.log.Error("radius: reload NAS clients", "err", err)
			return
		}
		cp.log.Info("radius: NAS clients reloaded", "clients", len(list))
	})
	cp.components = append(cp.components, component{name: "radius", run: srv.Serve})
	cp.log.Info("radius listening", "auth", srv.AuthAddrs(), "acct", srv.AcctAddrs(), "nas_clients", len(clients))
	return nil
}

// demoSecret is the shared secret of the demo's loopback NAS client.
const demoSecret = "simguard-demo-secret"

// demoNASClient registers a NAS client for loopback (127.0.0.0/8, so that
// a gateway registered later for 127.0.0.1 takes precedence) with a
// well-known secret when the demo runs with RADIUS and no NAS client
// exists yet, so that radclient works at once, and says how to use it.
func demoNASClient(ctx context.Context, cp *controlPlane) error {
	list, err := cp.db.ListNASClients(ctx, 0)
	if err != nil || len(list) > 0 {
		return err
	}
	a := simguard.Actor{TenantID: simguard.ProviderTenantID, Role: simguard.RoleAdmin, Name: "system:demo", Provider: true}
	if _, err := cp.svc.CreateNASClient(simguard.WithActor(ctx, a), simguard.NASClient{
		Name: "demo-loopback", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: demoSecret}); err != nil {
		return fmt.Errorf("demo NAS client: %w", err)
	}
	auth := ":1812"
	if len(cp.cfg.RADIUS.AuthAddrs) > 0 {
		auth = cp.cfg.RADIUS.AuthAddrs[0]
	}
	if strings.HasPrefix(auth, ":") {
		auth = "127.0.0.1" + auth
	}
	fmt.Fprintf(cp.env.stdout, `RADIUS demo: NAS client "demo-loopback" registered for 127.0.0.0/8 with the secret %s
(remove it with 'simguard radius nas delete' before real use). Ask as a packet gateway would:

  echo 'User-Name = 001010000000001, 3GPP-IMSI = 001010000000001, 3GPP-IMEISV = 3520990000000101,
        Called-Station-Id = meters.iot, 3GPP-RAT-Type = 8, 3GPP-SGSN-MCC-MNC = 00101,
        Message-Authenticator = 0x00' | radclient -x %s auth %s

`, demoSecret, auth, demoSecret)
	return nil
}

// loadNASClients reads every tenant's NAS clients and opens their sealed
// secrets.
func loadNASClients(ctx context.Context, store simguard.NASClientStore, box *sealed.Box) ([]simguard.NASClient, error) {
	list, err := store.ListNASClients(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("load NAS clients: %w", err)
	}
	for i := range list {
		if list[i].Secret, err = box.Open(list[i].Secret, simguard.NASSecretContext); err != nil {
			return nil, fmt.Errorf("NAS client %s: open its secret: %w", list[i].Name, err)
		}
	}
	return list, nil
}

// radiusPolicyHook rechecks the live sessions of the SIMs a policy change
// concerns (all of them when simIDs is nil), which disconnects what the
// new policy denies, and releases the pool addresses of terminated SIMs.
// Serve and the RADIUS node both use it.
func radiusPolicyHook(ctx context.Context, srv *radius.Server, log *slog.Logger) enforce.Subscriber {
	return func(_, next *policy.Snapshot, simIDs []int64) {
		// Subscribers run under the policy's update lock: work outside it.
		go func() {
			srv.OnPolicyChange(ctx, next, simIDs...)
			for _, id := range simIDs {
				if v, ok := next.SIMByID(id); ok && v.State == simguard.SIMTerminated {
					if _, err := srv.ReleaseLeases(ctx, id); err != nil {
						log.Warn("radius: release the addresses of a terminated SIM", "sim", id, "err", err)
					}
				}
			}
		}()
	}
}

// checkRADIUS validates the radius section (on a copy: Validate fills in
// defaults) before serve opens anything.
func checkRADIUS(cfg *serveConfig, _ *cliEnv) error {
	if !cfg.RADIUS.Enabled {
		return nil
	}
	c := cfg.RADIUS.Config
	return c.Validate()
}

// staticIPTaken answers from the current policy snapshot whether a SIM
// holds an address as its static IP, for the RADIUS address pools.
func staticIPTaken(p *enforce.Policy) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		_, ok := p.Snapshot().SIMByIP(a)
		return ok
	}
}
