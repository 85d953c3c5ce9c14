package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/gateway"
	"github.com/simguard/simguard/node"
)

func gatewayCommand() *command {
	return &command{name: "gateway", summary: "run the gateway firewall (nftables) as a node of a control plane, or print its ruleset (--dry-run)", run: gatewayNode}
}

// gatewayNode runs the firewall agent on the packet gateway host,
// following the policy of a remote control plane over the sync API with
// a node token; flow.denied events go back through the API.
func gatewayNode(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "gateway", "[--server URL] [--config FILE] --device-net CIDR [--uplink IF] [flags]",
		"Run the gateway firewall on this host: devices in --device-net may reach only what their group's\n"+
			"egress allowlist names; nothing outside may open a connection to them unless the group's\n"+
			"inbound list allows it; suspended, terminated or data-off SIMs lose all traffic. simguard\n"+
			"programs one nftables table of its own (inet simguard) through netlink and leaves other tables\n"+
			"alone. It follows the control plane at --server with a node token in SIMGUARD_TOKEN\n"+
			"(simguard token create --role node). It needs CAP_NET_ADMIN. On exit the rules stay in place\n"+
			"(fail closed) unless --remove-on-exit. --dry-run prints the ruleset as nft text and exits.\n"+
			"The gateway: section of the config file (serve's format) sets the same as the flags.")
	server, metrics, cfg, err := nodeFlags(fs, env, args, "gateway", "127.0.0.1:9277")
	if err != nil {
		return err
	}
	dryRun := fs.Bool("dry-run", false, "print the ruleset for the current policy as nft text and exit; changes nothing")
	fs.DurationVar(&cfg.Gateway.Resync, "resync", cfg.Gateway.Resync, "recompile everything this often, for activation windows and new leases (default 30s)")
	fs.Func("lease-pools", "RADIUS pools whose leased addresses are device addresses too, comma-separated", func(s string) error {
		cfg.Gateway.LeasePools = splitList(s)
		return nil
	})
	gatewayFlags(fs, &cfg.Gateway, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		return err
	}
	gcfg, err := cfg.Gateway.agentConfig()
	if err != nil {
		return usageError{err.Error()}
	}
	c, err := nodeClient(env, *server, "gw-1")
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, env)
	addrs := leaseAddrs(cfg.Gateway.LeasePools, c.IPLeases)
	if *dryRun {
		return gatewayDryRun(ctx, env, c, gcfg, addrs)
	}
	if err := gateway.CheckPrivilege(); err != nil {
		return err
	}
	fd, closeNS, err := openNetNS(cfg.Gateway.NetNS)
	if err != nil {
		return err
	}
	defer closeNS()
	reg := nodeRegistry()
	follower, err := node.Start(ctx, c, log, reg)
	if err != nil {
		return err
	}
	events := enforce.NewEventWriter(node.NewEvents(c, log), enforce.EventWriterConfig{}, log, time.Now, reg)
	agent, err := gateway.New(gcfg, gateway.Options{Resync: cfg.Gateway.Resync, RemoveOnExit: cfg.Gateway.RemoveOnExit}, gateway.Deps{
		Policy: follower.Policy(), Events: events, Logger: log, Reg: reg, Clock: time.Now, Addrs: addrs, NetNS: fd,
	})
	if err != nil {
		return err
	}
	m, err := listenMetrics(*metrics, "--metrics-listen", reg)
	if err != nil {
		return err
	}
	defer m.Close()
	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	evCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stopEvents()
		stopBG()
		wg.Wait()
	}()
	wg.Add(2)
	go func() { defer wg.Done(); _ = follower.Run(bg) }()
	go func() { defer wg.Done(); _ = events.Run(evCtx) }()
	fmt.Fprintf(env.stdout, "Gateway firewall node: table inet %s for devices in %s, uplink %q (SNAT %s), following %s\n",
		gcfg.Table, netList(gcfg.DeviceNets), gcfg.Uplink, gcfg.SNAT, *server)
	return agent.Run(ctx)
}

// gatewayDryRun prints the ruleset the agent would install now.
func gatewayDryRun(ctx context.Context, env *cliEnv, c *client.Client, cfg gateway.Config, addrs func(context.Context) (simguard.DeviceAddrs, error)) error {
	follower, err := node.Start(ctx, c, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	var extra simguard.DeviceAddrs
	if addrs != nil {
		if extra, err = addrs(ctx); err != nil {
			return err
		}
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(env.stderr, "warning: "+w)
	}
	rs := gateway.Compile(follower.Policy().Snapshot(), cfg, time.Now(), extra)
	return rs.WriteText(env.stdout)
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
