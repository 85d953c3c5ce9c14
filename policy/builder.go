package policy

import (
	"errors"
	"fmt"

	"github.com/simguard/simguard"
)

// Builder compiles the initial state. SIMs are streamed in one by one
// (ScanSIMs reuses its SIM), so a million of them never exist twice as
// simguard.SIM values. A Builder is not safe for concurrent use.
type Builder struct {
	s *Snapshot // under construction; nil after Build
}

// NewBuilder validates and compiles groups. An error names the group
// (tenant and name) and the field at fault.
func NewBuilder(groups []simguard.Group) (*Builder, error) {
	s := newSnapshot()
	for i := range groups {
		g := &groups[i]
		cg, err := compileGroup(g)
		if err != nil {
			return nil, groupErr(g, err)
		}
		if _, dup := s.groups.index[groupKey{g.TenantID, cg.src.Name}]; dup {
			return nil, groupErr(g, simguard.Errorf(simguard.ECONFLICT, "the group is listed twice"))
		}
		s.groups.slots[s.groups.addSlot(g.TenantID, cg.src.Name)].g = cg
	}
	return &Builder{s: s}, nil
}

// AddSIM validates a copy of sim and adds it. The caller may reuse sim.
// SIMs whose group is not known are kept: they are denied with
// "sim:group_missing" until the group arrives. IDs, IMSIs, MSISDNs and
// static IPs must be unique (ECONFLICT otherwise).
func (b *Builder) AddSIM(sim *simguard.SIM) error {
	if b.s == nil {
		return errors.New("policy: AddSIM after Build")
	}
	c, err := prepareSIM(sim)
	if err != nil {
		return fmt.Errorf("sim %d (iccid %s): %w", sim.ID, sim.ICCID, err)
	}
	s := b.s
	slot, ok := s.groups.index[groupKey{c.TenantID, c.Group}]
	if !ok {
		slot = s.groups.addSlot(c.TenantID, c.Group)
	}
	r := recordOf(&c, slot)
	if _, dup := s.findID(r.id); dup {
		return simguard.Errorf(simguard.ECONFLICT, "sim %d is listed twice", r.id)
	}
	if err := s.conflict(&r); err != nil {
		return fmt.Errorf("sim %d: %w", r.id, err)
	}
	shard := shardOf(hashIMSI(r.imsi))
	sh := s.prim[shard]
	if sh == nil {
		sh = &recShard{}
		s.prim[shard] = sh
	}
	if len(sh.recs) >= maxShardLen {
		return simguard.Errorf(simguard.EUNAVAILABLE, "too many SIMs for one snapshot")
	}
	ref := makeRef(shard, len(sh.recs))
	sh.table = growPlace(sh.table, len(sh.recs), entryOf(tagOf(hashIMSI(r.imsi)), ref))
	sh.recs = append(sh.recs, r)
	s.n++
	b.index(s.byID, hashID(r.id), ref)
	if r.msisdn != 0 {
		b.index(s.byMSISDN, hashMSISDN(r.msisdn), ref)
	}
	if r.flags&flagIP != 0 {
		b.index(s.byIP, hashIP(r.ipHi, r.ipLo), ref)
	}
	return nil
}

func (b *Builder) index(set *idxSet, h uint64, ref uint32) {
	sh := set[shardOf(h)]
	if sh == nil {
		sh = &idxShard{}
		set[shardOf(h)] = sh
	}
	sh.table = growPlace(sh.table, sh.n, entryOf(tagOf(h), ref))
	sh.n++
}

// growPlace adds e to a table of n entries, doubling it when full enough.
func growPlace(tb []uint64, n int, e uint64) []uint64 {
	if tableCap(n+1) > len(tb) {
		nt := make([]uint64, tableCap(2*(n+1)))
		for _, x := range tb {
			if x != 0 {
				place(nt, x)
			}
		}
		tb = nt
	}
	place(tb, e)
	return tb
}

// Build returns the snapshot, with every slice and table trimmed to size.
// The Builder cannot be used afterwards.
func (b *Builder) Build() *Snapshot {
	s := b.s
	if s == nil {
		return newSnapshot()
	}
	b.s = nil
	for i, sh := range s.prim {
		if sh == nil {
			continue
		}
		sh.recs = append(make([]simRec, 0, len(sh.recs)), sh.recs...)
		sh.table = primTable(i, sh.recs)
	}
	for _, set := range []*idxSet{s.byID, s.byMSISDN, s.byIP} {
		for _, sh := range set {
			if sh != nil {
				sh.table, sh.n = rebuilt(sh.table, 0, 0)
			}
		}
	}
	return s
}

// Compile builds a snapshot from complete state in memory.
func Compile(groups []simguard.Group, sims []simguard.SIM) (*Snapshot, error) {
	b, err := NewBuilder(groups)
	if err != nil {
		return nil, err
	}
	for i := range sims {
		if err := b.AddSIM(&sims[i]); err != nil {
			return nil, fmt.Errorf("sims[%d]: %w", i, err)
		}
	}
	return b.Build(), nil
}

// conflict reports a key of r that another SIM (not r.id) already uses.
func (s *Snapshot) conflict(r *simRec) error {
	if ref, ok := s.findIMSI(r.imsi); ok && s.rec(ref).id != r.id {
		return conflictErr("imsi", imsiString(r.imsi), s.rec(ref).id)
	}
	if r.msisdn != 0 {
		if ref, ok := s.findMSISDN(r.msisdn); ok && s.rec(ref).id != r.id {
			return conflictErr("msisdn", msisdnString(r.msisdn), s.rec(ref).id)
		}
	}
	if r.flags&flagIP != 0 {
		if ref, ok := s.findIP(r.ipHi, r.ipLo); ok && s.rec(ref).id != r.id {
			return conflictErr("static_ip", r.staticIP().String(), s.rec(ref).id)
		}
	}
	return nil
}

func conflictErr(field, value string, other int64) error {
	return &simguard.Error{Code: simguard.ECONFLICT, Field: field, Message: fmt.Sprintf("%s is already used by sim %d", value, other)}
}
