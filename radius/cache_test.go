package radius

import (
	"testing"
	"time"
)

func TestGenMapExpiryAndCap(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	m := newGenMap[int, int](5*time.Second, 1<<20, clock)
	m.put(1, 10)
	now = now.Add(6 * time.Second) // one rotation: still in the older generation
	if v, ok := m.get(1); !ok || v != 10 {
		t.Fatalf("entry gone after one TTL: %v %v", v, ok)
	}
	now = now.Add(11 * time.Second) // get moved it forward; two more rotations drop it
	m.get(2)
	now = now.Add(6 * time.Second)
	if _, ok := m.get(1); ok {
		t.Error("entry survived two TTLs without use")
	}

	// The cap bounds the entries under load, whatever the TTL.
	c := newGenMap[int, int](time.Hour, 32*4, clock)
	for i := range 10000 {
		c.put(i, i)
	}
	total := 0
	for i := range c.shards {
		total += len(c.shards[i].cur) + len(c.shards[i].prev)
	}
	if total > 2*32*4 {
		t.Errorf("%d entries kept, cap is about %d", total, 2*32*4)
	}
}

func TestDedupStates(t *testing.T) {
	d := dedup{newGenMap[dupKey, dupEntry](time.Minute, 1<<10, time.Now)}
	k := dupKey{id: 1}
	if st, _ := d.begin(k); st != dupNew {
		t.Fatalf("first: %v", st)
	}
	if st, _ := d.begin(k); st != dupInFlight {
		t.Fatalf("while handled: %v", st)
	}
	d.finish(k, []byte("answer"))
	if st, resp := d.begin(k); st != dupAnswered || string(resp) != "answer" {
		t.Fatalf("after answer: %v %q", st, resp)
	}
	big := dupKey{id: 3}
	d.begin(big)
	d.finish(big, make([]byte, dupRespMax+1)) // too big to keep: decided again
	if st, _ := d.begin(big); st != dupNew {
		t.Fatalf("after a big answer: %v", st)
	}
	k2 := dupKey{id: 2}
	d.begin(k2)
	d.finish(k2, nil) // nothing answered: a retransmission is new
	if st, _ := d.begin(k2); st != dupNew {
		t.Fatalf("after no answer: %v", st)
	}
}
