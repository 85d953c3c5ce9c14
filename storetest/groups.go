package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/simguard/simguard"
)

func testGroups(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	g, err := f.s.CreateGroup(f.ctx, simguard.Group{TenantID: f.alpha.ID, Name: "trackers", Description: "GPS",
		Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}, APNs: []string{"IoT.Example"}}}, Change(f.alpha.ID, "group.create"))
	must(t, "CreateGroup", err)
	if g.ID == 0 || g.Version != 1 || g.CreatedAt.IsZero() || g.Policy.APNs[0] != "iot.example" {
		t.Errorf("CreateGroup = %+v: want ID, version 1, times and a normalized policy", g)
	}
	rec := f.lastAudit(t)
	var after simguard.Group
	if err := json.Unmarshal(rec.After, &after); err != nil || after.Name != "trackers" || rec.Object != "group:trackers" || rec.TenantID != f.alpha.ID {
		t.Errorf("audit of group creation = %+v (%v)", rec, err)
	}

	cases := []struct {
		name string
		g    simguard.Group
		code string
	}{
		{"duplicate name", simguard.Group{TenantID: f.alpha.ID, Name: "meters"}, simguard.ECONFLICT},
		{"invalid name", simguard.Group{TenantID: f.alpha.ID, Name: "-x"}, simguard.EINVALID},
		{"invalid policy", simguard.Group{TenantID: f.alpha.ID, Name: "fax", Policy: simguard.Policy{Services: []simguard.Service{"fax"}}}, simguard.EINVALID},
		{"unknown tenant", simguard.Group{TenantID: f.beta.ID + 100, Name: "x"}, simguard.ENOTFOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.CreateGroup(f.ctx, c.g, Change(f.alpha.ID, "group.create"))
			wantCode(t, c.name, err, c.code)
		})
	}

	got, err := f.s.GetGroup(f.ctx, f.alpha.ID, "trackers")
	must(t, "GetGroup", err)
	if got.ID != g.ID || got.Description != "GPS" || len(got.Policy.Services) != 1 {
		t.Errorf("GetGroup = %+v, want %+v", got, g)
	}
	_, err = f.s.GetGroup(f.ctx, f.beta.ID, "trackers")
	wantCode(t, "another tenant's group", err, simguard.ENOTFOUND)

	list, err := f.s.ListGroups(f.ctx, f.beta.ID)
	must(t, "ListGroups", err)
	if len(list) != 1 || list[0].Name != "meters" || list[0].TenantID != f.beta.ID {
		t.Errorf("ListGroups(beta) = %+v, want only beta's meters", list)
	}
	var scanned []simguard.Group
	must(t, "ScanGroups", f.s.ScanGroups(f.ctx, func(g simguard.Group) error { scanned = append(scanned, g); return nil }))
	if len(scanned) != 4 {
		t.Errorf("ScanGroups saw %d groups, want 4 of both tenants", len(scanned))
	}
	stop := errors.New("stop")
	n := 0
	err = f.s.ScanGroups(f.ctx, func(simguard.Group) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ScanGroups with a failing fn: err %v after %d calls, want stop after 1", err, n)
	}
}

