package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// exposureFixture is a console whose smart-meters group lets
// 192.0.2.0/28 in on tcp 22, 23 and 8080, and a finished scan that found
// on SIM 1's static IP: Telnet with a default login (critical), plain
// HTTP (medium) and SSH (info, compliant); and Telnet on an address of no
// SIM.
type exposureFixture struct {
	*env
	sim                            simguard.SIM
	run                            simguard.ScanRun
	telnet, http, ssh, orphan, grp int64
}

func newExposureFixture(t *testing.T, edit ...func(*Config)) *exposureFixture {
	t.Helper()
	e := newEnv(t, edit...)
	admin := e.actor(e.admin)
	g, err := e.svc.GetGroup(admin, "smart-meters")
	if err != nil {
		t.Fatal(err)
	}
	g.Policy.Inbound = []simguard.FlowRule{{CIDR: netip.MustParsePrefix("192.0.2.0/28"), Proto: "tcp",
		Ports: []simguard.PortRange{{From: 22, To: 23}, {From: 8080, To: 8080}}}}
	if g, _, err = e.svc.ApplyGroup(admin, g, g.Version); err != nil {
		t.Fatal(err)
	}
	f := &exposureFixture{env: e, sim: e.sim(1), grp: g.Version}
	at := e.clock.now()
	open := func(port uint16, service string) simguard.Finding {
		return simguard.Finding{SIMID: f.sim.ID, Group: "smart-meters", Target: f.sim.StaticIP, Proto: "tcp", Port: port,
			Service: service, Severity: simguard.SeverityInfo, Compliant: true, FirstSeen: at, LastSeen: at}
	}
	closeIt := func(x *simguard.Finding) {
		x.Compliant = false
		x.Remediation = &simguard.Remediation{Action: "close_port", Group: "smart-meters", Proto: x.Proto, Port: x.Port,
			AllowedBy: []int{0}, GroupVersion: g.Version}
	}
	telnet := open(23, "telnet")
	telnet.Plaintext, telnet.Banner = true, "BusyBox v1.31 login: "
	telnet.Credentials = []simguard.Credential{{Service: "telnet", Method: "login", Username: "root", ListEntry: "builtin:3"}}
	telnet.AddIssue(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "telnet sends user names, passwords and sessions in clear text; use SSH")
	telnet.AddIssue(simguard.IssueDefaultCredential, simguard.SeverityCritical, "a vendor default login works")
	closeIt(&telnet)
	web := open(8080, "http")
	web.Plaintext, web.Product = true, "lighttpd/1.4"
	web.AddIssue(simguard.IssuePlaintextProtocol, simguard.SeverityMedium, "http/tcp carries device data unencrypted")
	closeIt(&web)
	ssh := open(22, "ssh")
	ssh.Product = "OpenSSH_9.2p1"
	orphan := open(2323, "telnet")
	orphan.SIMID, orphan.Group, orphan.Target, orphan.Plaintext = 0, "", netip.MustParseAddr("10.99.0.1"), true
	orphan.AddIssue(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "telnet in clear text")
	f.run = e.recordScan(at, ssh, telnet, web, orphan)
	fs, err := e.svc.FindFindings(admin, simguard.FindingFilter{ScanID: f.run.ID})
	if err != nil || len(fs) != 4 {
		t.Fatalf("findings: %+v, %v", fs, err)
	}
	f.ssh, f.telnet, f.http, f.orphan = fs[0].ID, fs[1].ID, fs[2].ID, fs[3].ID
	return f
}

// recordScan stores a finished run of the provider tenant.
func (e *env) recordScan(at time.Time, findings ...simguard.Finding) simguard.ScanRun {
	e.t.Helper()
	ctx := context.Background()
	run, err := e.db.CreateScanRun(ctx, simguard.ScanRun{TenantID: simguard.ProviderTenantID, Scope: "adhoc", Actor: "alice", StartedAt: at,
		Targets:  []netip.Prefix{netip.MustParsePrefix("10.64.0.0/24"), netip.MustParsePrefix("10.99.0.0/24")},
		TCPPorts: []simguard.PortRange{{From: 1, To: 65535}}, Credentials: true, Status: simguard.ScanRunning},
		simguard.Change{Actor: simguard.SystemActor(simguard.ProviderTenantID, "alice"), Action: "scan.start"})
	if err != nil {
		e.t.Fatal(err)
	}
	run.Status, run.FinishedAt = simguard.ScanDone, at.Add(time.Minute)
	run.Stats = simguard.ScanStats{Hosts: 2, Probes: 131070, OpenPorts: len(findings), Attempts: 3}
	if err := e.db.FinishScanRun(ctx, run, findings); err != nil {
		e.t.Fatal(err)
	}
	return run
}

