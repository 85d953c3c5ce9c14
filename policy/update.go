package policy

import (
	"fmt"

	"github.com/simguard/simguard"
)

// Copy-on-write updates. Readers may hold the receiver while an update
// runs, so nothing reachable from it is ever written: an update copies the
// shard-pointer arrays it touches (32 KiB each) and rebuilds the few
// shards it changes (a few hundred entries each at a million SIMs).

// WithSIM returns a snapshot in which sim is inserted, or replaces the SIM
// with the same ID; index entries of its old IMSI, MSISDN and static IP
// are removed. It fails (ECONFLICT) when another SIM has the same IMSI,
// MSISDN or static IP, or (EINVALID) when sim does not validate.
func (s *Snapshot) WithSIM(sim *simguard.SIM) (*Snapshot, error) {
	c, err := prepareSIM(sim)
	if err != nil {
		return nil, fmt.Errorf("sim %d (iccid %s): %w", sim.ID, sim.ICCID, err)
	}
	w := s.begin()
	slot, gt := s.groups.slotFor(c.TenantID, c.Group)
	w.s.groups = gt
	r := recordOf(&c, slot)
	if err := s.conflict(&r); err != nil {
		return nil, fmt.Errorf("sim %d: %w", r.id, err)
	}
	ref, found := s.findID(r.id)
	switch {
	case found && s.rec(ref).imsi == r.imsi:
		w.replace(ref, r)
	case found:
		w.remove(ref)
		err = w.add(r)
	default:
		err = w.add(r)
	}
	if err != nil {
		return nil, err
	}
	return w.s, nil
}

// WithoutSIM returns a snapshot without the SIM id (the receiver itself
// when there is no such SIM).
func (s *Snapshot) WithoutSIM(id int64) *Snapshot {
	ref, ok := s.findID(id)
	if !ok {
		return s
	}
	w := s.begin()
	w.remove(ref)
	return w.s
}

// WithGroup returns a snapshot in which g is inserted, or replaces the
// group with the same tenant and name. Its SIMs follow it at once: they
// refer to the group's slot, not to its policy.
func (s *Snapshot) WithGroup(g *simguard.Group) (*Snapshot, error) {
	cg, err := compileGroup(g)
	if err != nil {
		return nil, groupErr(g, err)
	}
	gt := s.groups.clone()
	i, ok := gt.index[groupKey{g.TenantID, cg.src.Name}]
	if !ok {
		i = gt.addSlot(g.TenantID, cg.src.Name)
	}
	gt.slots[i].g = cg
	ns := *s
	ns.groups = gt
	return &ns, nil
}

// WithoutGroup returns a snapshot without the group (the receiver itself
// when there is no such group). Its SIMs stay, denied with
// "sim:group_missing".
func (s *Snapshot) WithoutGroup(tenantID int64, name string) *Snapshot {
	i, ok := s.groups.index[groupKey{tenantID, name}]
	if !ok || s.groups.slots[i].g == nil {
		return s
	}
	gt := s.groups.clone()
	gt.slots[i].g = nil
	ns := *s
	ns.groups = gt
	return &ns
}

// writer is one update in progress on a shallow copy of a snapshot.
type writer struct {
	s                       *Snapshot
	ownPrim                 bool
	ownID, ownMSISDN, ownIP bool
}

func (s *Snapshot) begin() *writer {
	ns := *s
	return &writer{s: &ns}
}

func (w *writer) prims() *recSet {
	if !w.ownPrim {
		c := *w.s.prim
		w.s.prim, w.ownPrim = &c, true
	}
	return w.s.prim
}

func (w *writer) index(kind int) *idxSet {
	p, own := &w.s.byID, &w.ownID
	switch kind {
	case keyMSISDN:
		p, own = &w.s.byMSISDN, &w.ownMSISDN
	case keyIP:
		p, own = &w.s.byIP, &w.ownIP
	}
	if !*own {
		c := **p
		*p, *own = &c, true
	}
	return *p
}

