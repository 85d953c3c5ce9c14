package policy

import (
	"fmt"

	"github.com/simguard/simguard"
)

// Copy-on-write updates. Readers may hold the receiver while an update
// runs, so nothing reachable from it is ever written: an update copies the
// shard arrays it touches (128 KiB each) and rebuilds the few shards it
// changes (a few hundred entries each at a million SIMs). A batch pays
// for the arrays once.

// WithSIM returns a snapshot in which sim is inserted, or replaces the SIM
// with the same ID; index entries of its old IMSI, MSISDN and static IP
// are removed. It fails (ECONFLICT) when another SIM has the same IMSI,
// MSISDN or static IP, or (EINVALID) when sim does not validate.
func (s *Snapshot) WithSIM(sim *simguard.SIM) (*Snapshot, error) {
	w := s.begin()
	if err := w.put(sim); err != nil {
		return nil, err
	}
	return w.s, nil
}

// WithSIMs applies WithSIM to each SIM in order, all or nothing: a later
// SIM sees the earlier ones (a batch may move an MSISDN from one SIM to
// another), and an error names the failing element.
func (s *Snapshot) WithSIMs(sims []simguard.SIM) (*Snapshot, error) {
	w := s.begin()
	for i := range sims {
		if err := w.put(&sims[i]); err != nil {
			return nil, fmt.Errorf("sims[%d]: %w", i, err)
		}
	}
	return w.s, nil
}

// WithoutSIM returns a snapshot without the SIM id (the receiver itself
// when there is no such SIM).
func (s *Snapshot) WithoutSIM(id int64) *Snapshot {
	return s.WithoutSIMs([]int64{id})
}

// WithoutSIMs returns a snapshot without the SIMs ids; unknown IDs are
// ignored (the receiver itself when none is known).
func (s *Snapshot) WithoutSIMs(ids []int64) *Snapshot {
	var w *writer
	for _, id := range ids {
		cur := s
		if w != nil {
			cur = w.s
		}
		if r := cur.findID(id); r != nil {
			if w == nil {
				w = s.begin()
			}
			w.remove(r)
		}
	}
	if w == nil {
		return s
	}
	return w.s
}

// put inserts or replaces one SIM.
func (w *writer) put(sim *simguard.SIM) error {
	c, err := prepareSIM(sim)
	if err != nil {
		return fmt.Errorf("sim %d (iccid %s): %w", sim.ID, sim.ICCID, err)
	}
	s := w.s
	slot, gt := s.groups.slotFor(c.TenantID, c.Group)
	s.groups = gt
	r := recordOf(&c, slot)
	if err := s.conflict(&r); err != nil {
		return fmt.Errorf("sim %d: %w", r.id, err)
	}
	switch old := s.findID(r.id); {
	case old != nil && old.imsi == r.imsi:
		w.replace(old, &r)
	case old != nil:
		w.remove(old)
		w.add(&r)
	default:
		w.add(&r)
	}
	return nil
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

// writer is one update in progress on a shallow copy of a snapshot. It
// tracks which record shards it has already copied: in a batch, later
// changes to such a shard are made in place (no reader can see it yet).
type writer struct {
	s                       *Snapshot
	ownPrim                 bool
	ownID, ownMSISDN, ownIP bool
	ownRecs                 [nShards / 64]uint64
}

func (w *writer) ownsRecs(k int) bool { return w.ownRecs[k/64]&(1<<(k%64)) != 0 }
func (w *writer) claimRecs(k int)     { w.ownRecs[k/64] |= 1 << (k % 64) }

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

// edit rebuilds the index shard of h without the entry drop and with the
// entry add (the zero entry: none).
func (w *writer) edit(kind int, h uint64, drop, add idxEntry) {
	set := w.index(kind)
	i := shardOf(h)
	set[i] = rebuiltIdx(set[i].entries, drop, add)
}

// add inserts r into its primary shard and indexes it.
func (w *writer) add(r *simRec) {
	h := hashIMSI(r.imsi)
	set := w.prims()
	k := shardOf(h)
	if sh := &set[k]; w.ownsRecs(k) && recCap(sh.n+1) <= len(sh.recs) {
		placeRec(sh.recs, r)
		sh.n++
	} else {
		set[k] = rebuiltRecs(sh.recs, 0, false, r)
		w.claimRecs(k)
	}
	r.keys(func(kind int, h uint64) { w.edit(kind, h, idxEntry{}, idxEntry{h: h | 1, imsi: r.imsi}) })
	w.s.n++
}

// remove drops the record at cur and its index entries.
func (w *writer) remove(cur *simRec) {
	r := *cur
	h := hashIMSI(r.imsi)
	set := w.prims()
	set[shardOf(h)] = rebuiltRecs(set[shardOf(h)].recs, r.imsi, true, nil)
	w.claimRecs(shardOf(h))
	r.keys(func(kind int, h uint64) { w.edit(kind, h, idxEntry{h: h | 1, imsi: r.imsi}, idxEntry{}) })
	w.s.n--
}

// replace overwrites the record at cur with r, which has the same ID and
// IMSI and so keeps its place and its ID entry.
func (w *writer) replace(cur, r *simRec) {
	old := *cur // cur may be overwritten in place below
	h := hashIMSI(r.imsi)
	set := w.prims()
	k := shardOf(h)
	if !w.ownsRecs(k) {
		set[k].recs = append([]simRec(nil), set[k].recs...)
		w.claimRecs(k)
	}
	recs := set[k].recs
	for i := home(h, len(recs)); ; i = (i + 1) % len(recs) {
		if recs[i].imsi == r.imsi && recs[i].id != 0 {
			recs[i] = *r
			break
		}
	}
	entry := func(h uint64) idxEntry { return idxEntry{h: h | 1, imsi: r.imsi} }
	if old.msisdn != r.msisdn {
		if old.msisdn != 0 {
			h := hashMSISDN(old.msisdn)
			w.edit(keyMSISDN, h, entry(h), idxEntry{})
		}
		if r.msisdn != 0 {
			h := hashMSISDN(r.msisdn)
			w.edit(keyMSISDN, h, idxEntry{}, entry(h))
		}
	}
	oldIP, newIP := old.flags&flagIP != 0, r.flags&flagIP != 0
	if oldIP != newIP || old.ipHi != r.ipHi || old.ipLo != r.ipLo {
		if oldIP {
			h := hashIP(old.ipHi, old.ipLo)
			w.edit(keyIP, h, entry(h), idxEntry{})
		}
		if newIP {
			h := hashIP(r.ipHi, r.ipLo)
			w.edit(keyIP, h, idxEntry{}, entry(h))
		}
	}
}
