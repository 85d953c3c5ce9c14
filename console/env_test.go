package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/sqlite"
)

// testClock is a settable clock shared by the store, the service and the
// console.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log lines from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a console over a real control service and SQLite store with the
// first 30 SIMs of the demo fleet, served by httptest.
type env struct {
	t      testing.TB
	db     *sqlite.DB
	svc    *control.Service
	con    *Console
	srv    *httptest.Server
	clock  *testClock
	logs   *syncBuffer
	admin  string // the bootstrap admin's secret
	signer *audit.Signer
	reg    *prometheus.Registry
}

func newEnv(t testing.TB, edit ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := control.New(ctx, db, control.Config{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := svc.Bootstrap(ctx, "provider")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, svc: svc, clock: clk, logs: &syncBuffer{}, admin: secret, reg: prometheus.NewRegistry()}
	adminCtx := e.actor(secret)
	for _, g := range demo.Groups() {
		if _, err := svc.CreateGroup(adminCtx, g); err != nil {
			t.Fatal(err)
		}
	}
	var rows []control.ImportRow
	for i, s := range demo.SIMs()[:30] {
		rows = append(rows, control.ImportRow{Line: i + 2, SIM: s})
	}
	if _, err := svc.ImportSIMs(adminCtx, rows); err != nil {
		t.Fatal(err)
	}
	e.signer, err = audit.LoadOrCreateKey(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Service: svc, Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: clk.now, Registerer: e.reg, AuditKey: e.signer.PublicKey()}
	for _, f := range edit {
		f(&cfg)
	}
	if e.con, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.con.Mount(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// actor returns a context acting as the token with that secret.
func (e *env) actor(secret string) context.Context {
	e.t.Helper()
	a, _, err := e.svc.Authenticate(context.Background(), secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return simguard.WithActor(context.Background(), a)
}

// token makes a token with role in the provider tenant and returns its
// secret.
func (e *env) token(role simguard.Role) string {
	e.t.Helper()
	tok, err := e.svc.CreateToken(e.actor(e.admin), 0, "t-"+string(role), role)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Secret
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that tests see each step.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type response struct {
	status   int
	body     string
	location string
	header   http.Header
	cookies  []*http.Cookie
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), header: resp.Header, cookies: resp.Cookies()}
	if m := csrfInput.FindStringSubmatch(r.body); m != nil {
		b.csrf = m[1]
	}
	return r
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form with the browser's current CSRF token unless the form
// sets its own.
func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// login logs in with secret and fails the test unless it works.
func (b *browser) login(secret string) {
	b.e.t.Helper()
	if r := b.get("/console/login"); r.status != http.StatusOK {
		b.e.t.Fatalf("login page: %d", r.status)
	}
	r := b.post("/console/login", url.Values{"token": {secret}, "next": {"/console/"}})
	if r.status != http.StatusSeeOther || r.location != "/console/" {
		b.e.t.Fatalf("login: %d to %q\n%s", r.status, r.location, r.body)
	}
	if p := b.get("/console/"); p.status != http.StatusOK {
		b.e.t.Fatalf("overview after login: %d\n%s", p.status, p.body)
	}
}

func (e *env) sim(i int) simguard.SIM {
	e.t.Helper()
	s, err := e.svc.GetSIM(e.actor(e.admin), demo.ICCID(i))
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func wantContains(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

// upload posts a CSV file as the import form does, with extra fields.
func (b *browser) upload(path, csv string, fields map[string]string) response {
	b.e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	// The CSRF field comes first, as the form puts it.
	_ = w.WriteField("csrf", b.csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile("file", "sims.csv")
	if err != nil {
		b.e.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(csv))
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// testCounter reads a counter from the console's registry (label "" for
// a counter without labels).
func testCounter(t *testing.T, e *env, name, label, value string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// regexpFind returns the first submatch of pattern in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match for %s", pattern)
	}
	return m[1]
}
