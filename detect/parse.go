package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/simguard/simguard"
	"go.yaml.in/yaml/v3"
)

var ruleFieldNames = []string{
	"name", "description", "severity", "enabled", "events", "condition",
	"group_by", "trigger", "evidence", "actions", "dry_run",
}

// parseRule reads and compiles one rule document.
func (l *Loader) parseRule(d node) (*Rule, error) {
	d.rule = peekName(d)
	f, err := d.fields(ruleFieldNames...)
	if err != nil {
		return nil, err
	}
	r := &Rule{File: d.file, Line: d.n.Line, Enabled: true}
	nameNode, ok := f["name"]
	if !ok {
		return nil, d.errf("the rule has no name; add name: my-rule")
	}
	if r.Name, err = nameNode.str(); err != nil {
		return nil, err
	}
	if !validRuleName(r.Name) {
		return nil, nameNode.errf("must be 1-63 of a-z, 0-9, '-', '_', '.', starting with a letter or digit, got %q", clip(r.Name))
	}
	// From here on every error names the rule.
	for k, v := range f {
		v.rule = r.Name
		f[k] = v
	}
	d.rule = r.Name

	if n, ok := f["description"]; ok {
		if r.Description, err = n.str(); err != nil {
			return nil, err
		}
	}
	sev, ok := f["severity"]
	if !ok {
		return nil, d.errf("severity is missing; add severity: one of info, low, medium, high, critical")
	}
	s, err := sev.str()
	if err != nil {
		return nil, err
	}
	r.Severity = simguard.Severity(s)
	if !r.Severity.Valid() {
		return nil, sev.errf("must be one of info, low, medium, high, critical, got %q", clip(s))
	}
	if n, ok := f["enabled"]; ok {
		if r.Enabled, err = n.boolean(); err != nil {
			return nil, err
		}
	}
	if n, ok := f["dry_run"]; ok {
		if r.DryRun, err = n.boolean(); err != nil {
			return nil, err
		}
	}
	if err := r.parseEvents(d, f); err != nil {
		return nil, err
	}
	if n, ok := f["condition"]; ok {
		if r.Condition, err = n.str(); err != nil {
			return nil, err
		}
		if r.cond, err = compileExpr(l.env, r.Condition, cel.BoolType); err != nil {
			return nil, n.errf("%v", err)
		}
	}
	if err := r.parseGroupBy(f); err != nil {
		return nil, err
	}
	tn, ok := f["trigger"]
	if !ok {
		return nil, d.errf("trigger is missing; add trigger: {kind: each} or another kind (%s)", strings.Join(triggerKinds, ", "))
	}
	if err := l.parseTrigger(r, tn); err != nil {
		return nil, err
	}
	r.Evidence = r.defaultEvidence()
	if n, ok := f["evidence"]; ok {
		switch r.Trigger.Kind {
		case TriggerSlidingWindow, TriggerLeakyBucket, TriggerDistinct:
		default:
			return nil, n.errf("applies to sliding_window, leaky_bucket and distinct triggers; a %s alert carries the event that fired it", r.Trigger.Kind)
		}
		if r.Evidence, err = n.integer(1, 50); err != nil {
			return nil, err
		}
	}
	if n, ok := f["actions"]; ok {
		if err := r.parseActions(n); err != nil {
			return nil, err
		}
	}
	r.fingerprint = fingerprint(r)
	return r, nil
}

func (r *Rule) parseEvents(d node, f map[string]node) error {
	n, ok := f["events"]
	if !ok {
		return d.errf("events is missing; list the event types the rule reads, e.g. events: [radius.access]")
	}
	evs, err := n.strList()
	if err != nil {
		return err
	}
	if len(evs) == 0 || len(evs) > 32 {
		return n.errf("must list 1 to 32 event types")
	}
	for i, e := range evs {
		if !validEventType(e) {
			return n.child(fmt.Sprintf("[%d]", i), n.n).errf("must be an event type like radius.access, or a prefix ending in '.' like flow., got %q", clip(e))
		}
	}
	r.Events = evs
	return nil
}

