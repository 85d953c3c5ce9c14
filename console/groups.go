package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

type groupsData struct {
	Groups []simguard.Group
}

func (c *Console) groupsPage(x *call) error {
	gs, err := c.svc.ListGroups(x.ctx)
	if err != nil {
		return err
	}
	return c.page(x, http.StatusOK, "groups", "Groups and policies", "groups", groupsData{Groups: gs})
}

// groupForm is the editor: name and description as fields, the policy as
// YAML text.
type groupForm struct {
	New         bool
	Name        string
	Description string
	Policy      string
	Version     int64
	// Errors maps "name", "description" and "policy" to the message shown
	// next to that field; PolicyPath and PolicyLine locate a policy error.
	Errors     map[string]string
	PolicyPath string
	PolicyLine int
	Message    string
}

type groupData struct {
	Group *simguard.Group // nil for a new group
	YAML  string
	Form  groupForm
	Plan  *control.GroupPlan
	Diff  []diffLine
}

func (c *Console) groupPage(x *call) error {
	g, err := c.svc.GetGroup(x.ctx, x.r.PathValue("name"))
	if err != nil {
		return err
	}
	y := policyYAML(g.Policy)
	d := groupData{Group: &g, YAML: y, Form: groupForm{Name: g.Name, Description: g.Description, Policy: y, Version: g.Version}}
	return c.page(x, http.StatusOK, "group", "Group "+g.Name, "groups", d)
}

func (c *Console) newGroupPage(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not create groups", x.s.actor.Role)
	}
	d := groupData{Form: groupForm{New: true, Policy: "services: [data]\n"}}
	return c.page(x, http.StatusOK, "group", "New group", "groups", d)
}

// readGroupForm reads the editor's fields into a group.
func readGroupForm(x *call) (groupForm, simguard.Group, error) {
	f := groupForm{
		New:         x.r.PostFormValue("new") == "1",
		Name:        strings.TrimSpace(x.r.PostFormValue("name")),
		Description: strings.TrimSpace(x.r.PostFormValue("description")),
		Policy:      strings.ReplaceAll(x.r.PostFormValue("policy"), "\r\n", "\n"),
	}
	f.Version, _ = strconv.ParseInt(x.r.PostFormValue("version"), 10, 64)
	p, err := decodePolicy(f.Policy)
	return f, simguard.Group{Name: f.Name, Description: f.Description, Policy: p}, err
}

// planGroup validates the editor's group and shows the diff against the
// stored one, with the button that applies exactly what was shown.
func (c *Console) planGroup(x *call) error {
	f, g, err := readGroupForm(x)
	if err == nil {
		var plan control.GroupPlan
		if plan, err = c.svc.PlanGroup(x.ctx, g); err == nil {
			return c.showPlan(x, f, plan)
		}
	}
	return c.groupFormError(x, f, err)
}

func (c *Console) showPlan(x *call, f groupForm, plan control.GroupPlan) error {
	d := groupData{Form: f, Plan: &plan, Diff: diffLines(plan.Diff)}
	if plan.Current != nil {
		d.Group = plan.Current
		d.YAML = policyYAML(plan.Current.Policy)
		// Apply what was diffed against: a change by someone else in
		// between makes the apply fail instead of overwriting it.
		d.Form.Version = plan.Current.Version
	}
	title := "Changes to group " + f.Name
	if !plan.Exists {
		title = "New group " + f.Name
	}
	return c.page(x, http.StatusOK, "group", title, "groups", d)
}

func (c *Console) applyGroup(x *call) error {
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not change groups", x.s.actor.Role)
	}
	f, g, err := readGroupForm(x)
	if err != nil {
		return c.groupFormError(x, f, err)
	}
	if f.New {
		// Creating must not replace a group that appeared meanwhile.
		if _, err := c.svc.GetGroup(x.ctx, g.Name); err == nil {
			f.Message = "A group named " + g.Name + " was created meanwhile. Review the changes again."
			plan, perr := c.svc.PlanGroup(x.ctx, g)
			if perr != nil {
				return c.groupFormError(x, f, perr)
			}
			f.New = false
			return c.showPlan(x, f, plan)
		}
	}
	out, created, err := c.svc.ApplyGroup(x.ctx, g, f.Version)
	if simguard.ErrorCode(err) == simguard.EPRECONDITION {
		plan, perr := c.svc.PlanGroup(x.ctx, g)
		if perr != nil {
			return c.groupFormError(x, f, perr)
		}
		f.Message = "Nothing was saved: someone changed the group since you previewed it. Here is the diff against the current version."
		return c.showPlan(x, f, plan)
	}
	if err != nil {
		return c.groupFormError(x, f, err)
	}
	verb := "saved"
	if created {
		verb = "created"
	}
	c.log.Info("console: group applied", "actor", x.s.actor.Name, "group", out.Name, "version", out.Version)
	return c.redirect(x, basePath+"groups/"+url.PathEscape(out.Name), "Group "+out.Name+" "+verb+" (version "+itoa(out.Version)+").", false)
}

// groupFormError shows the editor again with the error next to the field
// it names; policy errors also say where in the YAML they are.
func (c *Console) groupFormError(x *call, f groupForm, err error) error {
	code := simguard.ErrorCode(err)
	if code != simguard.EINVALID && code != simguard.ECONFLICT {
		return err
	}
	f.Errors = map[string]string{}
	var se *simguard.Error
	asError(err, &se)
	field, msg := se.Field, se.Message
	switch {
	case field == "name" || field == "description":
		f.Errors[field] = msg
	case field == "policy":
		f.Errors["policy"] = msg
	case strings.HasPrefix(field, "policy."):
		f.PolicyPath = strings.TrimPrefix(field, "policy.")
		f.PolicyLine = yamlLine(f.Policy, f.PolicyPath)
		f.Errors["policy"] = f.PolicyPath + ": " + msg
	default:
		f.Message = simguard.ErrorMessage(err)
	}
	d := groupData{Form: f}
	if !f.New {
		if g, gerr := c.svc.GetGroup(x.ctx, f.Name); gerr == nil {
			d.Group = &g
			d.YAML = policyYAML(g.Policy)
		}
	}
	return c.page(x, formErrorStatus, "group", "Group "+f.Name, "groups", d)
}
