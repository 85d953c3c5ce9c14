package main

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
)

// BenchmarkDetector is one event through 50 rules over a million SIMs on
// one goroutine; events/s is 1e9 / ns/op.
func BenchmarkDetector(b *testing.B) {
	rs, err := benchRules(50)
	if err != nil {
		b.Fatal(err)
	}
	w := newWorkload(1_000_000, 1)
	chunk := make([]simguard.Event, 1<<20)
	for i := range chunk {
		w.next(&chunk[i], time.Time{})
	}
	d := detect.NewDetector(rs, detect.DetectorOptions{}, nil)
	start := time.Unix(1_800_000_000, 0)
	var out []detect.Firing
	var ev simguard.Event // one copy, reused: the loop itself must not allocate
	// Warm the state up to a million keys, as in a running system.
	for i := range chunk {
		ev = chunk[i]
		ev.Time = start.Add(time.Duration(i) * 5 * time.Microsecond)
		out = d.Process(&ev, out[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		ev = chunk[i%len(chunk)]
		ev.Time = start.Add(time.Duration(len(chunk)+i) * 5 * time.Microsecond)
		out = d.Process(&ev, out[:0])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// Per CPU-second of the whole process (GC included): what one core
	// does, whatever else the machine is running.
	b.ReportMetric(float64(b.N)/(cpuTime()-c0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(d.Keys()), "keys")
}

// TestRulesLoad keeps the benchmark's rule set valid.
func TestRulesLoad(t *testing.T) {
	rs, err := benchRules(50)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rs.Rules()); n != 50 {
		t.Fatalf("%d rules", n)
	}
}
