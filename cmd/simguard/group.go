package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func groupCommand() *command {
	return &command{name: "group", summary: "list, show and apply groups (policy profiles)", subs: []*command{
		{name: "list", summary: "list groups", run: groupList},
		{name: "get", summary: "show a group as YAML (or JSON)", run: groupGet},
		{name: "apply", summary: "create or update a group from a YAML file, showing the diff first", run: groupApply},
		{name: "delete", summary: "delete an empty group", run: groupDelete},
	}}
}

// groupFile is a group as kept in git: exactly these fields, nothing else.
type groupFile struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description,omitempty"`
	Policy      simguard.Policy `yaml:"policy"`
}

func groupList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "group list", "List the groups of your tenant.", (*client.Client).Groups, "NAME\tSERVICES\tAPNS\tPLMNS\tVERSION\tDESCRIPTION",
		func(w io.Writer, g simguard.Group) {
			svcs := make([]string, len(g.Policy.Services))
			for i, s := range g.Policy.Services {
				svcs[i] = string(s)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", g.Name, orDash(strings.Join(svcs, ",")), orDash(strings.Join(g.Policy.APNs, ",")),
				orDash(strings.Join(g.Policy.Location.PLMNs, ",")), g.Version, g.Description)
		})
}

func groupGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "group get", "NAME [flags]", "Show a group as a YAML file you can edit and apply.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the group's name"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	g, err := c.Group(ctx, pos[0])
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, g)
	}
	fmt.Fprintf(env.stdout, "# version %d, updated %s\n", g.Version, g.UpdatedAt.Format("2006-01-02 15:04:05Z07:00"))
	enc := yaml.NewEncoder(env.stdout)
	enc.SetIndent(2)
	return enc.Encode(groupFile{Name: g.Name, Description: g.Description, Policy: g.Policy})
}

// readGroupFile decodes a group file strictly: unknown fields are errors
// with their line, so a typo cannot silently drop a restriction.
func readGroupFile(r io.Reader, name string) (simguard.Group, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var gf groupFile
	if err := dec.Decode(&gf); err != nil {
		if errors.Is(err, io.EOF) {
			return simguard.Group{}, fmt.Errorf("%s: the file is empty", name)
		}
		return simguard.Group{}, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return simguard.Group{}, fmt.Errorf("%s: holds more than one YAML document; put one group per file", name)
	}
	g := simguard.Group{Name: gf.Name, Description: gf.Description, Policy: gf.Policy}
	if err := g.Validate(); err != nil {
		return simguard.Group{}, fmt.Errorf("%s: %s", name, simguard.ErrorMessage(err))
	}
	return g, nil
}

func groupApply(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "group apply", "-f FILE [flags]",
		"Create or update a group from a YAML file (name, description, policy). The diff against\nthe stored group is shown first; the change is applied after you confirm (or with --yes).")
	api := addAPIFlags(fs, env)
	file := fs.String("f", "", "the group file (- for standard input)")
	yes := fs.Bool("yes", false, "apply without asking")
	dry := fs.Bool("dry-run", false, "only show the diff")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return usageError{"give the group file with -f FILE"}
	}
	var in io.Reader = env.stdin
	if *file != "-" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		in = bytes.NewReader(b)
	}
	g, err := readGroupFile(in, *file)
	if err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	plan, err := c.PlanGroup(ctx, g)
	if err != nil {
		return err
	}
	if !plan.Changed {
		fmt.Fprintf(env.stdout, "group %s is up to date (version %d)\n", g.Name, plan.Current.Version)
		return nil
	}
	if plan.Exists {
		fmt.Fprintf(env.stdout, "group %s (version %d) will change:\n", g.Name, plan.Current.Version)
	} else {
		fmt.Fprintf(env.stdout, "group %s will be created:\n", g.Name)
	}
	for _, l := range strings.SplitAfter(plan.Diff, "\n") {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			fmt.Fprint(env.stdout, l)
		}
	}
	if *dry {
		return nil
	}
	if !*yes {
		fmt.Fprint(env.stdout, "Apply? [y/N] ")
		answer, _ := bufio.NewReader(env.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return fmt.Errorf("not applied")
		}
	}
	var version int64
	if plan.Current != nil {
		version = plan.Current.Version // fail if someone changed it since the diff was shown
	}
	out, err := c.ApplyGroup(ctx, g, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "group %s applied (version %d)\n", out.Name, out.Version)
	return nil
}

func groupDelete(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "group delete", "NAME [flags]", "Delete a group that has no SIMs.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the group's name"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteGroup(ctx, pos[0], 0); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "group %s deleted\n", pos[0])
	return nil
}
