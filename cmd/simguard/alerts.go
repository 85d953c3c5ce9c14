package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func alertsCommand() *command {
	return &command{name: "alerts", summary: "list, show, acknowledge and resolve detection alerts", subs: []*command{
		{name: "list", summary: "list alerts (open and acknowledged by default)", run: alertsList},
		{name: "get", summary: "show one alert with its events and actions", run: alertsGet},
		{name: "ack", summary: "acknowledge an alert (it still collects new firings)", run: alertsTransition("ack")},
		{name: "resolve", summary: "resolve an alert (the next firing opens a new one)", run: alertsTransition("resolve")},
		{name: "dead-letters", summary: "list webhook deliveries that failed every attempt (provider admins)", run: alertsDeadLetters},
		{name: "replay-webhook", summary: "send a webhook's dead letters again (provider admins)", run: alertsReplayWebhook},
	}}
}

func alertsDeadLetters(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts dead-letters", "[--webhook NAME] [--json]", "List webhook deliveries that failed every attempt, oldest first.")
	api := addAPIFlags(fs, env)
	hook := fs.String("webhook", "", "only this webhook")
	limit := fs.Int("limit", 100, "dead letters to show")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	list, err := c.DeadLetters(ctx, *hook, *limit)
	if err != nil {
		return err
	}
	for _, d := range list {
		if api.json {
			if err := printJSON(env.stdout, d); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(env.stdout, "%-6d %s  %-16s attempts %d  %s\n", d.ID, d.CreatedAt.Format(time.RFC3339), d.Webhook, d.Attempts, d.LastError)
	}
	return nil
}

func alertsReplayWebhook(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts replay-webhook", "NAME", "Send a webhook's dead letters again, oldest first, with the same signed bodies;\nit stops at the first failure.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the webhook's name"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	n, err := c.ReplayDeadLetters(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d dead letters delivered\n", n)
	return nil
}

func alertsList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts list", "[flags]", "List your tenant's alerts, oldest first.")
	api := addAPIFlags(fs, env)
	state := fs.String("state", "open,acknowledged", "states, comma-separated (open, acknowledged, resolved); 'all' for every state")
	rule := fs.String("rule", "", "only this rule")
	severity := fs.String("severity", "", "this severity or higher (info, low, medium, high, critical)")
	sim := fs.String("sim", "", "only this SIM (ICCID, IMSI or MSISDN)")
	since := fs.String("since", "", "raised since this RFC 3339 time or duration ago")
	limit := fs.Int("limit", 100, "alerts per page")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	q := client.AlertQuery{State: *state, Rule: *rule, Severity: *severity, SIM: *sim, Since: *since, Limit: *limit}
	if q.State == "all" {
		q.State = ""
	}
	for {
		alerts, next, err := c.Alerts(ctx, q)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if api.json {
				if err := printJSON(env.stdout, a); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(env.stdout, "%-6d %s  %-8s %-12s %-28s %-22s ×%-4d %s\n", a.ID, a.CreatedAt.Format(time.RFC3339),
				a.Severity, a.State, a.Rule, a.Key, a.Count, a.Summary)
		}
		if next == 0 {
			return nil
		}
		q.After = next
	}
}

func alertArg(pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usageError{"give one alert ID"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%q is not an alert ID", pos[0])}
	}
	return id, nil
}

func alertsGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts get", "ID [--json]", "Show one alert with the events that caused it and the actions taken.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := alertArg(pos)
	if err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	a, err := c.Alert(ctx, id)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, a)
	}
	printAlert(env.stdout, a)
	return nil
}

func printAlert(w io.Writer, a simguard.Alert) {
	fmt.Fprintf(w, "alert %d  %s  %s  rule %s  %s\n%s\n", a.ID, a.Severity, a.State, a.Rule, a.Key, a.Summary)
	fmt.Fprintf(w, "first event %s, raised %s (time to detect %s), last seen %s, %d firings\n",
		a.FirstEventAt.Format(time.RFC3339Nano), a.CreatedAt.Format(time.RFC3339Nano), a.CreatedAt.Sub(a.FirstEventAt),
		a.LastSeenAt.Format(time.RFC3339Nano), a.Count)
	if a.AcknowledgedAt != nil {
		fmt.Fprintf(w, "acknowledged %s by %s\n", a.AcknowledgedAt.Format(time.RFC3339), a.AcknowledgedBy)
	}
	if a.ResolvedAt != nil {
		fmt.Fprintf(w, "resolved %s by %s\n", a.ResolvedAt.Format(time.RFC3339), a.ResolvedBy)
	}
	if a.Note != "" {
		fmt.Fprintf(w, "note: %s\n", a.Note)
	}
	for _, ac := range a.Actions {
		fmt.Fprintf(w, "action %s %s: %s %s\n", ac.Type, ac.Target, ac.Result, ac.Error)
	}
	for _, e := range a.Events {
		fmt.Fprintf(w, "  %s  %-20s %-5s %-18s sim=%d %v\n", e.Time.Format(time.RFC3339Nano), e.Type, orDash(e.Decision), orDash(string(e.Reason)), e.SIMID, e.Attrs)
	}
}

func alertsTransition(verb string) func(context.Context, *cliEnv, []string) error {
	return func(ctx context.Context, env *cliEnv, args []string) error {
		fs := newFlags(env, "alerts "+verb, "ID [--note TEXT]", "Acknowledge or resolve an alert; the audit log records who did it.")
		api := addAPIFlags(fs, env)
		note := fs.String("note", "", "what you found or did")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		id, err := alertArg(pos)
		if err != nil {
			return err
		}
		c, err := api.client(env)
		if err != nil {
			return err
		}
		var a simguard.Alert
		if verb == "ack" {
			a, err = c.AcknowledgeAlert(ctx, id, *note)
		} else {
			a, err = c.ResolveAlert(ctx, id, *note)
		}
		if err != nil {
			return err
		}
		if api.json {
			return printJSON(env.stdout, a)
		}
		fmt.Fprintf(env.stdout, "alert %d is %s\n", a.ID, a.State)
		return nil
	}
}
