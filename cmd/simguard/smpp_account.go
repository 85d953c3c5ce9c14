package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func smppCommand() *command {
	return &command{name: "smpp", summary: "SMS firewall: ESME accounts ('smpp account'), or run it as a separate node", run: smppMain}
}

// smppMain is "simguard smpp account …" or, with flags only, the SMS
// firewall as a node of a remote control plane.
func smppMain(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 && args[0] == "account" {
		return runSub(ctx, env, "simguard smpp account", smppAccountCommand(), args[1:])
	}
	return smppNode(ctx, env, args)
}

func smppAccountCommand() *command {
	return &command{name: "account", summary: "ESME accounts: the SMS applications that may bind to the SMS firewall", subs: []*command{
		{name: "add", summary: "create an account (its password is shown once)", run: smppAccountAdd},
		{name: "list", summary: "list accounts", run: smppAccountList},
		{name: "get", summary: "show one account", run: smppAccountGet},
		{name: "set", summary: "change an account's route, MO prefixes, bind limit or disable it", run: smppAccountSet},
		{name: "passwd", summary: "set a new password (shown once)", run: smppAccountPasswd},
		{name: "delete", summary: "delete an account; its binds are dropped", run: smppAccountDelete},
	}}
}

// runSub dispatches a command group below a leaf command, as run does
// from the top.
func runSub(ctx context.Context, env *cliEnv, path string, group *command, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printGroupHelp(env.stdout, path, group)
		if len(args) == 0 {
			return exitError{2}
		}
		return nil
	}
	sub := findSub(group, args[0])
	if sub == nil {
		fmt.Fprintf(env.stderr, "simguard: unknown command %q for %s\n\n", args[0], path)
		printGroupHelp(env.stderr, path, group)
		return exitError{2}
	}
	err := sub.run(ctx, env, args[1:])
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.stderr, "simguard: %s\nRun '%s %s --help' for usage.\n", ue.msg, path, sub.name)
		return exitError{2}
	}
	return err
}

// prefixList is a repeatable or comma-separated flag.
type prefixList []string

func (p *prefixList) String() string { return strings.Join(*p, ",") }
func (p *prefixList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*p = append(*p, s)
		}
	}
	return nil
}

// smppPassword reads the password from the first line of stdin
// (--password-stdin) or makes a random one of 8 characters. Passwords are
// never taken as arguments, which other users of the machine can see.
func smppPassword(env *cliEnv, fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		// 8 characters of base32: 40 random bits, the most SMPP 3.4's
		// 8-character passwords hold in a form anyone can type.
		return rand.Text()[:8], true, nil
	}
	line, err := bufio.NewReader(env.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, usageError{"--password-stdin: no password on standard input"}
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func smppAccountAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp account add", "SYSTEM_ID [flags]",
		"Create an ESME account: the system_id and password an SMS application binds with. Without\n--password-stdin a random password is made and shown once. Admins only.")
	api := addAPIFlags(fs, env)
	upstream := fs.String("upstream", "", "SMSC route its messages go to (a name in smpp.upstreams; default: the first)")
	var prefixes prefixList
	fs.Var(&prefixes, "mo-prefix", "deliver device messages to these destinations (short codes, numbers) to it; repeatable or comma-separated (default: any of its tenant)")
	maxBinds := fs.Int("max-binds", 0, "concurrent binds allowed (0: the firewall's default)")
	disabled := fs.Bool("disabled", false, "create it disabled")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the account's system_id"}
	}
	pw, generated, err := smppPassword(env, *stdin)
	if err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	a, err := c.CreateSMPPAccount(ctx, client.SMPPAccountInput{SystemID: pos[0], Password: pw, Upstream: *upstream,
		MOPrefixes: prefixes, MaxBinds: *maxBinds, Disabled: *disabled})
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, a)
	}
	fmt.Fprintf(env.stdout, "SMPP account %s created (tenant %d).\n", a.SystemID, a.TenantID)
	if generated {
		fmt.Fprintf(env.stdout, "Its password, shown only now: %s\n", pw)
	}
	return nil
}

