package console

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/demo"
)

func (e *env) events(evs ...simguard.Event) {
	e.t.Helper()
	for i := range evs {
		if evs[i].TenantID == 0 {
			evs[i].TenantID = simguard.ProviderTenantID
		}
		if evs[i].Time.IsZero() {
			evs[i].Time = e.clock.now()
		}
	}
	if err := e.db.AppendEvents(context.Background(), evs); err != nil {
		e.t.Fatal(err)
	}
}

func deny(sim int64, r simguard.Reason, dst string) simguard.Event {
	ev := simguard.Event{SIMID: sim, Source: "gateway", Type: "flow.denied", Decision: "deny", Reason: r}
	if dst != "" {
		ev.Attrs = map[string]string{"dst": dst}
	}
	return ev
}

func (b *browser) overview() overviewData {
	b.e.t.Helper()
	r := b.get("/console/api/overview")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		b.e.t.Fatalf("overview JSON: %d %s", r.status, r.body)
	}
	var d overviewData
	if err := json.Unmarshal([]byte(r.body), &d); err != nil {
		b.e.t.Fatal(err)
	}
	return d
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	// Ten seconds into a minute, so that the 5 s step below stays in it.
	now := e.clock.now()
	e.clock.add(now.Truncate(time.Minute).Add(time.Minute + 10*time.Second).Sub(now))
	b := e.browser()
	b.login(e.token(simguard.RoleAuditor))
	d := b.overview()
	if d.SIMsTotal != 30 || d.SIMsByState[0] != (stateCount{"active", 30}) || d.Decisions.Denied != 0 || len(d.Decisions.Labels) != 60 {
		t.Fatalf("fresh overview = %+v", d)
	}
	if d.Alerts != nil || d.Sessions != nil {
		t.Fatalf("slots shown without sources: %+v %+v", d.Alerts, d.Sessions)
	}
	s1, s2 := e.sim(1), e.sim(2)
	e.events(
		deny(s1.ID, simguard.ReasonDestinationDenied, "198.18.0.66"),
		deny(s1.ID, simguard.ReasonDestinationDenied, "198.18.0.66"),
		deny(s2.ID, simguard.ReasonIMEIMismatch, ""),
		simguard.Event{SIMID: s2.ID, Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed},
		simguard.Event{Time: e.clock.now().Add(-2 * time.Hour), SIMID: s2.ID, Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonSIMSuspended},
	)
	if got := b.overview(); got.Decisions.Denied != 0 {
		t.Fatalf("the overview was not cached for a moment: %+v", got.Decisions)
	}
	e.clock.add(5 * time.Second)
	d = b.overview()
	if d.Decisions.Denied != 3 || d.Decisions.Allowed != 1 {
		t.Fatalf("decisions = %+v", d.Decisions)
	}
	var series []string
	for _, s := range d.Decisions.Series {
		series = append(series, s.Decision+"/"+s.Reason+"="+strconv.FormatInt(s.Total, 10)+"@"+strconv.FormatInt(s.Counts[59], 10))
	}
	if got := strings.Join(series, " "); got != "allow/allowed=1@1 deny/destination_denied=2@2 deny/imei_mismatch=1@1" {
		t.Errorf("series = %s (the last bucket is the current minute)", got)
	}
	if len(d.TopSIMs) != 2 || d.TopSIMs[0] != (topItem{Label: s1.ICCID, Href: "/console/sims/" + s1.ICCID, Count: 2}) {
		t.Errorf("top SIMs = %+v", d.TopSIMs)
	}
	if len(d.TopDestinations) != 1 || d.TopDestinations[0] != (topItem{Label: "198.18.0.66", Count: 2}) {
		t.Errorf("top destinations = %+v", d.TopDestinations)
	}
	r := b.get("/console/")
	wantContains(t, "overview page", r.body, `id="overview-data"`, `"denied":3`, `href="/console/sims/`+s1.ICCID+`"`, "198.18.0.66",
		`<td>deny</td><td>imei_mismatch</td><td class="num">1</td>`, `data-refresh="5"`)
	if strings.Contains(r.body, "panel-alerts") || strings.Contains(r.body, "panel-sessions") {
		t.Error("the overview shows the alert or session slot without a source")
	}
}

type fakeSessions struct {
	calls []int64
	none  bool
}

