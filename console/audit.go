package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
)

const auditPageSize = 50

// verifyView is the chain's verification as the audit page shows it.
type verifyView struct {
	Report audit.Report
	At     time.Time
	Took   time.Duration
}

type auditRow struct {
	Rec  simguard.AuditRecord
	Diff []diffLine // before → after, as indented JSON
	More int        // diff lines not shown
}

// maxDiffLines bounds the diff shown per record.
const maxDiffLines = 300

type auditData struct {
	Verify verifyView
	Filter struct{ Object, Action string }
	Rows   []auditRow
	Older  string
}

// verification verifies the whole chain (every tenant's records, named by
// sequence number only) at most every 30 seconds: on a long log it reads
// every record.
func (c *Console) verification(x *call) (verifyView, error) {
	return c.verify.get(0, func() (verifyView, error) {
		start := time.Now()
		rep, err := c.svc.VerifyAudit(x.ctx, c.cfg.AuditKey)
		if err != nil {
			return verifyView{}, err
		}
		return verifyView{Report: rep, At: c.now(), Took: time.Since(start).Round(100 * time.Microsecond)}, nil
	})
}

func (c *Console) auditPage(x *call) error {
	q := x.r.URL.Query()
	var d auditData
	var err error
	if d.Verify, err = c.verification(x); err != nil {
		return err
	}
	d.Filter.Object, d.Filter.Action = strings.TrimSpace(q.Get("object")), strings.TrimSpace(q.Get("action"))
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	recs, err := c.svc.RecentAudit(x.ctx, simguard.AuditFilter{Object: d.Filter.Object, Action: d.Filter.Action, Limit: auditPageSize}, max(before, 0))
	if err != nil {
		return err
	}
	for _, r := range recs {
		row := auditRow{Rec: r}
		if len(r.Before) > 0 || len(r.After) > 0 {
			row.Diff = diffLines(control.LineDiff(prettyJSON(r.Before), prettyJSON(r.After)))
			// An import's record holds every SIM imported: show its start.
			if len(row.Diff) > maxDiffLines {
				row.More = len(row.Diff) - maxDiffLines
				row.Diff = row.Diff[:maxDiffLines]
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if len(recs) == auditPageSize {
		v := url.Values{"before": {itoa(recs[len(recs)-1].Seq)}}
		if d.Filter.Object != "" {
			v.Set("object", d.Filter.Object)
		}
		if d.Filter.Action != "" {
			v.Set("action", d.Filter.Action)
		}
		d.Older = basePath + "audit?" + v.Encode()
	}
	return c.page(x, http.StatusOK, "audit", "Audit log", "audit", d)
}
