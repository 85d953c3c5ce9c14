package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/simguard/simguard/detect"
)

func detectCommand() *command {
	return &command{name: "detect", summary: "detection rules: check them, replay recorded events through them", subs: []*command{
		{name: "rules", summary: "load and check the rules (built-in and --rules DIR), and list them", run: detectRules},
		{name: "replay", summary: "run the rules over recorded events (JSON lines) and print what would fire", run: detectReplay},
	}}
}

// loadRules loads the built-in rules and, when dir is given, the user's,
// which replace built-in rules of the same name.
func loadRules(dir string) (*detect.RuleSet, error) {
	l, err := detect.NewLoader()
	if err != nil {
		return nil, err
	}
	src := []detect.Source{detect.Builtin()}
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("rules: %s is not a directory of rule files", dir)
		}
		src = append(src, detect.Dir(dir))
	}
	return l.Load(src...)
}

// ruleErrors prints every rule error on its own line: "file:line:col:
// rule "x": field: message".
func ruleErrors(err error) error {
	var lines []string
	var re *detect.RuleError
	for _, e := range unjoin(err) {
		if errors.As(e, &re) {
			lines = append(lines, re.Error())
		}
	}
	if len(lines) == 0 {
		return err
	}
	return fmt.Errorf("the rules do not load:\n  %s", strings.Join(lines, "\n  "))
}

// unjoin flattens joined errors at any depth (one file's errors are
// joined inside the errors of all files), so that every problem is listed.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

func detectRules(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "detect rules", "[--rules DIR] [--json]", "Load the built-in rules and those in --rules DIR, report every problem with its file, line and field, and list the rules.")
	dir := fs.String("rules", env.getenv("SIMGUARD_DETECT_RULES"), "directory of your rule files (env SIMGUARD_DETECT_RULES)")
	asJSON := fs.Bool("json", false, "print the rules as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	rs, err := loadRules(*dir)
	if err != nil {
		return ruleErrors(err)
	}
	rules := rs.Rules()
	if *asJSON {
		return printJSON(env.stdout, rules)
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	for _, r := range rules {
		state := "on"
		if !r.Enabled {
			state = "off"
		} else if r.DryRun && len(r.Actions) > 0 {
			state = "dry-run"
		}
		var acts []string
		for _, a := range r.Actions {
			acts = append(acts, a.Type)
		}
		fmt.Fprintf(env.stdout, "%-28s %-8s %-7s %-14s %-30s %s\n", r.Name, r.Severity, state, r.Trigger.Kind,
			strings.Join(r.Events, ","), strings.Join(acts, ","))
	}
	fmt.Fprintf(env.stdout, "%d rules\n", len(rules))
	return nil
}

func detectReplay(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "detect replay", "[--rules DIR] [--json] FILE.jsonl|-",
		"Run the rules over recorded events (one simguard event as JSON per line, in time order, as\n'simguard events --json' prints them) and print the alerts they would raise. Nothing is\nexecuted: actions are shown as not_run, dry_run, capped or skipped.")
	dir := fs.String("rules", env.getenv("SIMGUARD_DETECT_RULES"), "directory of your rule files (env SIMGUARD_DETECT_RULES)")
	asJSON := fs.Bool("json", false, "print one alert per line as JSON")
	skip := fs.Bool("skip-invalid", false, "skip lines that are not events (and count them) instead of stopping")
	cap := fs.Int("suspensions-per-hour", 0, "the hourly cap on automatic suspensions to simulate (default 100, -1 none)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give one file of events, or - for standard input"}
	}
	rs, err := loadRules(*dir)
	if err != nil {
		return ruleErrors(err)
	}
	in := env.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	rep, err := detect.Replay(ctx, rs, in, detect.ReplayOptions{SkipInvalid: *skip, SuspensionsPerHour: *cap})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *asJSON {
		return rep.WriteJSON(env.stdout)
	}
	return rep.WriteText(env.stdout)
}

// detectFlags binds the detection flags of serve.
func detectFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.BoolVar(&cfg.Detect.Enabled, "detect", cfg.Detect.Enabled, "run detection rules over the events")
	fs.StringVar(&cfg.Detect.Rules, "detect-rules", cfg.Detect.Rules, "directory of your detection rules, added to the built-in ones")
}
