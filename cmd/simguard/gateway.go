package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/gateway"
	sghttp "github.com/simguard/simguard/http"
)

// gatewayConfig is the "gateway:" section of the config: the nftables
// firewall on the packet gateway host. serve runs it when enabled; the
// node ("simguard gateway --server URL") reads the same section.
type gatewayConfig struct {
	Enabled bool `yaml:"enabled"`
	// DeviceNets are the prefixes device addresses come from.
	DeviceNets []netip.Prefix `yaml:"device_nets"`
	// DeviceIfaces are the interfaces devices' packets arrive on; sources
	// outside DeviceNets arriving there are dropped.
	DeviceIfaces []string `yaml:"device_ifaces"`
	// Uplink is the interface towards the internet (SNAT applies there).
	Uplink string `yaml:"uplink"`
	// SNAT: masquerade (default with an uplink), address (SNATAddr) or off.
	SNAT     string     `yaml:"snat"`
	SNATAddr netip.Addr `yaml:"snat_addr"`
	// Table is the inet table the agent owns (default simguard).
	Table string `yaml:"table"`
	// NFLogGroup receives denied packets (default 7); LogRate caps them
	// per second (default 100).
	NFLogGroup uint16 `yaml:"nflog_group"`
	LogRate    int    `yaml:"log_rate"`
	// LeasePools are RADIUS pools whose leased addresses count as device
	// addresses too (default in serve: every pool of the radius section).
	LeasePools []string `yaml:"lease_pools"`
	// Resync recompiles everything this often (windows, leases; default 30s).
	Resync time.Duration `yaml:"resync"`
	// RemoveOnExit deletes the table on exit; by default it stays (fail closed).
	RemoveOnExit bool `yaml:"remove_on_exit"`
	// NetNS programs another network namespace (a path such as
	// /run/netns/gw) instead of the agent's own.
	NetNS string `yaml:"netns"`
}

// gatewayServeFlags binds serve's gateway flags.
func gatewayServeFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.BoolVar(&cfg.Gateway.Enabled, "gateway", cfg.Gateway.Enabled, "run the gateway firewall (nftables; needs CAP_NET_ADMIN; config section gateway)")
	gatewayFlags(fs, &cfg.Gateway, "gateway-")
}

// gatewayFlags binds the flags shared by serve (prefix "gateway-") and the
// node (no prefix).
func gatewayFlags(fs *flag.FlagSet, c *gatewayConfig, p string) {
	fromFlags := false
	fs.Func(p+"device-net", "gateway: prefixes device addresses come from, comma-separated or repeated, e.g. 10.64.0.0/16; replaces the config's device_nets", func(s string) error {
		if !fromFlags {
			c.DeviceNets, fromFlags = nil, true
		}
		for _, x := range strings.Split(s, ",") {
			pr, err := netip.ParsePrefix(strings.TrimSpace(x))
			if err != nil {
				return fmt.Errorf("want a CIDR like 10.64.0.0/16, got %q", x)
			}
			c.DeviceNets = append(c.DeviceNets, pr)
		}
		return nil
	})
	fs.Func(p+"device-iface", "gateway: interfaces devices' packets arrive on, comma-separated; packets there from a source outside the device nets are dropped (unset: spoofed sources are not filtered)", func(s string) error {
		c.DeviceIfaces = splitList(s)
		return nil
	})
	fs.StringVar(&c.Uplink, p+"uplink", c.Uplink, "gateway: interface towards the internet; device traffic leaving through it is source-NATed")
	fs.StringVar(&c.SNAT, p+"snat", c.SNAT, "gateway: masquerade (default with --"+p+"uplink), address (with --"+p+"snat-addr) or off")
	fs.Func(p+"snat-addr", "gateway: the fixed source address for --"+p+"snat address", func(s string) error {
		a, err := netip.ParseAddr(s)
		c.SNATAddr = a
		return err
	})
	fs.Func(p+"nflog-group", "gateway: nflog group for denied packets (default 7)", func(s string) error {
		var g uint16
		_, err := fmt.Sscan(s, &g)
		c.NFLogGroup = g
		return err
	})
	fs.StringVar(&c.Table, p+"table", c.Table, "gateway: the inet table simguard owns (default simguard); other tables are left alone")
	fs.BoolVar(&c.RemoveOnExit, p+"remove-on-exit", c.RemoveOnExit, "gateway: delete the table on exit (default: leave the last rules in place, fail closed)")
	fs.StringVar(&c.NetNS, p+"netns", c.NetNS, "gateway: program this network namespace (e.g. /run/netns/gw) instead of our own")
}

