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
	if s.findID(r.id) != nil {
		return simguard.Errorf(simguard.ECONFLICT, "sim %d is listed twice", r.id)
	}
	if err := s.conflict(&r); err != nil {
		return fmt.Errorf("sim %d: %w", r.id, err)
	}
	h := hashIMSI(r.imsi)
	sh := &s.prim[shardOf(h)]
	if recCap(sh.n+1) > len(sh.recs) {
		grown := newRecs(recCap(2 * (sh.n + 1)))
		for i := range sh.recs {
			if sh.recs[i].id != 0 {
				placeRec(grown, &sh.recs[i])
			}
		}
		sh.recs = grown
	}
	placeRec(sh.recs, &r)
	sh.n++
	s.n++
	r.keys(func(kind int, h uint64) { b.addEntry(s.indexSet(kind), h, r.imsi) })
	return nil
}

func (b *Builder) addEntry(set *idxSet, h, imsi uint64) {
	e, i := idxEntry{h: h | 1, imsi: imsi}, shardOf(h)
	sh := &set[i]
	if idxCap(sh.n+1) > len(sh.entries) {
		grown := newEntries(idxCap(2 * (sh.n + 1)))
		for _, x := range sh.entries {
			if x.h != 0 {
				placeEntry(grown, x)
			}
		}
		sh.entries = grown
	}
	placeEntry(sh.entries, e)
	sh.n++
}

// Build returns the snapshot, with every slice and table trimmed to size.
// The Builder cannot be used afterwards.
func (b *Builder) Build() *Snapshot {
	s := b.s
	if s == nil {
		return newSnapshot()
	}
	b.s = nil
	for i := range s.prim {
		s.prim[i] = rebuiltRecs(s.prim[i].recs, 0, false, nil)
	}
	for _, set := range []*idxSet{s.byID, s.byMSISDN, s.byIP} {
		for i := range set {
			set[i] = rebuiltIdx(set[i].entries, idxEntry{}, idxEntry{})
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
	if o := s.findIMSI(r.imsi); o != nil && o.id != r.id {
		return conflictErr("imsi", imsiString(r.imsi), o.id)
	}
	if r.msisdn != 0 {
		if o := s.findMSISDN(r.msisdn); o != nil && o.id != r.id {
			return conflictErr("msisdn", msisdnString(r.msisdn), o.id)
		}
	}
	if r.flags&flagIP != 0 {
		if o := s.findIP(r.ipHi, r.ipLo); o != nil && o.id != r.id {
			return conflictErr("static_ip", r.staticIP().String(), o.id)
		}
	}
	return nil
}

func conflictErr(field, value string, other int64) error {
	return &simguard.Error{Code: simguard.ECONFLICT, Field: field, Message: fmt.Sprintf("%s is already used by sim %d", value, other)}
}
