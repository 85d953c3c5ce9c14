package main

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
)

// BenchmarkDetector is one event through 50 rules over a million SIMs on
// one goroutine, in batches as the engine hands them to a detector;
// events/s is 1e9 / ns/op.
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
	// Warm the state up to a million keys, as in a running system.
	for i := range chunk {
		chunk[i].Time = start.Add(time.Duration(i) * 5 * time.Microsecond)
	}
	fired := func(int, []detect.Firing) {}
	d.ProcessAll(chunk, fired)
	// Batches as the engine makes them, copied from the chunk with later
	// times.
	batch := make([]simguard.Event, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i += len(batch) {
		n := min(len(batch), b.N-i)
		for j := range batch[:n] {
			batch[j] = chunk[(i+j)%len(chunk)]
			batch[j].Time = start.Add(time.Duration(len(chunk)+i+j) * 5 * time.Microsecond)
		}
		d.ProcessAll(batch[:n], fired)
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
