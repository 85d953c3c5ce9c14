package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/simguard/simguard"
)

const validRule = `name: r1
severity: low
events: [radius.access]
trigger:
  kind: each
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string // the whole error text
	}{
		{"unknown top field", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\nthreshold: 3\n",
			`test.yaml:5:1: rule "r1": threshold: unknown field "threshold"; known fields are actions, condition, description, dry_run, enabled, events, evidence, group_by, name, severity, trigger`},
		{"missing name", "severity: low\n",
			`test.yaml:1:1: the rule has no name; add name: my-rule`},
		{"bad name", "name: Bad Name\n",
			`test.yaml:1:7: name: must be 1-63 of a-z, 0-9, '-', '_', '.', starting with a letter or digit, got "Bad Name"`},
		{"bad severity", "name: r1\nseverity: urgent\n",
			`test.yaml:2:11: rule "r1": severity: must be one of info, low, medium, high, critical, got "urgent"`},
		{"missing events", "name: r1\nseverity: low\ntrigger: {kind: each}\n",
			`test.yaml:1:1: rule "r1": events is missing; list the event types the rule reads, e.g. events: [radius.access]`},
		{"bad event type", "name: r1\nseverity: low\nevents: [radius.access, 'Bad Type']\ntrigger: {kind: each}\n",
			`test.yaml:3:9: rule "r1": events[1]: must be an event type like radius.access, or a prefix ending in '.' like flow., got "Bad Type"`},
		{"cel syntax", "name: r1\nseverity: low\nevents: [a.b]\ncondition: decision ==\ntrigger: {kind: each}\n",
			"test.yaml:4:12: rule \"r1\": condition: does not compile: ERROR: <input>:1:12: Syntax error: mismatched input '<EOF>'"},
		{"cel unknown variable", "name: r1\nseverity: low\nevents: [a.b]\ncondition: verdict == 'deny'\ntrigger: {kind: each}\n",
			`test.yaml:4:12: rule "r1": condition: does not compile: ERROR: <input>:1:1: undeclared reference to 'verdict'`},
		{"cel not bool", "name: r1\nseverity: low\nevents: [a.b]\ncondition: attrs.port\ntrigger: {kind: each}\n",
			`test.yaml:4:12: rule "r1": condition: must give bool, gives string`},
		{"cel too costly", "name: r1\nseverity: low\nevents: [a.b]\ncondition: attrs.exists(k, attrs.exists(j, attrs.exists(i, k + j + i == 'x')))\ntrigger: {kind: each}\n",
			`test.yaml:4:12: rule "r1": condition: is too costly (up to 136601986 steps per event, at most 1000000 allowed); avoid nested loops over attrs`},
		{"unknown trigger kind", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: bucket\n",
			`test.yaml:5:9: rule "r1": trigger.kind: must be one of each, sliding_window, leaky_bucket, distinct, baseline, first_seen, got "bucket"`},
		{"field of another kind", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: leaky_bucket\n  capacity: 5\n  leak_speed: 1s\n  window: 1m\n",
			`test.yaml:8:11: rule "r1": trigger.window: does not apply to trigger kind leaky_bucket (it takes capacity, leak_speed)`},
		{"missing window", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: sliding_window\n  threshold: 5\n",
			`test.yaml:5:3: rule "r1": trigger: window is missing; trigger kind sliding_window needs threshold, window`},
		{"bad duration", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: sliding_window\n  threshold: 5\n  window: 5 minutes\n",
			`test.yaml:7:11: rule "r1": trigger.window: must be a duration like 30s, 5m or 24h from 1s to 168h0m0s, got "5 minutes"`},
		{"threshold not a number", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: sliding_window\n  threshold: many\n  window: 1m\n",
			`test.yaml:6:14: rule "r1": trigger.threshold: must be a whole number from 1 to 100000, got "many"`},
		{"baseline value not a number", "name: r1\nseverity: low\nevents: [a.b]\ntrigger:\n  kind: baseline\n  value: attrs.in_bytes\n",
			`test.yaml:6:10: rule "r1": trigger.value: must give int or uint or double, gives string`},
		{"group_by too long", "name: r1\nseverity: low\nevents: [a.b]\ngroup_by: [sim, imei, nas, dst]\ntrigger: {kind: each}\n",
			`test.yaml:4:11: rule "r1": group_by: at most 3 fields`},
		{"group_by twice", "name: r1\nseverity: low\nevents: [a.b]\ngroup_by: [imei, attrs.imei]\ntrigger: {kind: each}\n",
			`test.yaml:4:11: rule "r1": group_by: [1]: "attrs.imei" is listed twice`},
		{"quarantine without group", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\nactions:\n  - type: quarantine\n",
			`test.yaml:6:5: rule "r1": actions[0]: group is missing; name the quarantine group, e.g. group: quarantine`},
		{"unknown action", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\nactions:\n  - type: reboot\n",
			`test.yaml:6:11: rule "r1": actions[0].type: must be one of suspend_sim, quarantine, block_destination, got "reboot"`},
		{"action field of another type", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\nactions:\n  - type: suspend_sim\n    group: q\n",
			`test.yaml:7:12: rule "r1": actions[0].group: does not apply to a suspend_sim action`},
		{"evidence on each", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\nevidence: 3\n",
			`test.yaml:5:11: rule "r1": evidence: applies to sliding_window, leaky_bucket and distinct triggers; a each alert carries the event that fired it`},
		{"dry_run not bool", "name: r1\nseverity: low\nevents: [a.b]\ntrigger: {kind: each}\ndry_run: maybe\n",
			`test.yaml:5:10: rule "r1": dry_run: must be true or false, got "maybe"`},
		{"alias", "name: r1\nseverity: &s low\nevents: [a.b]\ntrigger: {kind: each}\n",
			`test.yaml:2:1: rule "r1": severity: YAML anchors and aliases are not supported in rule files`},
		{"not yaml", "name: [\n",
			`test.yaml: not valid YAML: line 1: did not find expected node content`},
		{"not a mapping", "- a\n- b\n",
			`test.yaml:1:1: must be a mapping (key: value lines), got a list`},
		{"field twice", "name: r1\nseverity: low\nseverity: high\n",
			`test.yaml:3:1: rule "r1": severity: field given twice`},
	}
	l := testLoader(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := l.Parse("test.yaml", []byte(c.src))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error\n got %s\nwant %s", err, c.want)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Errorf("not a *RuleError: %T", err)
			}
			if simguard.ErrorCode(err) != simguard.EINVALID {
				t.Errorf("code %q, want invalid", simguard.ErrorCode(err))
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	rs := parseOne(t, `name: vol
severity: medium
events: [radius.accounting]
group_by: [sim]
trigger:
  kind: baseline
  value: num(attrs.in_bytes)