func testGroupUpdate(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	ch := Change(f.alpha.ID, "group.update")
	g, err := f.s.UpdateGroup(f.ctx, f.alpha.ID, "meters", 1, ch, func(g *simguard.Group) error {
		g.Description = "smart meters"
		g.Policy.Services = append(g.Policy.Services, simguard.ServiceSMSMO)
		return nil
	})
	must(t, "UpdateGroup", err)
	if g.Version != 2 || g.Description != "smart meters" || len(g.Policy.Services) != 2 {
		t.Errorf("UpdateGroup = %+v, want version 2 with the change", g)
	}
	rec := f.lastAudit(t)
	var before, after simguard.Group
	if json.Unmarshal(rec.Before, &before) != nil || json.Unmarshal(rec.After, &after) != nil ||
		before.Description != "" || after.Description != "smart meters" || before.Version != 1 || after.Version != 2 || rec.Action != "group.update" {
		t.Errorf("audit of group update: before %+v after %+v", before, after)
	}

	head := f.head(t)
	sentinel := errors.New("operator gave up")
	cases := []struct {
		name    string
		tenant  int64
		group   string
		version int64
		fn      func(*simguard.Group) error
		code    string
	}{
		{"stale version", f.alpha.ID, "meters", 1, func(*simguard.Group) error { return nil }, simguard.EPRECONDITION},
		{"missing", f.alpha.ID, "nope", 0, func(*simguard.Group) error { return nil }, simguard.ENOTFOUND},
		{"other tenant", f.beta.ID, "cameras", 0, func(*simguard.Group) error { return nil }, simguard.ENOTFOUND},
		{"change ID", f.alpha.ID, "meters", 0, func(g *simguard.Group) error { g.ID++; return nil }, simguard.EINVALID},
		{"change tenant", f.alpha.ID, "meters", 0, func(g *simguard.Group) error { g.TenantID = f.beta.ID; return nil }, simguard.EINVALID},
		{"invalid policy", f.alpha.ID, "meters", 0, func(g *simguard.Group) error { g.Policy.RATs = []simguard.RAT{"7g"}; return nil }, simguard.EINVALID},
		{"rename to taken name", f.alpha.ID, "meters", 0, func(g *simguard.Group) error { g.Name = "cameras"; return nil }, simguard.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.UpdateGroup(f.ctx, c.tenant, c.group, c.version, ch, c.fn)
			wantCode(t, c.name, err, c.code)
		})
	}
	_, err = f.s.UpdateGroup(f.ctx, f.alpha.ID, "meters", 0, ch, func(*simguard.Group) error { return sentinel })
	if err != sentinel {
		t.Errorf("fn error: UpdateGroup returned %v, want fn's error unchanged", err)
	}
	if h := f.head(t); h != head {
		t.Errorf("failed updates wrote %d audit records", h-head)
	}
	if g, _ := f.s.GetGroup(f.ctx, f.alpha.ID, "meters"); g.Version != 2 {
		t.Errorf("failed updates changed the group to version %d", g.Version)
	}

	// A rename carries the group's SIMs along.
	f.importSIMs(t, f.alpha.ID, SIMs(1, 2, "meters"))
	g, err = f.s.UpdateGroup(f.ctx, f.alpha.ID, "meters", 2, ch, func(g *simguard.Group) error { g.Name = "power-meters"; return nil })
	must(t, "rename", err)
	s, err := f.s.FindSIM(f.ctx, f.alpha.ID, ICCID(1))
	must(t, "FindSIM", err)
	if s.Group != "power-meters" || g.Version != 3 {
		t.Errorf("after rename: SIM group %q, group version %d", s.Group, g.Version)
	}
}

func testGroupDelete(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	ch := Change(f.alpha.ID, "group.delete")
	f.importSIMs(t, f.alpha.ID, SIMs(1, 1, "meters"))
	err := f.s.DeleteGroup(f.ctx, f.alpha.ID, "meters", 0, ch)
	wantCode(t, "group with SIMs", err, simguard.ECONFLICT)
	err = f.s.DeleteGroup(f.ctx, f.alpha.ID, "cameras", 7, ch)
	wantCode(t, "stale version", err, simguard.EPRECONDITION)
	err = f.s.DeleteGroup(f.ctx, f.beta.ID, "cameras", 0, ch)
	wantCode(t, "other tenant's group", err, simguard.ENOTFOUND)
	must(t, "DeleteGroup", f.s.DeleteGroup(f.ctx, f.alpha.ID, "cameras", 1, ch))
	_, err = f.s.GetGroup(f.ctx, f.alpha.ID, "cameras")
	wantCode(t, "deleted group", err, simguard.ENOTFOUND)
	rec := f.lastAudit(t)
	if rec.Action != "group.delete" || rec.Object != "group:cameras" || rec.Before == nil || rec.After != nil {
		t.Errorf("audit of deletion = %+v", rec)
	}
}
