package detect

import "unsafe"

// simIndex maps the keys of the rules that group by SIM to their records:
// the lookup every event makes. It is an open-addressing table with
// linear probing, so that a lookup usually reads one cache line (a Go map
// reads a control word and then a slot, often in two), in one large
// allocation that can take huge pages. SIM IDs come from the store, not
// from the network, so a fixed mixing function spreads them well enough.
type simIndex struct {
	slots []simSlot // a power of two of them
	n     int
}

type simSlot struct {
	key simKey
	ref int32 // the record's index + 1; 0: empty
}

const simIndexMinSlots = 1024

func newSimIndex(n int) *simIndex {
	size := simIndexMinSlots
	for size < 2*n {
		size *= 2
	}
	x := &simIndex{slots: make([]simSlot, size)}
	adviseHugePages(unsafe.Pointer(&x.slots[0]), uintptr(size)*unsafe.Sizeof(simSlot{}))
	return x
}

func (k simKey) hash() uint64 {
	return mix(uint64(k.sim) ^ uint64(k.tenant)*0x9e3779b97f4a7c15)
}

// mix is the splitmix64 finalizer: cheap, and enough to spread sequential
// IDs over table positions and shards.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (x *simIndex) get(k simKey) (int32, bool) {
	mask := uint64(len(x.slots) - 1)
	for i := k.hash() & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == 0 {
			return 0, false
		}
		if s.key == k {
			return s.ref - 1, true
		}
	}
}

// prefetch starts loading k's home slot (see prefetch).
func (x *simIndex) prefetch(k simKey) {
	prefetch(uintptr(unsafe.Pointer(&x.slots[k.hash()&uint64(len(x.slots)-1)])))
}

// put sets k's record index, adding k when absent.
func (x *simIndex) put(k simKey, idx int32) {
	if 2*(x.n+1) > len(x.slots) {
		x.resize(2 * len(x.slots))
	}
	mask := uint64(len(x.slots) - 1)
	for i := k.hash() & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == 0 {
			*s = simSlot{key: k, ref: idx + 1}
			x.n++
			return
		}
		if s.key == k {
			s.ref = idx + 1
			return
		}
	}
}

// del removes k. It moves later entries of the probe run back into the
// hole (backward-shift deletion), so that no tombstones build up.
func (x *simIndex) del(k simKey) {
	mask := uint64(len(x.slots) - 1)
	i := k.hash() & mask
	for {
		s := &x.slots[i]
		if s.ref == 0 {
			return
		}
		if s.key == k {
			break
		}
		i = (i + 1) & mask
	}
	x.n--
	hole := i
	for j := (hole + 1) & mask; x.slots[j].ref != 0; j = (j + 1) & mask {
		home := x.slots[j].key.hash() & mask
		// The entry at j may move to the hole unless its home lies
		// cyclically within (hole, j].
		if (j-home)&mask >= (j-hole)&mask {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = simSlot{}
}

func (x *simIndex) resize(size int) {
	old := x.slots
	*x = *newSimIndex(size / 2)
	for _, s := range old {
		if s.ref != 0 {
			x.put(s.key, s.ref-1)
		}
	}
}