`)
	r := rs.Rule("vol")
	want := Trigger{Kind: TriggerBaseline, Value: "num(attrs.in_bytes)", Factor: 10, Alpha: 0.1, MinSamples: 10, ForgetAfter: 7 * 24 * time.Hour}
	if r.Trigger != want || !r.Enabled || r.DryRun || r.Evidence != 1 || r.Line != 1 || r.File != "test.yaml" {
		t.Errorf("rule %+v", r)
	}
	rs = parseOne(t, "name: w\nseverity: low\nevents: [a.b]\ntrigger: {kind: sliding_window, threshold: 3, window: 10s}\n")
	if got := rs.Rule("w").Evidence; got != 3 {
		t.Errorf("evidence default %d, want the threshold 3", got)
	}
}

func TestLoadOverrideAndDuplicates(t *testing.T) {
	l := testLoader(t)
	user := fstest.MapFS{
		"a/off.yaml":  {Data: []byte("name: sim-swap\nenabled: false\nseverity: low\nevents: [imei.mismatch]\ntrigger: {kind: each}\n")},
		"b/mine.yml":  {Data: []byte(validRule + "---\n# only a comment\n---\n" + strings.Replace(validRule, "r1", "r2", 1))},
		"notes.txt":   {Data: []byte("not a rule")},
		"c/empty.yml": {Data: []byte("")},
	}
	rs, err := l.Load(Builtin(), Source{Name: "/etc/simguard/rules", FS: user})
	if err != nil {
		t.Fatal(err)
	}
	if r := rs.Rule("sim-swap"); r == nil || r.Enabled || r.File != "/etc/simguard/rules/a/off.yaml" {
		t.Errorf("override not applied: %+v", r)
	}
	if rs.Rule("r1") == nil || rs.Rule("r2") == nil || rs.Rule("radius-bruteforce-sim") == nil {
		t.Error("rules missing")
	}
	d := NewDetector(rs, DetectorOptions{}, nil)
	for _, s := range d.Stats() {
		if s.Rule == "sim-swap" {
			t.Error("a disabled rule runs")
		}
	}

	dup := fstest.MapFS{"x.yaml": {Data: []byte(validRule)}, "y.yaml": {Data: []byte("\n" + validRule)}}
	_, err = l.Load(Source{Name: "rules", FS: dup})
	if err == nil || err.Error() != `rules/y.yaml:2: rule "r1": name: already defined at rules/x.yaml:1; rule names must be unique` {
		t.Errorf("duplicate: %v", err)
	}

	bad := fstest.MapFS{
		"1.yaml": {Data: []byte("name: a\n")},
		"2.yaml": {Data: []byte("name: b\nseverity: x\n")},
	}
	_, err = l.Load(Source{Name: "rules", FS: bad})
	if err == nil || !strings.Contains(err.Error(), "rules/1.yaml:1:1: rule \"a\": severity is missing") ||
		!strings.Contains(err.Error(), "rules/2.yaml:2:11: rule \"b\": severity: must be one of") {
		t.Errorf("every file's error must be reported: %v", err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(validRule), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := testLoader(t).Load(Dir(dir))
	if err != nil || rs.Rule("r1") == nil {
		t.Fatalf("%v %v", rs, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), make([]byte, maxRuleFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := testLoader(t).Load(Dir(dir)); err == nil || !strings.Contains(err.Error(), "big.yaml: larger than") {
		t.Errorf("big file: %v", err)
	}
	if _, err := testLoader(t).Load(Dir(filepath.Join(dir, "missing"))); err == nil {
		t.Error("a missing directory must be an error")
	}
}
