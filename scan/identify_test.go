package scan

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// newTestScanner returns a scanner for loopback with short timeouts.
func newTestScanner(t *testing.T, deps Deps) *Scanner {
	t.Helper()
	s, err := New(Config{
		AuditRanges:    loopback,
		Rate:           100000,
		ConnectTimeout: time.Second,
		BannerWait:     300 * time.Millisecond,
		ProbeTimeout:   2 * time.Second,
		UDPTimeout:     200 * time.Millisecond,
	}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeTCP serves handle on a loopback port until the test ends.
func fakeTCP(t *testing.T, handle func(net.Conn)) netip.AddrPort {
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
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

func say(s string) func(net.Conn) {
	return func(c net.Conn) { c.Write([]byte(s)); io.Copy(io.Discard, c) }
}

// answer reads one request and writes reply.
func answer(reply []byte) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 1024)
		if _, err := c.Read(buf); err == nil {
			c.Write(reply)
		}
	}
}

func httpServer(t *testing.T, h http.HandlerFunc, tlsCfg *tls.Config) netip.AddrPort {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// Probes that are not TLS hit the TLS servers by design.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsCfg != nil {
		srv.TLS = tlsCfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return netip.MustParseAddrPort(srv.Listener.Addr().String())
}

func TestIdentify(t *testing.T) {
	basic := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "GoAhead-Webs")
		w.Header().Set("WWW-Authenticate", `Basic realm="camera"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	cwmp := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Digest realm="IGD-cwmp", nonce="1"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	telnetd := func(c net.Conn) {
		c.Write([]byte{255, 253, 24}) // DO TERMINAL-TYPE
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		if n < 3 || buf[0] != 255 || buf[1] != 251 || buf[2] != 24 { // WILL TERMINAL-TYPE
			return
		}
		c.Write([]byte("\r\nBusyBox v1.31 built-in shell\r\nrouter login: "))
		io.Copy(io.Discard, c)
	}
	tests := []struct {
		name     string
		ap       netip.AddrPort
		step     *step // nil: the whole plan, as for an unknown port
		service  string
		product  string
		tls      bool
		login    string
		auth     string
		issues   []simguard.IssueKind
		severity simguard.Severity
	}{
		{name: "ssh banner", ap: fakeTCP(t, say("SSH-2.0-dropbear_2022.83\r\n")), service: "ssh", product: "dropbear_2022.83", login: "ssh", auth: "password", severity: ""},
		{name: "telnet after negotiation", ap: fakeTCP(t, telnetd), service: "telnet", login: "telnet", auth: "login",
			issues: []simguard.IssueKind{simguard.IssuePlaintextLogin}, severity: simguard.SeverityHigh},
		{name: "ftp greeting", ap: fakeTCP(t, say("220 (vsFTPd 3.0.3)\r\n")), service: "ftp", product: "(vsFTPd 3.0.3)", auth: "password",
			issues: []simguard.IssueKind{simguard.IssuePlaintextLogin}, severity: simguard.SeverityHigh},
		{name: "http basic auth", ap: httpServer(t, basic, nil), service: "http", product: "GoAhead-Webs", login: "http", auth: "basic",
			issues: []simguard.IssueKind{simguard.IssuePlaintextLogin}, severity: simguard.SeverityHigh},
		{name: "tr-069 connection request", ap: httpServer(t, cwmp, nil), service: "tr069", auth: "digest",
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol}, severity: simguard.SeverityMedium},
		{name: "https", ap: httpServer(t, basic, &tls.Config{MinVersion: tls.VersionTLS12}), service: "https", product: "GoAhead-Webs", tls: true, login: "http", auth: "basic"},
		{name: "https with TLS 1.0 only", ap: httpServer(t, basic, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}), service: "https", product: "GoAhead-Webs", tls: true, login: "http", auth: "basic",
			issues: []simguard.IssueKind{simguard.IssueWeakTLS}, severity: simguard.SeverityMedium},
		{name: "mqtt needs a password", ap: fakeTCP(t, answer([]byte{0x20, 2, 0, 5})), step: &stepMQTT, service: "mqtt", auth: "password",
			issues: []simguard.IssueKind{simguard.IssuePlaintextLogin}, severity: simguard.SeverityHigh},
		{name: "mqtt anonymous", ap: fakeTCP(t, answer([]byte{0x20, 2, 0, 0})), step: &stepMQTT, service: "mqtt", auth: "none",
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol, simguard.IssueAnonymousAccess}, severity: simguard.SeverityHigh},
		{name: "modbus device id", step: &stepModbus, service: "modbus", product: "ACME PLC-1 1.0", auth: "none",
			ap:     fakeTCP(t, answer(mustHex(t, "5347 0000 001a 01 2b0e 01 01 00 00 03 0004 41434d45 0105 504c432d31 0203 312e30"))),
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol, simguard.IssueAnonymousAccess}, severity: simguard.SeverityHigh},
		{name: "rtsp open", step: &stepRTSP, service: "rtsp", product: "Hipcam RealServer/V1.0", auth: "none",
			ap:     fakeTCP(t, answer([]byte("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hipcam RealServer/V1.0\r\nPublic: OPTIONS, DESCRIBE, PLAY\r\n\r\n"))),
			issues: []simguard.IssueKind{simguard.IssuePlaintextProtocol, simguard.IssueAnonymousAccess}, severity: simguard.SeverityHigh},
		{name: "silent", ap: fakeTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) }), service: "unknown"},
		{name: "garbage", ap: fakeTCP(t, say("\x00\x01\x02 hello\n")), service: "unknown"},
	}
	s := newTestScanner(t, Deps{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var svc service
			if tt.step != nil {
				var ok bool
				if svc, ok = s.runStep(context.Background(), tt.ap, *tt.step); !ok {
					t.Fatalf("step %s did not recognize the service", tt.step.name)
				}
			} else {
				svc = s.identify(context.Background(), tt.ap)
			}
			login := ""
			if svc.login != nil {
				login = svc.login.Service
				if svc.login.Addr != tt.ap {
					t.Errorf("login target %s, want %s", svc.login.Addr, tt.ap)
				}
			}
			if svc.name != tt.service || svc.product != tt.product || svc.tls != tt.tls || login != tt.login || svc.auth != tt.auth {
				t.Fatalf("got %+v (login %q)", svc, login)
			}
			f := s.newFinding(&simguard.ScanRun{}, tt.ap, "tcp", svc)
			var kinds []simguard.IssueKind
			for _, is := range f.Issues {
				kinds = append(kinds, is.Kind)
			}
			want := tt.severity
			if want == "" {
				want = simguard.SeverityInfo
			}
			if !slices.Equal(kinds, tt.issues) || f.Severity != want {
				t.Fatalf("issues %v severity %s, want %v %s", kinds, f.Severity, tt.issues, want)
			}
		})
	}
}

func TestPlanFor(t *testing.T) {
	names := func(p []step) []string {
		var out []string
		for _, s := range p {
			out = append(out, s.name)
		}
		return out
	}
	tests := []struct {
		port uint16
		want []string
	}{
		{23, []string{"banner", "https", "http"}},
		{8883, []string{"mqtts", "banner", "https", "http"}},
		{443, []string{"https", "banner", "http"}},
		{502, []string{"modbus", "banner", "https", "http"}},
		{40000, []string{"banner", "https", "http"}},
	}
	for _, tt := range tests {
		if got := names(planFor(tt.port)); !slices.Equal(got, tt.want) {
			t.Errorf("planFor(%d) = %v, want %v", tt.port, got, tt.want)
		}
	}
}
