package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func findingsCommand() *command {
	return &command{name: "findings", summary: "list what scans found (also: findings remediate ID)", run: findingsMain}
}

func findingsMain(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 && args[0] == "remediate" {
		return findingsRemediate(ctx, env, args[1:])
	}
	return findingsList(ctx, env, args)
}

func findingsList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "findings", "[flags] | remediate ID",
		"List findings. Without --scan: your fleet's exposure, the latest finding of every service a\n"+
			"scan ever found open, with its state (open, or closed since a later scan found the port closed).\n\n"+
			"  simguard findings --severity high --state open\n"+
			"  simguard findings --sim 8949… --kind default_credential\n"+
			"  simguard findings remediate ID     close the finding's port in its group's policy")
	api := addAPIFlags(fs, env)
	var q client.FindingQuery
	fs.StringVar(&q.SIM, "sim", "", "only this SIM (ICCID, IMSI or MSISDN)")
	fs.StringVar(&q.Group, "group", "", "only SIMs of this group")
	fs.StringVar(&q.Target, "target", "", "only this device address")
	fs.StringVar(&q.Severity, "severity", "", "this severity or higher: info, low, medium, high, critical")
	fs.StringVar(&q.State, "state", "", "open or closed")
	fs.StringVar(&q.Kind, "kind", "", "only findings with this issue: default_credential, plaintext_login, plaintext_protocol, anonymous_access, port_not_allowed, weak_tls, info_leak, lockout")
	fs.Int64Var(&q.Scan, "scan", 0, "the findings of this scan instead of the exposure")
	fs.IntVar(&q.Limit, "limit", 100, "findings to show (with --all: page size)")
	all := fs.Bool("all", false, "page through every match")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	var out []simguard.Finding
	for {
		page, next, err := c.Findings(ctx, q)
		if err != nil {
			return err
		}
		out = append(out, page...)
		if !*all || next == 0 {
			break
		}
		q.After = next
	}
	if api.json {
		return printJSON(env.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(env.stdout, "no findings")
		return nil
	}
	printFindings(env.stdout, out)
	return nil
}

func findingsRemediate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "findings remediate", "ID [flags]",
		"Close a finding's port: the inbound rules of its group's policy that let the port in are narrowed,\n"+
			"through the same audited group update as 'group apply'; the gateway firewall then enforces it.\n"+
			"It fails if the group changed since the scan (review it, then pass --if-match VERSION).")
	api := addAPIFlags(fs, env)
	ifMatch := fs.Int64("if-match", 0, "the group version you reviewed (default: the one the scan saw)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the finding's ID (simguard findings shows them)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Sprintf("%q is not a finding ID", pos[0])}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	res, err := c.RemediateFinding(ctx, id, *ifMatch)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, res)
	}
	f, g := res.Finding, res.Group
	fmt.Fprintf(env.stdout, "closed inbound %s/%d in group %s (now version %d) for %s\n", f.Proto, f.Port, g.Name, g.Version, f.Target)
	if len(g.Policy.Inbound) == 0 {
		fmt.Fprintln(env.stdout, "inbound: nothing may open connections to the group's devices")
		return nil
	}
	fmt.Fprintln(env.stdout, "inbound now allows:")
	for _, r := range g.Policy.Inbound {
		ports := make([]string, len(r.Ports))
		for i, p := range r.Ports {
			ports[i] = p.String()
		}
		list := strings.Join(ports, ",")
		if list == "" && (r.Proto == "tcp" || r.Proto == "udp") {
			list = "all ports"
		}
		fmt.Fprintln(env.stdout, strings.TrimRight(fmt.Sprintf("  from %s %s %s", r.CIDR, r.Proto, list), " "))
	}
	return nil
}
