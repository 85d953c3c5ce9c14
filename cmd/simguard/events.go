package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

func eventsCommand() *command {
	return &command{name: "events", summary: "query the event log", run: eventsQuery}
}

func eventsQuery(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "events", "[flags]", "Show events of your tenant, oldest first; --follow keeps printing new ones.")
	api := addAPIFlags(fs, env)
	sim := fs.String("sim", "", "only this SIM (ICCID, IMSI or MSISDN)")
	typ := fs.String("type", "", "only these types, comma-separated; a prefix ending in '.' matches a family (radius.)")
	since := fs.String("since", "1h", "from this RFC 3339 time or duration ago")
	until := fs.String("until", "", "up to this RFC 3339 time or duration ago")
	limit := fs.Int("limit", 100, "events per page")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	q := clientEventQuery(*sim, *typ, *since, *until, *limit)
	jsonLine := json.NewEncoder(env.stdout)
	jsonLine.SetEscapeHTML(false)
	for {
		events, next, err := c.Events(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range events {
			if api.json {
				// One event per line: the input 'simguard detect replay' reads.
				if err := jsonLine.Encode(e); err != nil {
					return err
				}
				continue
			}
			keys := make([]string, 0, len(e.Attrs))
			for k := range e.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			attrs := make([]string, len(keys))
			for i, k := range keys {
				attrs[i] = k + "=" + e.Attrs[k]
			}
			fmt.Fprintf(env.stdout, "%s  %-22s %-5s %-20s sim=%d %s\n", e.Time.Format(time.RFC3339Nano), e.Type, orDash(e.Decision), orDash(string(e.Reason)), e.SIMID, strings.Join(attrs, " "))
		}
		if len(events) > 0 {
			q.After = events[len(events)-1].ID
		}
		if next != 0 {
			continue
		}
		if !*follow {
			return nil
		}
		q.Since = ""
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}
