package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func replayFile(t *testing.T, rs *RuleSet, opts ReplayOptions) *ReplayReport {
	t.Helper()
	f, err := os.Open("testdata/replay/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Replay(context.Background(), rs, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReplayGolden(t *testing.T) {
	rs := builtinRules(t)
	rep := replayFile(t, rs, ReplayOptions{})
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "replay/report.golden", text.Bytes())
	golden(t, "replay/report.jsonl.golden", js.Bytes())

	// Deterministic: a second run, with fresh state and a new hash seed,
	// writes the same bytes.
	again := replayFile(t, rs, ReplayOptions{})
	var text2 bytes.Buffer
	_ = again.WriteText(&text2)
	if !bytes.Equal(text.Bytes(), text2.Bytes()) {
		t.Error("two replays of the same events differ")
	}
	for _, a := range rep.Alerts {
		for _, ac := range a.Actions {
			if ac.Result == simguard.ActionDone {
				t.Errorf("replay ran an action: %+v", ac)
			}
		}
	}
}

func TestReplayCap(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: high\nevents: [radius.access]\ngroup_by: [sim]\ntrigger: {kind: each}\nactions: [{type: suspend_sim}]\n")
	rep := replayFile(t, rs, ReplayOptions{SuspensionsPerHour: 1})
	if len(rep.Alerts) != 2 || rep.Alerts[0].Actions[0].Result != simguard.ActionNotRun || rep.Alerts[1].Actions[0].Result != simguard.ActionCapped {
		t.Errorf("alerts %+v", rep.Alerts)
	}
}

func TestReplayInput(t *testing.T) {
	rs := parseOne(t, validRule)
	good := `{"time":"2026-03-01T12:00:00Z","tenant_id":1,"type":"radius.access"}`
	cases := []struct {
		name    string
		input   string
		opts    ReplayOptions
		wantErr string
		events  int
		invalid int
	}{
		{"blank lines", "\n" + good + "\n\n" + good, ReplayOptions{}, "", 2, 0},
		{"not json", good + "\nnot json\n", ReplayOptions{}, "line 2: not a JSON event: invalid character 'o' in literal null (expecting 'u')", 0, 0},
		{"no type", `{"time":"2026-03-01T12:00:00Z"}`, ReplayOptions{}, "line 1: the event has no type", 0, 0},
		{"no time", `{"type":"a.b"}`, ReplayOptions{}, "line 1: the event has no time", 0, 0},
		{"wrong field type", `{"type":"a.b","time":"2026-03-01T12:00:00Z","sim_id":"x"}`, ReplayOptions{}, "line 1: not a JSON event: json: cannot unmarshal string", 0, 0},
		{"skip invalid", good + "\n{\n" + good, ReplayOptions{SkipInvalid: true}, "", 2, 1},
		{"line too long", good + "\n" + strings.Repeat("x", 200), ReplayOptions{MaxLine: 100}, "line 2: longer than 100 bytes", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Replay(context.Background(), rs, strings.NewReader(c.input), c.opts)
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events != c.events || rep.InvalidCount != c.invalid || len(rep.Alerts) != 1 || rep.Alerts[0].Count != int64(c.events) {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

func TestReplayCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	line := `{"time":"2026-03-01T12:00:00Z","type":"a.b"}` + "\n"
	_, err := Replay(ctx, parseOne(t, validRule), strings.NewReader(strings.Repeat(line, 2000)), ReplayOptions{})
	if err != context.Canceled {
		t.Errorf("err %v", err)
	}
}

func FuzzReplay(f *testing.F) {
	data, err := os.ReadFile("testdata/replay/events.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"time":"0001-01-01T00:00:00Z","type":"flow.denied","attrs":{"dst":""}}`))
	f.Add([]byte(`{"time":"9999-12-31T23:59:59Z","type":"radius.accounting","sim_id":1,"attrs":{"session":"s","in_bytes":"99999999999999999999"}}`))
	rs := builtinRules(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Replay(context.Background(), rs, bytes.NewReader(in), ReplayOptions{SkipInvalid: true})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := rep.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				t.Fatalf("invalid JSON output %q", line)
			}
		}
	})
}