// agentConfig turns the section into the agent's config; errors name
// the config key.
func (c *gatewayConfig) agentConfig() (gateway.Config, error) {
	cfg := gateway.Config{Table: c.Table, DeviceNets: append([]netip.Prefix(nil), c.DeviceNets...),
		DeviceIfaces: append([]string(nil), c.DeviceIfaces...), Uplink: c.Uplink,
		SNAT: simguard.SNATMode(c.SNAT), SNATAddr: c.SNATAddr, NFLogGroup: c.NFLogGroup, LogRate: c.LogRate}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (config section gateway)", err)
	}
	return cfg, nil
}

// checkGateway validates the gateway section before serve opens anything.
func checkGateway(cfg *serveConfig, _ *cliEnv) error {
	if !cfg.Gateway.Enabled {
		return nil
	}
	_, err := cfg.Gateway.agentConfig()
	return err
}

// openNetNS opens the namespace to program; 0 is our own.
func openNetNS(path string) (int, func(), error) {
	if path == "" {
		return 0, func() {}, nil
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("gateway netns %s: %w", path, err)
	}
	return fd, func() { unix.Close(fd) }, nil
}

// attachGateway runs the firewall agent on serve's own policy and events.
func attachGateway(cp *controlPlane) error {
	c := &cp.cfg.Gateway
	if !c.Enabled {
		return nil
	}
	cfg, err := c.agentConfig()
	if err != nil {
		return err
	}
	if err := gateway.CheckPrivilege(); err != nil {
		return err
	}
	fd, closeNS, err := openNetNS(c.NetNS)
	if err != nil {
		return err
	}
	cp.closers = append(cp.closers, closeNS)
	pools := c.LeasePools
	if len(pools) == 0 && cp.cfg.RADIUS.Enabled {
		for _, p := range cp.cfg.RADIUS.Pools {
			pools = append(pools, p.Name)
		}
	}
	agent, err := gateway.New(cfg, gateway.Options{Resync: c.Resync, RemoveOnExit: c.RemoveOnExit}, gateway.Deps{
		Policy: cp.svc.Policy(), Events: cp.events, Logger: cp.log, Reg: cp.reg, Clock: time.Now,
		Addrs: leaseAddrs(pools, cp.db.ListLeases), NetNS: fd,
	})
	if err != nil {
		return err
	}
	// A pool address handed out in an Access-Accept opens at once, not at
	// the next resync.
	cp.events.Subscribe(func(evs []simguard.Event) {
		for _, e := range evs {
			if e.Source == "radius" && e.Decision == "allow" && e.Attrs["ip"] != "" {
				if ip, err := netip.ParseAddr(e.Attrs["ip"]); err == nil {
					agent.NoteAddr(e.SIMID, ip)
				}
			}
		}
	})
	cp.components = append(cp.components, component{name: "gateway", run: agent.Run})
	cp.apiHooks = append(cp.apiHooks, func(api *sghttp.Server) { api.HandleGateway(agent) })
	fmt.Fprintf(cp.env.stdout, "Gateway firewall: table inet %s for devices in %s, uplink %q (SNAT %s)\n",
		cfg.Table, netList(cfg.DeviceNets), cfg.Uplink, cfg.SNAT)
	return nil
}

// leaseAddrs reads the leased addresses of pools (nil without pools).
func leaseAddrs(pools []string, list func(context.Context, string) ([]simguard.IPLease, error)) func(context.Context) (simguard.DeviceAddrs, error) {
	if len(pools) == 0 {
		return nil
	}
	return func(ctx context.Context) (simguard.DeviceAddrs, error) {
		out := simguard.DeviceAddrs{}
		for _, p := range pools {
			ls, err := list(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("leases of pool %s: %w", p, err)
			}
			for _, l := range ls {
				out[l.SIMID] = append(out[l.SIMID], l.IP)
			}
		}
		return out, nil
	}
}

func netList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
