package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	node := e.token(simguard.RoleNode)

	b := e.browser()
	r := b.get("/console/sims?q=0010")
	if r.status != http.StatusSeeOther || r.location != "/console/login?next=%2Fconsole%2Fsims%3Fq%3D0010" {
		t.Fatalf("anonymous page: %d to %q", r.status, r.location)
	}
	r = b.get("/console/login")
	lc := findCookie(r.cookies, loginCookie)
	if lc == nil || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode || lc.Path != "/console/login" || lc.Secure {
		t.Fatalf("login cookie = %+v", lc)
	}
	wantContains(t, "login page", r.body, `method="post" action="/console/login"`, `type="password"`, `<label for="token">`)

	cases := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"no CSRF token", url.Values{"token": {e.admin}, "csrf": {""}}, http.StatusForbidden, "expired"},
		{"wrong CSRF token", url.Values{"token": {e.admin}, "csrf": {"x" + b.csrf}}, http.StatusForbidden, "expired"},
		{"unknown token", url.Values{"token": {"sgt_" + strings.Repeat("A", 43)}}, http.StatusUnauthorized, "not known"},
		{"not a token", url.Values{"token": {"hunter2"}}, http.StatusUnauthorized, "not known"},
		{"node token", url.Values{"token": {node}}, http.StatusForbidden, "Node tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b.get("/console/login")
			r := b.post("/console/login", c.form)
			if r.status != c.status || !strings.Contains(r.body, c.want) {
				t.Fatalf("%d, want %d with %q:\n%s", r.status, c.status, c.want, r.body)
			}
			if findCookie(r.cookies, sessionCookie) != nil {
				t.Fatal("a refused login set a session cookie")
			}
		})
	}

	b.get("/console/login")
	r = b.post("/console/login", url.Values{"token": {" " + e.admin + "\n"}, "next": {"/console/sims?q=0010"}})
	if r.status != http.StatusSeeOther || r.location != "/console/sims?q=0010" {
		t.Fatalf("login: %d to %q", r.status, r.location)
	}
	sc := findCookie(r.cookies, sessionCookie)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/console/" || sc.Secure || sc.MaxAge != 0 || len(sc.Value) < 40 {
		t.Fatalf("session cookie = %+v", sc)
	}
	if strings.Contains(sc.Value, e.admin) || strings.Contains(r.location, e.admin) {
		t.Fatal("the token leaked into the cookie or the redirect")
	}
	if r = b.get("/console/sims?q=0010"); r.status != http.StatusOK {
		t.Fatalf("after login: %d", r.status)
	}
	// Logging in again while logged in goes straight on.
	if r = b.get("/console/login?next=/console/groups"); r.status != http.StatusSeeOther || r.location != "/console/groups" {
		t.Fatalf("login page while logged in: %d to %q", r.status, r.location)
	}
	if got := testCounter(t, e, "simguard_console_logins_total", "result", "ok"); got != 1 {
		t.Errorf("ok logins = %v", got)
	}
}

func TestLoginNextStaysInTheConsole(t *testing.T) {
	for _, next := range []string{"//evil.example/", "https://evil.example/console/", "/api/v1/sims", "/console/\\evil", "/console/x\r\nSet-Cookie: a=b", ""} {
		if got := safeNext(next); got != "/console/" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	if got := safeNext("/console/sims?q=1"); got != "/console/sims?q=1" {
		t.Errorf("safeNext kept %q", got)
	}
}

func TestCookieSecurity(t *testing.T) {
	plain := httptest.NewRequest(http.MethodGet, "http://simguard.example/console/", nil)
	overTLS := httptest.NewRequest(http.MethodGet, "https://simguard.example/console/", nil)
	overTLS.TLS = &tls.ConnectionState{}
	cases := []struct {
		name        string
		r           *http.Request
		forceSecure bool
		secure      bool
	}{
		{"plain HTTP", plain, false, false},
		{"over TLS", overTLS, false, true},
		{"proxy terminates TLS", plain, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Console{cfg: Config{SecureCookie: tc.forceSecure}}
			ck := c.cookie(tc.r, sessionCookie, "v", basePath, 0)
			if ck.Secure != tc.secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Fatalf("cookie %+v", ck)
			}
		})
	}
}

var (
	inlineScript = regexp.MustCompile(`<script\b[^>]*>`)
	styleAttr    = regexp.MustCompile(`(?i)\sstyle\s*=|<style\b|\son[a-z]+\s*=`)
)

// TestPagesFollowTheCSP checks every page for what the Content Security
// Policy would block: inline scripts, inline styles, event handler
// attributes. A page that needed them would break in the browser.
func TestPagesFollowTheCSP(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/console/login")
	checkPage(t, "login", r)
	b.login(e.admin)
	for _, p := range []string{"/console/", "/console/sims", "/console/sims/" + demo.ICCID(1), "/console/groups", "/console/groups/smart-meters",
		"/console/groups/new", "/console/check?kind=data_session&imsi=" + demo.IMSI(1), "/console/events", "/console/audit", "/console/exposure", "/console/scans", "/console/nope"} {
		checkPage(t, p, b.get(p))
	}
	r = b.get("/console/static/app.css")
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("static file headers: %v", r.header)
	}
}

