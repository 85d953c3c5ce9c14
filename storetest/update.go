package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func testSIMUpdate(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	sims := f.importSIMs(t, f.alpha.ID, SIMs(1, 2, "meters"))
	s := sims[0]
	ch := Change(f.alpha.ID, "sim.suspend")
	until := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	from := until.Add(-48 * time.Hour)
	got, err := f.s.UpdateSIM(f.ctx, f.alpha.ID, s.ID, 1, ch, func(s *simguard.SIM) error {
		s.State = simguard.SIMSuspended
		s.Group = "cameras"
		s.Labels = map[string]string{"site": "lyon"}
		s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn}
		s.ActiveUntil, s.ActiveFrom = &until, &from
		s.Usage.DataBytes = 999 // metering is not the operator's to set
		return nil
	})
	must(t, "UpdateSIM", err)
	if got.Version != 2 || got.State != simguard.SIMSuspended || got.Group != "cameras" || got.Labels["site"] != "lyon" ||
		got.IMEILock.Mode != simguard.IMEILockLearn || got.ActiveUntil == nil || !got.ActiveUntil.Equal(until) || got.ActiveFrom == nil || !got.ActiveFrom.Equal(from) || got.Usage.DataBytes != 0 {
		t.Errorf("UpdateSIM = %+v", got)
	}
	if !got.UpdatedAt.After(s.UpdatedAt) && !got.UpdatedAt.Equal(s.UpdatedAt) || !got.CreatedAt.Equal(s.CreatedAt) {
		t.Errorf("times after update: created %v→%v updated %v→%v", s.CreatedAt, got.CreatedAt, s.UpdatedAt, got.UpdatedAt)
	}
	stored, err := f.s.GetSIM(f.ctx, f.alpha.ID, s.ID)
	must(t, "GetSIM", err)
	if stored.Version != 2 || stored.Group != "cameras" || stored.Usage.DataBytes != 0 {
		t.Errorf("stored after update: %+v", stored)
	}

	rec := f.lastAudit(t)
	var before, after simguard.SIM
	if json.Unmarshal(rec.Before, &before) != nil || json.Unmarshal(rec.After, &after) != nil {
		t.Fatalf("audit before/after not SIM JSON: %s / %s", rec.Before, rec.After)
	}
	if rec.Action != "sim.suspend" || rec.Object != "sim:"+s.ICCID || rec.TenantID != f.alpha.ID || rec.Actor != ch.Actor.Name ||
		before.State != simguard.SIMActive || after.State != simguard.SIMSuspended || before.Version != 1 || after.Version != 2 {
		t.Errorf("audit of SIM update: %+v, before %+v, after %+v", rec, before, after)
	}

	// The label index follows the change.
	for label, want := range map[string]int{"site=lyon": 1, "site": 1, "tier": 0} {
		l, err := f.s.ListSIMs(f.ctx, simguard.SIMFilter{TenantID: f.alpha.ID, Label: label})
		must(t, "ListSIMs", err)
		if len(l) != want {
			t.Errorf("label %q matches %d SIMs after update, want %d", label, len(l), want)
		}
	}

	// ifVersion 0 skips the check; each change adds one to Version.
	got, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, s.ID, 0, ch, func(s *simguard.SIM) error { s.Labels = nil; return nil })
	must(t, "UpdateSIM", err)
	if got.Version != 3 || got.Labels != nil {
		t.Errorf("second update: version %d labels %v", got.Version, got.Labels)
	}
	// A freed MSISDN can be taken by another SIM.
	_, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, s.ID, 0, ch, func(s *simguard.SIM) error { s.MSISDN = ""; return nil })
	must(t, "clear MSISDN", err)
	got, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, sims[1].ID, 0, ch, func(s *simguard.SIM) error { s.MSISDN = "+" + MSISDN(1); return nil })
	must(t, "take freed MSISDN", err)
	if got.MSISDN != MSISDN(1) {
		t.Errorf("MSISDN stored as %q, want it normalized", got.MSISDN)
	}
}

