package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan"
	"github.com/simguard/simguard/scan/creds"
)

func scanCommand() *command {
	return &command{name: "scan", summary: "audit the fleet's exposure: open ports, default credentials, plaintext (also: scan list, scan show ID)", run: scanMain}
}

// scanMain dispatches "scan list" and "scan show" and runs a scan
// otherwise, so that "simguard scan 10.45.0.7" needs no subcommand.
func scanMain(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return scanList(ctx, env, args[1:])
		case "show":
			return scanShow(ctx, env, args[1:])
		}
	}
	return scanRun(ctx, env, args)
}

// scanRunFlags are the flags of a scan, through the API or local.
type scanRunFlags struct {
	ports, group, scope, format, failOn string
	udp, credentials, wait, local       bool
	auditRanges                         []string
	pps, concurrency                    int
	timeout                             time.Duration
	credsFile                           string
}

func scanRun(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "scan", "TARGET… [flags] | --group NAME | list | show ID",
		"Scan device addresses (or CIDRs) for open TCP ports, identify the services, flag plaintext\n"+
			"protocols and, with --credentials, try vendor default logins (bounded, opt-in). Through the API\n"+
			"the control plane scans (targets must lie in its scan.audit_ranges) and keeps the findings;\n"+
			"with --local this machine scans directly and keeps nothing.\n\n"+
			"  simguard scan 10.45.0.7 10.45.1.0/28 --ports top1000 --udp --credentials --wait\n"+
			"  simguard scan --group meters --wait --format csv > meters.csv\n"+
			"  simguard scan list                       runs, newest first\n"+
			"  simguard scan show ID [--format csv]     a run's report\n"+
			"  simguard scan 198.18.1.2 --local --audit-range 198.18.0.0/16 --ports all")
	api := addAPIFlags(fs, env)
	var f scanRunFlags
	fs.StringVar(&f.ports, "ports", "", "top1000, all, topN, iot, or 22,80,8000-8100, comma-joined (default top1000,iot)")
	fs.StringVar(&f.group, "group", "", "scan the addresses of this group's active SIMs instead of targets")
	fs.StringVar(&f.scope, "scope", "", "name of the series of scans this one is compared with (default adhoc, or group:NAME)")
	fs.BoolVar(&f.udp, "udp", false, "also probe UDP services (SNMP, CoAP, DNS, NTP, MQTT-SN)")
	fs.BoolVar(&f.credentials, "credentials", false, "try vendor default logins on Telnet, SSH and HTTP (bounded per host; stops on lockout)")
	fs.BoolVar(&f.wait, "wait", false, "wait for the scan and print its report")
	fs.StringVar(&f.format, "format", "table", "report format: table, json or csv")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a finding is at least this severe (low, medium, high, critical)")
	fs.BoolVar(&f.local, "local", false, "scan from this machine, without the control plane (labs, a first look)")
	fs.Func("audit-range", "with --local: a CIDR that may be scanned (repeat); nothing else is", func(s string) error {
		f.auditRanges = append(f.auditRanges, strings.Split(s, ",")...)
		return nil
	})
	fs.IntVar(&f.pps, "pps", 0, "with --local: probes per second (default 1000)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "with --local: probes in flight (default 256)")
	fs.DurationVar(&f.timeout, "connect-timeout", 0, "with --local: TCP connect timeout (default 3s)")
	fs.StringVar(&f.credsFile, "credentials-file", "", "with --local: your own user:password pairs, tried first")
	targets, err := parse(fs, args)
	if err != nil {
		return err
	}
	if api.json {
		f.format = "json"
	}
	if f.format != "table" && f.format != "json" && f.format != "csv" {
		return usageError{"--format must be table, json or csv"}
	}
	if f.failOn != "" && !simguard.Severity(f.failOn).Valid() {
		return usageError{"--fail-on must be info, low, medium, high or critical"}
	}
	if len(targets) == 0 && f.group == "" {
		return usageError{"give targets (addresses or CIDRs) or --group NAME"}
	}
	// Flags that tune this machine's scanner would be silently ignored by
	// the control plane's: refuse them rather than let an operator believe
	// a scan ran at --pps 5.
	var localOnly []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "audit-range", "pps", "concurrency", "connect-timeout", "credentials-file":
			localOnly = append(localOnly, "--"+fl.Name)
		}
	})
	if !f.local && len(localOnly) > 0 {
		return usageError{fmt.Sprintf("%s: only for --local scans (this machine scans); through the control plane its scan config sets them (scan.audit_ranges, scan.pps, scan.concurrency, scan.connect_timeout, scan.credentials_file)",
			strings.Join(localOnly, ", "))}
	}
	var rep simguard.ScanReport
	if f.local {
		if rep, err = scanLocal(ctx, env, targets, &f); err != nil {
			return err
		}
	} else {
		c, err := api.client(env)
		if err != nil {
			return err
		}
		run, err := c.StartScan(ctx, simguard.ScanRequest{Targets: targets, Group: f.group, Scope: f.scope, Ports: f.ports, UDP: f.udp, Credentials: f.credentials})
		if err != nil {
			return err
		}
		if !f.wait {
			fmt.Fprintf(env.stdout, "scan %d queued; follow it with: simguard scan show %d\n", run.ID, run.ID)
			return nil
		}
		if rep, err = c.WaitScan(ctx, run.ID, time.Second); err != nil {
			return err
		}
	}
	if err := printReport(env.stdout, &rep, f.format); err != nil {
		return err
	}
	if rep.Run.Status != simguard.ScanDone {
		return fmt.Errorf("scan %d %s: %s", rep.Run.ID, rep.Run.Status, orDash(rep.Run.Error))
	}
	return failOn(rep.Findings, f.failOn)
}