func checkPage(t *testing.T, name string, r response) {
	t.Helper()
	h := r.header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s: CSP %q", name, csp)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", name, k, got, want)
		}
	}
	for _, tag := range inlineScript.FindAllString(r.body, -1) {
		if !strings.Contains(tag, "src=") && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("%s: inline script %s", name, tag)
		}
	}
	if m := styleAttr.FindString(r.body); m != "" {
		t.Errorf("%s: inline style or handler %q", name, m)
	}
	if !strings.Contains(r.body, `<a class="skip" href="#main">`) || !strings.Contains(r.body, `<main id="main"`) || !strings.Contains(r.body, "<h1") {
		t.Errorf("%s: lacks the skip link, main landmark or heading", name)
	}
}

func TestTokenNeverInURLsOrLogs(t *testing.T) {
	e := newEnv(t)
	op := e.token(simguard.RoleOperator)
	b := e.browser()
	b.login(op)
	var bodies []string
	for _, p := range []string{"/console/", "/console/sims", "/console/sims/" + demo.ICCID(2), "/console/audit", "/console/api/overview"} {
		bodies = append(bodies, b.get(p).body)
	}
	r := b.post("/console/sims/"+demo.ICCID(2)+"/suspend", url.Values{"version": {"1"}, "confirm": {"yes"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	b.post("/console/logout", nil)
	hash := control.HashSecret(op)
	for _, s := range append(bodies, e.logs.String()) {
		if strings.Contains(s, op) || strings.Contains(s, hash) {
			t.Fatalf("the token or its hash appears in a page or the log:\n%s", s)
		}
	}
	if !strings.Contains(e.logs.String(), "console login") {
		t.Errorf("logins are not logged:\n%s", e.logs.String())
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleOperator))
	sim := e.sim(3)
	path := "/console/sims/" + sim.ICCID + "/suspend"
	b.get("/console/sims/" + sim.ICCID)
	good := b.csrf
	forged := []struct {
		name   string
		form   url.Values
		origin string
	}{
		{"no token", url.Values{"csrf": {""}}, ""},
		{"another token", url.Values{"csrf": {randomToken()}}, ""},
		{"another site", url.Values{}, "https://evil.example"},
	}
	for _, f := range forged {
		t.Run(f.name, func(t *testing.T) {
			f.form.Set("version", "1")
			f.form.Set("confirm", "yes")
			if f.form.Get("csrf") == "" && f.name != "no token" {
				f.form.Set("csrf", good)
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(f.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if f.origin != "" {
				req.Header.Set("Origin", f.origin)
			}
			r := b.do(req)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "did not come from this console") {
				t.Fatalf("%d\n%s", r.status, r.body)
			}
		})
	}
	if e.sim(3).State != simguard.SIMActive {
		t.Fatal("a forged request suspended the SIM")
	}
	if got := testCounter(t, e, "simguard_console_csrf_rejected_total", "", ""); got != 3 {
		t.Errorf("csrf rejections counted %v, want 3", got)
	}
	// Logout needs the token too: a cross-site form cannot log you out.
	b.csrf = good
	if r := b.post("/console/logout", url.Values{"csrf": {"nope"}}); r.status != http.StatusForbidden {
		t.Errorf("forged logout: %d", r.status)
	}
}

func TestAuditorCannotChangeAnything(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e.token(simguard.RoleAuditor))
	sim := e.sim(4)
	forms := regexp.MustCompile(`<form[^>]*method="post"[^>]*>`)
	for _, p := range []string{"/console/", "/console/sims", "/console/sims/" + sim.ICCID, "/console/groups", "/console/groups/smart-meters",
		"/console/events", "/console/audit", "/console/check"} {
		r := b.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("auditor reads %s: %d", p, r.status)
		}
		for _, f := range forms.FindAllString(r.body, -1) {
			if !strings.Contains(f, `action="/console/logout"`) {
				t.Errorf("auditor sees a form that changes things on %s: %s", p, f)
			}
		}
		for _, s := range []string{"Suspend", "Activate…", "Bind IMEI…", "New group", "Preview changes", "Import"} {
			if strings.Contains(r.body, ">"+s) {
				t.Errorf("auditor sees %q on %s", s, p)
			}
		}
	}
	// Forged requests with the auditor's own valid CSRF token: refused by
	// the role check, nothing changes.
	b.get("/console/sims/" + sim.ICCID)
	policy := policyYAML(demo.Groups()[0].Policy)
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{"/console/sims/" + sim.ICCID + "/suspend", url.Values{"version": {"1"}, "confirm": {"yes"}}},
		{"/console/sims/" + sim.ICCID + "/activate", url.Values{"version": {"1"}, "confirm": {"yes"}, "for": {"1h"}}},
		{"/console/sims/" + sim.ICCID + "/bind-imei", url.Values{"version": {"1"}, "confirm": {"yes"}, "imei": {"352099001761481"}}},
		{"/console/sims/" + sim.ICCID + "/unbind-imei", url.Values{"version": {"1"}, "confirm": {"yes"}}},
		{"/console/groups/apply", url.Values{"name": {"smart-meters"}, "policy": {policy}, "version": {"1"}}},
		{"/console/groups/apply", url.Values{"name": {"evil"}, "policy": {"services: [data]"}, "new": {"1"}}},
	} {
		if r := b.post(f.path, f.form); r.status != http.StatusForbidden {
			t.Errorf("auditor POST %s: %d, want 403", f.path, r.status)
		}
	}
	if r := b.upload("/console/sims/import", "iccid,imsi,group\n"+demo.ICCID(900)+","+demo.IMSI(900)+",smart-meters\n", nil); r.status != http.StatusForbidden {
		t.Errorf("auditor import: %d", r.status)
	}
	if after := e.sim(4); after.Version != sim.Version {
		t.Errorf("the auditor changed the SIM: %+v", after)
	}
	if g, err := e.svc.GetGroup(e.actor(e.admin), "smart-meters"); err != nil || g.Version != 1 {
		t.Errorf("the auditor changed the group: %+v %v", g, err)
	}
	if _, err := e.svc.GetGroup(e.actor(e.admin), "evil"); simguard.ErrorCode(err) != simguard.ENOTFOUND {
		t.Errorf("the auditor created a group: %v", err)
	}
}

