package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func simCommand() *command {
	return &command{name: "sim", summary: "list, import and act on SIMs", subs: []*command{
		{name: "list", summary: "list SIMs with filters", run: simList},
		{name: "get", summary: "show one SIM", run: simGet},
		{name: "import", summary: "import SIMs from CSV or JSON, all or none", run: simImport},
		{name: "update", summary: "change a SIM's group, MSISDN, static IP, labels or lock mode", run: simUpdate},
		{name: "activate", summary: "put a SIM in service (optionally --for a while)", run: simAction("activate", "REF [--for 2h | --from TIME --until TIME]", "Put a SIM in service; with --for only for that long, with --until only until then (from --from, default now). Times are RFC 3339, e.g. 2026-12-01T08:00:00Z.")},
		{name: "suspend", summary: "take a SIM out of service", run: simAction("suspend", "REF", "Suspend a SIM: every service stops; live data sessions are disconnected.")},
		{name: "terminate", summary: "take a SIM out of service for good", run: simAction("terminate", "REF", "Terminate a SIM. This cannot be undone.")},
		{name: "bind-imei", summary: "lock a SIM to a device", run: simAction("bind-imei", "REF IMEI", "Lock a SIM to the device with this IMEI (explicit lock).")},
		{name: "unbind-imei", summary: "remove a SIM's device binding", run: simAction("unbind-imei", "REF [--mode learn|off]", "Remove the binding; the lock becomes learn (bind the next device seen) or off.")},
		{name: "repair", summary: "open a re-pairing window for a device swap", run: simAction("repair", "REF [--for 1h]", "Open a re-pairing window: the next device seen before it closes becomes the bound one.")},
	}}
}

func simList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim list", "[flags]", "List SIMs of your tenant.")
	api := addAPIFlags(fs, env)
	state := fs.String("state", "", "only SIMs in this state (inventory, active, suspended, terminated)")
	group := fs.String("group", "", "only SIMs in this group")
	label := fs.String("label", "", "only SIMs with this label (key or key=value)")
	q := fs.String("q", "", "prefix of ICCID, IMSI, MSISDN or bound IMEI")
	limit := fs.Int("limit", 100, "SIMs to show (with --all: page size)")
	all := fs.Bool("all", false, "page through every match")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	f := simguard.SIMFilter{State: simguard.SIMState(*state), Group: *group, Label: *label, Query: *q, Limit: *limit}
	var sims []client.SIM
	for {
		page, err := c.SIMs(ctx, f)
		if err != nil {
			return err
		}
		sims = append(sims, page.Items...)
		if !*all || page.NextAfter == 0 {
			break
		}
		f.AfterID = page.NextAfter
	}
	if api.json {
		return printJSON(env.stdout, sims)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, "ICCID\tIMSI\tMSISDN\tSTATE\tGROUP\tIMEI LOCK\tBOUND IMEI")
	for _, s := range sims {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ICCID, s.IMSI, orDash(s.MSISDN), s.State, s.Group,
			s.IMEILockState, orDash(s.IMEILock.IMEI))
	}
	return tw.Flush()
}

func simGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim get", "REF [flags]", "Show one SIM, by ICCID, IMSI or MSISDN.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give one SIM: its ICCID, IMSI or MSISDN"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	s, err := c.SIM(ctx, pos[0])
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, s)
	}
	printSIM(env.stdout, s)
	return nil
}

func printSIM(w io.Writer, s client.SIM) {
	tw := table(w)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("ICCID", s.ICCID)
	row("IMSI", s.IMSI)
	row("MSISDN", orDash(s.MSISDN))
	row("State", string(s.State))
	if s.ActiveFrom != nil {
		row("Active from", s.ActiveFrom.Format(time.RFC3339))
	}
	if s.ActiveUntil != nil {
		row("Active until", s.ActiveUntil.Format(time.RFC3339))
	}
	row("Group", s.Group)
	if s.StaticIP.IsValid() {
		row("Static IP", s.StaticIP.String())
	}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row("Label "+k, s.Labels[k])
	}
	l := s.IMEILock
	row("IMEI lock", fmt.Sprintf("%s (%s)", l.Mode, s.IMEILockState))
	if l.IMEI != "" {
		row("Bound IMEI", l.IMEI+" (check digit "+simguard.IMEIWithCheckDigit(l.IMEI)[14:]+")")
	}
	if l.MismatchIMEI != "" && l.MismatchAt != nil {
		row("Last mismatch", fmt.Sprintf("%s at %s", l.MismatchIMEI, l.MismatchAt.Format(time.RFC3339)))
	}
	if l.RepairUntil != nil {
		row("Re-pairing until", l.RepairUntil.Format(time.RFC3339))
	}
	if s.Usage.PeriodStart.IsZero() {
		row("Usage", "none recorded")
	} else {
		row("Usage", fmt.Sprintf("%d bytes, %d SMS since %s", s.Usage.DataBytes, s.Usage.SMSCount, s.Usage.PeriodStart.Format("2006-01-02")))
	}
	row("Version", fmt.Sprint(s.Version))
	row("Updated", s.UpdatedAt.Format(time.RFC3339))
	tw.Flush()
}

