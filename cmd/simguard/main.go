// Command simguard is the one binary of simguard: the control plane
// (serve), its enforcement nodes, and the CLI over the REST API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand. Commands with subs dispatch further.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
	subs    []*command
}

// cliEnv is what every command gets: streams and the environment.
type cliEnv struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

// usageError makes the command print its usage and exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func commands() *command {
	return &command{name: "simguard", summary: "security control plane for cellular IoT fleets", subs: []*command{
		serveCommand(),
		simCommand(),
		groupCommand(),
		policyCommand(),
		tokenCommand(),
		tenantCommand(),
		auditCommand(),
		eventsCommand(),
		backupCommand(),
		radiusCommand(),
		detectCommand(),
		alertsCommand(),
		smppCommand(),
		gatewayCommand(),
		diameterCommand(), devicesCommand(),
		scanCommand(), findingsCommand(),
		{name: "version", summary: "print the version", run: func(_ context.Context, env *cliEnv, args []string) error {
			if _, err := parse(newFlags(env, "version", "", "Print the version of this binary."), args); err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, "simguard", version)
			return nil
		}},
	}}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args and returns the exit code: 0 ok, 1 failure, 2 usage.
func run(ctx context.Context, env *cliEnv, args []string) int {
	cmd, path, rest := commands(), "simguard", args
	for len(cmd.subs) > 0 {
		if cmd.run != nil && len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "-h" && rest[0] != "--help" {
			break // a group that runs itself when given flags: "simguard radius --server URL"
		}
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			printGroupHelp(env.stdout, path, cmd)
			if len(rest) == 0 {
				return 2
			}
			return 0
		}
		next := findSub(cmd, rest[0])
		if next == nil {
			fmt.Fprintf(env.stderr, "simguard: unknown command %q for %s\n\n", rest[0], path)
			printGroupHelp(env.stderr, path, cmd)
			return 2
		}
		cmd, path, rest = next, path+" "+next.name, rest[1:]
	}
	err := cmd.run(ctx, env, rest)
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "simguard: %s\nRun 'simguard %s --help' for usage.\n", ue.msg, strings.TrimPrefix(path, "simguard "))
		return 2
	}
	fmt.Fprintf(env.stderr, "simguard: %s\n", describe(err))
	return 1
}

// describe turns an error into what a user needs: the message, and for
// rejected import rows, each row.
func describe(err error) string {
	var ce *client.Error
	msg := err.Error()
	var rows []simguard.RowError
	if errors.As(err, &ce) {
		rows = ce.Err.Rows
	} else {
		var se *simguard.Error
		if errors.As(err, &se) {
			rows = se.Rows
			msg = simguard.ErrorMessage(err)
		}
	}
	var b strings.Builder
	b.WriteString(msg)
	for i, r := range rows {
		if i == 50 {
			fmt.Fprintf(&b, "\n  … and %d more rows", len(rows)-50)
			break
		}
		if r.Field != "" {
			fmt.Fprintf(&b, "\n  line %d: %s: %s", r.Line, r.Field, r.Message)
		} else {
			fmt.Fprintf(&b, "\n  line %d: %s", r.Line, r.Message)
		}
	}
	return b.String()
}

func findSub(c *command, name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func printGroupHelp(w io.Writer, path string, c *command) {
	fmt.Fprintf(w, "%s — %s\n\nUsage: %s <command> [flags]\n\nCommands:\n", path, c.summary, path)
	subs := append([]*command(nil), c.subs...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	for _, s := range subs {
		fmt.Fprintf(w, "  %-12s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
	if path == "simguard" {
		fmt.Fprint(w, "\nCLI commands talk to a running control plane: --server (or SIMGUARD_SERVER,\ndefault http://127.0.0.1:8080) and the token in SIMGUARD_TOKEN.\n")
	}
}

// newFlags makes a flag set whose --help prints the command's usage.
func newFlags(env *cliEnv, path, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stdout, "%s\n\nUsage: simguard %s %s\n", summary, path, usage)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(env.stdout, "\nFlags:")
			fs.SetOutput(env.stdout)
			fs.PrintDefaults()
			fs.SetOutput(env.stderr)
		}
	}
	return fs
}

// parse parses flags, allowing flags after positional arguments
// ("sim get 8949… --json"), which people type.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
