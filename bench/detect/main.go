// Command detect measures the detection engine: events per second through
// 50 rules over a million distinct keys on one core, the memory the rule
// state takes, and the time to detect injected attacks while the live
// engine runs at a given event rate. See RESULTS.md.
//
//	go run ./bench/detect -mode detector -events 5000000
//	go run ./bench/detect -mode detector -warm 25000000 -events 5000000
//	go run ./bench/detect -mode engine -rate 200000 -seconds 20
//	go run ./bench/detect -mode engine -rate 200000 -seconds 60 -warm 3000000
//	go run ./bench/detect -mode detector -warm 12000000 -events 4000000 -compare
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
	warm := flag.Int("warm", 0, "events fed untimed before the timed run (engine: as fast as it takes them), e.g. 3000000 to hold state for the million keys")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed part of the first run to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile (what the garbage collector traces) at the end to this file")
	compare := flag.Bool("compare", false, "detector run: alternate slices of 20,000 events between ProcessAll and Process (one event at a time) and print how long a slice takes with each; on a noisy machine this compares the two under the same conditions")
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
	heapProfile = func() {
		if *memProfile == "" {
			return
		}
		if err := writeHeapProfile(*memProfile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		*memProfile = "" // the first run's only
	}

	rs, err := benchRules(*rules)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("rules %d, keys %d, GOMAXPROCS %d, %s\n", len(rs.Rules()), *keys, runtime.GOMAXPROCS(0), runtime.Version())
	if *mode == "detector" || *mode == "both" {
		r := runDetector(rs, *keys, *events, *warm, *compare)
		fmt.Printf("detector: %d events (after %d untimed) in %s wall, %s CPU (GC included): %.0f events/s wall, %.0f events per CPU-second; %d keys; rule state %d MiB (heap %d MiB); %d firings\n",
			r.events, *warm, r.elapsed.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.rate, r.cpuRate, r.keys, r.stateBytes>>20, r.heapBytes>>20, r.firings)
		if *compare && len(r.slices[0]) > 0 && len(r.slices[1]) > 0 {
			all, one := median(r.slices[0]), median(r.slices[1])
			fmt.Printf("detector: a slice of 20,000 events takes %s with ProcessAll and %s with Process (medians of %d and %d slices): ProcessAll is %.2f× as fast\n",
				all.Round(time.Microsecond), one.Round(time.Microsecond), len(r.slices[0]), len(r.slices[1]), one.Seconds()/all.Seconds())
		}
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

// heapProfile writes a heap profile to the -memprofile file, if one was
// asked for, while the state it shows is live.
var heapProfile = func() {}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type detectorResult struct {
	events, keys, firings int
	elapsed, cpu          time.Duration
	rate, cpuRate         float64
	stateBytes, heapBytes uint64
	// slices are the times of the timed slices of 20,000 events, with
	// ProcessAll ([0]) and, with -compare, with Process ([1]).
	slices [2][]time.Duration
}

// runDetector times the pure detection path on one goroutine: every event
// meets every rule of its type, conditions run, keys are counted. Events
// are fresh (made a million at a time, untimed), 5 µs apart in event time,
// and idle state expires a slice at a time, as in the engine; the first
// warm events are not timed, so that the timed ones meet the state of a
// system that has run for a while.
func runDetector(rs *detect.RuleSet, keys, n, warm int, compare bool) detectorResult {
	w := newWorkload(keys, 1)
	chunk := make([]simguard.Event, min(warm+n, 1_000_000))
	base := heapInUse()
	d := detect.NewDetector(rs, detect.DetectorOptions{}, nil)
	start := time.Unix(1_800_000_000, 0)
	var r detectorResult
	var out []detect.Firing
	for done := 0; done < warm+n; {
		m := min(len(chunk), warm+n-done)
		if done < warm {
			m = min(m, warm-done) // the timed part starts with a chunk of its own
		}
		for i := range chunk[:m] {
			w.next(&chunk[i], start.Add(time.Duration(done+i)*5*time.Microsecond)) // 200,000 events/s of event time
		}
		timed := done >= warm
		if timed {
			startProfile()
		}
		t0, c0 := time.Now(), cpuTime()
		for i := 0; i < m; {
			// Slices of 20,000 events; every 200,000 (a second of event
			// time) a slice of the expiry sweep, about a pass a minute
			// over the keys.
			if (done+i)%200_000 == 0 {
				d.ExpireSome(chunk[i].Time, keys/60+1000)
			}
			j := min(i+20_000, m)
			t := time.Now()
			// With -compare, every other slice goes one event at a time.
			one := compare && (done+i)/20_000%2 == 1
			if one {
				for k := i; k < j; k++ {
					out = d.Process(&chunk[k], out[:0])
					if timed {
						r.firings += len(out)
					}
				}
			} else {
				d.ProcessAll(chunk[i:j], func(_ int, fs []detect.Firing) {
					if timed {
						r.firings += len(fs)
					}
				})
			}
			if timed && j-i == 20_000 {
				r.slices[b2i(one)] = append(r.slices[b2i(one)], time.Since(t))
			}
			i = j
		}
		if timed {
			r.elapsed += time.Since(t0)
			r.cpu += cpuTime() - c0
			r.events += m
		}
		done += m
	}
	heap := heapInUse()
	heapProfile()
	r.keys = d.Keys()
	r.rate, r.cpuRate, r.heapBytes = float64(r.events)/r.elapsed.Seconds(), float64(r.events)/r.cpu.Seconds(), heap
	if heap > base {
		r.stateBytes = heap - base
	}
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
		for metric(reg, "simguard_detect_events_total")+metric(reg, "simguard_detect_events_dropped_total") < float64(sent+chunk) {
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
	processed0 := metric(reg, "simguard_detect_events_total")
	dropped0 := metric(reg, "simguard_detect_events_dropped_total")
	cpu0 := cpuTime()
	startProfile()
	var attackEvs []simguard.Event
	attackSIM := int64(keys)
	const batch = 200 // events per pacing step: 1 ms at 200,000/s
	start := time.Now()
	// Every 10 s, what the last 10 s looked like: a run that falls
	// behind shows when.
	nextReport, lastProcessed, lastDropped, lastAlerts := start.Add(10*time.Second), processed0, dropped0, 0
	for time.Since(start) < length {
		if now := time.Now(); now.After(nextReport) {
			p, d := metric(reg, "simguard_detect_events_total"), metric(reg, "simguard_detect_events_dropped_total")
			worst, n := store.worstDelaySince(lastAlerts)
			fmt.Printf("engine: %3.0fs: processed %.0f/s, dropped %.0f, %d alerts (worst alert delay %s), %.0f states\n",
				now.Sub(start).Seconds(), (p-lastProcessed)/10, d-lastDropped, n-lastAlerts, worst.Round(time.Millisecond),
				metric(reg, "simguard_detect_state_keys"))
			nextReport, lastProcessed, lastDropped, lastAlerts = nextReport.Add(10*time.Second), p, d, n
		}
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
	// An attack the run ended in the middle of was not made: it is not
	// counted, whether its first requests fired or not.
	cut := int64(-1)
	if len(attackEvs) > 0 {
		cut = attackSIM
		r.attacks--
	}
	time.Sleep(2 * time.Second) // let the queue drain and the last alerts be written
	r.cpu = cpuTime() - cpu0
	r.processed = metric(reg, "simguard_detect_events_total") - processed0
	r.dropped = metric(reg, "simguard_detect_events_dropped_total") - dropped0
	r.heapBytes = heapInUse() // the engine's state is still live here
	heapProfile()
	cancel()
	if err := <-done; err != nil {
		return r, err
	}
	var ttd, delay []time.Duration
	for _, a := range store.created {
		delay = append(delay, a.delay)
		if a.rule == "radius-bruteforce-sim" && a.sim > int64(keys) && a.sim != cut {
			r.detected++
			ttd = append(ttd, a.ttd)
		}
	}
	r.alerts = len(store.created)
	r.ttd50, r.ttd99, r.ttdMax = pct(ttd, 50), pct(ttd, 99), pct(ttd, 100)
	r.delay50, r.delay99 = pct(delay, 50), pct(delay, 99)
	return r, nil
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return d[max(0, min(i, len(d))-1)]
}

// metric returns the value of the first series of a counter or gauge.
func metric(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			m := mf.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
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

// worstDelaySince returns the longest alert delay of the alerts created
// from the from'th on, and how many have been created.
func (s *benchStore) worstDelaySince(from int) (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var worst time.Duration
	for _, a := range s.created[min(from, len(s.created)):] {
		worst = max(worst, a.delay)
	}
	return worst, len(s.created)
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