func testSIMUpdateRejects(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	sims := f.importSIMs(t, f.alpha.ID, SIMs(1, 3, "meters"))
	id := sims[0].ID
	ch := Change(f.alpha.ID, "sim.update")
	_, err := f.s.UpdateSIM(f.ctx, f.alpha.ID, sims[2].ID, 0, ch, func(s *simguard.SIM) error { s.State = simguard.SIMTerminated; return nil })
	must(t, "terminate", err)
	f.group(t, f.beta.ID, "beta-only")
	_, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, sims[1].ID, 0, ch, func(s *simguard.SIM) error { s.StaticIP = netip.MustParseAddr("10.250.0.2"); return nil })
	must(t, "give a static IP", err)
	head := f.head(t)
	noop := func(*simguard.SIM) error { return nil }
	cases := []struct {
		name    string
		tenant  int64
		id      int64
		version int64
		fn      func(*simguard.SIM) error
		code    string
		field   string
	}{
		{"stale version", f.alpha.ID, id, 2, noop, simguard.EPRECONDITION, "version"},
		{"other tenant", f.beta.ID, id, 0, noop, simguard.ENOTFOUND, ""},
		{"missing", f.alpha.ID, id + 1000, 0, noop, simguard.ENOTFOUND, ""},
		{"change ID", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.ID = 77; return nil }, simguard.EINVALID, "id"},
		{"change tenant", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.TenantID = f.beta.ID; return nil }, simguard.EINVALID, "tenant_id"},
		{"change ICCID", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.ICCID = ICCID(50); return nil }, simguard.EINVALID, "iccid"},
		{"change IMSI", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.IMSI = IMSI(50); return nil }, simguard.EINVALID, "imsi"},
		{"MSISDN taken", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.MSISDN = MSISDN(2); return nil }, simguard.ECONFLICT, "msisdn"},
		{"static IP taken", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.StaticIP = netip.MustParseAddr("10.250.0.2"); return nil }, simguard.ECONFLICT, "static_ip"},
		{"unknown group", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.Group = "nope"; return nil }, simguard.EINVALID, "group"},
		{"another tenant's group", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.Group = "beta-only"; return nil }, simguard.EINVALID, "group"},
		{"invalid state", f.alpha.ID, id, 0, func(s *simguard.SIM) error { s.State = "lost"; return nil }, simguard.EINVALID, "state"},
		{"invalid IMEI", f.alpha.ID, id, 0, func(s *simguard.SIM) error {
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: "12"}
			return nil
		}, simguard.EINVALID, "imei_lock.imei"},
		{"revive terminated", f.alpha.ID, sims[2].ID, 0, func(s *simguard.SIM) error { s.State = simguard.SIMActive; return nil }, simguard.ECONFLICT, "state"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.UpdateSIM(f.ctx, c.tenant, c.id, c.version, ch, c.fn)
			e := wantCode(t, c.name, err, c.code)
			if c.field != "" && e.Field != c.field {
				t.Errorf("error names field %q, want %q (%v)", e.Field, c.field, e)
			}
		})
	}
	sentinel := errors.New("policy check failed")
	_, err = f.s.UpdateSIM(f.ctx, f.alpha.ID, id, 0, ch, func(s *simguard.SIM) error { s.State = simguard.SIMSuspended; return sentinel })
	if err != sentinel {
		t.Errorf("fn error: UpdateSIM returned %v, want fn's error unchanged", err)
	}
	if h := f.head(t); h != head {
		t.Errorf("rejected updates wrote %d audit records", h-head)
	}
	s, err := f.s.GetSIM(f.ctx, f.alpha.ID, id)
	must(t, "GetSIM", err)
	if s.Version != 1 || s.State != simguard.SIMActive {
		t.Errorf("rejected updates changed the SIM: %+v", s)
	}
}

// testSIMConcurrentUpdate: of two writers holding the same version exactly
// one wins; writers without a version never lose an update.
func testSIMConcurrentUpdate(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	id := f.importSIMs(t, f.alpha.ID, SIMs(1, 1, "meters"))[0].ID
	ch := Change(f.alpha.ID, "sim.update")

	for round := 0; round < 5; round++ {
		s, err := f.s.GetSIM(f.ctx, f.alpha.ID, id)
		must(t, "GetSIM", err)
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				<-start
				_, errs[i] = f.s.UpdateSIM(f.ctx, f.alpha.ID, id, s.Version, ch, func(s *simguard.SIM) error {
					s.Labels = map[string]string{"writer": fmt.Sprint(i)}
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if simguard.ErrorCode(err) != simguard.EPRECONDITION {
				t.Fatalf("round %d: loser got %v, want EPRECONDITION", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, won, errs)
		}
	}

	before, err := f.s.GetSIM(f.ctx, f.alpha.ID, id)
	must(t, "GetSIM", err)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := f.s.UpdateSIM(f.ctx, f.alpha.ID, id, 0, ch, func(s *simguard.SIM) error {
				if s.Labels == nil {
					s.Labels = map[string]string{}
				}
				s.Labels[fmt.Sprintf("k%d", i)] = "v"
				return nil
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	after, err := f.s.GetSIM(f.ctx, f.alpha.ID, id)
	must(t, "GetSIM", err)
	if after.Version != before.Version+n {
		t.Errorf("version %d after %d updates from %d", after.Version, n, before.Version)
	}
	for i := range n {
		if _, ok := after.Labels[fmt.Sprintf("k%d", i)]; !ok {
			t.Errorf("update of writer %d was lost: labels %v", i, after.Labels)
		}
	}
}