func TestSessionsEnd(t *testing.T) {
	t.Run("revoked token", func(t *testing.T) {
		e := newEnv(t)
		tok, err := e.svc.CreateToken(e.actor(e.admin), 0, "laptop", simguard.RoleOperator)
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login(tok.Secret)
		if err := e.svc.DeleteToken(e.actor(e.admin), tok.ID); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/console/sims"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/console/login") {
			t.Fatalf("after revocation: %d to %q", r.status, r.location)
		}
		e.clock.add(4 * time.Minute) // 12 minutes since the last page
		if r := b.get("/console/api/overview"); r.status != http.StatusUnauthorized {
			t.Fatalf("data after revocation: %d", r.status)
		}
	})
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute })
		b := e.browser()
		b.login(e.admin)
		e.clock.add(9 * time.Minute)
		if r := b.get("/console/"); r.status != http.StatusOK {
			t.Fatalf("within the idle time: %d", r.status)
		}
		e.clock.add(9 * time.Minute) // 9 minutes since the last request
		if r := b.get("/console/"); r.status != http.StatusOK {
			t.Fatalf("a request resets the idle time: %d", r.status)
		}
		// The overview's background polls do not count as activity.
		for range 2 {
			e.clock.add(4 * time.Minute)
			if r := b.get("/console/api/overview"); r.status != http.StatusOK {
				t.Fatalf("poll within the idle time: %d", r.status)
			}
		}
		e.clock.add(4 * time.Minute) // 12 minutes since the last page
		if r := b.get("/console/api/overview"); r.status != http.StatusUnauthorized {
			t.Fatalf("poll after the idle time: %d", r.status)
		}
		if r := b.get("/console/"); r.status != http.StatusSeeOther {
			t.Fatalf("after the idle time: %d", r.status)
		}
	})
	t.Run("lifetime", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.SessionTTL = time.Hour; c.IdleTimeout = 30 * time.Minute })
		b := e.browser()
		b.login(e.admin)
		for range 3 {
			e.clock.add(20 * time.Minute)
			b.get("/console/")
		}
		if r := b.get("/console/"); r.status != http.StatusSeeOther {
			t.Fatalf("after the lifetime: %d", r.status)
		}
		if n := e.con.sessions.prune(); n != 0 {
			t.Errorf("%d sessions left after pruning", n)
		}
	})
	t.Run("logout", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.login(e.admin)
		old := *findCookie(b.c.Jar.Cookies(mustURL(t, e.srv.URL+"/console/")), sessionCookie)
		r := b.post("/console/logout", nil)
		if r.status != http.StatusSeeOther || r.location != "/console/login?out=1" {
			t.Fatalf("logout: %d to %q", r.status, r.location)
		}
		if c := findCookie(r.cookies, sessionCookie); c == nil || c.MaxAge >= 0 {
			t.Errorf("logout did not clear the cookie: %+v", c)
		}
		// The old cookie is worth nothing now, even if someone kept it.
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/console/", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: old.Value})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("old cookie after logout: %d", resp.StatusCode)
		}
	})
	t.Run("table full", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.MaxSessions = 2 })
		e.browser().login(e.admin)
		e.browser().login(e.admin)
		b := e.browser()
		b.get("/console/login")
		if r := b.post("/console/login", url.Values{"token": {e.admin}}); r.status != http.StatusServiceUnavailable {
			t.Fatalf("third session: %d", r.status)
		}
		e.clock.add(2 * time.Hour) // the others expire
		b.get("/console/login")
		if r := b.post("/console/login", url.Values{"token": {e.admin}}); r.status != http.StatusSeeOther {
			t.Fatalf("after expiry: %d", r.status)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
