package detect

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// node reads one YAML node strictly. Decoding into a struct would lose the
// positions of fields and could not tell "absent" from "zero"; walking the
// node tree gives every error its line and column and makes unknown fields
// errors.
type node struct {
	file string
	rule string // set once the rule's name is known
	path string
	n    *yaml.Node
}

func (d node) errf(format string, args ...any) *RuleError {
	e := &RuleError{File: d.file, Rule: d.rule, Field: d.path, Msg: fmt.Sprintf(format, args...)}
	if d.n != nil {
		e.Line, e.Column = d.n.Line, d.n.Column
	}
	return e
}

func (d node) child(path string, n *yaml.Node) node {
	p := path
	if d.path != "" && !strings.HasPrefix(path, "[") {
		p = d.path + "." + path
	} else if d.path != "" {
		p = d.path + path
	}
	return node{file: d.file, rule: d.rule, path: p, n: n}
}

// fields returns the fields of a mapping node by name. Unknown, duplicate
// and non-scalar keys are errors; allowed lists the known fields.
func (d node) fields(allowed ...string) (map[string]node, error) {
	if d.n.Kind != yaml.MappingNode {
		return nil, d.errf("must be a mapping (key: value lines), got %s", kindName(d.n))
	}
	out := make(map[string]node, len(d.n.Content)/2)
	for i := 0; i+1 < len(d.n.Content); i += 2 {
		k, v := d.n.Content[i], d.n.Content[i+1]
		kn := d.child("", k)
		if k.Kind != yaml.ScalarNode {
			return nil, kn.errf("keys must be plain names")
		}
		kn = d.child(k.Value, k)
		if !contains(allowed, k.Value) {
			return nil, kn.errf("unknown field %q; known fields are %s", clip(k.Value), strings.Join(sorted(allowed), ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, kn.errf("field given twice")
		}
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			return nil, kn.errf("YAML anchors and aliases are not supported in rule files")
		}
		out[k.Value] = d.child(k.Value, v)
	}
	return out, nil
}

func (d node) scalar() (string, error) {
	if d.n.Kind != yaml.ScalarNode {
		return "", d.errf("must be a single value, got %s", kindName(d.n))
	}
	return d.n.Value, nil
}

func (d node) str() (string, error) {
	s, err := d.scalar()
	if err != nil {
		return "", err
	}
	if d.n.Tag != "!!str" {
		return "", d.errf("must be a string, got %q (quote it)", clip(s))
	}
	return s, nil
}

func (d node) strList() ([]string, error) {
	if d.n.Kind == yaml.ScalarNode {
		s, err := d.str()
		return []string{s}, err
	}
	if d.n.Kind != yaml.SequenceNode {
		return nil, d.errf("must be a list of strings, got %s", kindName(d.n))
	}
	out := make([]string, 0, len(d.n.Content))
	for i, c := range d.n.Content {
		s, err := d.child(fmt.Sprintf("[%d]", i), c).str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (d node) boolean() (bool, error) {
	s, err := d.scalar()
	if err != nil {
		return false, err
	}
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, d.errf("must be true or false, got %q", clip(s))
}

// integer reads a whole number in [lo, hi].
func (d node) integer(lo, hi int) (int, error) {
	s, err := d.scalar()
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, d.errf("must be a whole number from %d to %d, got %q", lo, hi, clip(s))
	}
	return v, nil
}

// number reads a decimal number in [lo, hi].
func (d node) number(lo, hi float64) (float64, error) {
	s, err := d.scalar()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		return 0, d.errf("must be a number from %g to %g, got %q", lo, hi, clip(s))
	}
	return v, nil
}

// duration reads a Go duration ("30s", "5m", "24h") in [lo, hi].
func (d node) duration(lo, hi time.Duration) (time.Duration, error) {
	s, err := d.scalar()
	if err != nil {
		return 0, err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < lo || v > hi {
		return 0, d.errf("must be a duration like 30s, 5m or 24h from %s to %s, got %q", lo, hi, clip(s))
	}
	return v, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", clip(n.Value))
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sorted(l []string) []string {
	c := append([]string(nil), l...)
	sort.Strings(c)
	return c
}

// clip shortens hostile input before it is echoed back in an error.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
