package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// Detectors that split the keys between them, each seeing every event,
// fire exactly what one detector fires: each key has one owner, which
// sees the key's events in order.
func TestShardsFireAsOne(t *testing.T) {
	rs := builtinRules(t)
	evs := mixedEvents(20000)
	want := describe(run(rs, evs))
	if len(want) < 100 {
		t.Fatalf("only %d firings: the events do not exercise the rules", len(want))
	}
	for _, n := range []int{2, 3, 7} {
		var got []string
		owned := 0
		for i := 0; i < n; i++ {
			d := NewDetector(rs, DetectorOptions{Shards: n, Shard: i}, nil)
			var out []Firing
			for j := range evs {
				out = d.Process(&evs[j], out)
			}
			if len(out) > 0 {
				owned++
			}
			got = append(got, describe(out)...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d shards: %d firings, one detector %d", n, len(got), len(want))
		}
		if owned < 2 {
			t.Errorf("%d shards: only %d of them fired: keys are not spread", n, owned)
		}
	}
}

func describe(fs []Firing) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s %s %d %d %s %d", f.Rule.Name, f.Key, f.At.UnixNano(), f.FirstAt.UnixNano(), f.Detail, len(f.Events))
	}
	slices.Sort(out)
	return out
}

// mixedEvents are n events over a few SIMs, devices, NASes and
// destinations, of every type the built-in rules read, 20 ms apart.
func mixedEvents(n int) []simguard.Event {
	r := rand.New(rand.NewPCG(1, 2))
	reasons := []simguard.Reason{simguard.ReasonIMEIMismatch, simguard.ReasonLocationDenied, simguard.ReasonOutsideWindow,
		simguard.ReasonAllowed, simguard.ReasonSMSBinaryDenied}
	out := make([]simguard.Event, n)
	for i := range out {
		sim := int64(r.IntN(40) + 1)
		at := time.Duration(i) * 20 * time.Millisecond
		src := fmt.Sprintf("10.0.0.%d", sim%4) // few sources: flow rules count per source
		reason := reasons[r.IntN(len(reasons))]
		decision := "deny"
		if reason == simguard.ReasonAllowed {
			decision = "allow"
		}
		dst := fmt.Sprintf("198.51.100.%d", r.IntN(200))
		switch r.IntN(8) {
		case 0, 1:
			out[i] = evt("radius.access", sim, at, decision, reason, "imei", fmt.Sprintf("3520990017614%d", r.IntN(10)),
				"imsi", "262011234567890", "plmn", []string{"262-01", "310-260"}[r.IntN(2)], "nas", fmt.Sprintf("192.0.2.%d", r.IntN(3)))
		case 2:
			out[i] = evt("flow.denied", sim, at, "deny", "", "dst", dst, "port", []string{"23", "22", "443"}[r.IntN(3)], "group", "meters", "src", src, "direction", "egress")
		case 3:
			out[i] = evt("flow.allowed", sim, at, "allow", "", "dst", dst, "port", "443", "group", fmt.Sprintf("g%d", r.IntN(3)), "src", src, "direction", "egress")
		case 4:
			out[i] = evt([]string{"sms.mo", "sms.mt"}[r.IntN(2)], sim, at, decision, reason, "peer", "4912345", "binary", "true")
		case 5:
			out[i] = evt("radius.accounting", sim, at, "", "", "session", fmt.Sprint(sim), "in_bytes", fmt.Sprint(i*r.IntN(5000)))
		case 6:
			out[i] = evt("imei.learned", sim, at, "", "", "imei", fmt.Sprintf("3520990017614%d", r.IntN(3)),
				"previous_imei", fmt.Sprintf("3520990017614%d", r.IntN(3)))
		default:
			out[i] = evt("radius.unknown_client", 0, at, "", "", "src", fmt.Sprintf("192.0.2.%d", r.IntN(5)))
		}
	}
	return out
}

// TestProcessAllFiresAsProcess: fetching ahead changes nothing about what
// fires, nor for which event, whatever the batch size and the shard.
func TestProcessAllFiresAsProcess(t *testing.T) {
	rs := builtinRules(t)
	evs := mixedEvents(20000)
	for _, shards := range []int{1, 3} {
		for _, batch := range []int{1, 5, 1000, len(evs)} {
			for shard := 0; shard < shards; shard++ {
				opts := DetectorOptions{Shards: shards, Shard: shard}
				one := NewDetector(rs, opts, nil)
				var want []string
				for i := range evs {
					for _, f := range one.Process(&evs[i], nil) {
						want = append(want, fmt.Sprintf("%d %v", i, describe([]Firing{f})))
					}
				}
				all := NewDetector(rs, opts, nil)
				var got []string
				for from := 0; from < len(evs); from += batch {
					to := min(from+batch, len(evs))
					all.ProcessAll(evs[from:to], func(i int, fs []Firing) {
						for _, f := range fs {
							got = append(got, fmt.Sprintf("%d %v", from+i, describe([]Firing{f})))
						}
					})
				}
				if shards == 1 && len(want) < 100 {
					t.Fatalf("only %d firings: the events do not exercise the rules", len(want))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%d shards, shard %d, batches of %d: %d firings, Process %d", shards, shard, batch, len(got), len(want))
				}
				if all.Keys() != one.Keys() {
					t.Errorf("%d shards, shard %d, batches of %d: %d keys, Process %d", shards, shard, batch, all.Keys(), one.Keys())
				}
			}
		}
	}
}
