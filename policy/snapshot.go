package policy

import (
	"cmp"
	"slices"

	"github.com/simguard/simguard"
)

// Snapshot is a compiled, immutable view of every group and SIM. Any
// number of goroutines may use one at the same time; updates return a new
// Snapshot that shares everything it did not change with the old one.
type Snapshot struct {
	groups   *groupTable
	prim     *recSet // records and the IMSI index
	byID     *idxSet
	byMSISDN *idxSet
	byIP     *idxSet
	n        int

	devices  deviceList // the operator's device list; see devices.go
	nDevices int
}

var _ simguard.Evaluator = (*Snapshot)(nil)

// groupTable maps (tenant, name) to a slot. Records refer to slots by
// number; a slot outlives its group (g nil: missing) so that SIMs of a
// deleted group deny with "sim:group_missing" and follow the group at once
// when it comes back.
type groupTable struct {
	slots []groupSlot
	index map[groupKey]uint32
}

type groupKey struct {
	tenant int64
	name   string
}

type groupSlot struct {
	tenant int64
	name   string
	g      *compiledGroup // nil: the group is not in the snapshot
}

func newSnapshot() *Snapshot {
	return &Snapshot{
		groups:   &groupTable{index: map[groupKey]uint32{}},
		prim:     new(recSet),
		byID:     new(idxSet),
		byMSISDN: new(idxSet),
		byIP:     new(idxSet),
	}
}

// Len is the number of SIMs.
func (s *Snapshot) Len() int { return s.n }

// findIMSI finds a record in the primary store; nil when there is none.
func (s *Snapshot) findIMSI(imsi uint64) *simRec {
	h := hashIMSI(imsi)
	recs := s.prim[shardOf(h)].recs
	if len(recs) == 0 {
		return nil
	}
	for i, d := home(h, len(recs)), 0; ; d++ {
		r := &recs[i]
		if r.imsi == imsi && r.id != 0 {
			return r
		}
		if r.id == 0 || dist(i, home(hashIMSI(r.imsi), len(recs)), len(recs)) < d {
			return nil
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
}

// Kinds of secondary keys, for find.
const (
	keyID = iota
	keyMSISDN
	keyIP
)

// find looks a record up through a secondary index; a and b are the key
// (b only for IP addresses), confirmed against the record.
func (s *Snapshot) find(set *idxSet, kind int, h, a, b uint64) *simRec {
	es, hs := set[shardOf(h)].entries, h|1
	if len(es) == 0 {
		return nil
	}
	for i, d := home(h, len(es)), 0; ; d++ {
		e := es[i]
		if e.h == 0 || dist(i, home(e.h, len(es)), len(es)) < d {
			return nil
		}
		if e.h == hs {
			if r := s.findIMSI(e.imsi); r != nil {
				var hit bool
				switch kind {
				case keyID:
					hit = uint64(r.id) == a
				case keyMSISDN:
					hit = r.msisdn == a
				default:
					hit = r.flags&flagIP != 0 && r.ipHi == a && r.ipLo == b
				}
				if hit {
					return r
				}
			}
		}
		if i++; i == len(es) {
			i = 0
		}
	}
}

func (s *Snapshot) indexSet(kind int) *idxSet {
	switch kind {
	case keyMSISDN:
		return s.byMSISDN
	case keyIP:
		return s.byIP
	}
	return s.byID
}

func (s *Snapshot) findID(id int64) *simRec {
	return s.find(s.byID, keyID, hashID(id), uint64(id), 0)
}

func (s *Snapshot) findMSISDN(v uint64) *simRec {
	return s.find(s.byMSISDN, keyMSISDN, hashMSISDN(v), v, 0)
}

func (s *Snapshot) findIP(hi, lo uint64) *simRec {
	return s.find(s.byIP, keyIP, hashIP(hi, lo), hi, lo)
}

// GroupPolicy returns the group as compiled (validated and normalized), as
// a copy the caller may change.
func (s *Snapshot) GroupPolicy(tenantID int64, name string) (simguard.Group, bool) {
	i, ok := s.groups.index[groupKey{tenantID, name}]
	if !ok || s.groups.slots[i].g == nil {
		return simguard.Group{}, false
	}
	return cloneGroup(&s.groups.slots[i].g.src), true
}

// RangeGroups calls fn with a copy of every group, ordered by tenant and
// name, until fn returns false.
func (s *Snapshot) RangeGroups(fn func(simguard.Group) bool) {
	var gs []*compiledGroup
	for _, sl := range s.groups.slots {
		if sl.g != nil {
			gs = append(gs, sl.g)
		}
	}
	slices.SortFunc(gs, func(a, b *compiledGroup) int {
		return cmp.Or(cmp.Compare(a.src.TenantID, b.src.TenantID), cmp.Compare(a.src.Name, b.src.Name))
	})
	for _, g := range gs {
		if !fn(cloneGroup(&g.src)) {
			return
		}
	}
}

// slotFor returns the slot of (tenant, name) and, when it had to add one,
// the new table to use; the receiver is never changed.
func (t *groupTable) slotFor(tenant int64, name string) (uint32, *groupTable) {
	if i, ok := t.index[groupKey{tenant, name}]; ok {
		return i, t
	}
	nt := t.clone()
	nt.addSlot(tenant, name)
	return uint32(len(nt.slots) - 1), nt
}

func (t *groupTable) addSlot(tenant int64, name string) uint32 {
	i := uint32(len(t.slots))
	t.slots = append(t.slots, groupSlot{tenant: tenant, name: name})
	t.index[groupKey{tenant, name}] = i
	return i
}

func (t *groupTable) clone() *groupTable {
	nt := &groupTable{slots: slices.Clone(t.slots), index: make(map[groupKey]uint32, len(t.index)+1)}
	for k, v := range t.index {
		nt.index[k] = v
	}
	return nt
}