func simImport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim import", "FILE|- [flags]",
		"Import SIMs from a CSV file (header iccid,imsi,msisdn,imei,group,state; optional imei_lock,\nstatic_ip, labels as k=v;k=v) or a JSON array. All rows are imported or none; every\nrejected row is reported with its line.")
	api := addAPIFlags(fs, env)
	group := fs.String("group", "", "group for rows that name none")
	state := fs.String("state", "", "state for rows that name none (default inventory)")
	lock := fs.String("imei-lock", "", "IMEI lock mode for rows without an IMEI: off (default), learn")
	format := fs.String("format", "", "csv or json (default: from the file name, else csv)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the file to import, or - for standard input"}
	}
	var in io.Reader = env.stdin
	name := pos[0]
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	ct := "text/csv"
	switch {
	case *format == "json", *format == "" && strings.EqualFold(filepath.Ext(name), ".json"):
		ct = "application/json"
	case *format != "" && *format != "csv":
		return usageError{"--format must be csv or json"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	params := url.Values{}
	for k, v := range map[string]string{"group": *group, "state": *state, "imei_lock": *lock} {
		if v != "" {
			params.Set(k, v)
		}
	}
	start := time.Now()
	n, err := c.ImportSIMs(ctx, bufio.NewReaderSize(in, 1<<20), ct, params)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "imported %d SIMs in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func simUpdate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim update", "REF [flags]", "Change fields of a SIM. Only the flags you give change.")
	api := addAPIFlags(fs, env)
	group := fs.String("group", "", "move to this group")
	msisdn := fs.String("msisdn", "", "set the MSISDN (E.164)")
	staticIP := fs.String("static-ip", "", "set the static IP (\"none\" removes it)")
	lock := fs.String("imei-lock", "", "set the IMEI lock mode: off, explicit, learn")
	var labels stringList
	fs.Var(&labels, "label", "set a label key=value (repeatable; replaces all labels)")
	ifMatch := fs.Int64("if-version", 0, "only if the SIM is still at this version")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give one SIM: its ICCID, IMSI or MSISDN"}
	}
	patch := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			patch[k] = v
		}
	}
	set("group", *group)
	set("msisdn", *msisdn)
	set("imei_lock_mode", *lock)
	if *staticIP == "none" {
		patch["static_ip"] = ""
	} else {
		set("static_ip", *staticIP)
	}
	if len(labels) > 0 {
		m := map[string]string{}
		for _, kv := range labels {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return usageError{fmt.Sprintf("--label %q: write key=value", kv)}
			}
			m[k] = v
		}
		patch["labels"] = m
	}
	if len(patch) == 0 {
		return usageError{"nothing to change: give at least one flag"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	s, err := c.PatchSIM(ctx, pos[0], patch, *ifMatch)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, s)
	}
	printSIM(env.stdout, s)
	return nil
}

// simAction makes the run function of a SIM action command.
func simAction(action, usage, summary string) func(context.Context, *cliEnv, []string) error {
	return func(ctx context.Context, env *cliEnv, args []string) error {
		fs := newFlags(env, "sim "+action, usage, summary)
		api := addAPIFlags(fs, env)
		var dur, mode, from, until *string
		if action == "activate" || action == "repair" {
			dur = fs.String("for", "", "duration, e.g. 2h, 90m, 7d")
		}
		if action == "activate" {
			from = fs.String("from", "", "scheduled start, RFC 3339 (with --until; default now)")
			until = fs.String("until", "", "end of the activation, RFC 3339")
		}
		if action == "unbind-imei" {
			mode = fs.String("mode", "learn", "what the lock becomes: learn or off")
		}
		ifMatch := fs.Int64("if-version", 0, "only if the SIM is still at this version")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		in := map[string]string{}
		want := 1
		if action == "bind-imei" {
			want = 2
		}
		if len(pos) != want {
			return usageError{"usage: simguard sim " + action + " " + usage}
		}
		if action == "bind-imei" {
			in["imei"] = pos[1]
		}
		if dur != nil && *dur != "" {
			in["for"] = *dur
		}
		if from != nil && *from != "" {
			in["from"] = *from
		}
		if until != nil && *until != "" {
			in["until"] = *until
		}
		if mode != nil {
			in["mode"] = *mode
		}
		c, err := api.client(env)
		if err != nil {
			return err
		}
		s, err := c.SIMAction(ctx, pos[0], action, in, *ifMatch)
		if err != nil {
			return err
		}
		if api.json {
			return printJSON(env.stdout, s)
		}
		printSIM(env.stdout, s)
		return nil
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
