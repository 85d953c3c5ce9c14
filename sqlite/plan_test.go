package sqlite

import (
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// TestListSIMsPlans guards the query plans that keep ListSIMs fast on a
// million SIMs: every filter is answered from an index, in ID order,
// without scanning the table or sorting.
func TestListSIMsPlans(t *testing.T) {
	db := openTest(t, Options{})
	cases := []struct {
		name   string
		filter simguard.SIMFilter
		index  string // an index the plan must use
	}{
		{"tenant", simguard.SIMFilter{TenantID: 1}, "sims_tenant"},
		{"state", simguard.SIMFilter{TenantID: 1, State: simguard.SIMActive}, "sims_tenant_state"},
		{"group", simguard.SIMFilter{TenantID: 1, Group: "meters"}, "sims_group"},
		{"label key", simguard.SIMFilter{TenantID: 1, Label: "site"}, "sim_labels_key"},
		{"label key after ID", simguard.SIMFilter{TenantID: 1, Label: "site", AfterID: 100}, "sim_labels_key"},
		{"label key=value", simguard.SIMFilter{TenantID: 1, Label: "site=berlin"}, "sim_labels_kv"},
		{"query", simguard.SIMFilter{TenantID: 1, Query: "894900"}, "sims_imei"},
		{"query after ID", simguard.SIMFilter{TenantID: 1, Query: "894900", AfterID: 100}, "sqlite_autoindex_sims_1"},
		{"state and label", simguard.SIMFilter{TenantID: 1, State: simguard.SIMActive, Label: "site=x"}, "sim_labels_kv"},
		{"label and query", simguard.SIMFilter{TenantID: 1, Label: "site", Query: "4917"}, "sim_labels_key"},
		{"page", simguard.SIMFilter{TenantID: 1, AfterID: 100}, "sims_tenant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, args, err := listSIMsQuery(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			for _, line := range plan {
				if strings.HasPrefix(line, "SCAN ") || strings.Contains(line, "TEMP B-TREE") {
					t.Errorf("plan scans or sorts: %q\n%s", line, text)
				}
			}
			if !strings.Contains(text, c.index) {
				t.Errorf("plan does not use %s:\n%s", c.index, text)
			}
		})
	}
}