// edit rebuilds one index shard without the entry drop and with add.
func (w *writer) edit(kind int, h uint64, drop, add uint64) {
	set := w.index(kind)
	i := shardOf(h)
	var old []uint64
	if set[i] != nil {
		old = set[i].table
	}
	tb, n := rebuilt(old, drop, add)
	if n == 0 {
		set[i] = nil
		return
	}
	set[i] = &idxShard{table: tb, n: n}
}

// keys calls fn with every secondary key of r.
func (r *simRec) keys(fn func(kind int, h uint64)) {
	fn(keyID, hashID(r.id))
	if r.msisdn != 0 {
		fn(keyMSISDN, hashMSISDN(r.msisdn))
	}
	if r.flags&flagIP != 0 {
		fn(keyIP, hashIP(r.ipHi, r.ipLo))
	}
}

// add appends r to its primary shard and indexes it.
func (w *writer) add(r simRec) error {
	shard := shardOf(hashIMSI(r.imsi))
	set := w.prims()
	var recs []simRec
	if old := set[shard]; old != nil {
		if len(old.recs) >= maxShardLen {
			return simguard.Errorf(simguard.EUNAVAILABLE, "too many SIMs for one snapshot")
		}
		recs = make([]simRec, len(old.recs), len(old.recs)+1)
		copy(recs, old.recs)
	}
	recs = append(recs, r)
	set[shard] = &recShard{recs: recs, table: primTable(shard, recs)}
	ref := makeRef(shard, len(recs)-1)
	r.keys(func(kind int, h uint64) { w.edit(kind, h, 0, entryOf(tagOf(h), ref)) })
	w.s.n++
	return nil
}

// remove drops the record at ref and its index entries. The last record
// of the shard moves into the hole, and its index entries follow it.
func (w *writer) remove(ref uint32) {
	shard, slot := refShard(ref), refSlot(ref)
	set := w.prims()
	old := set[shard]
	gone := old.recs[slot]
	gone.keys(func(kind int, h uint64) { w.edit(kind, h, entryOf(tagOf(h), ref), 0) })
	last := len(old.recs) - 1
	w.s.n--
	if last == 0 {
		set[shard] = nil
		return
	}
	recs := make([]simRec, last)
	copy(recs, old.recs[:last])
	if slot != last {
		moved := old.recs[last]
		recs[slot] = moved
		from := makeRef(shard, last)
		moved.keys(func(kind int, h uint64) { w.edit(kind, h, entryOf(tagOf(h), from), entryOf(tagOf(h), ref)) })
	}
	set[shard] = &recShard{recs: recs, table: primTable(shard, recs)}
}

// replace overwrites the record at ref with r, which has the same ID and
// IMSI and so keeps its slot and its IMSI and ID entries.
func (w *writer) replace(ref uint32, r simRec) {
	shard, slot := refShard(ref), refSlot(ref)
	set := w.prims()
	old := set[shard]
	prev := old.recs[slot]
	recs := append([]simRec(nil), old.recs...)
	recs[slot] = r
	set[shard] = &recShard{recs: recs, table: old.table}
	if prev.msisdn != r.msisdn {
		if prev.msisdn != 0 {
			h := hashMSISDN(prev.msisdn)
			w.edit(keyMSISDN, h, entryOf(tagOf(h), ref), 0)
		}
		if r.msisdn != 0 {
			h := hashMSISDN(r.msisdn)
			w.edit(keyMSISDN, h, 0, entryOf(tagOf(h), ref))
		}
	}
	prevIP, newIP := prev.flags&flagIP != 0, r.flags&flagIP != 0
	if prevIP != newIP || prev.ipHi != r.ipHi || prev.ipLo != r.ipLo {
		if prevIP {
			h := hashIP(prev.ipHi, prev.ipLo)
			w.edit(keyIP, h, entryOf(tagOf(h), ref), 0)
		}
		if newIP {
			h := hashIP(r.ipHi, r.ipLo)
			w.edit(keyIP, h, 0, entryOf(tagOf(h), ref))
		}
	}
}
