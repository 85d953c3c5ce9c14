package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

type findingData struct {
	Row findingRow
	// DeniedAtScan: the scan saw no rule letting the port in, so closing it
	// in policy could not help; the device must be fixed.
	DeniedAtScan bool
	AuditURL     string
}

func (c *Console) findingPage(x *call) error {
	id, err := objectID(x, "finding")
	if err != nil {
		return err
	}
	f, err := c.svc.GetFinding(x.ctx, id)
	if err != nil {
		return err
	}
	rows := c.findingRows(x, []simguard.Finding{f})
	d := findingData{Row: rows[0]}
	if r := f.Remediation; r != nil {
		d.DeniedAtScan = len(r.AllowedBy) == 0
		d.AuditURL = basePath + "audit?" + url.Values{"object": {"group:" + r.Group}, "action": {"group.remediate"}}.Encode()
	}
	title := fmt.Sprintf("%s/%d on %s", f.Proto, f.Port, f.Target)
	return c.page(x, http.StatusOK, "finding", title, "exposure", d)
}

type remediateData struct {
	Plan control.RemediationPlan
	// Hunks is the diff around the changed lines; Diff is all of it.
	Hunks   []diffLine
	Diff    []diffLine
	Back    string
	Message string // why the plan is shown again
}

// remediate closes a finding's port in its group's policy. The first POST
// shows the plan (control.PlanRemediation: the group's diff); the second,
// with confirm=yes, applies it guarded by the group version the plan was
// computed against, so a group changed in between is not edited blind.
func (c *Console) remediate(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not change group policies", x.s.actor.Role)
	}
	id, err := objectID(x, "finding")
	if err != nil {
		return err
	}
	back := basePath + "findings/" + itoa(id)
	if x.r.PostFormValue("confirm") != "yes" {
		return c.showRemediation(x, id, back, "")
	}
	version, err := strconv.ParseInt(x.r.PostFormValue("version"), 10, 64)
	if err != nil || version <= 0 {
		return simguard.FieldError("version", "the form lacks the group's version; open the finding and try again")
	}
	res, err := c.svc.RemediateFinding(x.ctx, id, version)
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.EPRECONDITION:
		return c.showRemediation(x, id, back,
			"Nothing was changed: someone changed the group since you saw the change below. Here is what closing the port means now.")
	case simguard.ECONFLICT, simguard.EINVALID:
		return c.redirect(x, back, "Nothing was changed: "+simguard.ErrorMessage(err), true)
	default:
		return err
	}
	f := res.Finding
	c.log.Info("console: finding remediated", "actor", x.s.actor.Name, "finding", id, "group", res.Group.Name, "version", res.Group.Version)
	return c.redirect(x, back, fmt.Sprintf("Inbound %s/%d closed in group %s (now version %d). The finding stays open until a scan finds the port closed.",
		f.Proto, f.Port, res.Group.Name, res.Group.Version), false)
}

func (c *Console) showRemediation(x *call, id int64, back, message string) error {
	plan, err := c.svc.PlanRemediation(x.ctx, id)
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.ECONFLICT:
		return c.redirect(x, back, "Nothing to change: "+simguard.ErrorMessage(err), true)
	default:
		return err
	}
	f := plan.Finding
	d := remediateData{Plan: plan, Diff: diffLines(plan.Diff), Back: back, Message: message}
	d.Hunks = diffHunks(d.Diff, remediationContext)
	return c.page(x, http.StatusOK, "remediate", fmt.Sprintf("Close %s/%d on %s?", f.Proto, f.Port, f.Target), "exposure", d)
}

// remediationContext is how many unchanged lines the confirmation shows
// around a change: enough to see the rule's CIDR and protocol.
const remediationContext = 4

// diffHunks keeps the changed lines of a diff and context unchanged lines
// around each; a "gap" line stands for what is left out.
func diffHunks(lines []diffLine, context int) []diffLine {
	keep := make([]bool, len(lines))
	changed := false
	for i, l := range lines {
		if l.Kind == "same" {
			continue
		}
		changed = true
		for j := max(0, i-context); j <= min(len(lines)-1, i+context); j++ {
			keep[j] = true
		}
	}
	if !changed {
		return nil
	}
	var out []diffLine
	for i, l := range lines {
		switch {
		case keep[i]:
			out = append(out, l)
		case i == 0 || keep[i-1]:
			out = append(out, diffLine{Kind: "gap", Text: " …"})
		}
	}
	return out
}
