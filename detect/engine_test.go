package detect

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/simguard/simguard"
)

type harness struct {
	e      *Engine
	store  *memAlerts
	resp   *fakeResponder
	note   *fakeNotifier
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error

	mu  sync.Mutex
	now time.Time
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func startEngine(t *testing.T, rs *RuleSet, cfg Config, store *memAlerts) *harness {
	t.Helper()
	if store == nil {
		store = &memAlerts{}
	}
	h := &harness{store: store, resp: &fakeResponder{}, note: &fakeNotifier{}, reg: prometheus.NewRegistry(),
		now: t0.Add(5 * time.Second), done: make(chan error, 1)}
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = 10 * time.Millisecond
	}
	e, err := New(cfg, Deps{Rules: rs, Alerts: store, Responder: h.resp, Notifiers: []Notifier{h.note},
		Clock: h.clock, Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- e.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
	h.done <- nil // later stops return at once
}

func bruteForce(sim int64, n int, start time.Duration) []simguard.Event {
	return repeat(n, func(i int) simguard.Event {
		return access(sim, start+time.Duration(i)*time.Second, "deny", simguard.ReasonIMEIMismatch, "imei", "3520990017614"+itoa(i%10))
	})
}

func (h *harness) emit(evs []simguard.Event) {
	for _, e := range evs {
		h.e.Emit(e)
	}
}

func (h *harness) alerts(rule string) []simguard.Alert {
	var out []simguard.Alert
	for _, a := range h.store.snapshot() {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

func TestEngineBruteForceSuspends(t *testing.T) {
	h := startEngine(t, builtinRules(t), Config{}, nil)
	h.emit(bruteForce(42, 5, 0))
	eventually(t, "the alert and its action", func() bool {
		a := h.alerts("radius-bruteforce-sim")
		return len(a) == 1 && len(a[0].Actions) == 1
	})
	a := h.alerts("radius-bruteforce-sim")[0]
	if a.State != simguard.AlertOpen || a.Severity != simguard.SeverityHigh || a.Key != "sim=42" || a.SIMID != 42 ||
		a.TenantID != 1 || a.Count != 1 || len(a.Events) != 5 || a.DryRun {
		t.Errorf("alert %+v", a)
	}
	if !a.FirstEventAt.Equal(t0) || !a.CreatedAt.Equal(t0.Add(5*time.Second)) || !a.LastSeenAt.Equal(t0.Add(4*time.Second)) {
		t.Errorf("times first %v created %v last %v", a.FirstEventAt, a.CreatedAt, a.LastSeenAt)
	}
	if a.Summary != "Many rejected RADIUS Access-Requests for one SIM: 5 events within 1m0s" {
		t.Errorf("summary %q", a.Summary)
	}
	act := a.Actions[0]
	if act.Type != simguard.ActionSuspendSIM || act.Result != simguard.ActionDone || act.Target != "sim:42" {
		t.Errorf("action %+v", act)
	}
	calls := h.resp.list()
	if len(calls) != 1 || calls[0] != "suspend 42 by rule:radius-bruteforce-sim tenant 1: Many rejected RADIUS Access-Requests for one SIM: 5 events within 1m0s" {
		t.Errorf("responder calls %q", calls)
	}
	var n simguard.AlertNotice
	eventually(t, "the notice", func() bool {
		for _, x := range h.note.list() {
			if x.Alert.ID == a.ID {
				n = x
				return true
			}
		}
		return false
	})
	if n.Kind != simguard.NoticeOpened || len(n.Alert.Actions) != 1 {
		t.Errorf("notice %+v", n)
	}
	// Metrics.
	if v := testutil.ToFloat64(h.e.m.fires.WithLabelValues("radius-bruteforce-sim")); v != 1 {
		t.Errorf("fires %v", v)
	}
	if v := testutil.ToFloat64(h.e.m.actions.WithLabelValues("suspend_sim", "done")); v != 1 {
		t.Errorf("actions %v", v)
	}
	if v := testutil.ToFloat64(h.e.m.open.WithLabelValues("high")); v < 1 {
		t.Errorf("open high %v", v)
	}
	if c := testutil.CollectAndCount(h.e.m.ttd); c != 1 {
		t.Errorf("ttd collected %d", c)
	}
	h.stop()
	if v := testutil.ToFloat64(h.e.m.events); v != 5 {
		t.Errorf("events counted %v", v)
	}
}

func TestEngineDedupAndResolve(t *testing.T) {
	rs := parseOne(t, "name: r\ndescription: d\nseverity: medium\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\n")
	h := startEngine(t, rs, Config{MaxEventsPerAlert: 3}, nil)
	h.emit(repeat(10, func(i int) simguard.Event { return at(1, time.Duration(i)*time.Second) }))
	eventually(t, "ten firings folded into one alert", func() bool {
		a := h.alerts("r")
		return len(a) == 1 && a[0].Count == 10
	})
	a := h.alerts("r")[0]
	if len(a.Events) != 3 || !a.Events[0].Time.Equal(t0) || !a.LastSeenAt.Equal(t0.Add(9*time.Second)) {
		t.Errorf("events %d, last seen %v", len(a.Events), a.LastSeenAt)
	}

	// Acknowledged alerts still absorb.
	if _, err := h.e.Acknowledge(context.Background(), 1, a.ID, "looking", simguard.SystemActor(1, "token:1")); err != nil {
		t.Fatal(err)
	}
	h.emit([]simguard.Event{at(1, 20*time.Second)})
	eventually(t, "the firing folded into the acknowledged alert", func() bool {
		a := h.alerts("r")
		return len(a) == 1 && a[0].Count == 11
	})

	// Resolved alerts do not: a new one opens.
	if _, err := h.e.Resolve(context.Background(), 1, a.ID, "fixed", simguard.SystemActor(1, "token:1")); err != nil {
		t.Fatal(err)
	}
	h.emit([]simguard.Event{at(1, 30*time.Second)})
	eventually(t, "a new alert after resolve", func() bool { return len(h.alerts("r")) == 2 })
	if b := h.alerts("r")[1]; b.Count != 1 || b.State != simguard.AlertOpen {
		t.Errorf("new alert %+v", b)
	}
	if h.store.audit[0].Action != "alert.acknowledge" || h.store.audit[1].Action != "alert.resolve" || h.store.audit[1].Actor.Name != "token:1" {
		t.Errorf("audit %+v", h.store.audit)
	}
	kinds := []simguard.AlertNoticeKind{}
	for _, n := range h.note.list() {
		kinds = append(kinds, n.Kind)
	}
	if len(kinds) != 4 || kinds[1] != simguard.NoticeAcknowledged || kinds[2] != simguard.NoticeResolved {
		t.Errorf("notices %v", kinds)
	}
	// Going back is refused by the store, and the engine says so.
	if _, err := h.e.Acknowledge(context.Background(), 1, a.ID, "", simguard.SystemActor(1, "token:1")); simguard.ErrorCode(err) != simguard.ECONFLICT {
		t.Errorf("acknowledge resolved: %v", err)
	}
}

func TestEngineResolvedElsewhere(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\n")
	h := startEngine(t, rs, Config{FlushEvery: time.Hour}, nil)
	h.emit([]simguard.Event{at(1, 0)})
	eventually(t, "the alert", func() bool { return len(h.alerts("r")) == 1 })
	h.store.resolveBehindBack(1)
	h.emit([]simguard.Event{at(1, time.Second), at(1, 2*time.Second)})
	h.stop() // the last flush finds the alert resolved and opens a new one
	got := h.alerts("r")
	if len(got) != 2 || got[1].Count != 2 || !got[1].FirstEventAt.Equal(t0.Add(time.Second)) || len(got[1].Events) != 2 {
		t.Fatalf("alerts %+v", got)
	}
}

func TestEngineRestartFoldsIntoActiveAlert(t *testing.T) {
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\n")
	store := &memAlerts{}
	h := startEngine(t, rs, Config{}, store)
	h.emit([]simguard.Event{at(1, 0)})
	eventually(t, "the alert", func() bool { return len(h.alerts("r")) == 1 })
	h.stop()
	h2 := startEngine(t, rs, Config{}, store)
	h2.emit([]simguard.Event{at(1, time.Second)})
	eventually(t, "the firing folded in", func() bool { a := h2.alerts("r"); return len(a) == 1 && a[0].Count == 2 })
	if v := testutil.ToFloat64(h2.e.m.open.WithLabelValues("low")); v != 1 {
		t.Errorf("open gauge after restart %v", v)
	}
}

func TestEngineActions(t *testing.T) {
	const head = "severity: high\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\n"
	cases := []struct {
		name    string
		rule    string
		cfg     Config
		events  []simguard.Event
		results []string // action results of each alert, in order
		calls   []string
	}{
		{"dry run", "name: r\ndry_run: true\nactions: [{type: suspend_sim}]\n" + head,
			Config{}, []simguard.Event{at(1, 0)}, []string{"dry_run"}, nil},
		{"cap", "name: r\nactions: [{type: quarantine, group: q}]\n" + head,
			Config{SuspensionsPerHour: 2, Shards: 4}, []simguard.Event{at(1, 0), at(2, 0), at(3, 0)},
			[]string{"done", "done", "capped"}, []string{"move 1 to q by rule:r", "move 2 to q by rule:r"}},
		{"no suspensions allowed", "name: r\nactions: [{type: suspend_sim}]\n" + head,
			Config{SuspensionsPerHour: -1}, []simguard.Event{at(1, 0)}, []string{"capped"}, nil},
		{"no SIM", "name: r\nactions: [{type: suspend_sim}]\n" + head,
			Config{}, []simguard.Event{func() simguard.Event { e := at(0, 0); e.SIMID = 0; return e }()}, nil, nil},
		{"block destination", "name: r\nactions: [{type: block_destination}]\n" + head,
			Config{}, []simguard.Event{at(1, 0, "dst", "203.0.113.9", "group", "meters")},
			[]string{"done"}, []string{"block 203.0.113.9/32 for 1/meters by rule:r"}},
		{"block without group", "name: r\nactions: [{type: block_destination, attr: peer}]\n" + head,
			Config{}, []simguard.Event{at(1, 0, "peer", "2001:db8::1")}, []string{"skipped"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startEngine(t, parseOne(t, c.rule), c.cfg, nil)
			h.emit(c.events)
			want := len(c.results)
			eventually(t, "alerts with actions", func() bool {
				n := 0
				for _, a := range h.alerts("r") {
					n += len(a.Actions)
				}
				return n == want
			})
			h.stop()
			var got []string
			for _, a := range h.alerts("r") {
				for _, ac := range a.Actions {
					got = append(got, ac.Result)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.results, ",") {
				t.Errorf("results %v, want %v", got, c.results)
			}
			if strings.Join(h.resp.list(), ";") != strings.Join(c.calls, ";") {
				t.Errorf("calls %q, want %q", h.resp.list(), c.calls)
			}
		})
	}
}

// Events about no tenant (an unknown NAS) raise alerts for the provider,
// and keep folding into that alert.
func TestEngineTenantlessEventsAlertTheProvider(t *testing.T) {
	h := startEngine(t, builtinRules(t), Config{}, nil)
	ev := evt("radius.unknown_client", 0, 0, "", "", "src", "192.0.2.1")
	ev.TenantID = 0
	h.emit([]simguard.Event{ev, ev})
	eventually(t, "one alert with both firings", func() bool { a := h.alerts("unknown-nas"); return len(a) == 1 && a[0].Count == 2 })
	if a := h.alerts("unknown-nas")[0]; a.TenantID != simguard.ProviderTenantID || a.Key != "" {
		t.Errorf("alert %+v", a)
	}
}

func TestEngineActionFailureRecorded(t *testing.T) {
	h := startEngine(t, parseOne(t, "name: r\nseverity: high\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\nactions: [{type: suspend_sim}]\n"), Config{}, nil)
	h.resp.err = simguard.Errorf(simguard.ECONFLICT, "SIM is terminated")
	h.emit([]simguard.Event{at(1, 0)})
	eventually(t, "the failed action", func() bool { a := h.alerts("r"); return len(a) == 1 && len(a[0].Actions) == 1 })
	if ac := h.alerts("r")[0].Actions[0]; ac.Result != simguard.ActionFailed || ac.Error != "SIM is terminated" {
		t.Errorf("action %+v", ac)
	}
}

func TestEngineStoreDown(t *testing.T) {
	store := &memAlerts{fail: errors.New("disk full")}
	h := startEngine(t, parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ntrigger: {kind: each}\n"), Config{}, store)
	h.emit([]simguard.Event{at(1, 0)})
	eventually(t, "the store error counted", func() bool { return testutil.ToFloat64(h.e.m.storeErrs) == 1 })
}

func TestEngineStopsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: each}\n")
	store := &memAlerts{}
	h := startEngine(t, rs, Config{FlushEvery: time.Hour}, store)
	h.emit(repeat(100, func(i int) simguard.Event { return at(int64(i%3+1), time.Duration(i)*time.Millisecond) }))
	h.stop()
	total := int64(0)
	for _, a := range store.snapshot() {
		total += a.Count
	}
	if total != 100 {
		t.Errorf("after stop the alerts hold %d firings, want all 100", total)
	}
	h.e.Emit(at(1, time.Hour)) // after the stop: dropped, no panic
	if v := testutil.ToFloat64(h.e.m.dropped); v != 1 {
		t.Errorf("dropped %v", v)
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if err := h.e.Run(context.Background()); err == nil {
		t.Error("a second Run must fail")
	}
}

func TestEngineQueueFull(t *testing.T) {
	e, err := New(Config{QueueSize: 2}, Deps{Rules: builtinRules(t), Alerts: &memAlerts{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		e.Emit(at(1, 0)) // not running: the queue fills
	}
	if v := testutil.ToFloat64(e.m.dropped); v != 3 {
		t.Errorf("dropped %v, want 3", v)
	}
}

func TestEngineEmitBatch(t *testing.T) {
	e, err := New(Config{QueueSize: 3}, Deps{Rules: builtinRules(t), Alerts: &memAlerts{}})
	if err != nil {
		t.Fatal(err)
	}
	batch := []simguard.Event{at(1, 0), at(2, 0)}
	e.EmitBatch(batch)
	e.EmitBatch(batch) // one fits
	if v := testutil.ToFloat64(e.m.dropped); v != 1 {
		t.Errorf("dropped %v, want 1", v)
	}
	batch[0].SIMID = 99 // the caller may reuse its slice
	got := e.in.take()
	if len(got) != 3 || got[0].SIMID != 1 || got[2].SIMID != 1 {
		t.Errorf("queued %+v", got)
	}
}

func TestEngineReload(t *testing.T) {
	a := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 3, window: 1m}\n")
	h := startEngine(t, a, Config{}, nil)
	h.emit([]simguard.Event{at(1, 0), at(1, time.Second)})
	// Same rule, new description: the count goes on.
	b := parseOne(t, "name: r\ndescription: changed\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 3, window: 1m}\n")
	h.e.SetRules(b)
	eventually(t, "the reload", func() bool { return len(h.e.reload) == 0 })
	h.emit([]simguard.Event{at(1, 2*time.Second)})
	eventually(t, "the alert", func() bool { return len(h.alerts("r")) == 1 })
}

// TestEngineExpiresIdleKeys: the injected clock drives expiry in the live
// engine, in every shard; the keys gauge adds up the shards.
func TestEngineExpiresIdleKeys(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprint(shards, " shards"), func(t *testing.T) {
			rs := parseOne(t, "name: r\nseverity: low\nevents: [t.x]\ngroup_by: [sim]\ntrigger: {kind: sliding_window, threshold: 5, window: 1m}\n")
			h := startEngine(t, rs, Config{Shards: shards}, nil)
			h.emit(repeat(500, func(i int) simguard.Event { return at(int64(i+1), 0) }))
			eventually(t, "500 keys", func() bool { return testutil.ToFloat64(h.e.m.keys) == 500 })
			h.mu.Lock()
			h.now = t0.Add(2 * time.Minute) // the windows are empty now
			h.mu.Unlock()
			eventually(t, "the idle keys to expire", func() bool { return testutil.ToFloat64(h.e.m.keys) == 0 })
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"negative queue", Config{QueueSize: -1}, Deps{Rules: &RuleSet{}, Alerts: &memAlerts{}}, "detect.queue_size: must not be negative"},
		{"cap below -1", Config{SuspensionsPerHour: -2}, Deps{Rules: &RuleSet{}, Alerts: &memAlerts{}}, "detect.suspensions_per_hour"},
		{"no rules", Config{}, Deps{Alerts: &memAlerts{}}, "detect: no rules"},
		{"no store", Config{}, Deps{Rules: &RuleSet{}}, "detect: no alert store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, c.deps)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{}, Deps{Rules: &RuleSet{}, Alerts: &memAlerts{}, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "simguard_detect_") {
			t.Errorf("metric %s is not named simguard_detect_*", mf.GetName())
		}
	}
	if _, err := New(Config{}, Deps{Rules: &RuleSet{}, Alerts: &memAlerts{}, Registerer: reg}); err == nil {
		t.Error("registering twice must fail")
	}
}
