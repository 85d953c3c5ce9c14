//go:build linux

package scanlab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prefix every namespace name of the lab starts with.
const Prefix = "sgscan-"

// Range holds every lab address.
var Range = netip.MustParsePrefix("198.18.0.0/16")

// Host is one lab device.
type Host struct {
	NS   string
	Addr netip.Addr // the device's address, 198.18.N.2
}

// Lab is a running lab.
type Lab struct {
	t       testing.TB
	id      string
	Scanner string // the scanner's namespace
	Hosts   []Host
	// ChildRun is the -test.run pattern of the children the lab starts
	// (default "^$", for a TestMain that calls RunChild). A test that
	// calls RunChild itself, first thing, names itself here instead.
	ChildRun string
	mu       sync.Mutex
	procs    []*exec.Cmd
}

// Require skips the test when the lab cannot be built: it needs root and
// the ip tool. (In the project's CI both are present, so it runs.)
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the scan lab needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the scan lab needs the ip tool (iproute2)")
	}
}

// New builds a lab with n hosts; host i (from 1) is 198.18.i.2 and the
// scanner reaches it as 198.18.i.1.
func New(t testing.TB, n int) *Lab {
	t.Helper()
	Require(t)
	if n < 1 || n > 200 {
		t.Fatalf("scanlab: %d hosts; want 1 to 200", n)
	}
	removeStale(t)
	var rnd [3]byte
	rand.Read(rnd[:])
	l := &Lab{t: t, id: fmt.Sprintf("%s%d-%s", Prefix, os.Getpid(), hex.EncodeToString(rnd[:]))}
	l.Scanner = l.id + "-s"
	// Cleanups run last-in first-out: namespaces go after the processes.
	t.Cleanup(func() { l.deleteNamespaces() })
	t.Cleanup(func() { l.stopAll() })
	l.mustIP("netns", "add", l.Scanner)
	l.mustIP("-n", l.Scanner, "link", "set", "lo", "up")
	for i := 1; i <= n; i++ {
		h := Host{NS: fmt.Sprintf("%s-h%d", l.id, i), Addr: netip.AddrFrom4([4]byte{198, 18, byte(i), 2})}
		l.Hosts = append(l.Hosts, h)
		veth := "vh" + strconv.Itoa(i)
		l.mustIP("netns", "add", h.NS)
		l.mustIP("-n", h.NS, "link", "set", "lo", "up")
		l.mustIP("-n", l.Scanner, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
		l.mustIP("-n", l.Scanner, "addr", "add", fmt.Sprintf("198.18.%d.1/24", i), "dev", veth)
		l.mustIP("-n", h.NS, "addr", "add", h.Addr.String()+"/24", "dev", "eth0")
		l.mustIP("-n", l.Scanner, "link", "set", veth, "up")
		l.mustIP("-n", h.NS, "link", "set", "eth0", "up")
		l.mustIP("-n", h.NS, "route", "add", "default", "via", fmt.Sprintf("198.18.%d.1", i))
		// Daemons look their clients up (telnetd does, before it says a
		// word): answer from hosts, and make DNS fail at once instead of
		// timing out against a resolver that is not in the lab.
		l.Overlay(h.NS, map[string]string{
			"hosts":       fmt.Sprintf("127.0.0.1 localhost\n198.18.%d.1 scanner\n%s device%d\n", i, h.Addr, i),
			"resolv.conf": "# scan lab: no resolver; lookups fail fast on 127.0.0.1:53\nnameserver 127.0.0.1\n",
		})
	}
	return l
}

func (l *Lab) mustIP(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("scanlab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Namespaces lists the lab's namespaces, scanner first.
func (l *Lab) Namespaces() []string {
	out := []string{l.Scanner}
	for _, h := range l.Hosts {
		out = append(out, h.NS)
	}
	return out
}

func (l *Lab) deleteNamespaces() {
	for _, ns := range l.Namespaces() {
		killNamespacePids(ns)
		exec.Command("ip", "netns", "del", ns).Run()
		os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
}

// killNamespacePids kills what is left in a namespace of ours: processes
// that our daemons forked (an inetd's telnetd, a login shell) and that
// outlived their parent.
func killNamespacePids(ns string) {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeStale deletes namespaces that an earlier run of a lab left
// behind when it was killed before its cleanup: those whose creator
// process (the PID in the name) is gone.
func removeStale(t testing.TB) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, Prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + pidText); err == nil {
			continue // its creator still runs: not stale
		}
		t.Logf("scanlab: removing stale namespace %s", name)
		killNamespacePids(name)
		exec.Command("ip", "netns", "del", name).Run()
		os.RemoveAll(filepath.Join("/etc/netns", name))
	}
}

// Command prepares name args… to run inside namespace ns.
func (l *Lab) Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Run runs a command in ns and returns its combined output.
func (l *Lab) Run(ns, name string, args ...string) ([]byte, error) {
	out, err := l.Command(ns, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), ns, err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Start starts a long-running command in ns; it is killed (with its
// process group) at cleanup, and its output is logged if the test failed.
func (l *Lab) Start(ns, name string, args ...string) *exec.Cmd {
	l.t.Helper()
	return l.start(l.Command(ns, name, args...))
}

func (l *Lab) start(cmd *exec.Cmd) *exec.Cmd {
	l.t.Helper()
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("scanlab: start %s: %v", cmd.Args, err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.mu.Unlock()
	l.t.Cleanup(func() {
		if l.t.Failed() {
			l.t.Logf("scanlab: output of %s:\n%s", strings.Join(cmd.Args, " "), out.String())
		}
	})
	return cmd
}

func (l *Lab) stopAll() {
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	l.mu.Unlock()
	for _, c := range procs {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Process.Kill()
	}
	for _, c := range procs {
		c.Wait()
	}
}

// WaitTCP waits until addr accepts connections from the scanner's
// namespace, failing the test after timeout.
func (l *Lab) WaitTCP(addr netip.AddrPort, timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := l.Command(l.Scanner, "nc", "-z", "-w", "1", addr.Addr().String(), strconv.Itoa(int(addr.Port()))).Run()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("scanlab: %s did not come up within %s", addr, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Overlay makes files (name → content) appear under /etc for every
// process started in ns, without touching the host's /etc: "ip netns
// exec" bind-mounts /etc/netns/NS/<name> over /etc/<name>. The name must
// already exist in /etc.
func (l *Lab) Overlay(ns string, files map[string]string) {
	l.t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if name == "shadow" {
			mode = 0o640
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			l.t.Fatalf("scanlab: %v", err)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
