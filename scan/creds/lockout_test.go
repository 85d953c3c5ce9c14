package creds

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// classifySSHError decides from x/crypto/ssh's errors whether a pair was
// refused, the server offers no password login, or it is locking us out.
func TestClassifySSHError(t *testing.T) {
	for _, c := range []struct {
		err  string
		want outcome
	}{
		{"ssh: handshake failed: ssh: unable to authenticate, attempted methods [none password], no supported methods remain", failed},
		{"ssh: handshake failed: ssh: unable to authenticate, attempted methods [none keyboard-interactive], no supported methods remain", failed},
		{"ssh: handshake failed: ssh: unable to authenticate, attempted methods [none], no supported methods remain", unsupported},
		// OpenSSH's MaxAuthTries, and what Dropbear and appliances say.
		{"ssh: handshake failed: ssh: disconnect, reason 2: Too many authentication failures", lockedOut},
		{"ssh: handshake failed: ssh: disconnect, reason 2: Too many authentication failures for root from 10.0.0.1 port 40000 ssh2", lockedOut},
		{"ssh: disconnect, reason 2: Maximum authentication attempts exceeded for root", lockedOut},
		{"ssh: disconnect, reason 11: Your address is BLOCKED for 10 minutes", lockedOut},
		// No verdict: nothing to judge the pair by, and no lockout either.
		{"ssh: handshake failed: EOF", connError},
		{"read tcp 10.0.0.2:40000->10.45.0.7:22: read: connection reset by peer", connError},
		{"dial tcp 10.45.0.7:22: i/o timeout", connError},
	} {
		if got := classifySSHError(errors.New(c.err)); got != c.want {
			t.Errorf("classifySSHError(%q) = %d, want %d", c.err, got, c.want)
		}
	}
}

// HTTP basic auth: 429, 423 and 503 with Retry-After are lockout signs;
// the audit stops at once and says why. A 503 without Retry-After is a
// sick server, not a lockout: no verdict on the pair.
func TestHTTPLockoutSigns(t *testing.T) {
	for _, c := range []struct {
		name       string
		status     int
		retryAfter string
		want       outcome
		detail     string
	}{
		{"locked", http.StatusLocked, "", lockedOut, "423"},
		{"unavailable, retry later", http.StatusServiceUnavailable, "120", lockedOut, "503"},
		{"too many requests", http.StatusTooManyRequests, "", lockedOut, "429"},
		{"unavailable", http.StatusServiceUnavailable, "", connError, "503"},
		{"refused", http.StatusUnauthorized, "", failed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("WWW-Authenticate", `Basic realm="modem"`)
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				w.WriteHeader(c.status)
			}))
			defer srv.Close()
			target := Target{Addr: netip.MustParseAddrPort(srv.Listener.Addr().String()), Service: "http", Path: "/"}
			h := newHTTPAttempter(target, 0)
			defer h.close()
			out, _, detail := h.try(context.Background(), Pair{Username: "admin", Password: "admin"})
			if out != c.want || !strings.Contains(detail, c.detail) {
				t.Fatalf("try = %d %q, want %d naming %q", out, detail, c.want, c.detail)
			}
			if c.want != lockedOut {
				return
			}
			// Through the auditor: one attempt, then it stops and reports.
			r := newAuditor(t, 30).AuditHost(context.Background(), []Target{target}, pairs)[0]
			if r.Found != nil || r.Attempts != 1 || !strings.Contains(r.Lockout, c.detail) {
				t.Fatalf("audit: %+v", r)
			}
		})
	}
}
