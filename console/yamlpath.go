package console

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard"
)

// policyYAML renders a policy the way the editor holds it.
func policyYAML(p simguard.Policy) string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return "# cannot render this policy: " + err.Error() + "\n"
	}
	return b.String()
}

// maxPolicyText bounds the editor's text: a policy is a screenful, not a
// megabyte.
const maxPolicyText = 256 << 10

// decodePolicy reads the editor's YAML strictly: an unknown key (a typo)
// is an error with its line, so that it cannot silently drop a
// restriction. Errors name the field "policy".
func decodePolicy(text string) (simguard.Policy, error) {
	var p simguard.Policy
	if len(text) > maxPolicyText {
		return p, simguard.FieldError("policy", "is longer than %d KiB", maxPolicyText>>10)
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return simguard.Policy{}, nil // an empty policy: allows nothing
		}
		return simguard.Policy{}, simguard.FieldError("policy", "%s", yamlMessage(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return simguard.Policy{}, simguard.FieldError("policy", "holds more than one YAML document; remove the '---' and what follows")
	}
	return p, nil
}

// yamlMessage turns the YAML library's error into one line that names
// the line and drops Go type names.
func yamlMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			l = strings.ReplaceAll(l, " in type simguard.", " in ")
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// yamlLine finds the line of the node that a field path such as
// "location.plmns[1]" names in text (paths relative to the policy). It
// returns the line of the deepest node it could reach, or 0 when the text
// does not parse or the path names nothing in it.
func yamlLine(text, path string) int {
	if len(text) > maxPolicyText {
		return 0
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil || len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	line := 0
	for _, seg := range pathSegments(path) {
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode && seg.index < len(n.Content):
			n = n.Content[seg.index]
		case seg.index < 0 && n.Kind == yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					// The key's line: a block value starts on the next one.
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
			continue
		default:
			return line
		}
		line = n.Line
	}
	return line
}

type pathSegment struct {
	key   string
	index int // -1 for a key
}

// pathSegments splits "a.b[2].c" into a, b, [2], c.
func pathSegments(path string) []pathSegment {
	var out []pathSegment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSegment{key: key, index: -1})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 {
				return out
			}
			out = append(out, pathSegment{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}
