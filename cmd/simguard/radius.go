package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/simguard/simguard"
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

func init() {
	features = append(features, feature{name: "radius", flags: radiusFlags, attach: attachRADIUS})
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
	clients, err := loadNASClients(ctx, cp.db, cp.secrets)
	if err != nil {
		return err
	}
	srv, err := radius.New(rc.Config, radius.Deps{
		Evaluator: cp.svc.Policy(), Feedback: cp.svc, Events: cp.events,
		Sessions: cp.db, Leases: cp.db, Clients: clients,
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
	unsubscribe := cp.svc.Policy().Subscribe(func(_, next *policy.Snapshot, simIDs []int64) {
		// Subscribers run under the policy's update lock: check outside it.
		go srv.OnPolicyChange(ctx, next, simIDs...)
	})
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
