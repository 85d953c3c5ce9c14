package console

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/simguard/simguard"
)

// The overview charts the last hour by minute.
const (
	overviewBuckets = 60
	overviewBucket  = time.Minute
	overviewTop     = 10
)

// overviewData is everything the overview shows. The page renders it and
// embeds it as JSON for the charts; the page then polls /api/overview
// for the same structure.
type overviewData struct {
	GeneratedAt     time.Time      `json:"generated_at"`
	SIMsTotal       int64          `json:"sims_total"`
	SIMsByState     []stateCount   `json:"sims_by_state"`
	Decisions       decisionSeries `json:"decisions"`
	TopSIMs         []topItem      `json:"top_sims"`
	TopDestinations []topItem      `json:"top_destinations"`
	// Alerts and Sessions are nil while no source is wired; the panels
	// are then not shown at all.
	Alerts   *alertCounts  `json:"alerts"`
	Sessions *sessionPanel `json:"sessions"`
	// Exposure is nil until the tenant's first scan.
	Exposure *exposureCounts `json:"exposure"`
}

type stateCount struct {
	State string `json:"state"`
	Count int64  `json:"count"`
}

// decisionSeries is one count per bucket and series, oldest bucket first.
type decisionSeries struct {
	Start         time.Time `json:"start"`
	BucketSeconds int       `json:"bucket_seconds"`
	Labels        []string  `json:"labels"` // "15:04" (UTC) per bucket
	Series        []series  `json:"series"`
	Allowed       int64     `json:"allowed"`
	Denied        int64     `json:"denied"`
}

type series struct {
	Decision string  `json:"decision"`
	Reason   string  `json:"reason"`
	Counts   []int64 `json:"counts"`
	Total    int64   `json:"total"`
}

type topItem struct {
	Label string `json:"label"`
	Href  string `json:"href,omitempty"`
	Count int64  `json:"count"`
}

type alertCounts struct {
	Total      int64        `json:"total"`
	BySeverity []stateCount `json:"by_severity"`
}

type sessionPanel struct {
	Live int64 `json:"live"`
	// AtLeast: the source stopped counting at SessionCountCap.
	AtLeast bool      `json:"at_least"`
	Recent  []Session `json:"recent"`
}

func (c *Console) overviewData(x *call) (overviewData, error) {
	return c.overview.get(x.s.actor.TenantID, func() (overviewData, error) {
		now := c.now().UTC()
		d := overviewData{GeneratedAt: now, TopSIMs: []topItem{}, TopDestinations: []topItem{}}
		counts, err := c.svc.CountSIMs(x.ctx)
		if err != nil {
			return d, err
		}
		for _, st := range []simguard.SIMState{simguard.SIMActive, simguard.SIMSuspended, simguard.SIMInventory, simguard.SIMTerminated} {
			d.SIMsByState = append(d.SIMsByState, stateCount{string(st), counts[st]})
			d.SIMsTotal += counts[st]
		}
		start := now.Truncate(overviewBucket).Add(-(overviewBuckets - 1) * overviewBucket)
		rep, err := c.svc.DecisionReport(x.ctx, start, now, overviewBucket, overviewTop)
		if err != nil {
			return d, err
		}
		d.Decisions = bucketize(rep.Counts, start)
		for _, s := range rep.TopSIMs {
			it := topItem{Label: s.ICCID, Count: s.Count}
			if s.ICCID == "" {
				it.Label = "SIM #" + itoa(s.SIMID) + " (gone)"
			} else {
				it.Href = basePath + "sims/" + url.PathEscape(s.ICCID)
			}
			d.TopSIMs = append(d.TopSIMs, it)
		}
		for _, t := range rep.TopDestinations {
			d.TopDestinations = append(d.TopDestinations, topItem{Label: t.Dst, Count: t.Count})
		}
		if c.cfg.Alerts != nil {
			bySev, err := c.openAlerts(x, 0)
			if err != nil {
				return d, err
			}
			d.Alerts = &alertCounts{}
			for _, s := range severities {
				d.Alerts.BySeverity = append(d.Alerts.BySeverity, stateCount{string(s), bySev[s]})
				d.Alerts.Total += bySev[s]
			}
		}
		if d.Exposure, err = c.exposureCard(x); err != nil {
			return d, err
		}
		if c.cfg.Sessions != nil {
			recent, live, err := c.cfg.Sessions.LiveSessions(x.ctx, 0, 10)
			if err != nil {
				return d, err
			}
			for i := range recent {
				if s := &recent[i]; s.ICCID == "" && s.SIMID != 0 {
					if sim, err := c.svc.SIMByID(x.ctx, s.SIMID); err == nil {
						s.ICCID = sim.ICCID
					}
				}
			}
			d.Sessions = &sessionPanel{Live: live, AtLeast: live >= SessionCountCap, Recent: nonNil(recent)}
		}
		return d, nil
	})
}

// bucketize turns sparse counts into one dense series per decision and
// reason: allowed first, then denials, most frequent first.
func bucketize(counts []simguard.DecisionCount, start time.Time) decisionSeries {
	d := decisionSeries{Start: start, BucketSeconds: int(overviewBucket / time.Second), Series: []series{}}
	for i := range overviewBuckets {
		d.Labels = append(d.Labels, start.Add(time.Duration(i)*overviewBucket).Format("15:04"))
	}
	idx := map[[2]string]int{}
	for _, c := range counts {
		b := int(c.Start.Sub(start) / overviewBucket)
		if b < 0 || b >= overviewBuckets {
			continue
		}
		k := [2]string{c.Decision, string(c.Reason)}
		i, ok := idx[k]
		if !ok {
			i = len(d.Series)
			idx[k] = i
			d.Series = append(d.Series, series{Decision: c.Decision, Reason: string(c.Reason), Counts: make([]int64, overviewBuckets)})
		}
		d.Series[i].Counts[b] += c.Count
		d.Series[i].Total += c.Count
		if c.Decision == "allow" {
			d.Allowed += c.Count
		} else {
			d.Denied += c.Count
		}
	}
	slices.SortFunc(d.Series, func(a, b series) int {
		if (a.Decision == "allow") != (b.Decision == "allow") {
			if a.Decision == "allow" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Reason, b.Reason))
	})
	return d
}

func (c *Console) overviewPage(x *call) error {
	d, err := c.overviewData(x)
	if err != nil {
		return err
	}
	return c.page(x, http.StatusOK, "overview", "Fleet overview", "overview", d)
}

func (c *Console) overviewJSON(x *call) error {
	d, err := c.overviewData(x)
	if err != nil {
		return err
	}
	x.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(x.w).Encode(d)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