// failOn exits 3 when a finding is at least as severe as min.
func failOn(findings []simguard.Finding, min string) error {
	if min == "" {
		return nil
	}
	for _, f := range findings {
		if f.Severity.Rank() >= simguard.Severity(min).Rank() {
			return exitError{3}
		}
	}
	return nil
}

// scanLocal scans from this machine with its own audit ranges.
func scanLocal(ctx context.Context, env *cliEnv, targets []string, f *scanRunFlags) (simguard.ScanReport, error) {
	if f.group != "" {
		return simguard.ScanReport{}, usageError{"--group needs the control plane; give targets with --local"}
	}
	if len(f.auditRanges) == 0 {
		return simguard.ScanReport{}, usageError{"--local needs --audit-range CIDR: the ranges you may scan (targets outside them are refused)"}
	}
	cfg := scan.Config{Rate: f.pps, Concurrency: f.concurrency, ConnectTimeout: f.timeout}
	for _, s := range f.auditRanges {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return simguard.ScanReport{}, usageError{fmt.Sprintf("--audit-range %q is not a CIDR like 10.45.0.0/16", s)}
		}
		cfg.AuditRanges = append(cfg.AuditRanges, p)
	}
	if f.credsFile != "" {
		b, err := os.Open(f.credsFile)
		if err != nil {
			return simguard.ScanReport{}, err
		}
		defer b.Close()
		if cfg.ExtraCredentials, err = creds.ParseList(b, "file"); err != nil {
			return simguard.ScanReport{}, err
		}
	}
	s, err := scan.New(cfg, scan.Deps{})
	if err != nil {
		return simguard.ScanReport{}, err
	}
	if f.format == "table" {
		fmt.Fprintf(env.stderr, "scanning %s from this machine…\n", strings.Join(targets, " "))
	}
	rep, err := s.Scan(ctx, scan.Request{Scope: "local", Actor: simguard.SystemActor(0, "cli:local"), Targets: targets,
		Ports: f.ports, UDP: f.udp, Credentials: f.credentials})
	if rep == nil {
		return simguard.ScanReport{}, err
	}
	return *rep, nil
}

func scanList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "scan list", "[flags]", "List your tenant's scans, newest first.")
	api := addAPIFlags(fs, env)
	limit := fs.Int("limit", 20, "runs to show")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	runs, err := c.Scans(ctx, *limit)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, runs)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, "ID\tSTATUS\tSCOPE\tSTARTED\tTOOK\tHOSTS\tOPEN\tCREDENTIALS\tACTOR")
	for _, r := range runs {
		took := "-"
		if !r.FinishedAt.IsZero() {
			took = r.FinishedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%v\t%s\n", r.ID, r.Status, r.Scope, r.StartedAt.Format(time.RFC3339), took,
			r.Stats.Hosts, r.Stats.OpenPorts, r.Credentials, r.Actor)
	}
	return tw.Flush()
}

func scanShow(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "scan show", "ID [flags]", "Show a scan's report: its findings and what changed since the previous scan of its scope.")
	api := addAPIFlags(fs, env)
	format := fs.String("format", "table", "table, json or csv")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the scan's ID (simguard scan list shows them)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Sprintf("%q is not a scan ID", pos[0])}
	}
	if api.json {
		*format = "json"
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if *format == "csv" {
		return c.ScanCSV(ctx, id, env.stdout)
	}
	if *format != "table" && *format != "json" {
		return usageError{"--format must be table, json or csv"}
	}
	rep, err := c.Scan(ctx, id)
	if err != nil {
		return err
	}
	return printReport(env.stdout, &rep, *format)
}
