package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"
)

// maxRuleFile bounds one rule file; rule files are small.
const maxRuleFile = 1 << 20

// Source is a folder of rule files (*.yaml, *.yml, read recursively in
// lexical order). Each file holds one or more YAML documents, one rule
// each.
type Source struct {
	// Name is shown in errors and in Rule.File: "builtin" or a path.
	Name string
	FS   fs.FS
}

// Dir is a user's rule directory.
func Dir(dir string) Source { return Source{Name: dir, FS: os.DirFS(dir)} }

// RuleSet is the loaded rules, in load order. It is immutable.
type RuleSet struct {
	rules []*Rule
}

// Rules returns every rule, enabled or not, in load order.
func (rs *RuleSet) Rules() []*Rule { return append([]*Rule(nil), rs.rules...) }

// Rule returns the rule called name, or nil.
func (rs *RuleSet) Rule(name string) *Rule {
	for _, r := range rs.rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Loader compiles rule files. It holds the CEL environment, which is
// costly to build; a Loader is safe for concurrent use.
type Loader struct {
	env *cel.Env
}

// NewLoader makes a Loader.
func NewLoader() (*Loader, error) {
	env, err := newCELEnv()
	if err != nil {
		return nil, fmt.Errorf("detect: cel environment: %w", err)
	}
	return &Loader{env: env}, nil
}

// Load reads every source in order. A rule of a later source replaces the
// rule of the same name from an earlier one (to change a built-in rule,
// or to disable it with enabled: false); within one source a name may
// appear once. Every problem of every file is reported, each naming its
// file, line and field.
func (l *Loader) Load(sources ...Source) (*RuleSet, error) {
	var errs errList
	byName := map[string]int{}
	var rules []*Rule
	for _, src := range sources {
		seen := map[string]*Rule{}
		files, err := ruleFiles(src.FS)
		if err != nil {
			errs.add(fmt.Errorf("rules %s: %w", src.Name, err))
			continue
		}
		for _, f := range files {
			name := path.Join(src.Name, f)
			data, err := readLimited(src.FS, f)
			if err != nil {
				errs.add(&RuleError{File: name, Msg: err.Error()})
				continue
			}
			rs, err := l.Parse(name, data)
			if err != nil {
				errs.add(err)
			}
			for _, r := range rs {
				if prev, dup := seen[r.Name]; dup {
					errs.add(&RuleError{File: r.File, Line: r.Line, Rule: r.Name, Field: "name",
						Msg: fmt.Sprintf("already defined at %s:%d; rule names must be unique", prev.File, prev.Line)})
					continue
				}
				seen[r.Name] = r
				if i, ok := byName[r.Name]; ok {
					rules[i] = r
					continue
				}
				byName[r.Name] = len(rules)
				rules = append(rules, r)
			}
			if errs.full() {
				return nil, errs.err()
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &RuleSet{rules: rules}, nil
}

// Parse reads the rules of one file. It returns the rules it could read
// along with the errors of those it could not.
func (l *Loader) Parse(file string, data []byte) ([]*Rule, error) {
	var errs errList
	var rules []*Rule
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs.add(&RuleError{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
			break
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
			continue // a document of comments only
		}
		r, err := l.parseRule(node{file: file, n: doc.Content[0]})
		if err != nil {
			errs.add(err)
			continue
		}
		rules = append(rules, r)
	}
	return rules, errs.err()
}

func ruleFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRuleFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRuleFile {
		return nil, fmt.Errorf("larger than %d bytes; split it into several files", maxRuleFile)
	}
	return data, nil
}

// enabled is how many of the rules are enabled.
func (rs *RuleSet) enabled() int {
	n := 0
	for _, r := range rs.rules {
		if r.Enabled {
			n++
		}
	}
	return n
}
