package radius

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

const testSecret = "s3cret-nas-1"

// harness is a running server on loopback with test doubles behind it.
type harness struct {
	srv      *Server
	eval     *testEvaluator
	fb       *testFeedback
	sink     *testSink
	sessions *testSessions
	leases   *testLeases
	reg      *prometheus.Registry
	auth     netip.AddrPort
	acct     netip.AddrPort
	auth6    netip.AddrPort
	acct6    netip.AddrPort
	stop     func()
}

type harnessOpt func(*Config, *Deps)

func startServer(t *testing.T, eval *testEvaluator, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{eval: eval, fb: &testFeedback{eval: eval}, sink: &testSink{},
		sessions: &testSessions{}, leases: &testLeases{}, reg: prometheus.NewRegistry()}
	cfg := Config{
		AuthAddrs: []string{"127.0.0.1:0", "[::1]:0"},
		AcctAddrs: []string{"127.0.0.1:0", "[::1]:0"},
		Workers:   4,
		Disconnect: DisconnectConfig{Timeout: 300 * time.Millisecond, Attempts: 2,
			RetryAfter: time.Hour},
		RecheckInterval: -1,
	}
	deps := Deps{
		Evaluator: eval, Feedback: h.fb, Events: h.sink, Sessions: h.sessions, Leases: h.leases,
		Registerer: h.reg,
		Clients: []simguard.NASClient{
			{ID: 1, TenantID: 1, Name: "pgw-v4", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: testSecret},
			{ID: 2, TenantID: 1, Name: "pgw-v6", Prefix: netip.MustParsePrefix("::1/128"), Secret: testSecret},
		},
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	for _, a := range srv.AuthAddrs() {
		if a.Addr().Is4() {
			h.auth = a
		} else {
			h.auth6 = a
		}
	}
	for _, a := range srv.AcctAddrs() {
		if a.Addr().Is4() {
			h.acct = a
		} else {
			h.acct6 = a
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	h.stop = func() { once.Do(func() { stopServer(t, cancel, done) }) }
	t.Cleanup(h.stop)
	return h
}

func stopServer(t *testing.T, cancel func(), done chan error) {
	{
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	}
}

// radclientResult is one radclient run.
type radclientResult struct {
	out  string
	code int // exit code: 0 accept/ack, 1 reject or no answer
}

func needRadclient(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("radclient"); err != nil {
		t.Skip("radclient not installed (Debian package freeradius-utils)")
	}
}

// radclient sends one request with FreeRADIUS' radclient and its own
// dictionaries: cmd is auth, acct or status; attrs one "Name = value" per
// line.
func radclient(t *testing.T, to netip.AddrPort, cmd, secret string, attrs ...string) radclientResult {
	t.Helper()
	args := []string{"-x", "-r", "1", "-t", "2"}
	if to.Addr().Is6() {
		args = append(args, "-6")
	}
	args = append(args, to.String(), cmd, secret)
	return runRadclient(t, args, attrs)
}

// runRadclient runs radclient with args, the attributes on stdin.
func runRadclient(t *testing.T, args []string, attrs []string) radclientResult {
	t.Helper()
	c := exec.Command("radclient", args...)
	c.Stdin = strings.NewReader(strings.Join(attrs, "\n") + "\n")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	res := radclientResult{out: out.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("radclient: %v", err)
	}
	return res
}

func (r radclientResult) dump(t *testing.T) { t.Log(r.out) }

func (r radclientResult) accepted() bool { return strings.Contains(r.out, "Received Access-Accept") }
func (r radclientResult) rejected() bool { return strings.Contains(r.out, "Received Access-Reject") }
func (r radclientResult) silent() bool   { return strings.Contains(r.out, "No reply from server") }

// has reports whether radclient printed a reply attribute like
// `Framed-IP-Address = 10.0.0.1`.
func (r radclientResult) has(attr string) bool { return strings.Contains(r.out, attr) }

// accessAttrs is a PGW's Access-Request for imsi with Message-Authenticator.
func accessAttrs(imsi, imeisv, apn string, extra ...string) []string {
	a := []string{
		"User-Name = " + imsi,
		"3GPP-IMSI = " + imsi,
		"Called-Station-Id = " + apn,
		"Calling-Station-Id = 491700000001",
		"NAS-IP-Address = 127.0.0.1",
		"Message-Authenticator = 0x00",
	}
	if imeisv != "" {
		a = append(a, "3GPP-IMEISV = "+imeisv)
	}
	return append(a, extra...)
}

func acctAttrs(status, session, imsi string, extra ...string) []string {
	return append([]string{
		"Acct-Status-Type = " + status,
		"Acct-Session-Id = " + session,
		"User-Name = " + imsi,
		"3GPP-IMSI = " + imsi,
		"Called-Station-Id = iot.example",
		"NAS-IP-Address = 127.0.0.1",
	}, extra...)
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metric
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			if m.Gauge != nil {
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

func fmtHex(b []byte) string { return fmt.Sprintf("0x%x", b) }

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