func (f *fakeSessions) LiveSessions(ctx context.Context, simID int64, limit int) ([]Session, int64, error) {
	if _, ok := simguard.ActorFrom(ctx); !ok {
		return nil, 0, simguard.Errorf(simguard.EUNAUTHORIZED, "no actor")
	}
	f.calls = append(f.calls, simID)
	if f.none {
		return nil, 0, nil
	}
	return []Session{{SIMID: 1, IMSI: demo.IMSI(0), IP: "10.64.0.10", APN: "meters.iot", Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}}, 42, nil
}

func TestSlotsShowWhenWired(t *testing.T) {
	fs := &fakeSessions{}
	e := newEnv(t, func(c *Config) {
		c.Sessions = fs
		c.Alerts = &memAlerts{alerts: []simguard.Alert{
			{ID: 1, TenantID: 1, Severity: simguard.SeverityCritical, State: simguard.AlertOpen},
			{ID: 2, TenantID: 1, Severity: simguard.SeverityCritical, State: simguard.AlertAcknowledged},
			{ID: 3, TenantID: 1, Severity: simguard.SeverityLow, State: simguard.AlertOpen},
			{ID: 4, TenantID: 1, Severity: simguard.SeverityLow, State: simguard.AlertResolved},
		}}
	})
	b := e.browser()
	b.login(e.admin)
	d := b.overview()
	if d.Sessions == nil || d.Sessions.Live != 42 || len(d.Sessions.Recent) != 1 || d.Alerts == nil || d.Alerts.Total != 3 ||
		d.Alerts.BySeverity[0] != (stateCount{"critical", 2}) {
		t.Fatalf("slots = %+v %+v", d.Sessions, d.Alerts)
	}
	wantContains(t, "overview", b.get("/console/").body, `id="panel-alerts"`, `id="panel-sessions"`, "10.64.0.10")
	sim := e.sim(0)
	wantContains(t, "SIM page", b.get("/console/sims/"+sim.ICCID).body, `id="panel-sim-sessions"`, "meters.iot", "10.64.0.10")
	if fs.calls[len(fs.calls)-1] != sim.ID {
		t.Errorf("the SIM page asked for sessions of %v", fs.calls)
	}
	fs.none = true
	wantContains(t, "SIM page without a session", b.get("/console/sims/"+sim.ICCID).body, `id="panel-sim-sessions"`, `id="no-session"`)
}

func TestSIMSearch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.admin)
	if _, err := e.svc.SuspendSIM(e.actor(e.admin), demo.ICCID(7), 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		query string
		want  []int // demo SIM numbers in the result
		next  bool
	}{
		{"IMSI prefix", "q=00101000000001", []int{9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, false},
		{"ICCID", "q=" + demo.ICCID(3), []int{3}, false},
		{"MSISDN with +", "q=%2B" + demo.MSISDN(4), []int{4}, false},
		{"bound IMEI", "q=" + demo.IMEI(5), []int{5}, false},
		{"state", "state=suspended", []int{7}, false},
		{"label", "label=site%3Dparis&q=00101000000000", []int{1, 4, 7}, false},
		{"group", "group=smart-meters", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.get("/console/sims?" + c.query)
			if r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
			for _, i := range c.want {
				if !strings.Contains(r.body, `href="/console/sims/`+demo.ICCID(i)+`"`) {
					t.Errorf("result lacks SIM %d", i)
				}
			}
			if c.want != nil && strings.Count(r.body, `<a class="mono" href="/console/sims/`) != len(c.want) {
				t.Errorf("%d results, want %d", strings.Count(r.body, `<a class="mono" href="/console/sims/`), len(c.want))
			}
		})
	}
	// 30 SIMs, 50 a page: no next page; the filters survive in its link.
	if r := b.get("/console/sims?group=smart-meters"); strings.Contains(r.body, "Next page") {
		t.Error("a next page link for one page of results")
	}
	if r := b.get("/console/sims?state=bogus"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "state") {
		t.Errorf("a bad state: %d", r.status)
	}
}

