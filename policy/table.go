package policy

import "slices"

// The SIMs are split into nShards shards by a hash of their key so that a
// copy-on-write update copies one shard (a few hundred entries at a
// million SIMs) and an array of shard pointers, never the whole world.
//
// The primary store is keyed by IMSI, the key of the hottest lookups
// (RADIUS, Diameter): each shard is an open-addressing table of the
// records themselves, so that finding a SIM by IMSI costs one random
// memory access. Secondary indexes (ID, MSISDN, static IP) map the hash of
// their key to the IMSI; a hit is confirmed against the record, which the
// caller reads anyway. Nothing refers to a record's position, so a shard
// can be rebuilt at any size without touching any other shard.

const (
	shardBits = 12
	nShards   = 1 << shardBits
	shardMask = nShards - 1
)

// Hash seeds keep the indexes' shard assignments independent of each other.
const (
	seedIMSI   = 0x9e3779b97f4a7c15
	seedID     = 0xc2b2ae3d27d4eb4f
	seedMSISDN = 0x165667b19e3779f9
	seedIP     = 0x27d4eb2f165667c5
)

// mix is the splitmix64 finalizer: cheap, and good enough to spread
// sequential IDs and IMSIs over shards and table positions.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func hashIMSI(imsi uint64) uint64     { return mix(imsi ^ seedIMSI) }
func hashID(id int64) uint64          { return mix(uint64(id) ^ seedID) }
func hashMSISDN(msisdn uint64) uint64 { return mix(msisdn ^ seedMSISDN) }
func hashIP(hi, lo uint64) uint64     { return mix(hi ^ mix(lo^seedIP)) }

// The low bits of a hash pick the shard, the high bits the home position
// in the shard's table (Lemire's fast range: no division).
func shardOf(h uint64) int     { return int(h & shardMask) }
func home(h uint64, n int) int { return int(((h >> 32) * uint64(n)) >> 32) }

// recCap and idxCap size a table for n entries. Records are large, so
// their table is kept fuller (0.7); index entries are small, so theirs
// keeps probe runs short (2/3).
func recCap(n int) int { return n + n*3/7 + 1 }
func idxCap(n int) int { return n + n/2 + 1 }

// newRecs and newEntries allocate a table of at least n slots and use the
// whole allocation: the allocator rounds sizes up to its size classes (to
// 8 KiB pages above 32 KiB), and the slack is worth more as shorter probe
// runs than as waste.
func newRecs(n int) []simRec {
	s := slices.Grow([]simRec(nil), n)
	return s[:cap(s)]
}

func newEntries(n int) []idxEntry {
	s := slices.Grow([]idxEntry(nil), n)
	return s[:cap(s)]
}

// recShard is one shard of the primary store: records in an
// open-addressing table keyed by IMSI with linear probing. A slot with
// id 0 is empty (SIM IDs are positive).
type recShard struct {
	recs []simRec
	n    int
}

// recSet is the primary store. Shards are held by value: a lookup then
// reads the array and the records, not a shard header in between.
type recSet [nShards]recShard

// The tables use linear probing with Robin Hood placement: an entry
// never sits farther from its home slot than an entry it passed, so a
// lookup for an absent key stops as soon as it meets an entry closer to
// home than its own probe distance, instead of scanning to the next
// empty slot. Absent keys matter: unknown IMSIs are what a scan or a
// misconfigured network sends.

// slot is what a table holds: an empty marker and the hash of its key.
type slot interface {
	simRec | idxEntry
}

// dist is how far slot i is from home slot h in a table of n slots.
func dist(i, h, n int) int {
	if d := i - h; d >= 0 {
		return d
	}
	return i - h + n
}

func (r *simRec) empty() bool    { return r.id == 0 }
func (r *simRec) hash() uint64   { return hashIMSI(r.imsi) }
func (e *idxEntry) empty() bool  { return e.h == 0 }
func (e *idxEntry) hash() uint64 { return e.h }

// place puts x into tab, which must have an empty slot.
func place[T slot, P interface {
	*T
	empty() bool
	hash() uint64
}](tab []T, x T) {
	n := len(tab)
	i := home(P(&x).hash(), n)
	for d := 0; ; d++ {
		if P(&tab[i]).empty() {
			tab[i] = x
			return
		}
		if rd := dist(i, home(P(&tab[i]).hash(), n), n); rd < d {
			tab[i], x = x, tab[i]
			d = rd
		}
		if i++; i == n {
			i = 0
		}
	}
}

func placeRec(recs []simRec, r *simRec) { place(recs, *r) }

// rebuiltRecs returns a table of the right size holding the records of
// old except the one with IMSI drop (if any), plus add (if not nil).
func rebuiltRecs(old []simRec, drop uint64, hasDrop bool, add *simRec) recShard {
	n := 0
	for i := range old {
		if old[i].id != 0 && !(hasDrop && old[i].imsi == drop) {
			n++
		}
	}
	if add != nil {
		n++
	}
	if n == 0 {
		return recShard{}
	}
	recs := newRecs(recCap(n))
	for i := range old {
		if old[i].id != 0 && !(hasDrop && old[i].imsi == drop) {
			placeRec(recs, &old[i])
		}
	}
	if add != nil {
		placeRec(recs, add)
	}
	return recShard{recs: recs, n: n}
}

// idxEntry maps a key, by its hash, to the IMSI of its SIM. h is stored
// with bit 0 set so that 0 marks an empty slot; bit 0 only picks the
// shard, which is known when the entry is used.
type idxEntry struct {
	h, imsi uint64
}

// idxShard is one shard of a secondary index.
type idxShard struct {
	entries []idxEntry
	n       int
}

// idxSet is a secondary index, its shards held by value like recSet.
type idxSet [nShards]idxShard

func placeEntry(es []idxEntry, e idxEntry) { place(es, e) }

// rebuiltIdx returns a shard of the right size holding the entries of old
// except drop, plus add (either may be the zero entry: none).
func rebuiltIdx(old []idxEntry, drop, add idxEntry) idxShard {
	n, dropAt := 0, -1
	for i, e := range old {
		switch {
		case e.h == 0:
		case dropAt < 0 && e == drop:
			dropAt = i
		default:
			n++
		}
	}
	if add.h != 0 {
		n++
	}
	if n == 0 {
		return idxShard{}
	}
	es := newEntries(idxCap(n))
	for i, e := range old {
		if e.h != 0 && i != dropAt {
			placeEntry(es, e)
		}
	}
	if add.h != 0 {
		placeEntry(es, add)
	}
	return idxShard{entries: es, n: n}
}
