package creds

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newAuditor(t *testing.T, budget int) *Auditor {
	t.Helper()
	a, err := New(Config{MaxAttemptsPerHost: budget, Timeout: 3 * time.Second, Delay: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func serve(t *testing.T, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

var pairs = []Pair{{"root", "xc3511", "builtin:1"}, {"root", "vizxv", "builtin:2"}, {"admin", "admin", "builtin:4"}, {"user", "user", "builtin:5"}}

// fakeTelnet is a login(1)-like server: IAC negotiation, then login and
// password prompts, three tries per connection, and a shell prompt for
// admin/admin. After lockAfter failures (0: never) it says the account
// is locked.
func fakeTelnet(t *testing.T, lockAfter int32) (netip.AddrPort, *atomic.Int32) {
	var fails atomic.Int32
	ap := serve(t, func(c net.Conn) {
		c.Write([]byte{255, 251, 1, 255, 251, 3, 255, 253, 24}) // WILL ECHO, WILL SGA, DO TTYPE
		r := bufio.NewReader(c)
		readLine := func() string {
			var b []byte
			for {
				ch, err := r.ReadByte()
				if err != nil {
					return ""
				}
				switch {
				case ch == 255: // skip IAC x y
					r.ReadByte()
					r.ReadByte()
				case ch == '\n':
					return strings.TrimRight(string(b), "\r\x00")
				default:
					b = append(b, ch)
				}
			}
		}
		c.Write([]byte("\r\nModem firmware 1.2 -- authorized use only\r\n"))
		for range 3 {
			c.Write([]byte("modem login: "))
			user := readLine()
			c.Write([]byte("Password: "))
			pass := readLine()
			if user == "admin" && pass == "admin" {
				c.Write([]byte("\r\nWelcome\r\n~ # "))
				readLine()
				return
			}
			if lockAfter > 0 && fails.Add(1) >= lockAfter {
				c.Write([]byte("\r\nAccount locked: too many failures\r\n"))
				return
			}
			c.Write([]byte("\r\nLogin incorrect\r\n"))
		}
	})
	return ap, &fails
}

func TestAuditTelnet(t *testing.T) {
	ap, _ := fakeTelnet(t, 0)
	r := newAuditor(t, 30).AuditHost(context.Background(), []Target{{Addr: ap, Service: "telnet"}}, pairs)[0]
	if r.Found == nil || r.Found.Username != "admin" || r.Found.Source != "builtin:4" || r.Found.Method != "login" || r.Attempts != 3 || r.Lockout != "" {
		t.Fatalf("result %+v found %+v", r, r.Found)
	}
}

func TestAuditTelnetStopsOnLockout(t *testing.T) {
	ap, fails := fakeTelnet(t, 2)
	r := newAuditor(t, 30).AuditHost(context.Background(), []Target{{Addr: ap, Service: "telnet"}, {Addr: ap, Service: "http"}}, pairs)
	if r[0].Found != nil || !strings.Contains(r[0].Lockout, "locked") || r[0].Attempts != 2 || fails.Load() != 2 {
		t.Fatalf("result %+v (server saw %d failures)", r[0], fails.Load())
	}
	if r[1].Attempts != 0 || !strings.Contains(r[1].Skipped, "lockout") {
		t.Fatalf("the host's next service was tried after a lockout: %+v", r[1])
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		afterInput bool
		want       event
		settled    bool
	}{
		{"login prompt", "\r\nDebian GNU/Linux 12\r\nvm login: ", false, evLogin, true},
		{"username prompt", "Username:", false, evLogin, true},
		{"password prompt", "admin\r\nPassword: ", true, evPassword, true},
		{"incorrect then login", "\r\nLogin incorrect\r\nvm login: ", true, evLogin, true},
		{"incorrect alone", "\r\n% Authentication failed\r\n", true, evFailure, true},
		{"lockout", "\r\nToo many login failures, try again later\r\n", true, evLockout, true},
		{"shell prompt waits to settle", "\r\nLast login: Mon\r\n$ ", true, evShell, false},
		{"root prompt", "BusyBox v1.31\r\n~ # ", true, evShell, false},
		{"cisco prompt", "Router>", true, evShell, false},
		{"banner words before input do not fail", "Unauthorized access is denied\r\n", false, evTimeout, false},
		{"motd with locked far above the prompt", "account locked in 2019\r\nline\r\nline\r\n$ ", true, evShell, false},
		{"nothing", "", false, evTimeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, settled := judge(tt.text, tt.afterInput)
			if ev != tt.want || settled != tt.settled {
				t.Fatalf("judge = %v, %v; want %v, %v", ev, settled, tt.want, tt.settled)
			}
		})
	}
}

func FuzzJudge(f *testing.F) {
	f.Add("vm login: ", true)
	f.Add("Password:", false)
	f.Add("\r\n$ ", true)
	f.Fuzz(func(t *testing.T, text string, afterInput bool) {
		ev, settled := judge(text, afterInput)
		if settled && ev == evTimeout {
			t.Fatal("a timeout cannot be settled")
		}
		if l := lastLine(text); len(l) > 120 {
			t.Fatalf("lastLine of %d bytes", len(l))
		}
	})
}

func sshServer(t *testing.T, cfg *ssh.ServerConfig) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddHostKey(signer)
	var conns atomic.Int32
	ap := serve(t, func(c net.Conn) {
		conns.Add(1)
		sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "no")
			}
		}()
		sc.Wait()
	})
	return ap, &conns
}

