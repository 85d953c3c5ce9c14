// Command detect measures the detection engine: events per second through
// 50 rules over a million distinct keys on one core, the memory the rule
// state takes, and the time to detect injected attacks while the live
// engine runs at a given event rate. See RESULTS.md.
//
//	go run ./bench/detect -mode detector -events 5000000
//	go run ./bench/detect -mode engine -rate 200000 -seconds 20
//	go run ./bench/detect -mode engine -rate 200000 -seconds 20 -warm 3000000
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
)

// startProfile starts the CPU profile, if one was asked for.
var startProfile = func() {}

func main() {
	mode := flag.String("mode", "both", "detector (one goroutine, as fast as it goes), engine (live engine at -rate), or both")
	events := flag.Int("events", 5_000_000, "events for the detector run")
	keys := flag.Int("keys", 1_000_000, "distinct SIMs (keys)")
	rules := flag.Int("rules", 50, "rules (the built-in ones plus generated ones)")
	rate := flag.Int("rate", 200_000, "events per second offered to the live engine")
	seconds := flag.Int("seconds", 20, "length of the engine run")
	attackEvery := flag.Int("attack-every", 2000, "engine run: start a 5-request brute force every N events")
	shards := flag.Int("shards", 0, "engine run: detectors in parallel (0: GOMAXPROCS)")
	queue := flag.Int("queue", 0, "engine run: events the engine's queue holds (0: its default)")
	warm := flag.Int("warm", 0, "engine run: events fed (untimed, as fast as the engine takes them) before the timed run, e.g. 3000000 to hold state for the million keys")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed part of the first run to this file")
	flag.Parse()
	// The profile starts with the timed part of each run (after the
	// engine's warm-up).
	profiling := false
	startProfile = func() {
		if *cpuProfile == "" || profiling {
			return
		}
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		profiling = true
	}
	defer pprof.StopCPUProfile()

	rs, err := benchRules(*rules)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("rules %d, keys %d, GOMAXPROCS %d, %s\n", len(rs.Rules()), *keys, runtime.GOMAXPROCS(0), runtime.Version())
	if *mode == "detector" || *mode == "both" {
		r := runDetector(rs, *keys, *events)
		fmt.Printf("detector: %d events in %s wall, %s CPU (GC included): %.0f events/s wall, %.0f events per CPU-second; %d keys; rule state %d MiB (heap %d MiB); %d firings\n",
			r.events, r.elapsed.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.rate, r.cpuRate, r.keys, r.stateBytes>>20, r.heapBytes>>20, r.firings)
	}
	if *mode == "engine" || *mode == "both" {
		r, err := runEngine(rs, *keys, *rate, time.Duration(*seconds)*time.Second, *attackEvery, detect.Config{Shards: *shards, QueueSize: *queue}, *warm)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		fmt.Printf("engine: CPU used %s over %ds (generator included): %.0f processed events per CPU-second\n",
			r.cpu.Round(time.Millisecond), *seconds+2, r.processed/r.cpu.Seconds())
		fmt.Printf("engine: offered %d events at %.0f/s, processed %.0f, dropped %.0f; %d attacks, %d detected\n",
			r.offered, r.offeredRate, r.processed, r.dropped, r.attacks, r.detected)
		fmt.Printf("engine: time to detect p50 %s p99 %s max %s; alert delay p50 %s p99 %s over %d alerts; heap %d MiB\n",
			r.ttd50, r.ttd99, r.ttdMax, r.delay50, r.delay99, r.alerts, r.heapBytes>>20)
	}
}

type detectorResult struct {
	events, keys, firings int
	elapsed, cpu          time.Duration
	rate, cpuRate         float64
	stateBytes, heapBytes uint64
}

