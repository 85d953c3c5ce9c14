package policy

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkTmpFind(b *testing.B) {
	s := fleet1M()
	rng := rand.New(rand.NewPCG(5, 6))
	known := make([]uint64, 1<<16)
	unknown := make([]uint64, 1<<16)
	for i := range known {
		known[i], _ = parseIMSI(benchSIM(1 + rng.IntN(benchN)).IMSI)
		unknown[i] = known[i] + 1_000_000_000_0
	}
	for _, c := range []struct {
		name string
		keys []uint64
	}{{"known", known}, {"unknown", unknown}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			cpuPerOp(b, func() {
				for i := 0; b.Loop(); i++ {
					if s.findIMSI(c.keys[i&(len(c.keys)-1)]) != nil {
						n++
					}
				}
			})
		})
	}
	// probe length histogram for unknown keys
	var hist [8]int
	for _, k := range unknown {
		h := hashIMSI(k)
		sh := s.prim[shardOf(h)]
		recs := sh.recs
		n := 0
		for i := home(h, len(recs)); recs[i].id != 0; i = (i + 1) % len(recs) {
			n++
		}
		b := 0
		for x := n; x > 0; x >>= 1 {
			b++
		}
		if b > 7 {
			b = 7
		}
		hist[b]++
	}
	b.Logf("unknown probe lengths (log2 buckets 0,1,2-3,4-7,8-15,16-31,32-63,64+): %v", hist)
}
