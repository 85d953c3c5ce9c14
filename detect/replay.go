package detect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// ReplayOptions tune Replay. Zero fields take their defaults.
type ReplayOptions struct {
	// MaxEventsPerAlert caps the events an alert carries. Default 100.
	MaxEventsPerAlert int
	// SuspensionsPerHour is the cap on suspensions the live engine would
	// apply, simulated in event time. Default 100; -1 allows none.
	SuspensionsPerHour int
	// MaxLine bounds one input line. Default 1 MiB.
	MaxLine int
	// SkipInvalid reports lines that are not events and goes on, instead
	// of stopping at the first one.
	SkipInvalid bool
}

// ReplayReport is what a replay would have raised.
type ReplayReport struct {
	Events  int // events read
	Firings int
	// Alerts in the order they would have opened. CreatedAt is the time of
	// the event that fired; no action ran (Result not_run, dry_run,
	// capped or skipped).
	Alerts []simguard.Alert
	// Invalid lists the first lines that were not events (SkipInvalid);
	// InvalidCount counts all of them.
	Invalid      []string
	InvalidCount int
}

const maxInvalidShown = 20

// Replay runs rs over recorded events (JSON lines of simguard.Event, in
// time order) and reports what would have fired. Nothing is executed, and
// the result depends only on the rules and the input.
func Replay(ctx context.Context, rs *RuleSet, r io.Reader, opts ReplayOptions) (*ReplayReport, error) {
	if opts.MaxEventsPerAlert <= 0 {
		opts.MaxEventsPerAlert = 100
	}
	if opts.SuspensionsPerHour == 0 {
		opts.SuspensionsPerHour = 100
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 1 << 20
	}
	rep := &ReplayReport{}
	d := NewDetector(rs, DetectorOptions{}, nil)
	open := map[alertKey]int{} // index into rep.Alerts
	var suspensions []time.Time
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, opts.MaxLine)), opts.MaxLine)
	var out []Firing
	line := 0
	for sc.Scan() {
		line++
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d.ExpireSome(time.Time{}, 4096) // by event time: deterministic
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		ev, err := decodeEvent([]byte(text))
		if err != nil {
			if !opts.SkipInvalid {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			rep.InvalidCount++
			if len(rep.Invalid) < maxInvalidShown {
				rep.Invalid = append(rep.Invalid, fmt.Sprintf("line %d: %v", line, err))
			}
			continue
		}
		rep.Events++
		out = d.Process(&ev, out[:0])
		for _, f := range out {
			rep.Firings++
			k := alertKey{f.Rule.Name, f.TenantID, f.Key}
			if i, ok := open[k]; ok {
				a := &rep.Alerts[i]
				a.Count++
				a.LastSeenAt = f.At
				room := opts.MaxEventsPerAlert - len(a.Events)
				a.Events = append(a.Events, f.Events[:max(0, min(room, len(f.Events)))]...)
				continue
			}
			open[k] = len(rep.Alerts)
			rep.Alerts = append(rep.Alerts, replayAlert(f, opts, &suspensions))
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line+1, opts.MaxLine)
		}
		return nil, fmt.Errorf("read events: %w", err)
	}
	return rep, nil
}

func decodeEvent(b []byte) (simguard.Event, error) {
	var ev simguard.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("not a JSON event: %v", err)
	}
	if ev.Type == "" {
		return ev, errors.New("the event has no type")
	}
	if ev.Time.IsZero() {
		return ev, errors.New("the event has no time")
	}
	return ev, nil
}

func replayAlert(f Firing, opts ReplayOptions, suspensions *[]time.Time) simguard.Alert {
	summary := f.Rule.Description
	if f.Detail != "" {
		summary += ": " + f.Detail
	}
	evs := f.Events
	if len(evs) > opts.MaxEventsPerAlert {
		evs = evs[:opts.MaxEventsPerAlert]
	}
	a := simguard.Alert{
		TenantID: alertTenant(f.TenantID), Rule: f.Rule.Name, Severity: f.Rule.Severity, Key: f.Key, SIMID: f.SIMID,
		State: simguard.AlertOpen, Summary: summary, Count: 1, FirstEventAt: f.FirstAt, CreatedAt: f.At,
		LastSeenAt: f.At, DryRun: f.Rule.DryRun && len(f.Rule.Actions) > 0, Events: append([]simguard.Event(nil), evs...),
	}
	for _, p := range plan(f) {
		act := simguard.AlertAction{Type: p.a.Type, Target: p.target, Result: simguard.ActionNotRun, Time: f.At}
		switch {
		case p.skip != "":
			act.Result, act.Error = simguard.ActionSkipped, p.skip
		case f.Rule.DryRun:
			act.Result = simguard.ActionDryRun
		case p.a.Type == simguard.ActionSuspendSIM || p.a.Type == simguard.ActionQuarantine:
			kept := (*suspensions)[:0]
			for _, t := range *suspensions {
				if f.At.Sub(t) < time.Hour {
					kept = append(kept, t)
				}
			}
			*suspensions = kept
			if opts.SuspensionsPerHour < 0 || len(kept) >= opts.SuspensionsPerHour {
				act.Result = simguard.ActionCapped
			} else {
				*suspensions = append(kept, f.At)
			}
		}
		a.Actions = append(a.Actions, act)
	}
	return a
}

// WriteText prints the report for people.
func (r *ReplayReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	rules := map[string]bool{}
	for _, a := range r.Alerts {
		rules[a.Rule] = true
		key := fmt.Sprintf("tenant=%d", a.TenantID)
		if a.Key != "" {
			key += " " + a.Key
		}
		fmt.Fprintf(bw, "%s  %-8s  %s  %s  ×%d  %s\n", a.CreatedAt.UTC().Format(time.RFC3339Nano),
			a.Severity, a.Rule, key, a.Count, a.Summary)
		fmt.Fprintf(bw, "    first event %s (time to detect %s), %d events, last seen %s\n",
			a.FirstEventAt.UTC().Format(time.RFC3339Nano), a.CreatedAt.Sub(a.FirstEventAt), len(a.Events),
			a.LastSeenAt.UTC().Format(time.RFC3339Nano))
		for _, ac := range a.Actions {
			fmt.Fprintf(bw, "    action %s %s: %s", ac.Type, ac.Target, ac.Result)
			if ac.Error != "" {
				fmt.Fprintf(bw, " (%s)", ac.Error)
			}
			bw.WriteByte('\n')
		}
	}
	for _, s := range r.Invalid {
		fmt.Fprintf(bw, "skipped %s\n", s)
	}
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(bw, "%d events, %d firings, %d alerts from %d rules", r.Events, r.Firings, len(r.Alerts), len(names))
	if len(names) > 0 {
		fmt.Fprintf(bw, " (%s)", strings.Join(names, ", "))
	}
	if r.InvalidCount > 0 {
		fmt.Fprintf(bw, ", %d invalid lines skipped", r.InvalidCount)
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// WriteJSON writes one alert per line.
func (r *ReplayReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for i := range r.Alerts {
		if err := enc.Encode(&r.Alerts[i]); err != nil {
			return err
		}
	}
	return nil
}