func smppAccountList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "smpp account list", "List your tenant's ESME accounts.", (*client.Client).SMPPAccounts, "SYSTEM_ID\tUPSTREAM\tMO PREFIXES\tMAX BINDS\tSTATE\tUPDATED",
		func(w io.Writer, a simguard.SMPPAccount) {
			printSMPPRow(w, a)
		})
}

func printSMPPRow(w interface{ Write([]byte) (int, error) }, a simguard.SMPPAccount) {
	state, binds := "enabled", "default"
	if a.Disabled {
		state = "DISABLED"
	}
	if a.MaxBinds > 0 {
		binds = fmt.Sprint(a.MaxBinds)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.SystemID, orDash(a.Upstream), orDash(strings.Join(a.MOPrefixes, ",")), binds, state,
		a.UpdatedAt.Format(time.RFC3339))
}

func smppAccountGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp account get", "SYSTEM_ID [flags]", "Show one ESME account.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the account's system_id"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	a, err := c.SMPPAccount(ctx, pos[0])
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, a)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, "SYSTEM_ID\tUPSTREAM\tMO PREFIXES\tMAX BINDS\tSTATE\tUPDATED")
	printSMPPRow(tw, a)
	return tw.Flush()
}

func smppAccountSet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp account set", "SYSTEM_ID [flags]",
		"Change an ESME account. Its live binds are dropped (after answering what is in flight) and\nbind again with the new settings; a disabled account cannot bind. Admins only.")
	api := addAPIFlags(fs, env)
	var p client.SMPPAccountPatch
	fs.Func("upstream", "SMSC route (\"\" for the first)", func(v string) error { p.Upstream = &v; return nil })
	fs.Func("mo-prefixes", "replace the MO prefixes (comma-separated; \"\" for any of its tenant)", func(v string) error {
		var l prefixList
		_ = l.Set(v)
		if l == nil {
			l = prefixList{}
		}
		s := []string(l)
		p.MOPrefixes = &s
		return nil
	})
	fs.Func("max-binds", "concurrent binds (0: the firewall's default)", func(v string) error {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("want a number")
		}
		p.MaxBinds = &n
		return nil
	})
	fs.Func("disabled", "true disables the account, false enables it", func(v string) error {
		b := v == "true"
		if !b && v != "false" {
			return fmt.Errorf("want true or false")
		}
		p.Disabled = &b
		return nil
	})
	ifVersion := fs.Int64("if-version", 0, "only if the account is still at this version")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the account's system_id"}
	}
	if p == (client.SMPPAccountPatch{}) {
		return usageError{"say what to change: --upstream, --mo-prefixes, --max-binds or --disabled"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	a, err := c.UpdateSMPPAccount(ctx, pos[0], *ifVersion, p)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, a)
	}
	fmt.Fprintf(env.stdout, "SMPP account %s updated (version %d).\n", a.SystemID, a.Version)
	return nil
}

func smppAccountPasswd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp account passwd", "SYSTEM_ID [flags]",
		"Give an ESME account a new password (random and shown once, or from --password-stdin).\nIts live binds are dropped. Admins only.")
	api := addAPIFlags(fs, env)
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the account's system_id"}
	}
	pw, generated, err := smppPassword(env, *stdin)
	if err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	a, err := c.UpdateSMPPAccount(ctx, pos[0], 0, client.SMPPAccountPatch{Password: &pw})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "SMPP account %s has a new password.\n", a.SystemID)
	if generated {
		fmt.Fprintf(env.stdout, "It is, shown only now: %s\n", pw)
	}
	return nil
}

func smppAccountDelete(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp account delete", "SYSTEM_ID [flags]", "Delete an ESME account; its live binds are dropped. Admins only.")
	api := addAPIFlags(fs, env)
	ifVersion := fs.Int64("if-version", 0, "only if the account is still at this version")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the account's system_id"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteSMPPAccount(ctx, pos[0], *ifVersion); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "SMPP account %s deleted.\n", pos[0])
	return nil
}

var _ flag.Value = (*prefixList)(nil)
