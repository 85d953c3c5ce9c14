package detect

import (
	"math/rand/v2"
	"testing"
)

// The SIM index answers like a Go map through inserts, updates and
// deletions (which shift entries back), across growth.
func TestSimIndexLikeAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	x := newSimIndex(0)
	want := map[simKey]int32{}
	for op := 0; op < 300_000; op++ {
		// Few tenants and a narrow SIM range: long probe runs and
		// many deletions inside them.
		k := simKey{tenant: int64(r.IntN(3)), sim: int64(r.IntN(20_000))}
		switch r.IntN(3) {
		case 0, 1:
			v := int32(r.IntN(1 << 30))
			x.put(k, v)
			want[k] = v
		default:
			x.del(k)
			delete(want, k)
		}
		if op%1000 == 0 {
			k := simKey{tenant: int64(r.IntN(3)), sim: int64(r.IntN(20_000))}
			got, ok := x.get(k)
			w, wok := want[k]
			if ok != wok || got != w {
				t.Fatalf("op %d: get(%v) = %d, %v; map says %d, %v", op, k, got, ok, w, wok)
			}
		}
	}
	if x.n != len(want) {
		t.Fatalf("%d entries, map has %d", x.n, len(want))
	}
	for k, w := range want {
		if got, ok := x.get(k); !ok || got != w {
			t.Fatalf("get(%v) = %d, %v; want %d", k, got, ok, w)
		}
	}
	for k := range want {
		x.del(k)
	}
	if x.n != 0 {
		t.Fatalf("%d entries left", x.n)
	}
	for i := range x.slots {
		if x.slots[i].ref != 0 {
			t.Fatalf("slot %d still used", i)
		}
	}
}
