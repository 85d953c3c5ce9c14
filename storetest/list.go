package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// listData imports 24 SIMs into alpha with a spread of states, groups,
// labels and IMEIs, and 3 into beta that no alpha filter may return.
func listData(t *testing.T, f *fixture) []simguard.SIM {
	in := SIMs(100, 24, "meters")
	states := []simguard.SIMState{simguard.SIMActive, simguard.SIMInventory, simguard.SIMSuspended, simguard.SIMTerminated}
	for i := range in {
		in[i].State = states[i%4]
		if i%3 == 0 {
			in[i].Group = "cameras"
		}
		switch i % 5 {
		case 0:
			in[i].Labels = map[string]string{"site": "berlin"}
		case 1:
			in[i].Labels = map[string]string{"site": "paris", "tier": "gold"}
		case 2:
			in[i].Labels = map[string]string{"tier": "silver"}
		}
		if i%4 == 1 {
			in[i].IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: fmt.Sprintf("352099%08d", i)}
		}
		if i%6 == 5 {
			in[i].MSISDN = ""
		}
	}
	got := f.importSIMs(t, f.alpha.ID, in)
	other := SIMs(200, 3, "meters")
	other[0].Labels = map[string]string{"site": "berlin"}
	f.importSIMs(t, f.beta.ID, other)
	return got
}

func testSIMList(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	all := listData(t, f)
	s5 := all[5]
	cases := []struct {
		name   string
		filter simguard.SIMFilter
		want   func(s simguard.SIM) bool
	}{
		{"all", simguard.SIMFilter{}, func(simguard.SIM) bool { return true }},
		{"state", simguard.SIMFilter{State: simguard.SIMSuspended}, func(s simguard.SIM) bool { return s.State == simguard.SIMSuspended }},
		{"group", simguard.SIMFilter{Group: "cameras"}, func(s simguard.SIM) bool { return s.Group == "cameras" }},
		{"unknown group", simguard.SIMFilter{Group: "nope"}, func(simguard.SIM) bool { return false }},
		{"label key", simguard.SIMFilter{Label: "tier"}, func(s simguard.SIM) bool { _, ok := s.Labels["tier"]; return ok }},
		{"label key=value", simguard.SIMFilter{Label: "site=berlin"}, func(s simguard.SIM) bool { return s.Labels["site"] == "berlin" }},
		{"label empty value", simguard.SIMFilter{Label: "site="}, func(s simguard.SIM) bool { v, ok := s.Labels["site"]; return ok && v == "" }},
		{"query ICCID prefix", simguard.SIMFilter{Query: ICCID(110)[:17]}, func(s simguard.SIM) bool { return strings.HasPrefix(s.ICCID, ICCID(110)[:17]) }},
		{"query full IMSI", simguard.SIMFilter{Query: s5.IMSI}, func(s simguard.SIM) bool { return s.ID == s5.ID }},
		{"query MSISDN with +", simguard.SIMFilter{Query: "+" + all[4].MSISDN}, func(s simguard.SIM) bool { return s.ID == all[4].ID }},
		{"query IMEI prefix", simguard.SIMFilter{Query: "352099"}, func(s simguard.SIM) bool { return strings.HasPrefix(s.IMEILock.IMEI, "352099") }},
		{"query IMEI with check digit", simguard.SIMFilter{Query: simguard.IMEIWithCheckDigit(all[5].IMEILock.IMEI)}, func(s simguard.SIM) bool { return s.ID == all[5].ID }},
		{"state and group and label", simguard.SIMFilter{State: simguard.SIMActive, Group: "cameras", Label: "site"}, func(s simguard.SIM) bool {
			_, ok := s.Labels["site"]
			return s.State == simguard.SIMActive && s.Group == "cameras" && ok
		}},
		{"after ID", simguard.SIMFilter{AfterID: all[20].ID}, func(s simguard.SIM) bool { return s.ID > all[20].ID }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.filter.TenantID = f.alpha.ID
			got, err := f.s.ListSIMs(f.ctx, c.filter)
			must(t, "ListSIMs", err)
			var want []int64
			for _, s := range all {
				if c.want(s) {
					want = append(want, s.ID)
				}
			}
			if ids := simIDs(got); !slices.Equal(ids, want) {
				t.Errorf("ListSIMs(%+v) = %v, want %v", c.filter, ids, want)
			}
		})
	}
	// Beta sees only its own.
	got, err := f.s.ListSIMs(f.ctx, simguard.SIMFilter{TenantID: f.beta.ID, Label: "site=berlin"})
	must(t, "ListSIMs beta", err)
	if len(got) != 1 || got[0].TenantID != f.beta.ID {
		t.Errorf("beta's label filter returned %+v", got)
	}
}

