package control

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard"
)

func marshalYAML(v any) ([]byte, error) { return yaml.Marshal(v) }

func unmarshalYAML(b []byte, v any) error { return yaml.Unmarshal(b, v) }

// groupYAML renders the parts of a group an operator edits, as a group
// file in git would hold them.
func groupYAML(g *simguard.Group) string {
	if g == nil {
		return ""
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	err := enc.Encode(struct {
		Name        string          `yaml:"name"`
		Description string          `yaml:"description,omitempty"`
		Policy      simguard.Policy `yaml:"policy"`
	}{g.Name, g.Description, g.Policy})
	if err != nil {
		return "# cannot render: " + err.Error() + "\n"
	}
	return b.String()
}

func diffGroups(cur, next *simguard.Group) string {
	return LineDiff(groupYAML(cur), groupYAML(next))
}

// LineDiff returns the lines of a and b with "-" for lines only in a, "+"
// for lines only in b and " " for common ones (longest common subsequence).
// Inputs beyond 4,000 lines are compared as wholly replaced: a diff shown
// to a human is not worth quadratic time.
func LineDiff(a, b string) string {
	x, y := splitLines(a), splitLines(b)
	var out strings.Builder
	if len(x)*len(y) > 4000*4000 {
		for _, l := range x {
			out.WriteString("-" + l + "\n")
		}
		for _, l := range y {
			out.WriteString("+" + l + "\n")
		}
		return out.String()
	}
	// lcs[i][j] = length of the LCS of x[i:] and y[j:]
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out.WriteString(" " + x[i] + "\n")
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out.WriteString("-" + x[i] + "\n")
			i++
		default:
			out.WriteString("+" + y[j] + "\n")
			j++
		}
	}
	return out.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
