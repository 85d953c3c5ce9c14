package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/simguard/simguard"
)

// activeStates are the states of alerts that still need someone.
var activeStates = []simguard.AlertState{simguard.AlertOpen, simguard.AlertAcknowledged}

const (
	// maxAlertsListed bounds one alerts page; open alerts are few, and a
	// history is narrowed with the filters.
	maxAlertsListed = 500
	maxNote         = 1000
)

// openAlerts counts the active alerts (of one SIM, or all) by severity.
func (c *Console) openAlerts(x *call, simID int64) (map[simguard.Severity]int64, error) {
	as, err := c.cfg.Alerts.ListAlerts(x.ctx, simguard.AlertFilter{States: activeStates, SIMID: simID, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	out := map[simguard.Severity]int64{}
	for _, a := range as {
		out[a.Severity]++
	}
	return out, nil
}

type alertsFilter struct {
	State, Severity, Rule, SIM, Since string
}

type alertRow struct {
	simguard.Alert
	SIM simRef
}

type alertsData struct {
	Filter     alertsFilter
	FieldError map[string]string
	States     []string
	Severities []simguard.Severity
	Alerts     []alertRow
	Truncated  bool
}

func (c *Console) alertsPage(x *call) error {
	q := x.r.URL.Query()
	d := alertsData{
		Filter: alertsFilter{State: q.Get("state"), Severity: q.Get("severity"), Rule: strings.TrimSpace(q.Get("rule")),
			SIM: strings.TrimSpace(q.Get("sim")), Since: strings.TrimSpace(q.Get("since"))},
		FieldError: map[string]string{},
		States:     []string{"open", "acknowledged", "resolved", "any"},
		Severities: severities,
	}
	f := simguard.AlertFilter{Rule: d.Filter.Rule, Limit: maxAlertsListed}
	switch st := simguard.AlertState(d.Filter.State); {
	case d.Filter.State == "":
		f.States = activeStates
	case d.Filter.State == "any":
	case st.Valid():
		f.States = []simguard.AlertState{st}
	default:
		d.FieldError["state"] = "choose open, acknowledged, resolved or any"
	}
	if sev := simguard.Severity(d.Filter.Severity); sev != "" {
		if !sev.Valid() {
			d.FieldError["severity"] = "choose critical, high, medium, low or info"
		}
		f.Severity = sev
	}
	var err error
	if f.Since, err = parseWhen(d.Filter.Since, c.now()); err != nil {
		d.FieldError["since"] = simguard.ErrorMessage(err)
	}
	if d.Filter.SIM != "" {
		sim, err := c.svc.GetSIM(x.ctx, d.Filter.SIM)
		if err != nil {
			d.FieldError["sim"] = simguard.ErrorMessage(err)
		}
		f.SIMID = sim.ID
	}
	status := http.StatusOK
	if len(d.FieldError) > 0 {
		status = formErrorStatus
	} else {
		as, err := c.cfg.Alerts.ListAlerts(x.ctx, f)
		if err != nil {
			return err
		}
		d.Truncated = len(as) == maxAlertsListed
		refs := map[int64]simRef{}
		for _, a := range slices.Backward(as) { // newest first
			a.Events = nil // the list shows no events; the alert's page does
			d.Alerts = append(d.Alerts, alertRow{Alert: a, SIM: c.simRefFor(x, a.SIMID, refs)})
		}
	}
	return c.page(x, status, "alerts", "Alerts", "alerts", d)
}

type alertData struct {
	Alert  simguard.Alert
	SIM    simRef
	Events []eventRow
	Can    struct{ Acknowledge, Resolve bool }
}

func alertID(x *call) (int64, error) {
	id, err := strconv.ParseInt(x.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("there is no alert %q", clip(x.r.PathValue("id")))
	}
	return id, nil
}

func (c *Console) alertPage(x *call) error {
	id, err := alertID(x)
	if err != nil {
		return err
	}
	a, err := c.cfg.Alerts.GetAlert(x.ctx, id)
	if err != nil {
		return err
	}
	refs := map[int64]simRef{}
	d := alertData{Alert: a, SIM: c.simRefFor(x, a.SIMID, refs)}
	for _, e := range a.Events {
		d.Events = append(d.Events, c.eventRow(x, e, refs))
	}
	if x.s.actor.Role.CanWrite() {
		d.Can.Acknowledge = a.State == simguard.AlertOpen
		d.Can.Resolve = a.State != simguard.AlertResolved
	}
	return c.page(x, http.StatusOK, "alert", "Alert #"+itoa(a.ID)+": "+a.Rule, "alerts", d)
}

// alertAction acknowledges or resolves an alert, with the operator's note.
func (c *Console) alertAction(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not change alerts", x.s.actor.Role)
	}
	id, err := alertID(x)
	if err != nil {
		return err
	}
	note := strings.TrimSpace(x.r.PostFormValue("note"))
	if utf8.RuneCountInString(note) > maxNote {
		return simguard.FieldError("note", "is longer than %d characters", maxNote)
	}
	back := basePath + "alerts/" + itoa(id)
	var done string
	switch x.r.PathValue("action") {
	case "acknowledge":
		_, err = c.cfg.Alerts.Acknowledge(x.ctx, id, note)
		done = "acknowledged"
	case "resolve":
		_, err = c.cfg.Alerts.Resolve(x.ctx, id, note)
		done = "resolved"
	default:
		return notFound("there is no alert action %q", clip(x.r.PathValue("action")))
	}
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.ECONFLICT, simguard.EINVALID:
		return c.redirect(x, back, "Nothing was changed: "+simguard.ErrorMessage(err), true)
	default:
		return err
	}
	c.log.Info("console: alert "+done, "actor", x.s.actor.Name, "alert", id)
	return c.redirect(x, back, "Alert #"+itoa(id)+" "+done+".", false)
}

// simRefFor names a SIM by its ICCID with a link to its page, memoizing in
// refs across one page (events and alerts name SIMs by ID).
func (c *Console) simRefFor(x *call, simID int64, refs map[int64]simRef) simRef {
	if simID == 0 {
		return simRef{}
	}
	if ref, ok := refs[simID]; ok {
		return ref
	}
	ref := simRef{Label: "SIM #" + itoa(simID)}
	if sim, err := c.svc.SIMByID(x.ctx, simID); err == nil {
		ref = simRef{Label: sim.ICCID, Href: basePath + "sims/" + url.PathEscape(sim.ICCID)}
	}
	refs[simID] = ref
	return ref
}