func simIDs(sims []simguard.SIM) []int64 {
	var ids []int64
	for _, s := range sims {
		ids = append(ids, s.ID)
	}
	return ids
}

func testSIMListPaging(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	f.importSIMs(t, f.alpha.ID, SIMs(1, 250, "meters"))
	var seen []int64
	after := int64(0)
	for page := 0; ; page++ {
		got, err := f.s.ListSIMs(f.ctx, simguard.SIMFilter{TenantID: f.alpha.ID, AfterID: after, Limit: 100})
		must(t, "ListSIMs", err)
		if page > 3 {
			t.Fatalf("paging did not end after %d pages", page)
		}
		if len(got) == 0 {
			break
		}
		if want := min(100, 250-len(seen)); len(got) != want {
			t.Errorf("page %d has %d SIMs, want %d", page, len(got), want)
		}
		seen = append(seen, simIDs(got)...)
		after = got[len(got)-1].ID
	}
	if len(seen) != 250 || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != 250 {
		t.Errorf("paging saw %d SIMs (sorted %v)", len(seen), slices.IsSorted(seen))
	}
	for _, c := range []struct {
		limit, want int
	}{{0, 100}, {-5, 100}, {1, 1}, {20000, 250}} {
		got, err := f.s.ListSIMs(f.ctx, simguard.SIMFilter{TenantID: f.alpha.ID, Limit: c.limit})
		must(t, "ListSIMs", err)
		if len(got) != c.want {
			t.Errorf("Limit %d returned %d SIMs, want %d", c.limit, len(got), c.want)
		}
	}
}

// testSIMListHostile feeds filter inputs an attacker would try: they must
// be refused or match nothing, and leave the data as it was.
func testSIMListHostile(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	listData(t, f)
	cases := []struct {
		name   string
		filter simguard.SIMFilter
		code   string // "" when the filter is valid and must match nothing
	}{
		{"quote in label value", simguard.SIMFilter{Label: "site=berlin' OR '1'='1"}, ""},
		{"comment in label value", simguard.SIMFilter{Label: "site=x'); DROP TABLE sims; --"}, ""},
		{"wildcard in label value", simguard.SIMFilter{Label: "site=%"}, ""},
		{"quote in label key", simguard.SIMFilter{Label: "site' OR 1=1 --"}, simguard.EINVALID},
		{"empty label key", simguard.SIMFilter{Label: "=berlin"}, simguard.EINVALID},
		{"SQL in query", simguard.SIMFilter{Query: "1' OR '1'='1"}, simguard.EINVALID},
		{"wildcard query", simguard.SIMFilter{Query: "%"}, simguard.EINVALID},
		{"unknown state", simguard.SIMFilter{State: "active' OR 1=1 --"}, simguard.EINVALID},
		{"SQL in group", simguard.SIMFilter{Group: "x' OR 1=1 --"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.filter.TenantID = f.alpha.ID
			got, err := f.s.ListSIMs(f.ctx, c.filter)
			if c.code != "" {
				wantCode(t, c.name, err, c.code)
				return
			}
			must(t, c.name, err)
			if len(got) != 0 {
				t.Errorf("hostile filter %+v matched %d SIMs", c.filter, len(got))
			}
		})
	}
	got, err := f.s.ListSIMs(f.ctx, simguard.SIMFilter{TenantID: f.alpha.ID, Limit: 1000})
	must(t, "ListSIMs", err)
	if len(got) != 24 {
		t.Errorf("after hostile filters alpha has %d SIMs, want 24", len(got))
	}
}
