package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/storetest"
)

// FuzzListSIMs feeds arbitrary label, query, group and state filters to
// ListSIMs over a small known inventory. Every answer must be either
// EINVALID (with a message free of SQL) or exactly the SIMs a plain Go
// reference filter selects: hostile input can neither widen a result,
// reach another tenant, nor change the data.
func FuzzListSIMs(f *testing.F) {
	for _, s := range []struct{ label, query, group, state string }{
		{"site", "", "", ""},
		{"site=berlin", "8949", "meters", "active"},
		{"site=berlin' OR '1'='1", "", "", ""},
		{"x'); DROP TABLE sims; --", "1' OR 1=1 --", "' OR ''='", "active' --"},
		{"note=a=b", "+4917", "", ""},
		{"note=O'Brien", "", "", ""},
		{"site=%", "%", "%", "%"},
		{"=", "++1", "", "inventory"},
		{"site=\x00", "49170000000\x00", "meters\x00", ""},
		{"", "352099000000001", "", ""},
	} {
		f.Add(s.label, s.query, s.group, s.state)
	}
	db, err := Open(f.Context(), filepath.Join(f.TempDir(), "fuzz.db"), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	all := fuzzInventory(f, db)

	f.Fuzz(func(t *testing.T, label, query, group, state string) {
		filter := simguard.SIMFilter{TenantID: 1, Label: label, Query: query, Group: group, State: simguard.SIMState(state)}
		got, err := db.ListSIMs(t.Context(), filter)
		want, valid := referenceFilter(all, filter)
		if !valid {
			if simguard.ErrorCode(err) != simguard.EINVALID {
				t.Fatalf("ListSIMs(%#v) = %d SIMs, %v; want EINVALID", filter, len(got), err)
			}
			if msg := strings.ToLower(simguard.ErrorMessage(err)); strings.Contains(msg, "select") || strings.Contains(msg, "sqlite") {
				t.Fatalf("error message shows internals: %q", msg)
			}
			return
		}
		if err != nil {
			t.Fatalf("ListSIMs(%#v): %v", filter, err)
		}
		if ids := simIDList(got); !slices.Equal(ids, want) {
			t.Fatalf("ListSIMs(%#v) = %v, want %v", filter, ids, want)
		}
	})
}

// fuzzInventory imports SIMs with ordinary and awkward labels into tenant
// 1, and one SIM into tenant 2 that no filter of tenant 1 may return.
func fuzzInventory(f *testing.F, db *DB) []simguard.SIM {
	ch := storetest.Change(1, "fuzz")
	for _, name := range []string{"one", "two"} {
		if _, err := db.CreateTenant(f.Context(), name, ch); err != nil {
			f.Fatal(err)
		}
	}
	for _, tg := range []struct {
		tenant int64
		name   string
	}{{1, "meters"}, {1, "cameras"}, {2, "meters"}} {
		if _, err := db.CreateGroup(f.Context(), simguard.Group{TenantID: tg.tenant, Name: tg.name}, ch); err != nil {
			f.Fatal(err)
		}
	}
	sims := storetest.SIMs(1, 12, "meters")
	labels := []map[string]string{{"site": "berlin"}, {"site": "paris", "note": "a=b"}, {"note": "O'Brien"}, {"site": ""}, nil}
	for i := range sims {
		sims[i].Labels = labels[i%len(labels)]
		sims[i].State = []simguard.SIMState{simguard.SIMActive, simguard.SIMInventory, simguard.SIMSuspended}[i%3]
		if i%2 == 1 {
			sims[i].Group = "cameras"
		}
		if i%4 == 0 {
			sims[i].IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: "3520990000000" + string(rune('0'+i%10))}
		}
	}
	if err := db.CreateSIMs(f.Context(), 1, sims, ch); err != nil {
		f.Fatal(err)
	}
	other := storetest.SIMs(100, 1, "meters")
	other[0].Labels = map[string]string{"site": "berlin"}
	if err := db.CreateSIMs(f.Context(), 2, other, ch); err != nil {
		f.Fatal(err)
	}
	all, err := db.ListSIMs(f.Context(), simguard.SIMFilter{TenantID: 1})
	if err != nil || len(all) != len(sims) {
		f.Fatalf("inventory: %d SIMs, %v", len(all), err)
	}
	return all
}

// referenceFilter is ListSIMs written plainly: which of all match f, and
// whether f is valid at all.
func referenceFilter(all []simguard.SIM, f simguard.SIMFilter) ([]int64, bool) {
	key, value, hasValue := strings.Cut(f.Label, "=")
	if f.Label != "" && (key == "" || len(key) > 63 || !labelKeyChars(key) || len(value) > 255) {
		return nil, false
	}
	if f.State != "" && !f.State.Valid() {
		return nil, false
	}
	q := strings.TrimPrefix(strings.TrimSpace(f.Query), "+")
	if f.Query != "" && (q == "" || len(q) > 20 || strings.Trim(q, "0123456789") != "") {
		return nil, false
	}
	var ids []int64
	for _, s := range all {
		if f.State != "" && s.State != f.State || f.Group != "" && s.Group != f.Group {
			continue
		}
		if f.Label != "" {
			v, ok := s.Labels[key]
			if !ok || hasValue && v != value {
				continue
			}
		}
		if f.Query != "" {
			imeiQ := q
			if len(q) > 14 {
				imeiQ = q[:14]
			}
			if !strings.HasPrefix(s.ICCID, q) && !strings.HasPrefix(s.IMSI, q) && !(s.MSISDN != "" && strings.HasPrefix(s.MSISDN, q)) &&
				!(s.IMEILock.IMEI != "" && strings.HasPrefix(s.IMEILock.IMEI, imeiQ)) {
				continue
			}
		}
		ids = append(ids, s.ID)
	}
	return ids, true
}

func simIDList(sims []simguard.SIM) []int64 {
	var ids []int64
	for _, s := range sims {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestParseLabelFilter(t *testing.T) {
	cases := []struct {
		in       string
		key, val string
		hasValue bool
		ok       bool
	}{
		{"site", "site", "", false, true},
		{"site=berlin", "site", "berlin", true, true},
		{"site=", "site", "", true, true},
		{"note=a=b", "note", "a=b", true, true},
		{"k.e-y_1=v", "k.e-y_1", "v", true, true},
		{"", "", "", false, false},
		{"=v", "", "", false, false},
		{"si te=x", "", "", false, false},
		{"site'--", "", "", false, false},
		{strings.Repeat("k", 64), "", "", false, false},
		{"k=" + strings.Repeat("v", 256), "", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			l, err := parseLabelFilter(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("parseLabelFilter(%q) err = %v, want ok=%v", c.in, err, c.ok)
			}
			if !c.ok {
				if e, _ := err.(*simguard.Error); e == nil || e.Code != simguard.EINVALID || e.Field != "label" {
					t.Errorf("error %v: want EINVALID naming label", err)
				}
				return
			}
			if l.key != c.key || l.value != c.val || l.hasValue != c.hasValue {
				t.Errorf("parseLabelFilter(%q) = %+v", c.in, l)
			}
		})
	}
}
