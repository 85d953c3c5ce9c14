package smpptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Perl runs one of the Net::SMPP test scripts (smpp/testdata/esme.pl and
// smsc.pl: their headers document the protocol) and talks to it in JSON
// lines: commands to its stdin, events from its stdout.
type Perl struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan map[string]any
	backlog []map[string]any
	mu      sync.Mutex
	stderr  bytes.Buffer
	exited  chan struct{}
}

// NeedPerl skips the test when perl or Net::SMPP is missing (scripts/test
// installs them, so in CI the tests run).
func NeedPerl(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	if err := exec.Command("perl", "-MNet::SMPP", "-MJSON::PP", "-e", "1").Run(); err != nil {
		t.Skip("Net::SMPP not installed (Debian libnet-smpp-perl)")
	}
}

// StartPerl runs the script at path with args; it is killed when the
// test ends.
func StartPerl(t testing.TB, script string, args ...string) *Perl {
	t.Helper()
	p := &Perl{name: script, lines: make(chan map[string]any, 1024), exited: make(chan struct{})}
	p.cmd = exec.Command("perl", append([]string{script}, args...)...)
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"event": "garbage", "line": sc.Text()}
			}
			p.lines <- m
		}
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.Kill)
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// Send writes one command.
func (p *Perl) Send(t testing.TB, cmd map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("%s: write: %v\n%s", p.name, err, p.Stderr())
	}
}

// Stderr is what the script printed there.
func (p *Perl) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Next returns the next line of the given event, keeping other lines for
// later calls.
func (p *Perl) Next(t testing.TB, event string, timeout time.Duration) map[string]any {
	t.Helper()
	for i, m := range p.backlog {
		if m["event"] == event {
			p.backlog = append(p.backlog[:i], p.backlog[i+1:]...)
			return m
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited waiting for %q\n%s", p.name, event, p.Stderr())
			}
			if m["event"] == event {
				return m
			}
			p.backlog = append(p.backlog, m)
		case <-deadline:
			t.Fatalf("%s: no %q in %s\n%s", p.name, event, timeout, p.Stderr())
		}
	}
}

// Count returns how many of the next n lines of an event arrive, waiting
// up to d for each.
func (p *Perl) Count(event string, n int, d time.Duration) int {
	got := 0
	kept := p.backlog[:0]
	for _, m := range p.backlog {
		if got < n && m["event"] == event {
			got++
			continue
		}
		kept = append(kept, m)
	}
	p.backlog = kept
	for got < n {
		select {
		case m, ok := <-p.lines:
			if !ok {
				return got
			}
			if m["event"] == event {
				got++
			} else {
				p.backlog = append(p.backlog, m)
			}
		case <-time.After(d):
			return got
		}
	}
	return got
}

// Kill ends the script at once.
func (p *Perl) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
}

// Quit asks the script to end and waits for it.
func (p *Perl) Quit() {
	b, _ := json.Marshal(map[string]any{"op": "quit"})
	p.stdin.Write(append(b, '\n'))
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.Kill()
	}
}

// Exited is closed when the script has ended.
func (p *Perl) Exited() <-chan struct{} { return p.exited }

// Num reads a number of an event line.
func Num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}
