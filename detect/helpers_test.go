package detect

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// evt builds an event at t0+at. attrs are key, value pairs.
func evt(typ string, sim int64, at time.Duration, decision string, reason simguard.Reason, attrs ...string) simguard.Event {
	e := simguard.Event{Time: t0.Add(at), TenantID: 1, SIMID: sim, Type: typ, Decision: decision, Reason: reason, Attrs: map[string]string{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs[attrs[i]] = attrs[i+1]
	}
	return e
}

// repeat makes n events with make(i).
func repeat(n int, mk func(i int) simguard.Event) []simguard.Event {
	out := make([]simguard.Event, n)
	for i := range out {
		out[i] = mk(i)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

var (
	loaderOnce sync.Once
	loader     *Loader
	loaderErr  error
)

// testLoader shares one Loader (building the CEL environment is slow).
func testLoader(t testing.TB) *Loader {
	t.Helper()
	loaderOnce.Do(func() { loader, loaderErr = NewLoader() })
	if loaderErr != nil {
		t.Fatal(loaderErr)
	}
	return loader
}

func builtinRules(t testing.TB) *RuleSet {
	t.Helper()
	rs, err := testLoader(t).Load(Builtin())
	if err != nil {
		t.Fatalf("built-in rules: %v", err)
	}
	return rs
}

// parseOne compiles a single rule from YAML.
func parseOne(t testing.TB, src string) *RuleSet {
	t.Helper()
	rules, err := testLoader(t).Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &RuleSet{rules: rules}
}

// run feeds events through a fresh detector and returns the firings.
func run(rs *RuleSet, events []simguard.Event) []Firing {
	d := NewDetector(rs, DetectorOptions{}, nil)
	var out []Firing
	for i := range events {
		out = d.Process(&events[i], out)
	}
	return out
}

func firingsOf(fs []Firing, rule string) []Firing {
	var out []Firing
	for _, f := range fs {
		if f.Rule.Name == rule {
			out = append(out, f)
		}
	}
	return out
}