func (r *Rule) parseGroupBy(f map[string]node) error {
	n, ok := f["group_by"]
	if !ok {
		return nil
	}
	names, err := n.strList()
	if err != nil {
		return err
	}
	if len(names) > maxGroupBy {
		return n.errf("at most %d fields", maxGroupBy)
	}
	for i, s := range names {
		kf, ok := parseField(s)
		if !ok {
			return n.errf("[%d]: %q is not a field; use sim, tenant, type, source, decision, reason or an attr name like imei, nas, dst", i, clip(s))
		}
		for _, prev := range r.keyFields {
			if prev.name == kf.name || prev.kind == kf.kind && kf.kind != fieldAttr || kf.kind == fieldAttr && prev.attr == kf.attr {
				return n.errf("[%d]: %q is listed twice", i, s)
			}
		}
		r.keyFields = append(r.keyFields, kf)
	}
	r.GroupBy = names
	return nil
}

func (r *Rule) parseActions(n node) error {
	if n.n.Kind != yaml.SequenceNode {
		return n.errf("must be a list of actions, e.g. - type: suspend_sim")
	}
	if len(n.n.Content) > 8 {
		return n.errf("at most 8 actions")
	}
	for i, c := range n.n.Content {
		an := n.child(fmt.Sprintf("[%d]", i), c)
		af, err := an.fields("type", "group", "attr")
		if err != nil {
			return err
		}
		tn, ok := af["type"]
		if !ok {
			return an.errf("type is missing; one of suspend_sim, quarantine, block_destination")
		}
		var a Action
		if a.Type, err = tn.str(); err != nil {
			return err
		}
		allowed := map[string][]string{
			simguard.ActionSuspendSIM:       {"type"},
			simguard.ActionQuarantine:       {"type", "group"},
			simguard.ActionBlockDestination: {"type", "attr"},
		}[a.Type]
		if allowed == nil {
			return tn.errf("must be one of suspend_sim, quarantine, block_destination, got %q", clip(a.Type))
		}
		for k, v := range af {
			if !contains(allowed, k) {
				return v.errf("does not apply to a %s action", a.Type)
			}
		}
		switch a.Type {
		case simguard.ActionQuarantine:
			g, ok := af["group"]
			if !ok {
				return an.errf("group is missing; name the quarantine group, e.g. group: quarantine")
			}
			if a.Group, err = g.str(); err != nil {
				return err
			}
			if simguard.ValidateName(a.Group) != nil {
				return g.errf("must be a group name (1-63 of a-z, A-Z, 0-9, '-', '_', '.'), got %q", clip(a.Group))
			}
		case simguard.ActionBlockDestination:
			a.Attr = "dst"
			if at, ok := af["attr"]; ok {
				if a.Attr, err = at.str(); err != nil {
					return err
				}
				if kf, ok := parseField(a.Attr); !ok || kf.kind != fieldAttr {
					return at.errf("must name an attr holding an address, e.g. dst, got %q", clip(a.Attr))
				}
			}
		}
		r.Actions = append(r.Actions, a)
	}
	return nil
}

func (r *Rule) defaultEvidence() int {
	t := r.Trigger
	n := 1
	switch t.Kind {
	case TriggerSlidingWindow, TriggerDistinct:
		n = t.Threshold
	case TriggerLeakyBucket:
		n = t.Capacity + 1
	}
	return min(n, 5)
}

// peekName finds a valid rule name before the strict walk, so that even
// the first errors of a rule can name it.
func peekName(d node) string {
	if d.n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(d.n.Content); i += 2 {
		k, v := d.n.Content[i], d.n.Content[i+1]
		if k.Value == "name" && v.Kind == yaml.ScalarNode && validRuleName(v.Value) {
			return v.Value
		}
	}
	return ""
}

func validRuleName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return false
		}
	}
	return true
}

func validEventType(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// fingerprint hashes what the rule does (not where it was written), so
// that reloading an unchanged rule keeps its counters.
func fingerprint(r *Rule) string {
	c := *r
	c.File, c.Line, c.Description = "", 0, ""
	b, _ := json.Marshal(c)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}