func TestImport(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	b.get("/console/sims")
	bad := "iccid,imsi,msisdn,group\n" +
		demo.ICCID(100) + "," + demo.IMSI(100) + ",,smart-meters\n" +
		"8988001000000001009," + demo.IMSI(101) + ",,smart-meters\n" + // wrong check digit
		demo.ICCID(102) + "," + demo.IMSI(102) + ",,no-such-group\n" +
		demo.ICCID(103) + "," + demo.IMSI(1) + ",,smart-meters\n" // IMSI taken
	r := b.upload("/console/sims/import", bad, nil)
	if r.status != formErrorStatus {
		t.Fatalf("bad import: %d\n%s", r.status, r.body)
	}
	wantContains(t, "import errors", r.body, `id="import-errors"`, "Import of sims.csv rejected", `<td class="num">3</td><td class="mono">iccid</td>`)
	// Rows that parse are then checked against the inventory.
	bad = strings.Replace(bad, "8988001000000001009", demo.ICCID(101), 1)
	r = b.upload("/console/sims/import", bad, nil)
	wantContains(t, "import errors", r.body, `<td class="num">4</td><td class="mono">group</td>`, `no group &#34;no-such-group&#34;`)
	r = b.upload("/console/sims/import", strings.Replace(bad, "no-such-group", "smart-meters", 1), nil)
	wantContains(t, "import errors", r.body, `<td class="num">5</td><td class="mono">imsi</td>`)
	if n, _ := e.svc.CountSIMs(e.actor(e.admin)); n[simguard.SIMActive]+n[simguard.SIMInventory] != 30 {
		t.Fatalf("a rejected import imported something: %v", n)
	}
	good := "iccid,imsi,labels\n" + demo.ICCID(100) + "," + demo.IMSI(100) + ",site=lisbon\n" + demo.ICCID(101) + "," + demo.IMSI(101) + ",\n"
	r = b.upload("/console/sims/import", good, map[string]string{"group": "asset-trackers", "state": "active", "imei_lock": "learn"})
	if r.status != http.StatusSeeOther {
		t.Fatalf("good import: %d\n%s", r.status, r.body)
	}
	wantContains(t, "after import", b.get("/console/sims").body, "Imported 2 SIMs from sims.csv.")
	s, err := e.svc.GetSIM(e.actor(e.admin), demo.ICCID(100))
	if err != nil || s.Group != "asset-trackers" || s.State != simguard.SIMActive || s.IMEILock.Mode != simguard.IMEILockLearn || s.Labels["site"] != "lisbon" {
		t.Fatalf("imported SIM = %+v, %v", s, err)
	}
	if r := b.upload("/console/sims/import", "", nil); r.status != formErrorStatus || !strings.Contains(r.body, "header row") {
		t.Errorf("empty file: %d", r.status)
	}
}

func TestImportTooLarge(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxImportBytes = 1 << 10 })
	b := e.browser()
	b.login(e.admin)
	b.get("/console/sims")
	r := b.upload("/console/sims/import", "iccid,imsi\n"+strings.Repeat(demo.ICCID(100)+","+demo.IMSI(100)+"\n", 100), nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "larger than") {
		t.Fatalf("%d\n%s", r.status, r.body)
	}
}

