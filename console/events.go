package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

const eventPageSize = 50

// eventRow is an event as the tables show it.
type eventRow struct {
	ID       int64
	Time     time.Time
	Type     string
	Source   string
	Decision string
	Reason   string
	SIM      simRef
	Attrs    []attr
}

type simRef struct {
	Label, Href string
}

type attr struct{ Key, Value string }

// eventRow is an event for the tables, its SIM named by ICCID.
func (c *Console) eventRow(x *call, e simguard.Event, refs map[int64]simRef) eventRow {
	row := eventRow{ID: e.ID, Time: e.Time, Type: e.Type, Source: e.Source, Decision: e.Decision, Reason: string(e.Reason),
		SIM: c.simRefFor(x, e.SIMID, refs)}
	for k, v := range e.Attrs {
		row.Attrs = append(row.Attrs, attr{k, v})
	}
	slices.SortFunc(row.Attrs, func(a, b attr) int { return strings.Compare(a.Key, b.Key) })
	return row
}

type eventsFilter struct {
	Type, SIM, Since, Until string
}

type eventsData struct {
	Filter     eventsFilter
	FieldError map[string]string
	Events     []eventRow
	Older      string
}

func (c *Console) eventsPage(x *call) error {
	q := x.r.URL.Query()
	d := eventsData{
		Filter:     eventsFilter{Type: strings.TrimSpace(q.Get("type")), SIM: strings.TrimSpace(q.Get("sim")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))},
		FieldError: map[string]string{},
	}
	f := simguard.EventFilter{Limit: eventPageSize}
	if d.Filter.Type != "" {
		for _, t := range strings.Split(d.Filter.Type, ",") {
			if t = strings.TrimSpace(t); t != "" {
				f.Types = append(f.Types, t)
			}
		}
	}
	now := c.now()
	var err error
	if f.Since, err = parseWhen(d.Filter.Since, now); err != nil {
		d.FieldError["since"] = simguard.ErrorMessage(err)
	}
	if f.Until, err = parseWhen(d.Filter.Until, now); err != nil {
		d.FieldError["until"] = simguard.ErrorMessage(err)
	}
	if d.Filter.SIM != "" {
		sim, err := c.svc.GetSIM(x.ctx, d.Filter.SIM)
		if err != nil {
			d.FieldError["sim"] = simguard.ErrorMessage(err)
		}
		f.SIMID = sim.ID
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	status := http.StatusOK
	if len(d.FieldError) == 0 {
		evs, err := c.svc.RecentEvents(x.ctx, f, max(before, 0))
		if simguard.ErrorCode(err) == simguard.EINVALID {
			d.FieldError["type"] = simguard.ErrorMessage(err)
		} else if err != nil {
			return err
		}
		refs := map[int64]simRef{}
		for _, e := range evs {
			d.Events = append(d.Events, c.eventRow(x, e, refs))
		}
		if len(evs) == eventPageSize {
			v := url.Values{}
			for k, s := range map[string]string{"type": d.Filter.Type, "sim": d.Filter.SIM, "since": d.Filter.Since, "until": d.Filter.Until} {
				if s != "" {
					v.Set(k, s)
				}
			}
			v.Set("before", itoa(evs[len(evs)-1].ID))
			d.Older = basePath + "events?" + v.Encode()
		}
	}
	if len(d.FieldError) > 0 {
		status = formErrorStatus
	}
	return c.page(x, status, "events", "Events", "events", d)
}

// parseWhen reads an RFC 3339 time or a duration ago ("15m", "24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDuration("", s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, simguard.Errorf(simguard.EINVALID, "give a time like 2026-11-25T10:00:00Z or a duration ago like 15m, 24h or 7d")
	}
	return t, nil
}
