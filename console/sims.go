package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

const simPageSize = 50

type simFilter struct {
	Q, State, Group, Label string
}

func (f simFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "state": f.State, "group": f.Group, "label": f.Label} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type simsData struct {
	Filter  simFilter
	States  []simguard.SIMState
	Groups  []string
	SIMs    []simguard.SIM
	Next    string
	Import  *importResult
	Default struct{ Group string }
}

// importResult is what a rejected upload shows: every bad row.
type importResult struct {
	File    string
	Message string
	Rows    []simguard.RowError
	More    int // rows beyond those shown
}

func (c *Console) simsPage(x *call) error {
	return c.renderSIMs(x, http.StatusOK, nil)
}

func (c *Console) renderSIMs(x *call, status int, imp *importResult) error {
	q := x.r.URL.Query()
	d := simsData{
		Filter: simFilter{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Group: q.Get("group"), Label: strings.TrimSpace(q.Get("label"))},
		States: []simguard.SIMState{simguard.SIMActive, simguard.SIMSuspended, simguard.SIMInventory, simguard.SIMTerminated},
		Import: imp,
	}
	groups, err := c.svc.ListGroups(x.ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		d.Groups = append(d.Groups, g.Name)
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	sims, err := c.svc.ListSIMs(x.ctx, simguard.SIMFilter{
		Query: strings.TrimPrefix(d.Filter.Q, "+"), State: simguard.SIMState(d.Filter.State), Group: d.Filter.Group,
		Label: d.Filter.Label, AfterID: max(after, 0), Limit: simPageSize,
	})
	if err != nil {
		return err
	}
	d.SIMs = sims
	if len(sims) == simPageSize {
		v := d.Filter.values()
		v.Set("after", strconv.FormatInt(sims[len(sims)-1].ID, 10))
		d.Next = basePath + "sims?" + v.Encode()
	}
	return c.page(x, status, "sims", "SIMs", "sims", d)
}

// importSIMs takes a CSV upload. The whole file is checked first; any bad
// row rejects the import and every bad row is listed.
func (c *Console) importSIMs(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not import SIMs", x.s.actor.Role)
	}
	f, hdr, err := x.r.FormFile("file")
	if err != nil {
		return c.redirect(x, basePath+"sims", "Choose a CSV file to import.", true)
	}
	defer f.Close()
	opt := control.ImportOptions{
		Group: x.r.PostFormValue("group"), State: simguard.SIMState(x.r.PostFormValue("state")),
		IMEILock: simguard.IMEILockMode(x.r.PostFormValue("imei_lock")),
	}
	if opt.IMEILock != "" && !opt.IMEILock.Valid() {
		return simguard.FieldError("imei_lock", "must be off, explicit or learn")
	}
	rows, err := control.ParseCSV(f, opt)
	var n int
	if err == nil {
		n, err = c.svc.ImportSIMs(x.ctx, rows)
	}
	if err != nil {
		var se *simguard.Error
		if !asError(err, &se) || se.Code != simguard.EINVALID && se.Code != simguard.ECONFLICT {
			return err
		}
		imp := &importResult{File: hdr.Filename, Message: se.Message, Rows: se.Rows}
		if len(imp.Rows) > 200 {
			imp.More, imp.Rows = len(imp.Rows)-200, imp.Rows[:200]
		}
		if se.Field != "" && len(se.Rows) == 0 {
			imp.Message = se.Field + ": " + se.Message
		}
		return c.renderSIMs(x, formErrorStatus, imp)
	}
	c.log.Info("console: sims imported", "actor", x.s.actor.Name, "count", n)
	return c.redirect(x, basePath+"sims", "Imported "+strconv.Itoa(n)+" SIMs from "+hdr.Filename+".", false)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
