package policy

import (
	"fmt"

	"github.com/simguard/simguard"
)

// WithSIMs is WithSIM for many SIMs at once (an import): one copy of the
// shard-pointer arrays for the whole batch instead of one per SIM. It
// fails, changing nothing, if any SIM fails.
func (s *Snapshot) WithSIMs(sims []simguard.SIM) (*Snapshot, error) {
	if len(sims) == 0 {
		return s, nil
	}
	w := s.begin()
	for i := range sims {
		sim := &sims[i]
		c, err := prepareSIM(sim)
		if err != nil {
			return nil, fmt.Errorf("sim %d (iccid %s): %w", sim.ID, sim.ICCID, err)
		}
		slot, gt := w.s.groups.slotFor(c.TenantID, c.Group)
		w.s.groups = gt
		r := recordOf(&c, slot)
		if err := w.s.conflict(&r); err != nil {
			return nil, fmt.Errorf("sim %d: %w", r.id, err)
		}
		switch old := w.s.findID(r.id); {
		case old != nil && old.imsi == r.imsi:
			w.replace(old, &r)
		case old != nil:
			w.remove(old)
			w.add(&r)
		default:
			w.add(&r)
		}
	}
	return w.s, nil
}
