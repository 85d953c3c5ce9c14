package console

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// exposureCounts is the overview's exposure card: the tenant's open
// findings by severity.
type exposureCounts struct {
	Total int64 `json:"total"`
	// AtLeast: counting stopped at exposureCountCap.
	AtLeast    bool         `json:"at_least"`
	BySeverity []stateCount `json:"by_severity"`
}

// exposureCountCap is where counting open findings stops: the card needs
// an order of magnitude, and every finding counted is a row decoded.
const exposureCountCap = 10_000

// exposureMemo keeps each tenant's counts until a scan run starts or
// finishes. Findings change only when a run finishes, so the counts are
// recomputed when the newest runs' IDs or states change, not at every
// overview poll; a run finishing behind several newer ones is caught by
// the age limit.
type exposureMemo struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[int64]exposureEntry
}

type exposureEntry struct {
	sig string
	at  time.Time
	v   *exposureCounts
}

const (
	exposureMemoAge  = 5 * time.Minute
	exposureSigScans = 8
)

func newExposureMemo(now func() time.Time) *exposureMemo {
	return &exposureMemo{now: now, m: map[int64]exposureEntry{}}
}

// exposureCard returns the tenant's open findings by severity, or nil
// when the tenant has never scanned (the card is then not shown).
func (c *Console) exposureCard(x *call) (*exposureCounts, error) {
	runs, err := c.svc.ListScans(x.ctx, exposureSigScans)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	var sig strings.Builder
	for _, r := range runs {
		sig.WriteString(strconv.FormatInt(r.ID, 10) + ":" + string(r.Status) + ",")
	}
	m, tenant, now := c.exposure, x.s.actor.TenantID, c.now()
	m.mu.Lock()
	e, ok := m.m[tenant]
	m.mu.Unlock()
	if ok && e.sig == sig.String() && now.Sub(e.at) < exposureMemoAge {
		return e.v, nil
	}
	bySev := map[simguard.Severity]int64{}
	v := &exposureCounts{}
	f := simguard.FindingFilter{State: simguard.FindingOpen, Limit: 5000}
	for v.Total < exposureCountCap {
		page, err := c.svc.FindFindings(x.ctx, f)
		if err != nil {
			return nil, err
		}
		for _, fd := range page {
			bySev[fd.Severity]++
		}
		v.Total += int64(len(page))
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	v.AtLeast = v.Total >= exposureCountCap
	for _, s := range severities {
		v.BySeverity = append(v.BySeverity, stateCount{string(s), bySev[s]})
	}
	m.mu.Lock()
	if len(m.m) > 10_000 {
		clear(m.m)
	}
	m.m[tenant] = exposureEntry{sig: sig.String(), at: now, v: v}
	m.mu.Unlock()
	return v, nil
}