// findingIDs returns the IDs of the findings rows of a page, in order.
func findingIDs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr id="finding-(\d+)">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestExposureBeforeAnyScan(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	r := b.get("/console/exposure")
	checkPage(t, "exposure", r)
	wantContains(t, "exposure without scans", r.body, `id="auditor-off"`, "--scan --scan-audit-range CIDR", `id="no-scans"`, "No finding.")
	if d := b.overview(); d.Exposure != nil {
		t.Errorf("an exposure card before any scan: %+v", d.Exposure)
	}
	if strings.Contains(b.get("/console/").body, "panel-exposure") {
		t.Error("the overview shows the exposure card before any scan")
	}
	if strings.Contains(b.get("/console/sims/"+e.sim(1).ICCID).body, "panel-sim-findings") {
		t.Error("the SIM page shows a findings panel with no finding and no auditor")
	}
	if !strings.Contains(b.get("/console/").body, `href="/console/exposure"`) {
		t.Error("no Exposure entry in the navigation")
	}
}

func TestExposurePage(t *testing.T) {
	f := newExposureFixture(t)
	b := f.browser()
	b.login(f.token(simguard.RoleOperator))
	id := func(n int64) string { return itoa(n) }

	r := b.get("/console/exposure")
	checkPage(t, "exposure", r)
	// Worst first; SSH (info) is open too, the orphan has no SIM.
	if got := strings.Join(findingIDs(r.body), ","); got != strings.Join([]string{id(f.telnet), id(f.orphan), id(f.http), id(f.ssh)}, ",") {
		t.Errorf("rows %s, want telnet, orphan, http, ssh", got)
	}
	wantContains(t, "exposure page", r.body, "telnet: root", "(builtin:3)", `<span class="badge tls-no">plaintext</span>`, "lighttpd/1.4",
		`href="/console/sims/`+f.sim.ICCID+`"`, "no SIM", `href="/console/scans/`+id(f.run.ID)+`"`, "plaintext_login", "default_credential",
		`<span id="exposure-open">4</span>`, `href="/console/scans/`+id(f.run.ID)+`/report.csv"`)
	// Close-port buttons for the two findings a group rule lets in.
	if n := strings.Count(r.body, `/remediate"`); n != 2 {
		t.Errorf("%d close-port forms, want 2 (telnet and http)", n)
	}

	filters := []struct {
		name, query string
		want        []int64
	}{
		{"severity at least high", "severity=high", []int64{f.telnet, f.orphan}},
		{"issue kind", "kind=plaintext_protocol", []int64{f.http}},
		{"SIM", "sim=" + f.sim.IMSI, []int64{f.telnet, f.http, f.ssh}},
		{"group", "group=smart-meters&severity=critical", []int64{f.telnet}},
		{"closed", "state=closed", nil},
		{"any state", "state=any&kind=default_credential", []int64{f.telnet}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get("/console/exposure?" + tt.query)
			var want []string
			for _, n := range tt.want {
				want = append(want, id(n))
			}
			if got := findingIDs(r.body); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: rows %v, want %v", tt.query, got, want)
			}
		})
	}
	for _, bad := range []struct{ query, field string }{
		{"state=gone", "ex-state-error"}, {"severity=urgent", "ex-severity-error"}, {"kind=evil", "ex-kind-error"}, {"sim=nope", "ex-sim-error"},
	} {
		r := b.get("/console/exposure?" + bad.query)
		if r.status != formErrorStatus || !strings.Contains(r.body, `id="`+bad.field+`"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
			t.Errorf("%s: %d, want the error next to its field (%s)", bad.query, r.status, bad.field)
		}
	}

	d := b.overview()
	if d.Exposure == nil || d.Exposure.Total != 4 || d.Exposure.BySeverity[0] != (stateCount{"critical", 1}) ||
		d.Exposure.BySeverity[1] != (stateCount{"high", 1}) || d.Exposure.BySeverity[4] != (stateCount{"info", 1}) {
		t.Fatalf("overview exposure = %+v", d.Exposure)
	}
	wantContains(t, "overview", b.get("/console/").body, `id="panel-exposure"`, `id="chart-exposure"`)

	sp := b.get("/console/sims/" + f.sim.ICCID)
	wantContains(t, "SIM page", sp.body, `id="panel-sim-findings"`, "telnet: root")
	if got := findingIDs(sp.body); len(got) != 3 {
		t.Errorf("the SIM page lists findings %v, want its 3", got)
	}

	fp := b.get("/console/findings/" + id(f.telnet))
	checkPage(t, "finding", fp)
	wantContains(t, "finding page", fp.body, "BusyBox v1.31 login:", "a vendor default login works", `<td class="mono">root</td>`,
		"builtin:3", "Close this port…", "action=group.remediate")
	wantContains(t, "compliant finding", b.get("/console/findings/"+id(f.ssh)).body, "Nothing to close: this finding breaks no rule")
	wantContains(t, "finding of no SIM", b.get("/console/findings/"+id(f.orphan)).body, "belongs to no SIM of a group")
	if r := b.get("/console/findings/999"); r.status != http.StatusNotFound {
		t.Errorf("an unknown finding: %d", r.status)
	}
	if r := b.get("/console/findings/x"); r.status != http.StatusNotFound {
		t.Errorf("a bad finding ID: %d", r.status)
	}
}

func TestScanPagesAndReports(t *testing.T) {
	f := newExposureFixture(t)
	// A second run of the scope: the HTTP service closed, SSH stayed.
	later := f.clock.now().Add(time.Hour)
	sim := f.sim
	ssh := simguard.Finding{SIMID: sim.ID, Group: "smart-meters", Target: sim.StaticIP, Proto: "tcp", Port: 22, Service: "ssh",
		Severity: simguard.SeverityInfo, Compliant: true, FirstSeen: later, LastSeen: later}
	run2 := f.recordScan(later, ssh)

	b := f.browser()
	b.login(f.token(simguard.RoleAuditor)) // reports are for every role
	r := b.get("/console/scans")
	checkPage(t, "scans", r)
	wantContains(t, "scans page", r.body, `href="/console/scans/`+itoa(run2.ID)+`"`, "alice", `<span class="badge scan-done">done</span>`,
		`title="Default logins were tried"`)

	p := b.get("/console/scans/" + itoa(run2.ID))
	checkPage(t, "scan", p)
	wantContains(t, "scan page", p.body, `href="/console/scans/`+itoa(f.run.ID)+`">scan #`+itoa(f.run.ID), "Closed since",
		sim.StaticIP.String()+" tcp/8080", `<span id="scan-findings">1</span>`)
	if strings.Contains(p.body, `id="scan-live"`) {
		t.Error("a finished scan's page follows it")
	}
	first := b.get("/console/scans/" + itoa(f.run.ID))
	wantContains(t, "first scan page", first.body, "nothing to compare with", `<span class="badge finding-closed">closed</span>`)

	j := b.get("/console/scans/" + itoa(f.run.ID) + "/report.json")
	if j.status != http.StatusOK || j.header.Get("Content-Type") != "application/json" ||
		j.header.Get("Content-Disposition") != `attachment; filename="simguard-scan-`+itoa(f.run.ID)+`.json"` {
		t.Fatalf("JSON report: %d %v", j.status, j.header)
	}
	var rep simguard.ScanReport
	if err := json.Unmarshal([]byte(j.body), &rep); err != nil || rep.Run.ID != f.run.ID || len(rep.Findings) != 4 || rep.Summary.Credentials != 1 {
		t.Fatalf("JSON report: %v %+v", err, rep)
	}
	c := b.get("/console/scans/" + itoa(f.run.ID) + "/report.csv")
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if c.status != http.StatusOK || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") || err != nil || len(rows) != 5 ||
		strings.Join(rows[0], ",") != strings.Join(simguard.FindingsCSVHeader, ",") {
		t.Fatalf("CSV report: %d %v %v %q", c.status, c.header, err, rows)
	}
	if strings.Contains(c.body, "password") {
		t.Error("the CSV names a password")
	}
	for _, bad := range []string{"/console/scans/999", "/console/scans/999/report.csv", "/console/scans/0/report.json", "/console/scans/x"} {
		if r := b.get(bad); r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.status)
		}
	}
	// Another tenant's operator sees none of it.
	acme, err := f.svc.CreateTenant(f.actor(f.admin), "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.svc.CreateToken(f.actor(f.admin), acme.ID, "acme-op", simguard.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	ob := f.browser()
	ob.login(tok.Secret)
	if r := ob.get("/console/scans/" + itoa(f.run.ID) + "/report.json"); r.status != http.StatusNotFound {
		t.Errorf("another tenant's report: %d", r.status)
	}
	if r := ob.get("/console/exposure"); len(findingIDs(r.body)) != 0 || !strings.Contains(r.body, "No scan yet") {
		t.Error("another tenant sees the findings")
	}
}

