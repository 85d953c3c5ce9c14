package policy

// The SIM indexes are split into nShards shards by a hash of their key so
// that a copy-on-write update copies one shard (a few hundred entries at a
// million SIMs) and an array of shard pointers, never the whole world.
//
// Each shard holds an open-addressing table of uint64 entries: the upper
// 32 bits are a tag taken from the key's hash (never zero, so an empty
// entry is 0), the lower 32 bits a ref to the record. The home position is
// derived from the tag alone, so a table can be rebuilt at another size
// from its entries without knowing the keys. A tag match is confirmed by
// comparing the key in the record itself, which a lookup reads anyway.

const (
	shardBits = 12
	nShards   = 1 << shardBits
	shardMask = nShards - 1
	// A ref is shard<<slotBits | slot: the slot of the record in the
	// records slice of its primary (IMSI) shard.
	slotBits = 32 - shardBits
	slotMask = 1<<slotBits - 1
	// maxShardLen keeps every slot addressable by a ref.
	maxShardLen = slotMask
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

func shardOf(h uint64) int           { return int(h & shardMask) }
func tagOf(h uint64) uint32          { return uint32(h>>32) | 1 }
func makeRef(shard, slot int) uint32 { return uint32(shard)<<slotBits | uint32(slot) }
func refShard(ref uint32) int        { return int(ref >> slotBits) }
func refSlot(ref uint32) int         { return int(ref & slotMask) }

func entryOf(tag, ref uint32) uint64 { return uint64(tag)<<32 | uint64(ref) }
func entryTag(e uint64) uint32       { return uint32(e >> 32) }
func entryRef(e uint64) uint32       { return uint32(e) }

// home maps a tag onto [0, n) without a division (Lemire's fast range).
func home(tag uint32, n int) int { return int((uint64(tag) * uint64(n)) >> 32) }

// tableCap is the table size for n entries: a load of two thirds keeps
// probe sequences within a cache line or two while costing 12 bytes per
// entry.
func tableCap(n int) int { return n + n/2 + 1 }

// place puts e into tb, which must have a free slot.
func place(tb []uint64, e uint64) {
	i := home(entryTag(e), len(tb))
	for tb[i] != 0 {
		i++
		if i == len(tb) {
			i = 0
		}
	}
	tb[i] = e
}

// rebuilt returns a new table of the right size for the entries of old,
// without the entry drop and with add (either may be 0: none), and the
// number of entries in it.
func rebuilt(old []uint64, drop, add uint64) ([]uint64, int) {
	m, dropAt := 0, -1
	for i, e := range old {
		switch {
		case e == 0:
		case dropAt < 0 && e == drop:
			dropAt = i
		default:
			m++
		}
	}
	if add != 0 {
		m++
	}
	if m == 0 {
		return nil, 0
	}
	tb := make([]uint64, tableCap(m))
	for i, e := range old {
		if e != 0 && i != dropAt {
			place(tb, e)
		}
	}
	if add != 0 {
		place(tb, add)
	}
	return tb, m
}

// idxShard is one shard of a secondary index (ID, MSISDN, static IP).
type idxShard struct {
	table []uint64
	n     int
}

// idxSet is a secondary index; a nil shard is empty.
type idxSet [nShards]*idxShard

// recShard is one shard of the primary store: the SIM records whose IMSI
// hashes to it, and the IMSI table over them.
type recShard struct {
	recs  []simRec
	table []uint64
}

// recSet is the primary store; a nil shard is empty.
type recSet [nShards]*recShard

// primTable builds the IMSI table of shard i over recs.
func primTable(i int, recs []simRec) []uint64 {
	if len(recs) == 0 {
		return nil
	}
	tb := make([]uint64, tableCap(len(recs)))
	for slot := range recs {
		place(tb, entryOf(tagOf(hashIMSI(recs[slot].imsi)), makeRef(i, slot)))
	}
	return tb
}
