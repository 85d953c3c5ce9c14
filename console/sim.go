package console

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

type simData struct {
	SIM       simguard.SIM
	LockState simguard.IMEILockState
	Group     *simguard.Group // nil when the group is gone
	Quota     quotaView
	Location  *locationView
	Events    []eventRow
	// Sessions and Alerts are nil while no source is wired.
	Sessions *simSessions
	Alerts   *simAlerts
	// Findings is nil while there is none and no auditor runs.
	Findings *simFindings
	CheckURL string
	Can      simActions
}

type simSessions struct {
	Items []Session
}

type simAlerts struct {
	Items []simguard.Alert
}

// quotaView is the SIM's usage against its group's quota.
type quotaView struct {
	Period                         string
	PeriodStart                    time.Time
	DataUsed, DataLimit            int64
	SMSUsed, SMSLimit              int64
	DataPercent, SMSPercent        int64
	OnExhaustion                   string
	StaleUsage                     bool // the usage counted is from an earlier period
	HasDataLimit, HasSMSLimit, Any bool
}

// locationView is where the SIM was last seen, from its latest event that
// carried a location.
type locationView struct {
	PLMN, Area, Cell, RAT, Source, Type string
	Time                                time.Time
}

// simActions says which actions the page offers: none to read-only roles,
// and only those that make sense in the SIM's state.
type simActions struct {
	Activate, Suspend, Bind, Unbind bool
}

// simEventsScanned bounds how far back the SIM page looks for a location.
const simEventsScanned = 200

func (c *Console) simPage(x *call) error {
	sim, err := c.svc.GetSIM(x.ctx, x.r.PathValue("ref"))
	if err != nil {
		return err
	}
	d := simData{SIM: sim, LockState: sim.IMEILock.State()}
	if g, err := c.svc.GetGroup(x.ctx, sim.Group); err == nil {
		d.Group = &g
		d.Quota = quotaFor(sim, g, c.now())
	} else if simguard.ErrorCode(err) != simguard.ENOTFOUND {
		return err
	}
	evs, err := c.svc.RecentEvents(x.ctx, simguard.EventFilter{SIMID: sim.ID, Limit: simEventsScanned}, 0)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if p := e.Attrs["plmn"]; p != "" {
			d.Location = &locationView{PLMN: p, Area: e.Attrs["area"], Cell: e.Attrs["cell"], RAT: e.Attrs["rat"],
				Source: e.Source, Type: e.Type, Time: e.Time}
			break
		}
	}
	labels := map[int64]simRef{sim.ID: {Label: sim.ICCID, Href: basePath + "sims/" + url.PathEscape(sim.ICCID)}}
	for _, e := range evs[:min(len(evs), 25)] {
		d.Events = append(d.Events, c.eventRow(x, e, labels))
	}
	if c.cfg.Alerts != nil {
		as, err := c.cfg.Alerts.ListAlerts(x.ctx, simguard.AlertFilter{States: activeStates, SIMID: sim.ID, Limit: 100})
		if err != nil {
			return err
		}
		d.Alerts = &simAlerts{}
		for _, a := range slices.Backward(as) {
			a.Events = nil
			d.Alerts.Items = append(d.Alerts.Items, a)
		}
	}
	if d.Findings, err = c.simFindingsPanel(x, sim); err != nil {
		return err
	}
	if c.cfg.Sessions != nil {
		live, _, err := c.cfg.Sessions.LiveSessions(x.ctx, sim.ID, 10)
		if err != nil {
			return err
		}
		d.Sessions = &simSessions{Items: live}
	}
	check := url.Values{"imsi": {sim.IMSI}, "kind": {"data_session"}}
	if sim.IMEILock.IMEI != "" {
		check.Set("imei", sim.IMEILock.IMEI)
	}
	d.CheckURL = basePath + "check?" + check.Encode()
	if x.s.actor.Role.CanWrite() && sim.State != simguard.SIMTerminated {
		d.Can = simActions{Activate: true, Suspend: sim.State != simguard.SIMSuspended, Bind: true,
			Unbind: sim.IMEILock.Mode != simguard.IMEILockOff}
	}
	return c.page(x, http.StatusOK, "sim", "SIM "+sim.ICCID, "sims", d)
}

func quotaFor(sim simguard.SIM, g simguard.Group, now time.Time) quotaView {
	q := g.Policy.Quotas
	v := quotaView{Period: q.Period, OnExhaustion: q.OnExhaustion, DataLimit: q.DataBytes, SMSLimit: q.SMSCount,
		PeriodStart: control.PeriodStart(q.Period, now)}
	if v.Period == "" {
		v.Period = "month"
	}
	// Usage of an earlier period no longer counts; the store resets it at
	// the next metering, so show zero rather than last month's total.
	if !sim.Usage.PeriodStart.IsZero() && sim.Usage.PeriodStart.Before(v.PeriodStart) {
		v.StaleUsage = true
	} else {
		v.DataUsed, v.SMSUsed = sim.Usage.DataBytes, sim.Usage.SMSCount
	}
	v.HasDataLimit, v.HasSMSLimit = v.DataLimit > 0, v.SMSLimit > 0
	v.Any = v.HasDataLimit || v.HasSMSLimit
	v.DataPercent, v.SMSPercent = percent(v.DataUsed, v.DataLimit), percent(v.SMSUsed, v.SMSLimit)
	return v
}
