package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter"
)

// diameterConfig is the "diameter" section of the serve config: whether
// the Diameter S13 EIR / S6a guard runs, and its diameter.Config.
type diameterConfig struct {
	Enabled         bool `yaml:"enabled"`
	diameter.Config `yaml:",inline"`
}

var diameterFeature = feature{name: "diameter", flags: diameterFlags, check: checkDiameter, attach: attachDiameter}

func diameterFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.BoolVar(&cfg.Diameter.Enabled, "diameter", cfg.Diameter.Enabled, "run the Diameter S13 EIR and S6a guard for MMEs (config section diameter)")
	diameterNetFlags(fs, &cfg.Diameter.Config)
}

// diameterNetFlags are the flags serve and the Diameter node share.
func diameterNetFlags(fs *flag.FlagSet, c *diameter.Config) {
	fs.StringVar(&c.Listen, "diameter-listen", c.Listen, "Diameter: TCP address MMEs connect to (default :3868)")
	fs.StringVar(&c.OriginHost, "diameter-origin-host", c.OriginHost, "Diameter: simguard's Origin-Host (default simguard.localdomain)")
	fs.StringVar(&c.OriginRealm, "diameter-origin-realm", c.OriginRealm, "Diameter: simguard's Origin-Realm (default localdomain)")
	fs.Func("diameter-hss", "Diameter: the HSS to relay S6a to, as host:port,origin-host,realm (enables the S6a guard)", func(v string) error {
		parts := strings.Split(v, ",")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return fmt.Errorf("want host:port,origin-host,realm like 10.0.0.5:3868,hss1.epc.example,epc.example, got %q", v)
		}
		c.HSS = diameter.HSSConfig{Addr: parts[0], Host: parts[1], Realm: parts[2]}
		return nil
	})
}

// checkDiameter validates the section (on a copy: Validate fills in
// defaults) before serve opens anything.
func checkDiameter(cfg *serveConfig, _ *cliEnv) error {
	if !cfg.Diameter.Enabled {
		return nil
	}
	c := cfg.Diameter.Config
	return c.Validate()
}

// attachDiameter runs the Diameter server on the control plane's policy,
// feedback and event writer; peers come from the store and are reloaded
// when TopicDiameterPeers is published.
func attachDiameter(cp *controlPlane) error {
	dc := cp.cfg.Diameter
	if !dc.Enabled {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cp.closers = append(cp.closers, cancel)
	if cp.cfg.Demo {
		if err := demoDiameterPeer(ctx, cp); err != nil {
			return err
		}
	}
	srv, err := diameter.New(dc.Config, diameter.Deps{
		Evaluator: cp.svc.Policy(), Feedback: cp.svc, Events: cp.events,
		Logger: cp.log.With("component", "diameter"), Registerer: cp.reg,
	})
	if err != nil {
		return err
	}
	peers, err := cp.db.ListDiameterPeers(ctx, 0)
	if err != nil {
		return fmt.Errorf("load Diameter peers: %w", err)
	}
	srv.SetPeers(peers)
	if err := srv.Listen(); err != nil {
		return err
	}
	cp.svc.OnTopic(simguard.TopicDiameterPeers, func() {
		list, err := cp.db.ListDiameterPeers(ctx, 0)
		if err != nil {
			cp.log.Error("diameter: reload peers", "err", err)
			return
		}
		srv.SetPeers(list)
		cp.log.Info("diameter: peers reloaded", "peers", len(list))
	})
	cp.components = append(cp.components, component{name: "diameter", run: srv.Run})
	cp.log.Info("diameter listening", "addr", srv.Addr().String(), "peers", len(peers))
	return nil
}

// demoDiameterPeer registers a loopback MME when the demo runs with
// Diameter and no peer exists yet, and says how to try it.
func demoDiameterPeer(ctx context.Context, cp *controlPlane) error {
	list, err := cp.db.ListDiameterPeers(ctx, 0)
	if err != nil || len(list) > 0 {
		return err
	}
	a := simguard.Actor{TenantID: simguard.ProviderTenantID, Role: simguard.RoleAdmin, Name: "system:demo", Provider: true}
	if _, err := cp.svc.CreateDiameterPeer(simguard.WithActor(ctx, a), simguard.DiameterPeer{
		OriginHost: "mme.demo.localdomain", Prefix: netip.MustParsePrefix("127.0.0.0/8")}); err != nil {
		return fmt.Errorf("demo Diameter peer: %w", err)
	}
	addr := cp.cfg.Diameter.Listen
	if addr == "" {
		addr = ":3868"
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	fmt.Fprintf(cp.env.stdout, `Diameter demo: MME peer "mme.demo.localdomain" registered for 127.0.0.0/8
(remove it with 'simguard diameter peers rm' before real use). An MME at %s with that
Origin-Host may now send S13 ME-Identity-Check requests, e.g. with node-diameter
(diameter/e2e in the source tree: node mme.js %s mme.demo.localdomain ecr 001010000000001 35209900000001).
Demo SIM 001010000000001 is locked to IMEI 35209900000001: that ECR is WHITELISTED, any other IMEI BLACKLISTED.

`, addr, addr)
	return nil
}
