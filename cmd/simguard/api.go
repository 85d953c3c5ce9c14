package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/simguard/simguard/client"
)

// apiOpts are the flags of every command that talks to the API.
type apiOpts struct {
	server string
	json   bool
}

func addAPIFlags(fs *flag.FlagSet, env *cliEnv) *apiOpts {
	o := &apiOpts{}
	def := env.getenv("SIMGUARD_SERVER")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	fs.StringVar(&o.server, "server", def, "control plane URL (env SIMGUARD_SERVER)")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	return o
}

func (o *apiOpts) client(env *cliEnv) (*client.Client, error) {
	token := env.getenv("SIMGUARD_TOKEN")
	if token == "" {
		return nil, fmt.Errorf("no token: export SIMGUARD_TOKEN=<token> (simguard serve prints an admin token on first start; 'simguard token create' makes more)")
	}
	return client.New(o.server, token, nil)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
}

// orDash shows empty cells as "-" so columns stay readable.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clientEventQuery(sim, typ, since, until string, limit int) client.EventQuery {
	return client.EventQuery{SIM: sim, Type: typ, Since: since, Until: until, Limit: limit}
}

// runList runs a "list" command that takes no arguments: the list comes
// from the API (fetch is a client method expression such as
// (*client.Client).Groups) and prints as JSON with --json, otherwise as a
// table under header with one row per item.
func runList[T any](ctx context.Context, env *cliEnv, args []string, name, summary string,
	fetch func(*client.Client, context.Context) ([]T, error), header string, row func(w io.Writer, item T)) error {
	fs := newFlags(env, name, "[flags]", summary)
	api := addAPIFlags(fs, env)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	list, err := fetch(c, ctx)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, list)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, header)
	for _, item := range list {
		row(tw, item)
	}
	return tw.Flush()
}
