//go:build linux

package scanlab

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Real daemons for lab devices. Each runs in the host's namespace, on the
// host's lab address only, from a configuration in a temporary directory.

// AddLoginUser gives the processes of ns a local account user/password
// (shell /bin/sh) that PAM, sshd and login(1) accept — through /etc/netns
// overlays of passwd, group and shadow, so the machine's own user database
// never changes and nothing is left to remove but the overlay directory.
// Start daemons that must see the account after calling it.
func (l *Lab) AddLoginUser(ns, user, password string) {
	l.t.Helper()
	hash, err := exec.Command("openssl", "passwd", "-6", password).Output()
	if err != nil {
		l.t.Fatalf("scanlab: hash password with openssl: %v", err)
	}
	files := map[string]string{}
	for name, line := range map[string]string{
		"passwd": fmt.Sprintf("%s:x:4242:4242:scan lab device account:/tmp:/bin/sh", user),
		"group":  fmt.Sprintf("%s:x:4242:", user),
		"shadow": fmt.Sprintf("%s:%s:19000:0:99999:7:::", user, strings.TrimSpace(string(hash))),
	} {
		old, err := os.ReadFile(filepath.Join("/etc", name))
		if err != nil {
			l.t.Fatalf("scanlab: %v", err)
		}
		var keep []string
		for _, ln := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
			if !strings.HasPrefix(ln, user+":") {
				keep = append(keep, ln)
			}
		}
		files[name] = strings.Join(append(keep, line), "\n") + "\n"
	}
	l.Overlay(ns, files)
}

// configDir returns a fresh directory readable by daemons that drop
// privileges (mosquitto runs as its own user).
func (l *Lab) configDir() string {
	dir, err := os.MkdirTemp("", "sgscan-lab-")
	if err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	os.Chmod(dir, 0o755)
	l.t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// StartSSHD runs OpenSSH's sshd on addr with password and
// keyboard-interactive authentication through PAM.
func (l *Lab) StartSSHD(ns string, addr netip.AddrPort) {
	l.t.Helper()
	dir := l.configDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		l.t.Fatalf("scanlab: ssh-keygen: %v: %s", err, out)
	}
	cfg := strings.Join([]string{
		"ListenAddress " + addr.String(),
		"HostKey " + key,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"UsePAM yes",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication yes",
		"PermitRootLogin no",
		"MaxStartups 100:30:200",
		"LogLevel VERBOSE",
	}, "\n") + "\n"
	path := filepath.Join(dir, "sshd_config")
	os.WriteFile(path, []byte(cfg), 0o644)
	// sshd insists on its privilege-separation directory; the package
	// creates it at boot, a container may not have it.
	os.MkdirAll("/run/sshd", 0o755)
	l.Start(ns, "/usr/sbin/sshd", "-D", "-e", "-f", path)
	l.WaitTCP(addr, 10*time.Second)
}

// StartTelnetd runs inetutils' telnetd under inetutils-inetd on addr;
// logins go through login(1) and PAM.
func (l *Lab) StartTelnetd(ns string, addr netip.AddrPort) {
	l.t.Helper()
	dir := l.configDir()
	conf := filepath.Join(dir, "inetd.conf")
	line := fmt.Sprintf("%s stream tcp nowait root /usr/sbin/telnetd telnetd -h\n", addr)
	os.WriteFile(conf, []byte(line), 0o644)
	l.Start(ns, "inetutils-inetd", "-d", "-R", "100000", "--pidfile="+filepath.Join(dir, "inetd.pid"), conf)
	l.WaitTCP(addr, 10*time.Second)
}

// StartMosquitto runs the Mosquitto broker with the given configuration
// lines (listeners, TLS files, allow_anonymous).
func (l *Lab) StartMosquitto(ns string, lines []string, waitFor ...netip.AddrPort) {
	l.t.Helper()
	dir := l.configDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	body := append([]string{"persistence false", "log_dest stderr"}, lines...)
	os.WriteFile(conf, []byte(strings.Join(body, "\n")+"\n"), 0o644)
	l.Start(ns, "mosquitto", "-c", conf)
	for _, a := range waitFor {
		l.WaitTCP(a, 10*time.Second)
	}
}

// WriteFile writes a file into a fresh directory readable by daemons and
// returns its path.
func (l *Lab) WriteFile(name string, data []byte) string {
	l.t.Helper()
	p := filepath.Join(l.configDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	return p
}

// NmapResult is the open TCP ports nmap found and how long it took.
type NmapResult struct {
	Open    map[netip.AddrPort]bool
	Elapsed time.Duration
	CPU     time.Duration // user+system ("ip netns exec" execs nmap in place)
	Args    []string
}

// Nmap runs nmap in the scanner's namespace with args plus "-oX -" and
// the targets, and returns the open ports: the reference the scanner is
// held to.
func (l *Lab) Nmap(args []string, targets ...netip.Addr) NmapResult {
	l.t.Helper()
	full := append(append([]string{}, args...), "-oX", "-")
	for _, a := range targets {
		full = append(full, a.String())
	}
	start := time.Now()
	cmd := l.Command(l.Scanner, "nmap", full...)
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		l.t.Fatalf("scanlab: nmap %s: %v", strings.Join(full, " "), err)
	}
	open, err := ParseNmapXML(out)
	if err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return NmapResult{Open: open, Elapsed: elapsed, CPU: cpu, Args: full}
}

// ParseNmapXML returns the open TCP and UDP ports of nmap's XML output
// (only TCP when nmap scanned only TCP).
func ParseNmapXML(b []byte) (map[netip.AddrPort]bool, error) {
	var run struct {
		Hosts []struct {
			Addresses []struct {
				Addr string `xml:"addr,attr"`
				Type string `xml:"addrtype,attr"`
			} `xml:"address"`
			Ports []struct {
				Proto string `xml:"protocol,attr"`
				Port  uint16 `xml:"portid,attr"`
				State struct {
					State string `xml:"state,attr"`
				} `xml:"state"`
			} `xml:"ports>port"`
		} `xml:"host"`
	}
	if err := xml.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("parse nmap XML: %w", err)
	}
	open := map[netip.AddrPort]bool{}
	for _, h := range run.Hosts {
		var addr netip.Addr
		for _, a := range h.Addresses {
			if a.Type == "ipv4" || a.Type == "ipv6" {
				addr, _ = netip.ParseAddr(a.Addr)
			}
		}
		for _, p := range h.Ports {
			if p.Proto == "tcp" && p.State.State == "open" {
				open[netip.AddrPortFrom(addr, p.Port)] = true
			}
		}
	}
	return open, nil
}