func TestRemediateFromTheConsole(t *testing.T) {
	f := newExposureFixture(t)
	b := f.browser()
	b.login(f.token(simguard.RoleOperator))
	admin := f.actor(f.admin)
	group := func() simguard.Group {
		g, err := f.svc.GetGroup(admin, "smart-meters")
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	path := "/console/findings/" + itoa(f.telnet) + "/remediate"

	b.get("/console/exposure")
	r := b.post(path, nil)
	checkPage(t, "remediation plan", r)
	wantContains(t, "confirmation", r.body, "Close <span class=\"mono\">tcp/23</span>", `<li class="mono">from 192.0.2.0/28 tcp 22-23, 8080</li>`,
		`<li class="mono">from 192.0.2.0/28 tcp 22, 8080</li>`, `<span class="del">-        - 22-23</span>`, `<span class="add">&#43;        - &#34;22&#34;</span>`,
		`name="version" value="2"`, "Yes, close the port")
	if strings.Contains(r.body, `id="group-moved"`) {
		t.Error("the plan says the group moved; it did not")
	}
	if g := group(); g.Version != 2 {
		t.Fatalf("showing the plan changed the group: version %d", g.Version)
	}

	r = b.post(path, url.Values{"confirm": {"yes"}, "version": {"2"}})
	if r.status != http.StatusSeeOther || r.location != "/console/findings/"+itoa(f.telnet) {
		t.Fatalf("confirm: %d to %q\n%s", r.status, r.location, r.body)
	}
	g := group()
	if g.Version != 3 || joinList(g.Policy.Inbound[0].Ports) != "22, 8080" {
		t.Fatalf("after remediation: version %d, inbound %+v", g.Version, g.Policy.Inbound)
	}
	after := b.get("/console/findings/" + itoa(f.telnet))
	wantContains(t, "finding page after", after.body, "Inbound tcp/23 closed in group smart-meters (now version 3).", `id="closed-in-policy"`)
	if strings.Contains(after.body, "Close this port…") {
		t.Error("the finding still offers to close a port its group closes")
	}
	list := b.get("/console/exposure")
	row := regexp.MustCompile(`(?s)<tr id="finding-` + itoa(f.telnet) + `">.*?</tr>`).FindString(list.body)
	if !strings.Contains(row, "closed in policy") || strings.Contains(row, "/remediate") || strings.Count(list.body, `/remediate"`) != 1 {
		t.Errorf("the exposure page after closing tcp/23: %s", row)
	}
	recs, err := f.svc.FindAudit(admin, simguard.AuditFilter{Object: "group:smart-meters", Action: "group.remediate"})
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Actor, "t-operator") {
		t.Fatalf("audit: %+v %v", recs, err)
	}

	// The group changes between the confirmation page and the click:
	// nothing is applied; the plan is shown again against the new version.
	r = b.post("/console/findings/"+itoa(f.http)+"/remediate", nil)
	wantContains(t, "plan for http", r.body, `name="version" value="3"`, `id="group-moved"`, "version 2 then, 3 now")
	g.Description = "changed meanwhile"
	if g, _, err = f.svc.ApplyGroup(admin, g, g.Version); err != nil || g.Version != 4 {
		t.Fatalf("apply: %v", err)
	}
	r = b.post("/console/findings/"+itoa(f.http)+"/remediate", url.Values{"confirm": {"yes"}, "version": {"3"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Nothing was changed: someone changed the group") || !strings.Contains(r.body, `name="version" value="4"`) {
		t.Fatalf("a stale confirmation: %d\n%s", r.status, r.body)
	}
	if g := group(); g.Version != 4 || joinList(g.Policy.Inbound[0].Ports) != "22, 8080" {
		t.Fatalf("a stale confirmation changed the group: %+v", g)
	}
	if r := b.post("/console/findings/"+itoa(f.http)+"/remediate", url.Values{"confirm": {"yes"}, "version": {"4"}}); r.status != http.StatusSeeOther {
		t.Fatalf("confirm against version 4: %d", r.status)
	}
	if g := group(); g.Version != 5 || joinList(g.Policy.Inbound[0].Ports) != "22" {
		t.Fatalf("after the second remediation: %+v", g)
	}

	refused := []struct {
		name, path string
		form       url.Values
		status     int
		flash      string
	}{
		{"already closed", "/console/findings/" + itoa(f.telnet) + "/remediate", nil, http.StatusSeeOther, "already denies inbound tcp/23"},
		{"compliant", "/console/findings/" + itoa(f.ssh) + "/remediate", nil, http.StatusSeeOther, "breaks no rule"},
		{"no SIM", "/console/findings/" + itoa(f.orphan) + "/remediate", url.Values{"confirm": {"yes"}, "version": {"5"}}, http.StatusSeeOther, "belongs to no SIM"},
		{"no version", "/console/findings/" + itoa(f.ssh) + "/remediate", url.Values{"confirm": {"yes"}}, http.StatusBadRequest, ""},
		{"unknown finding", "/console/findings/999/remediate", nil, http.StatusNotFound, ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post(tt.path, tt.form)
			if r.status != tt.status {
				t.Fatalf("%d, want %d\n%s", r.status, tt.status, r.body)
			}
			if tt.flash != "" {
				if page := b.get(r.location); !strings.Contains(page.body, tt.flash) || !strings.Contains(page.body, "flash-bad") {
					t.Errorf("the flash lacks %q", tt.flash)
				}
			}
		})
	}
	if g := group(); g.Version != 5 {
		t.Fatalf("a refused remediation changed the group: version %d", g.Version)
	}
}

// fakeScanner is the fleet auditor as the control plane sees it: it
// refuses a target outside its audit range and records the rest queued.
type fakeScanner struct {
	e   *env
	got []simguard.ScanRequest
}

func (s *fakeScanner) Submit(ctx context.Context, a simguard.Actor, req simguard.ScanRequest) (simguard.ScanRun, error) {
	for i, t := range req.Targets {
		if !strings.HasPrefix(t, "10.64.") {
			return simguard.ScanRun{}, simguard.FieldError("targets["+itoa(int64(i))+"]", "%s is outside the audit ranges (10.64.0.0/16)", t)
		}
	}
	s.got = append(s.got, req)
	return s.e.db.CreateScanRun(ctx, simguard.ScanRun{TenantID: a.TenantID, Scope: "adhoc", Actor: a.Name, Status: simguard.ScanQueued,
		StartedAt: s.e.clock.now(), Credentials: req.Credentials}, simguard.Change{Actor: a, Action: "scan.start"})
}

var _ control.ScanRunner = (*fakeScanner)(nil)

func TestStartScan(t *testing.T) {
	t.Run("auditor off", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.login(e.token(simguard.RoleOperator))
		r := b.get("/console/scans")
		wantContains(t, "scans page", r.body, `id="auditor-off"`)
		if strings.Contains(r.body, `id="start-scan"`) {
			t.Error("a scan form while the auditor is off")
		}
		// A forged form gets the control plane's answer.
		r = b.post("/console/scans", url.Values{"targets": {"10.64.0.11"}})
		wantContains(t, "refusal", r.body, "The scan was not started: the fleet auditor is off on this server")
	})

	e := newEnv(t, func(c *Config) { c.Scan = &ScanSettings{AuditRanges: []string{"10.64.0.0/16"}} })
	runner := &fakeScanner{e: e}
	e.svc.SetScanRunner(runner)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	r := b.get("/console/scans")
	checkPage(t, "scans with the form", r)
	wantContains(t, "scan form", r.body, `id="start-scan"`, "10.64.0.0/16", `value="top1000,iot"`, `id="scan-credentials-warning"`, "This logs in to the devices")
	if strings.Contains(r.body, `id="auditor-off"`) {
		t.Error("the auditor-off notice while it runs")
	}

	cases := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"nothing to scan", url.Values{"ports": {"22"}}, "scan-targets-error", "give addresses or CIDRs to scan, or choose a group"},
		{"outside the audit ranges", url.Values{"targets": {"10.64.0.11, 192.0.2.1"}}, "scan-targets-error", "targets[1]: 192.0.2.1 is outside the audit ranges"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/console/scans", tt.form)
			if r.status != formErrorStatus || !strings.Contains(r.body, `id="`+tt.field+`"`) || !strings.Contains(r.body, tt.want) {
				t.Fatalf("%d, want %q in %s:\n%s", r.status, tt.want, tt.field, r.body)
			}
			if !strings.Contains(r.body, `value="`+tt.form.Get("targets")+`"`) {
				t.Error("the form lost what was typed")
			}
		})
	}

	r = b.post("/console/scans", url.Values{"targets": {"10.64.0.11 10.64.0.12/31"}, "ports": {"23,8080"}, "udp": {"1"}, "credentials": {"1"}, "scope": {"lab"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/console/scans/") {
		t.Fatalf("start: %d %q\n%s", r.status, r.location, r.body)
	}
	want := simguard.ScanRequest{Targets: []string{"10.64.0.11", "10.64.0.12/31"}, Ports: "23,8080", UDP: true, Credentials: true, Scope: "lab"}
	if len(runner.got) != 1 || strings.Join(runner.got[0].Targets, " ") != strings.Join(want.Targets, " ") || runner.got[0].Ports != want.Ports ||
		!runner.got[0].UDP || !runner.got[0].Credentials || runner.got[0].Scope != "lab" {
		t.Fatalf("the auditor got %+v", runner.got)
	}
	p := b.get(r.location)
	wantContains(t, "queued scan page", p.body, "queued.", `id="scan-live"`, `data-status="queued"`, `<span class="badge scan-queued" id="scan-status">queued</span>`)
	id := strings.TrimPrefix(r.location, "/console/scans/")
	s := b.get("/console/api/scans/" + id)
	if s.status != http.StatusOK || !strings.Contains(s.body, `"status":"queued"`) {
		t.Fatalf("scan status: %d %s", s.status, s.body)
	}
	if r := b.get("/console/api/scans/999"); r.status != http.StatusNotFound || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("status of an unknown scan: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

func TestExposureAuditor(t *testing.T) {
	f := newExposureFixture(t, func(c *Config) { c.Scan = &ScanSettings{AuditRanges: []string{"10.64.0.0/16"}} })
	f.svc.SetScanRunner(&fakeScanner{e: f.env})
	b := f.browser()
	b.login(f.token(simguard.RoleAuditor))
	forms := regexp.MustCompile(`<form[^>]*method="post"[^>]*>`)
	for _, p := range []string{"/console/exposure", "/console/exposure?state=any", "/console/scans", "/console/scans/" + itoa(f.run.ID),
		"/console/findings/" + itoa(f.telnet), "/console/sims/" + f.sim.ICCID} {
		r := b.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("auditor reads %s: %d", p, r.status)
		}
		for _, fm := range forms.FindAllString(r.body, -1) {
			if !strings.Contains(fm, `action="/console/logout"`) {
				t.Errorf("auditor sees a form that changes things on %s: %s", p, fm)
			}
		}
		for _, s := range []string{"Close port", "Close this port", "Start scan"} {
			if strings.Contains(r.body, ">"+s) {
				t.Errorf("auditor sees %q on %s", s, p)
			}
		}
	}
	b.get("/console/exposure")
	for _, fp := range []struct {
		path string
		form url.Values
	}{
		{"/console/findings/" + itoa(f.telnet) + "/remediate", nil},
		{"/console/findings/" + itoa(f.telnet) + "/remediate", url.Values{"confirm": {"yes"}, "version": {"2"}}},
		{"/console/scans", url.Values{"targets": {"10.64.0.11"}, "credentials": {"1"}}},
	} {
		if r := b.post(fp.path, fp.form); r.status != http.StatusForbidden {
			t.Errorf("auditor POST %s: %d, want 403", fp.path, r.status)
		}
	}
	// And an operator without the CSRF token.
	op := f.browser()
	op.login(f.token(simguard.RoleOperator))
	if r := op.post("/console/findings/"+itoa(f.telnet)+"/remediate", url.Values{"csrf": {"forged"}, "confirm": {"yes"}, "version": {"2"}}); r.status != http.StatusForbidden {
		t.Errorf("a forged remediation: %d", r.status)
	}
	if g, err := f.svc.GetGroup(f.actor(f.admin), "smart-meters"); err != nil || g.Version != f.grp {
		t.Fatalf("the group changed: %+v %v", g, err)
	}
	if runs, _ := f.svc.ListScans(f.actor(f.admin), 10); len(runs) != 1 {
		t.Fatalf("a scan was started: %+v", runs)
	}
}
