package http_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/scan"
)

// startAuditor connects a real fleet auditor (scan.Queue) for loopback.
func (a *api) startAuditor() {
	a.t.Helper()
	inv := scan.NewPolicyInventory(func() *policy.Snapshot { return a.svc.Policy().Snapshot() }, nil)
	s, err := scan.New(scan.Config{
		AuditRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Rate: 100000,
		ConnectTimeout: time.Second, BannerWait: 200 * time.Millisecond, ProbeTimeout: 2 * time.Second,
	}, scan.Deps{Store: a.svc.Store(), Inventory: inv, Fleet: inv})
	if err != nil {
		a.t.Fatal(err)
	}
	q, err := scan.NewQueue(s, 4)
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	a.t.Cleanup(func() { stop(); <-done })
	a.svc.SetScanRunner(q)
}

func port(s string) uint16 {
	_, p, _ := net.SplitHostPort(s)
	n, _ := strconv.Atoi(p)
	return uint16(n)
}

func TestScanAPI(t *testing.T) {
	a := newAPI(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "meter ui") }))
	defer web.Close()
	webPort := port(web.Listener.Addr().String())
	stray, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	go func() {
		for {
			c, err := stray.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	strayPort := port(stray.Addr().String())

	// A group that lets the operators' network reach the web UI, and a
	// meter at 127.0.0.1.
	r := a.call(a.admin, "POST", "/api/v1/groups", map[string]any{"name": "meters", "policy": map[string]any{
		"services": []string{"data"},
		"inbound":  []map[string]any{{"cidr": "192.0.2.0/24", "proto": "tcp", "ports": []string{fmt.Sprint(webPort)}}},
	}})
	if r.status != 201 {
		t.Fatalf("group: %d %s", r.status, r.body)
	}
	r = a.call(a.admin, "POST", "/api/v1/sims", map[string]any{"iccid": demo.ICCID(0), "imsi": demo.IMSI(0),
		"group": "meters", "state": "active", "static_ip": "127.0.0.1"})
	if r.status != 201 {
		t.Fatalf("sim: %d %s", r.status, r.body)
	}
	auditor := a.token(0, "auditor")
	body := map[string]any{"targets": []string{"127.0.0.1"}, "ports": fmt.Sprintf("%d,%d", webPort, strayPort)}

	if r := a.call(a.admin, "POST", "/api/v1/scans", body); r.status != 409 {
		t.Fatalf("scan without an auditor: %d %s", r.status, r.body)
	}
	a.startAuditor()
	for _, c := range []struct {
		name   string
		token  string
		body   any
		status int
		field  string
	}{
		{"outside the audit ranges", a.admin, map[string]any{"targets": []string{"192.0.2.1"}}, 400, "targets[0]"},
		{"bad ports", a.admin, map[string]any{"targets": []string{"127.0.0.1"}, "ports": "0-9"}, 400, "ports"},
		{"unknown field", a.admin, map[string]any{"targets": []string{"127.0.0.1"}, "port": "22"}, 400, "port"},
		{"unknown group", a.admin, map[string]any{"group": "nope"}, 400, "group"},
		{"auditor", auditor, body, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := a.call(c.token, "POST", "/api/v1/scans", c.body)
			var e struct{ Error struct{ Field string } }
			r.decode(t, &e)
			if r.status != c.status || e.Error.Field != c.field {
				t.Fatalf("%d %s, want %d on field %q", r.status, r.body, c.status, c.field)
			}
		})
	}

	r = a.call(a.admin, "POST", "/api/v1/scans", body)
	var run simguard.ScanRun
	r.decode(t, &run)
	if r.status != 202 || run.Status != simguard.ScanQueued || r.header.Get("Location") != "/api/v1/scans/"+fmt.Sprint(run.ID) {
		t.Fatalf("start: %d %s (Location %q)", r.status, r.body, r.header.Get("Location"))
	}
	var rep simguard.ScanReport
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.call(auditor, "GET", "/api/v1/scans/"+fmt.Sprint(run.ID), nil).decode(t, &rep)
		if rep.Run.Status != simguard.ScanQueued && rep.Run.Status != simguard.ScanRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Run.Status != simguard.ScanDone || len(rep.Findings) != 2 || rep.Summary.Findings != 2 {
		t.Fatalf("report: %+v", rep)
	}
	byPort := map[uint16]simguard.Finding{}
	for _, f := range rep.Findings {
		byPort[f.Port] = f
	}
	ui, unknown := byPort[webPort], byPort[strayPort]
	if ui.Service != "http" || !ui.Plaintext || ui.Compliant || ui.SIMID == 0 || ui.Remediation == nil || !slices.Equal(ui.Remediation.AllowedBy, []int{0}) ||
		ui.State != simguard.FindingOpen {
		t.Errorf("web UI finding: %+v", ui)
	}
	if !unknown.HasIssue(simguard.IssuePortNotAllowed) || unknown.Remediation == nil || len(unknown.Remediation.AllowedBy) != 0 {
		t.Errorf("stray port finding: %+v", unknown)
	}

	r = a.call(auditor, "GET", "/api/v1/scans/"+fmt.Sprint(run.ID)+"/report.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || err != nil || len(rows) != 3 ||
		!slices.Equal(rows[0], simguard.FindingsCSVHeader) {
		t.Fatalf("report.csv: %d %q %v\n%s", r.status, r.header.Get("Content-Type"), err, r.body)
	}
	var runs struct{ Items []simguard.ScanRun }
	a.call(auditor, "GET", "/api/v1/scans?limit=5", nil).decode(t, &runs)
	if len(runs.Items) != 1 || runs.Items[0].ID != run.ID {
		t.Fatalf("runs: %+v", runs)
	}
	var page struct {
		Items     []simguard.Finding
		NextAfter int64 `json:"next_after"`
	}
	a.call(auditor, "GET", "/api/v1/findings?state=open&severity=medium&sim="+demo.IMSI(0)+"&limit=1", nil).decode(t, &page)
	if len(page.Items) != 1 || page.NextAfter == 0 {
		t.Fatalf("findings page: %+v", page)
	}
	for _, q := range []string{"severity=urgent", "state=gone", "kind=x%25", "target=nope", "limit=0x"} {
		if r := a.call(auditor, "GET", "/api/v1/findings?"+q, nil); r.status != 400 {
			t.Errorf("findings?%s: %d %s", q, r.status, r.body)
		}
	}
	for _, p := range []string{"/api/v1/scans/abc", "/api/v1/scans/999", "/api/v1/findings/999", "/api/v1/scans/999/report.csv"} {
		if r := a.call(auditor, "GET", p, nil); r.status != 404 {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}

	// Close the web UI's port: the inbound rule that allowed it goes.
	path := "/api/v1/findings/" + fmt.Sprint(ui.ID) + "/remediate"
	if r := a.call(auditor, "POST", path, nil); r.status != 403 {
		t.Fatalf("auditor remediation: %d", r.status)
	}
	r = a.call(a.admin, "POST", path, nil)
	if r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("remediate: %d %s", r.status, r.body)
	}
	var g simguard.Group
	a.call(auditor, "GET", "/api/v1/groups/meters", nil).decode(t, &g)
	if g.Version != 2 || len(g.Policy.Inbound) != 0 {
		t.Fatalf("group after remediation: %+v", g)
	}
	if r := a.call(a.admin, "POST", path, nil); r.status != 412 {
		t.Fatalf("remediating with a stale version: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "POST", path, nil, "If-Match", `"2"`); r.status != 409 {
		t.Fatalf("remediating a closed port: %d %s", r.status, r.body)
	}
	var audits struct{ Items []simguard.AuditRecord }
	a.call(auditor, "GET", "/api/v1/audit?action=group.remediate", nil).decode(t, &audits)
	if len(audits.Items) != 1 || audits.Items[0].Object != "group:meters" || !strings.Contains(audits.Items[0].Actor, "bootstrap-admin") {
		t.Fatalf("audit: %+v", audits)
	}
	a.call(auditor, "GET", "/api/v1/audit?action=scan.start", nil).decode(t, &audits)
	if len(audits.Items) != 1 || audits.Items[0].Object != "scan:"+fmt.Sprint(run.ID) {
		t.Fatalf("audit of the scan: %+v", audits)
	}
}

// A tenant's scan reaches only its own SIMs: another tenant's address is
// refused with 403 naming it, a CIDR is narrowed to the tenant's own.
func TestScanAPITenantConfined(t *testing.T) {
	a := newAPI(t)
	a.startAuditor()
	r := a.call(a.admin, "POST", "/api/v1/tenants", map[string]string{"name": "acme"})
	var tenant simguard.Tenant
	r.decode(t, &tenant)
	if r.status != 201 {
		t.Fatalf("tenant: %d %s", r.status, r.body)
	}
	acme := a.token(tenant.ID, "admin")
	group := map[string]any{"name": "meters", "policy": map[string]any{"services": []string{"data"}}}
	for _, tok := range []string{a.admin, acme} {
		if r := a.call(tok, "POST", "/api/v1/groups", group); r.status != 201 {
			t.Fatalf("group: %d %s", r.status, r.body)
		}
	}
	for i, c := range []struct{ token, ip string }{{a.admin, "127.0.0.1"}, {acme, "127.0.0.2"}} {
		r := a.call(c.token, "POST", "/api/v1/sims", map[string]any{"iccid": demo.ICCID(i), "imsi": demo.IMSI(i),
			"group": "meters", "state": "active", "static_ip": c.ip})
		if r.status != 201 {
			t.Fatalf("sim: %d %s", r.status, r.body)
		}
	}
	for _, c := range []struct {
		name, token string
		targets     []string
		status      int
		field, addr string
	}{
		{"another tenant's SIM", acme, []string{"127.0.0.1"}, 403, "targets[0]", "127.0.0.1"},
		{"nobody's address", acme, []string{"127.0.0.2", "127.0.0.5"}, 403, "targets[1]", "127.0.0.5"},
		{"outside the ranges", acme, []string{"192.0.2.1"}, 400, "targets[0]", "192.0.2.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := a.call(c.token, "POST", "/api/v1/scans", map[string]any{"targets": c.targets, "ports": "1"})
			var e struct {
				Error struct{ Field, Message string }
			}
			r.decode(t, &e)
			if r.status != c.status || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.addr) {
				t.Fatalf("%d %s, want %d on %s naming %s", r.status, r.body, c.status, c.field, c.addr)
			}
		})
	}
	var run simguard.ScanRun
	r = a.call(acme, "POST", "/api/v1/scans", map[string]any{"targets": []string{"127.0.0.0/30"}, "ports": "1"})
	r.decode(t, &run)
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}; r.status != 202 || !slices.Equal(run.Targets, want) || run.Stats.Narrowed != 1 {
		t.Fatalf("tenant's CIDR scan: %d %s; want targets %v, narrowed 1", r.status, r.body, want)
	}
	r = a.call(a.admin, "POST", "/api/v1/scans", map[string]any{"targets": []string{"127.0.0.0/30"}, "ports": "1"})
	r.decode(t, &run)
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}; r.status != 202 || !slices.Equal(run.Targets, want) {
		t.Fatalf("provider admin's CIDR scan: %d %s; want targets %v", r.status, r.body, want)
	}
}