func TestAuditSSH(t *testing.T) {
	check := func(user, pass string) error {
		if user == "admin" && pass == "admin" {
			return nil
		}
		return fmt.Errorf("no")
	}
	password, _ := sshServer(t, &ssh.ServerConfig{PasswordCallback: func(m ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) {
		return nil, check(m.User(), string(p))
	}})
	kbd, _ := sshServer(t, &ssh.ServerConfig{KeyboardInteractiveCallback: func(m ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
		ans, err := ch("", "", []string{"Password: "}, []bool{false})
		if err != nil || len(ans) != 1 {
			return nil, fmt.Errorf("no answer")
		}
		return nil, check(m.User(), ans[0])
	}})
	keysOnly, keyConns := sshServer(t, &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
		return nil, fmt.Errorf("no")
	}})
	tests := []struct {
		name     string
		ap       netip.AddrPort
		method   string
		attempts int
		skipped  string
	}{
		{"password", password, "password", 3, ""},
		{"keyboard-interactive only", kbd, "keyboard-interactive", 3, ""},
		{"public keys only", keysOnly, "", 0, "offers neither"},
	}
	a := newAuditor(t, 30)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.AuditHost(context.Background(), []Target{{Addr: tt.ap, Service: "ssh"}}, pairs)[0]
			if tt.method == "" {
				if r.Found != nil || r.Attempts != tt.attempts || !strings.Contains(r.Skipped, tt.skipped) {
					t.Fatalf("result %+v", r)
				}
				return
			}
			if r.Found == nil || r.Found.Username != "admin" || r.Found.Method != tt.method || r.Attempts != tt.attempts {
				t.Fatalf("result %+v found %+v", r, r.Found)
			}
		})
	}
	if n := keyConns.Load(); n != 2 {
		t.Errorf("key-only server saw %d connections, want 2 (password, then keyboard-interactive)", n)
	}
}

func TestAuditHTTPAndBudget(t *testing.T) {
	var hits atomic.Int32
	basic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if u, p, _ := r.BasicAuth(); u == "admin" && p == "admin" {
			w.Write([]byte("ok"))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer basic.Close()
	var limited atomic.Int32
	throttle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limited.Add(1) > 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer throttle.Close()
	addr := func(s *httptest.Server) netip.AddrPort { return netip.MustParseAddrPort(s.Listener.Addr().String()) }

	r := newAuditor(t, 30).AuditHost(context.Background(), []Target{{Addr: addr(basic), Service: "http", Path: "/"}}, pairs)[0]
	if r.Found == nil || r.Found.Username != "admin" || r.Found.Method != "basic" || r.Attempts != 3 {
		t.Fatalf("basic: %+v", r)
	}
	r = newAuditor(t, 30).AuditHost(context.Background(), []Target{{Addr: addr(throttle), Service: "http"}}, pairs)[0]
	if r.Found != nil || !strings.Contains(r.Lockout, "429") || r.Attempts != 2 {
		t.Fatalf("throttle: %+v", r)
	}

	// A budget of 3 for two services: the first gets 1, the second 2; the
	// host sees 3 attempts at most, whatever the list's length.
	hits.Store(0)
	res := newAuditor(t, 3).AuditHost(context.Background(), []Target{
		{Addr: addr(basic), Service: "http"}, {Addr: addr(basic), Service: "http"},
	}, pairs)
	if res[0].Attempts != 1 || res[1].Attempts != 2 || hits.Load() != 3 || !strings.Contains(res[0].Skipped, "budget") {
		t.Fatalf("budget: %+v / %+v, server hits %d", res[0], res[1], hits.Load())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg   Config
		field string
	}{
		{Config{MaxAttemptsPerHost: -1}, "credentials.max_attempts_per_host"},
		{Config{MaxAttemptsPerHost: 5000}, "credentials.max_attempts_per_host"},
		{Config{Timeout: time.Hour}, "credentials.timeout"},
		{Config{Delay: -time.Second}, "credentials.delay"},
	} {
		if err := tt.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: err = %v, want one naming %s", tt.cfg, err, tt.field)
		}
	}
}
