package creds

import (
	"context"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/simguard/simguard/scan/internal/telnet"
)

// Telnet login prompts, judged on the text since our last input with
// trailing blanks removed, lower-cased.
var (
	reLoginPrompt = regexp.MustCompile(`(login|username|user name|user|account)\s*:$`)
	rePassPrompt  = regexp.MustCompile(`(password|passwd|pass|passcode)\s*:$`)
	// A shell prompt ends the last line with one of #, $, >, % (busybox
	// "# ", bash "user@host:~$ ", Cisco-like "Router>").
	reShellPrompt = regexp.MustCompile(`(^|\n)[^\n]{0,80}[#$>%]$`)
	reFailure     = regexp.MustCompile(`incorrect|invalid|fail|denied|wrong|bad password|not allowed|authentication error`)
	reLockout     = regexp.MustCompile(`too many|locked|lockout|try again later|temporarily|maximum number|exceeded`)
)

// promptIdle is how long the text must stay still before a shell prompt
// counts: a login banner may contain a line that ends in '>' or '$'.
const promptIdle = 400 * time.Millisecond

// telnetAttempter keeps one connection while the server keeps offering
// the login prompt (login(1) allows several tries per connection) and
// reconnects when it hangs up.
type telnetAttempter struct {
	t       Target
	timeout time.Duration
	conn    net.Conn
	rest    []byte // an incomplete command from the last read
	text    string // text received since our last input
	atLogin bool   // the last thing seen is a login prompt
}

func newTelnetAttempter(t Target, timeout time.Duration) *telnetAttempter {
	return &telnetAttempter{t: t, timeout: timeout}
}

func (s *telnetAttempter) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *telnetAttempter) try(ctx context.Context, p Pair) (outcome, string, string) {
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if s.conn == nil || !s.atLogin {
		s.close()
		if out, detail := s.connect(ctx, deadline); out != succeeded {
			return out, "", detail
		}
	}
	s.atLogin = false
	if err := s.send(p.Username); err != nil {
		s.close()
		return connError, "", errText(err)
	}
	ev := s.waitFor(deadline, true)
	switch ev {
	case evPassword:
		if err := s.send(p.Password); err != nil {
			s.close()
			return connError, "", errText(err)
		}
		ev = s.waitFor(deadline, true)
	case evShell:
		s.logout()
		return succeeded, "login", ""
	}
	switch ev {
	case evShell:
		s.logout()
		return succeeded, "login", ""
	case evLockout:
		s.close()
		return lockedOut, "", "the device said: " + lastLine(s.text)
	case evLogin:
		s.atLogin = true
		return failed, "", ""
	case evFailure:
		// login(1) prints its complaint and then a fresh prompt.
		if s.waitFor(deadline, false) == evLogin {
			s.atLogin = true
		}
		return failed, "", ""
	case evClosed:
		s.close()
		return failed, "", ""
	}
	s.close()
	return connError, "", "no verdict before the timeout"
}

// connect dials and reads up to the login prompt.
func (s *telnetAttempter) connect(ctx context.Context, deadline time.Time) (outcome, string) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", s.t.Addr.String())
	if err != nil {
		return connError, errText(err)
	}
	s.conn, s.rest, s.text = c, nil, ""
	switch s.waitFor(deadline, false) {
	case evLogin:
		return succeeded, ""
	case evLockout:
		s.close()
		return lockedOut, "the device said: " + lastLine(s.text)
	case evShell:
		// A shell without any login is worse than a default password, but
		// it is the scanner's banner that reports it; nothing to try here.
		s.close()
		return unsupported, "the service gives a shell without a login prompt"
	}
	s.close()
	return connError, "no login prompt"
}

func (s *telnetAttempter) send(line string) error {
	s.text = ""
	_, err := s.conn.Write([]byte(line + "\r\n"))
	return err
}

func (s *telnetAttempter) logout() {
	s.conn.Write([]byte("exit\r\n"))
	s.close()
}

type event int

const (
	evTimeout event = iota
	evClosed
	evLogin
	evPassword
	evShell
	evFailure
	evLockout
)

// waitFor reads, answering negotiation, until the text shows a prompt or
// a verdict. afterInput: we just sent a line, so failure words count (a
// banner before the first prompt may well say "unauthorized access is
// prohibited").
func (s *telnetAttempter) waitFor(deadline time.Time, afterInput bool) event {
	buf := make([]byte, 4096)
	for {
		ev, settled := judge(s.text, afterInput)
		if settled {
			return ev
		}
		wait := deadline
		if ev == evShell {
			wait = minTime(deadline, time.Now().Add(promptIdle))
		}
		s.conn.SetReadDeadline(wait)
		n, err := s.conn.Read(buf)
		if n > 0 {
			text, cmds, rest := telnet.Parse(append(s.rest, buf[:n]...))
			s.rest = rest
			if ans := telnet.Answer(cmds, "vt100"); len(ans) > 0 {
				s.conn.Write(ans)
			}
			s.text = clipText(s.text + string(text))
			continue
		}
		if err != nil {
			if ev == evShell && time.Now().Before(deadline) {
				return evShell // the prompt stayed still: it is one
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return evTimeout
			}
			return evClosed
		}
	}
}

// judge decides what the text received so far shows. settled is false
// for a possible shell prompt, which must stay still for promptIdle.
func judge(raw string, afterInput bool) (event, bool) {
	t := strings.ToLower(strings.TrimRight(strings.ReplaceAll(raw, "\x00", ""), " \t\r\n"))
	// Verdict words count only near the end: a banner or a message of the
	// day may say "locked" or "unauthorized" anywhere.
	tail := t
	if i := strings.LastIndexByte(t, '\n'); i >= 0 {
		if j := strings.LastIndexByte(t[:i], '\n'); j >= 0 {
			tail = t[j+1:]
		}
	}
	switch {
	case t == "":
		return evTimeout, false
	case rePassPrompt.MatchString(t):
		return evPassword, true
	case reLoginPrompt.MatchString(t):
		return evLogin, true
	case reLockout.MatchString(tail):
		return evLockout, true
	case afterInput && reFailure.MatchString(tail):
		return evFailure, true
	case reShellPrompt.MatchString(t):
		return evShell, false
	}
	return evTimeout, false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, s)
}

// clipText keeps the last 8 KiB: prompts are at the end.
func clipText(s string) string {
	if len(s) > 8192 {
		return s[len(s)-8192:]
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