func TestSIMPageAndActions(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	sim := e.sim(5)
	e.events(simguard.Event{SIMID: sim.ID, Source: "radius", Type: "radius.access", Decision: "deny", Reason: simguard.ReasonIMEIMismatch,
		Attrs: map[string]string{"imsi": sim.IMSI, "plmn": "001-01", "cell": "257", "rat": "nb-iot"}})
	e.events(simguard.Event{SIMID: sim.ID, Source: "radius", Type: "radius.accounting"})
	page := "/console/sims/" + sim.ICCID
	r := b.get(page)
	wantContains(t, "SIM page", r.body, sim.IMSI, "+"+sim.MSISDN, demo.IMEI(5)+"3", // IMEI shown with its check digit
		`id="lock-state">locked`, "001-01", "257", "Data: 0 B of 50.0 MiB", "imei_mismatch", "radius.accounting", `id="sim-actions"`,
		`/console/check?imei=`+demo.IMEI(5)+`&amp;imsi=`+sim.IMSI+`&amp;kind=data_session`)
	if strings.Contains(r.body, "panel-sim-sessions") {
		t.Error("session slot shown without a source")
	}

	// Each action: the first POST only asks; the confirmed one acts.
	steps := []struct {
		action  string
		form    url.Values
		confirm string
		flash   string
		check   func(s simguard.SIM) bool
	}{
		{"suspend", nil, "Yes, Suspend", "suspended.", func(s simguard.SIM) bool { return s.State == simguard.SIMSuspended }},
		{"activate", url.Values{"for": {"2h"}}, "2h", "activated until", func(s simguard.SIM) bool {
			return s.State == simguard.SIMActive && s.ActiveUntil != nil && s.ActiveUntil.Equal(e.clock.now().Add(2*time.Hour))
		}},
		{"bind-imei", url.Values{"imei": {"352099001761481"}}, "352099001761481", "bound to the device", func(s simguard.SIM) bool {
			return s.IMEILock.IMEI == "35209900176148"
		}},
		{"unbind-imei", url.Values{"mode": {"off"}}, "off", "unbound", func(s simguard.SIM) bool { return s.IMEILock.Mode == simguard.IMEILockOff }},
	}
	for _, st := range steps {
		t.Run(st.action, func(t *testing.T) {
			cur := e.sim(5)
			form := url.Values{"version": {strconv.FormatInt(cur.Version, 10)}}
			for k, v := range st.form {
				form[k] = v
			}
			r := b.post(page+"/"+st.action, form)
			if r.status != http.StatusOK || !strings.Contains(r.body, `name="confirm" value="yes"`) || !strings.Contains(r.body, st.confirm) {
				t.Fatalf("confirmation page: %d\n%s", r.status, r.body)
			}
			if e.sim(5).Version != cur.Version {
				t.Fatal("the SIM changed before confirmation")
			}
			form.Set("confirm", "yes")
			r = b.post(page+"/"+st.action, form)
			if r.status != http.StatusSeeOther || r.location != page {
				t.Fatalf("confirmed: %d to %q\n%s", r.status, r.location, r.body)
			}
			if got := e.sim(5); !st.check(got) {
				t.Fatalf("after %s: %+v", st.action, got)
			}
			wantContains(t, "page after "+st.action, b.get(page).body, st.flash)
		})
	}
	// A stale version or a bad value changes nothing and says why.
	cur := e.sim(5)
	r = b.post(page+"/suspend", url.Values{"version": {strconv.FormatInt(cur.Version-1, 10)}, "confirm": {"yes"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("stale: %d", r.status)
	}
	wantContains(t, "after a stale action", b.get(page).body, "changed since you loaded the page")
	b.post(page+"/bind-imei", url.Values{"version": {strconv.FormatInt(cur.Version, 10)}, "confirm": {"yes"}, "imei": {"12345"}})
	wantContains(t, "after a bad IMEI", b.get(page).body, "Nothing was changed: imei:")
	b.post(page+"/activate", url.Values{"version": {strconv.FormatInt(cur.Version, 10)}, "confirm": {"yes"}, "for": {"soon"}})
	wantContains(t, "after a bad duration", b.get(page).body, "Nothing was changed: for: must be a duration")
	if e.sim(5).Version != cur.Version {
		t.Error("a refused action changed the SIM")
	}
	if r := b.post(page+"/terminate", url.Values{"version": {"1"}, "confirm": {"yes"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown action: %d", r.status)
	}
	if r := b.get("/console/sims/nope"); r.status != http.StatusNotFound {
		t.Errorf("unknown SIM: %d", r.status)
	}
	// The audit log shows who did it.
	a := b.get("/console/audit?object=sim:" + sim.ICCID)
	wantContains(t, "audit page", a.body, "sim.suspend", "sim.activate", "sim.bind_imei", "sim.unbind_imei", "(t-operator)",
		`<span class="del">-  &#34;state&#34;: &#34;active&#34;,</span>`)
}

func TestGroupEditor(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.admin)
	r := b.get("/console/groups")
	wantContains(t, "groups", r.body, `href="/console/groups/smart-meters"`, "meters.iot", "001-01, 001-02")
	r = b.get("/console/groups/smart-meters")
	wantContains(t, "group page", r.body, "Current policy (version 1)", "plmns:", `id="g-policy"`)
	policy := policyYAML(demo.Groups()[0].Policy)

	bad := []struct {
		name, field, policy, want string
		line                      int
	}{
		{"typo", "policy", strings.Replace(policy, "apns:", "apnz:", 1), "field apnz not found", 0},
		{"bad PLMN", "policy", strings.Replace(policy, "- 001-02", "- 001-0x", 1), "location.plmns[1]: PLMN", 9},
		{"bad port", "policy", strings.Replace(policy, `- "53"`, `- "99999"`, 1), "", 0},
		{"bad name", "name", policy, "must be 1-63", 0},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"name": {"smart-meters"}, "policy": {c.policy}}
			if c.field == "name" {
				form.Set("name", "-bad")
				form.Set("new", "1")
			}
			r := b.post("/console/groups/plan", form)
			if r.status != formErrorStatus || !strings.Contains(r.body, c.want) {
				t.Fatalf("%d, want %d with %q\n%s", r.status, formErrorStatus, c.want, r.body)
			}
			if !strings.Contains(r.body, `id="g-`+c.field+`-error"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
				t.Errorf("the error is not next to the %s field", c.field)
			}
			if c.line > 0 && !strings.Contains(r.body, "Line "+strconv.Itoa(c.line)+":") {
				t.Errorf("the policy error does not name line %d", c.line)
			}
		})
	}

	// A real change: diff first, then apply exactly that.
	changed := strings.Replace(policy, "- meters.iot", "- meters-v2.iot", 1)
	r = b.post("/console/groups/plan", url.Values{"name": {"smart-meters"}, "policy": {changed}, "description": {"v2"}})
	if r.status != http.StatusOK {
		t.Fatalf("plan: %d\n%s", r.status, r.body)
	}
	wantContains(t, "plan", r.body, `<span class="del">-    - meters.iot</span>`, `<span class="add">&#43;    - meters-v2.iot</span>`,
		"Changes against version 1", "Save these changes")
	if g, _ := e.svc.GetGroup(e.actor(e.admin), "smart-meters"); g.Version != 1 {
		t.Fatal("the preview saved")
	}
	apply := url.Values{"name": {"smart-meters"}, "policy": {changed}, "description": {"v2"}, "version": {"1"}}
	r = b.post("/console/groups/apply", apply)
	if r.status != http.StatusSeeOther || r.location != "/console/groups/smart-meters" {
		t.Fatalf("apply: %d to %q\n%s", r.status, r.location, r.body)
	}
	wantContains(t, "after apply", b.get(r.location).body, "Group smart-meters saved (version 2).", "meters-v2.iot")
	g, err := e.svc.GetGroup(e.actor(e.admin), "smart-meters")
	if err != nil || g.Version != 2 || g.Policy.APNs[0] != "meters-v2.iot" || g.Description != "v2" {
		t.Fatalf("group after apply = %+v, %v", g, err)
	}
	// Applying the old preview again: someone (we) changed it since.
	apply.Set("policy", strings.Replace(policy, "- meters.iot", "- meters-v3.iot", 1))
	r = b.post("/console/groups/apply", apply)
	if r.status != http.StatusOK || !strings.Contains(r.body, "someone changed the group since you previewed it") || !strings.Contains(r.body, "Changes against version 2") {
		t.Fatalf("stale apply: %d\n%s", r.status, r.body)
	}
	// No change at all.
	r = b.post("/console/groups/plan", url.Values{"name": {"smart-meters"}, "policy": {changed}, "description": {"v2"}})
	wantContains(t, "unchanged plan", r.body, `id="no-change"`)

	// A new group.
	wantContains(t, "new group page", b.get("/console/groups/new").body, `name="new" value="1"`)
	r = b.post("/console/groups/plan", url.Values{"new": {"1"}, "name": {"sensors"}, "policy": {"services: [data]\napns: [sensors.iot]\n"}})
	wantContains(t, "new group plan", r.body, "New group sensors", "&#43;name: sensors", "Create the group")
	r = b.post("/console/groups/apply", url.Values{"new": {"1"}, "name": {"sensors"}, "policy": {"services: [data]\napns: [sensors.iot]\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	// Creating it again must not overwrite the one that now exists.
	r = b.post("/console/groups/apply", url.Values{"new": {"1"}, "name": {"sensors"}, "policy": {"services: [sms_mo]\n"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "was created meanwhile") {
		t.Fatalf("second create: %d\n%s", r.status, r.body)
	}
	if g, _ := e.svc.GetGroup(e.actor(e.admin), "sensors"); g.Version != 1 || g.Policy.Services[0] != simguard.ServiceData {
		t.Errorf("the second create changed the group: %+v", g)
	}
}

func TestCheckPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleAuditor))
	q := url.Values{"kind": {"data_session"}, "imsi": {demo.IMSI(2)}, "imei": {demo.IMEI(3)}, "plmn": {"001-01"}, "rat": {"nb-iot"}, "apn": {"meters.iot"}}
	r := b.get("/console/check?" + q.Encode())
	wantContains(t, "check", r.body, `<span class="badge dec-deny">DENY</span> imei_mismatch`, "sim:imei_lock", `value="`+demo.IMEI(3)+`"`,
		`<option value="nb-iot" selected>`)
	q.Set("imei", demo.IMEI(2))
	wantContains(t, "check", b.get("/console/check?"+q.Encode()).body, `<span class="badge dec-allow">ALLOW</span> allowed`)
	q.Set("plmn", "26x-01")
	r = b.get("/console/check?" + q.Encode())
	if r.status != formErrorStatus || !strings.Contains(r.body, `id="c-plmn-error"`) {
		t.Fatalf("bad PLMN: %d\n%s", r.status, r.body)
	}
	r = b.get("/console/check?kind=flow&imsi=" + demo.IMSI(2) + "&remote=198.18.0.66&proto=tcp&port=23")
	wantContains(t, "flow check", r.body, "destination_denied")
	if r := b.get("/console/check"); r.status != http.StatusOK || strings.Contains(r.body, "check-result") {
		t.Errorf("empty check page: %d", r.status)
	}
}

func TestEventsPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.admin)
	s1 := e.sim(1)
	var evs []simguard.Event
	for i := range 60 {
		evs = append(evs, simguard.Event{Time: e.clock.now().Add(time.Duration(i-60) * time.Minute), SIMID: s1.ID, Source: "radius",
			Type: "radius.access", Decision: "deny", Reason: simguard.ReasonIMEIMismatch, Attrs: map[string]string{"n": strconv.Itoa(i)}})
	}
	evs = append(evs, simguard.Event{SIMID: 0, Source: "gateway", Type: "flow.denied", Decision: "deny", Reason: simguard.ReasonSIMUnknown,
		Attrs: map[string]string{"dst": "198.18.0.1"}})
	e.events(evs...)
	r := b.get("/console/events")
	wantContains(t, "events", r.body, "flow.denied", "198.18.0.1", `href="/console/sims/`+s1.ICCID+`"`, "n</span>=<span class=\"mono\">59", "Older events")
	if strings.Contains(r.body, `n</span>=<span class="mono">9<`) {
		t.Error("the first page reaches back to old events")
	}
	older := regexpFind(t, r.body, `href="(/console/events\?before=\d+)"`)
	wantContains(t, "older events", b.get(strings.ReplaceAll(older, "&amp;", "&")).body, `n</span>=<span class="mono">9<`)
	r = b.get("/console/events?type=flow.&sim=")
	if strings.Contains(r.body, "radius.access") || !strings.Contains(r.body, "flow.denied") {
		t.Error("type filter")
	}
	r = b.get("/console/events?sim=" + demo.IMSI(1) + "&since=10m")
	if n := strings.Count(r.body, "radius.access"); n != 10 {
		t.Errorf("SIM and since filters: %d events, want 10", n)
	}
	for _, c := range []struct{ q, field string }{{"since=yesterday", "since"}, {"sim=nope", "sim"}, {"type=.", "type"}} {
		if r := b.get("/console/events?" + c.q); r.status != formErrorStatus || !strings.Contains(r.body, `id="e-`+c.field+`-error"`) {
			t.Errorf("%s: %d", c.q, r.status)
		}
	}
}

func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleAuditor))
	r := b.get("/console/audit")
	wantContains(t, "audit", r.body, `<span class="badge verify-ok">verified</span>`, "token.create", "sim.import", "group.create")
	// A checkpoint signed by another key: the chain no longer proves itself.
	other := audit.NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if _, err := audit.Checkpoint(context.Background(), e.db, other, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Minute) // past the verification cache
	r = b.get("/console/audit")
	wantContains(t, "audit after a foreign checkpoint", r.body, `<span class="badge verify-bad">BROKEN</span>`, "bad_signature")
	r = b.get("/console/audit?action=group.create")
	if strings.Contains(r.body, "sim.import") || strings.Count(r.body, "<td class=\"mono\">group.create</td>") != 4 {
		t.Error("action filter")
	}
}

func TestStaticAndNotFound(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	u, err := e.con.assets.url("app.js")
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(u)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned asset: %d %v", r.status, r.header)
	}
	if r := b.get("/console/static/app.js"); r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned asset cache: %q", r.header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/console/static/app.css", nil)
	req.Header.Set("If-None-Match", `"`+e.con.assets.files["app.css"].hash+`"`)
	if r := b.do(req); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.status)
	}
	if r := b.get("/console/static/nope.js"); r.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", r.status)
	}
	if r := b.get("/"); r.status != http.StatusSeeOther || r.location != "/console/" {
		t.Errorf("root: %d to %q", r.status, r.location)
	}
	b.login(e.admin)
	if r := b.get("/console/nope"); r.status != http.StatusNotFound || !strings.Contains(r.body, "there is no console page") {
		t.Errorf("unknown page: %d", r.status)
	}
}