// runDetector times the pure detection path on one goroutine: every event
// meets every rule of its type, conditions run, keys are counted.
func runDetector(rs *detect.RuleSet, keys, n int) detectorResult {
	w := newWorkload(keys, 1)
	// The input is made first so that only detection is timed.
	chunk := make([]simguard.Event, min(n, 2_000_000))
	for i := range chunk {
		w.next(&chunk[i], time.Time{})
	}
	base := heapInUse()
	d := detect.NewDetector(rs, detect.DetectorOptions{}, nil)
	startProfile()
	start := time.Unix(1_800_000_000, 0)
	var out []detect.Firing
	firings := 0
	var ev simguard.Event // reused: the loop itself must not allocate
	t0, c0 := time.Now(), cpuTime()
	for i := 0; i < n; i++ {
		ev = chunk[i%len(chunk)]
		ev.Time = start.Add(time.Duration(i) * 5 * time.Microsecond) // 200,000 events/s of event time
		out = d.Process(&ev, out[:0])
		firings += len(out)
	}
	el, cpu := time.Since(t0), cpuTime()-c0
	heap := heapInUse()
	r := detectorResult{events: n, keys: d.Keys(), firings: firings, elapsed: el, cpu: cpu,
		rate: float64(n) / el.Seconds(), cpuRate: float64(n) / cpu.Seconds(), heapBytes: heap}
	if heap > base {
		r.stateBytes = heap - base
	}
	runtime.KeepAlive(chunk)
	return r
}

// cpuTime is the CPU this process used, user and system, on all threads:
// a figure per core that other load on the machine does not distort.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type engineResult struct {
	offered, attacks, detected, alerts int
	cpu                                time.Duration
	offeredRate                        float64
	processed, dropped                 float64
	ttd50, ttd99, ttdMax               time.Duration
	delay50, delay99                   time.Duration
	heapBytes                          uint64
}

