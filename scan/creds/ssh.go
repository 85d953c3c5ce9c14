package creds

import (
	"context"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshAttempter logs in with one connection per attempt: OpenSSH counts
// MaxAuthTries per connection, and a fresh connection per pair keeps the
// count (and what the server logs) one per attempt. It uses the password
// method and falls back to keyboard-interactive when the server offers
// only that (PAM setups and many embedded servers).
type sshAttempter struct {
	t       Target
	timeout time.Duration
	kbdOnly bool
}

func newSSHAttempter(t Target, timeout time.Duration) *sshAttempter {
	return &sshAttempter{t: t, timeout: timeout}
}

func (s *sshAttempter) close() {}

func (s *sshAttempter) try(ctx context.Context, p Pair) (outcome, string, string) {
	out, method, detail := s.login(ctx, p)
	if out == unsupported && !s.kbdOnly {
		s.kbdOnly = true
		out, method, detail = s.login(ctx, p)
	}
	if out == unsupported {
		detail = "the server offers neither password nor keyboard-interactive authentication"
	}
	return out, method, detail
}

func (s *sshAttempter) login(ctx context.Context, p Pair) (outcome, string, string) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.t.Addr.String())
	if err != nil {
		return connError, "", errText(err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	method := "password"
	auth := []ssh.AuthMethod{ssh.Password(p.Password)}
	if s.kbdOnly {
		method = "keyboard-interactive"
		auth = []ssh.AuthMethod{ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range questions {
				// A prompt that echoes asks for the user name; the hidden
				// one for the password.
				if i < len(echos) && echos[i] {
					answers[i] = p.Username
				} else {
					answers[i] = p.Password
				}
			}
			return answers, nil
		})}
	}
	cfg := &ssh.ClientConfig{
		User: p.Username,
		Auth: auth,
		// We audit devices, we do not trust them: any host key will do.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		ClientVersion:   "SSH-2.0-simguard_audit",
		Timeout:         s.timeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, s.t.Addr.String(), cfg)
	if err == nil {
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "audit only")
			}
		}()
		c.Close()
		return succeeded, method, ""
	}
	return classifySSHError(err), method, errText(err)
}

// classifySSHError reads x/crypto/ssh's error. "attempted methods [none]"
// means the server offered none of ours; a refused or dropped connection
// before authentication means the server is refusing us.
func classifySSHError(err error) outcome {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"):
		if strings.Contains(msg, "attempted methods [none]") {
			return unsupported
		}
		return failed
	case strings.Contains(strings.ToLower(msg), "too many authentication failures"),
		strings.Contains(strings.ToLower(msg), "maximum"),
		strings.Contains(strings.ToLower(msg), "blocked"):
		return lockedOut
	}
	// EOF, reset or timeout before a verdict: nothing to judge the pair by.
	return connError
}