// warmUp feeds n events to the engine as fast as it takes them (waiting
// for it to catch up instead of overflowing its queue), so that the timed
// run starts with the keys' state in place, as in a system that has run
// for a while.
func warmUp(e *detect.Engine, reg *prometheus.Registry, w *workload, n int) error {
	const chunk = 10_000
	evs := make([]simguard.Event, chunk)
	for sent := 0; sent < n; sent += chunk {
		now := time.Now()
		for i := range evs {
			w.next(&evs[i], now)
		}
		e.EmitBatch(evs)
		deadline := time.Now().Add(time.Minute)
		for counter(reg, "simguard_detect_events_total")+counter(reg, "simguard_detect_events_dropped_total") < float64(sent+chunk) {
			if time.Now().After(deadline) {
				return fmt.Errorf("warm-up: the engine took no events for a minute")
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

// runEngine offers events to the live engine at rate with wall-clock
// times, injects brute-force attacks on SIMs outside the normal key range
// and measures alert time minus the time of each attack's first request.
func runEngine(rs *detect.RuleSet, keys, rate int, length time.Duration, attackEvery int, cfg detect.Config, warm int) (engineResult, error) {
	store := &benchStore{}
	reg := prometheus.NewRegistry()
	cfg.SuspensionsPerHour = -1
	e, err := detect.New(cfg, detect.Deps{
		Rules: rs, Alerts: store, Responder: noopResponder{}, Registerer: reg,
	})
	if err != nil {
		return engineResult{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	w := newWorkload(keys, 2)
	var r engineResult
	var ev simguard.Event
	if warm > 0 {
		t0 := time.Now()
		if err := warmUp(e, reg, w, warm); err != nil {
			cancel()
			return r, err
		}
		store.reset()
		fmt.Printf("engine: warmed up with %d events in %s\n", warm, time.Since(t0).Round(time.Millisecond))
	}
	processed0 := counter(reg, "simguard_detect_events_total")
	dropped0 := counter(reg, "simguard_detect_events_dropped_total")
	cpu0 := cpuTime()
	startProfile()
	var attackEvs []simguard.Event
	attackSIM := int64(keys)
	const batch = 200 // events per pacing step: 1 ms at 200,000/s
	start := time.Now()
	for time.Since(start) < length {
		due := start.Add(time.Duration(float64(r.offered+batch) / float64(rate) * float64(time.Second)))
		now := time.Now()
		for i := 0; i < batch; i++ {
			if r.offered%attackEvery == 0 {
				attackSIM++
				r.attacks++
				attackEvs = append(attackEvs, attack(attackSIM, 5)...)
			}
			// One attack request every 200 events (about 1 ms apart):
			// each attack spans about 4 ms, like a fast guessing device.
			if len(attackEvs) > 0 && i%200 == 0 {
				a := attackEvs[0]
				attackEvs = attackEvs[1:]
				a.Time = now
				e.Emit(a)
			}
			w.next(&ev, now)
			e.Emit(ev)
			r.offered++
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
	}
	r.offeredRate = float64(r.offered) / time.Since(start).Seconds()
	time.Sleep(2 * time.Second) // let the queue drain and the last alerts be written
	r.cpu = cpuTime() - cpu0
	r.processed = counter(reg, "simguard_detect_events_total") - processed0
	r.dropped = counter(reg, "simguard_detect_events_dropped_total") - dropped0
	r.heapBytes = heapInUse() // the engine's state is still live here
	cancel()
	if err := <-done; err != nil {
		return r, err
	}
	var ttd, delay []time.Duration
	for _, a := range store.created {
		delay = append(delay, a.delay)
		if a.rule == "radius-bruteforce-sim" && a.sim > int64(keys) {
			r.detected++
			ttd = append(ttd, a.ttd)
		}
	}
	r.alerts = len(store.created)
	r.ttd50, r.ttd99, r.ttdMax = pct(ttd, 50), pct(ttd, 99), pct(ttd, 100)
	r.delay50, r.delay99 = pct(delay, 50), pct(delay, 99)
	return r, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return d[max(0, min(i, len(d))-1)]
}

func counter(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// benchStore keeps only what the benchmark measures of each new alert.
type benchStore struct {
	mu      sync.Mutex
	created []createdAlert
	nextID  int64
}

type createdAlert struct {
	rule       string
	sim        int64
	ttd, delay time.Duration
}

// reset forgets the alerts created so far (those of the warm-up).
func (s *benchStore) reset() {
	s.mu.Lock()
	s.created = nil
	s.mu.Unlock()
}

func (s *benchStore) CreateAlert(_ context.Context, a simguard.Alert) (simguard.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	a.ID = s.nextID
	s.created = append(s.created, createdAlert{rule: a.Rule, sim: a.SIMID,
		ttd: a.CreatedAt.Sub(a.FirstEventAt), delay: a.CreatedAt.Sub(a.LastSeenAt)})
	return a, nil
}

func (s *benchStore) AddAlertFiring(_ context.Context, id int64, f simguard.AlertFiring) (simguard.Alert, error) {
	return simguard.Alert{ID: id}, nil
}
func (s *benchStore) AddAlertActions(context.Context, int64, []simguard.AlertAction) error {
	return nil
}
func (s *benchStore) GetAlert(context.Context, int64, int64) (simguard.Alert, error) {
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "not kept")
}
func (s *benchStore) ListAlerts(context.Context, simguard.AlertFilter) ([]simguard.Alert, error) {
	return nil, nil
}
func (s *benchStore) SetAlertState(context.Context, int64, int64, simguard.AlertState, string, simguard.Change) (simguard.Alert, error) {
	return simguard.Alert{}, simguard.Errorf(simguard.ENOTFOUND, "not kept")
}

type noopResponder struct{}

func (noopResponder) SuspendSIM(context.Context, int64, simguard.Actor, string) error { return nil }
func (noopResponder) MoveSIMToGroup(context.Context, int64, string, simguard.Actor) error {
	return nil
}
func (noopResponder) BlockDestination(context.Context, int64, string, netip.Prefix, simguard.Actor) error {
	return nil
}
