//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// The gateway lab: four network namespaces joined by veth pairs.
//
//	dev1 10.64.1.2 ── d1 10.64.1.1 ┐
//	                                gw ── up0 192.0.2.1 ──── 192.0.2.100, .101 inet
//	dev2 10.64.2.2 ── d2 10.64.2.1 ┘
//
// Every address lives only inside these namespaces; the control plane's
// API is on the test's loopback. The inet host routes 10.64.0.0/16 to the
// gateway, so that nothing but the firewall keeps it from the devices.
type gwLab struct {
	t                    *testing.T
	dev1, dev2, gw, inet string
	fds                  map[string]int
}

func newGWLab(t *testing.T) *gwLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the gateway lab needs root (ip netns add)")
	}
	for _, tool := range []string{"ip", "nft", "nc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the gateway lab needs %s: %v", tool, err)
		}
	}
	b := make([]byte, 3)
	rand.Read(b)
	sfx := hex.EncodeToString(b)
	l := &gwLab{t: t, dev1: "sgw" + sfx + "d1", dev2: "sgw" + sfx + "d2", gw: "sgw" + sfx + "gw", inet: "sgw" + sfx + "in", fds: map[string]int{}}
	for _, ns := range []string{l.dev1, l.dev2, l.gw, l.inet} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Skipf("the kernel refuses network namespaces here: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		l.fds[ns] = fd
		t.Cleanup(func() { unix.Close(fd) })
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	link := func(a, aIf, aAddr, b, bIf, bAddr string) {
		l.ip("link", "add", "sgwtmp"+sfx, "netns", a, "type", "veth", "peer", "name", bIf, "netns", b)
		l.ip("-n", a, "link", "set", "sgwtmp"+sfx, "name", aIf)
		l.ip("-n", a, "addr", "add", aAddr, "dev", aIf)
		l.ip("-n", b, "addr", "add", bAddr, "dev", bIf)
		l.ip("-n", a, "link", "set", aIf, "up")
		l.ip("-n", b, "link", "set", bIf, "up")
	}
	link(l.dev1, "eth0", "10.64.1.2/24", l.gw, "d1", "10.64.1.1/24")
	link(l.dev2, "eth0", "10.64.2.2/24", l.gw, "d2", "10.64.2.1/24")
	link(l.inet, "eth0", "192.0.2.100/24", l.gw, "up0", "192.0.2.1/24")
	l.ip("-n", l.inet, "addr", "add", "192.0.2.101/24", "dev", "eth0")
	l.ip("-n", l.dev1, "route", "add", "default", "via", "10.64.1.1")
	l.ip("-n", l.dev2, "route", "add", "default", "via", "10.64.2.1")
	l.ip("-n", l.inet, "route", "add", "10.64.0.0/16", "via", "192.0.2.1")
	l.exec(l.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// IPv6 beside it: dev1 also holds a second SIM's address. nodad: the
	// addresses are usable at once.
	for _, a := range [][3]string{
		{l.dev1, "eth0", "fd00:64:1::2/64"}, {l.gw, "d1", "fd00:64:1::1/64"},
		{l.gw, "up0", "2001:db8:100::1/64"}, {l.inet, "eth0", "2001:db8:100::100/64"}, {l.inet, "eth0", "2001:db8:100::101/64"},
	} {
		l.ip("-n", a[0], "addr", "add", a[2], "dev", a[1], "nodad")
	}
	l.ip("-n", l.dev1, "-6", "route", "add", "default", "via", "fd00:64:1::1")
	l.ip("-n", l.inet, "-6", "route", "add", "fd00:64::/32", "via", "2001:db8:100::1")
	l.exec(l.gw, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	return l
}

func (l *gwLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *gwLab) exec(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// in runs fn on an OS thread switched into ns. Sockets made there stay in
// ns after fn returns; the thread itself is thrown away (never unlocked),
// so no other goroutine ever runs in the lab's namespace by accident.
func (l *gwLab) in(ns string, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Setns(l.fds[ns], unix.CLONE_NEWNET); err != nil {
			l.t.Errorf("setns %s: %v", ns, err)
			return
		}
		fn()
	}()
	<-done
}

// acceptTCP listens on addr in ns and hands every connection to handle,
// until the test ends.
func (l *gwLab) acceptTCP(ns, addr string, handle func(net.Conn)) {
	var ln net.Listener
	var err error
	l.in(ns, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
}

// serveTCP answers every connection to addr in ns with the peer's address.
func (l *gwLab) serveTCP(ns, addr string) {
	l.acceptTCP(ns, addr, func(c net.Conn) {
		fmt.Fprintf(c, "%s\n", c.RemoteAddr())
		c.Close()
	})
}

// serveUDP answers every datagram to addr in ns with the peer's address.
func (l *gwLab) serveUDP(ns, addr string) {
	var pc net.PacketConn
	var err error
	l.in(ns, func() { pc, err = net.ListenPacket("udp", addr) })
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(from.String()), from)
		}
	}()
}

// serveEcho echoes every line sent to addr in ns, for connections that
// stay open.
func (l *gwLab) serveEcho(ns, addr string) {
	l.acceptTCP(ns, addr, func(c net.Conn) {
		go func() { defer c.Close(); io.Copy(c, c) }()
	})
}

// tcp connects from ns and returns what the server said ("" and the
// error when it could not connect within the timeout).
func (l *gwLab) tcp(ns, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	var err error
	l.in(ns, func() { c, err = net.DialTimeout("tcp", addr, timeout) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c)
	return strings.TrimSpace(string(b)), err
}

// udp sends one datagram from ns and returns the answer.
func (l *gwLab) udp(ns, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	var err error
	l.in(ns, func() { c, err = net.Dial("udp", addr) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping")); err != nil {
		return "", err
	}
	b := make([]byte, 200)
	n, err := c.Read(b)
	return string(b[:n]), err
}

// TestGatewayLab is issue 7's acceptance: serve runs the gateway firewall
// programming the lab's gateway namespace, the fleet is set up through
// the API, and real TCP and UDP traffic shows what gets through.
func TestGatewayLab(t *testing.T) {
	l := newGWLab(t)
	l.serveTCP(l.inet, "192.0.2.100:8443") // allowed endpoint
	l.serveUDP(l.inet, "192.0.2.100:5353") // allowed endpoint (udp)
	l.serveUDP(l.inet, "192.0.2.100:5354") // a port not allowed: it answers, so only the firewall keeps it quiet
	l.serveTCP(l.inet, "192.0.2.101:8443") // forbidden endpoint
	l.serveTCP(l.dev1, "10.64.1.2:22")     // a device's SSH: nobody may reach it
	l.serveTCP(l.dev1, "10.64.1.2:2222")   // a management port the group opens to 192.0.2.100
	l.serveEcho(l.dev1, "10.64.1.2:2223")  // a long session the group opens, then closes
	l.serveTCP(l.gw, "0.0.0.0:7000")       // a service on the gateway host itself
	l.serveTCP(l.inet, "[2001:db8:100::100]:8443")
	l.serveTCP(l.inet, "[2001:db8:100::101]:8443")

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen = t.TempDir(), "127.0.0.1:0"
	cfg.Gateway = gatewayConfig{Enabled: true, DeviceNets: []netip.Prefix{netip.MustParsePrefix("10.64.0.0/16"), netip.MustParsePrefix("fd00:64::/32")},
		DeviceIfaces: []string{"d1", "d2"}, Uplink: "up0", NetNS: "/run/netns/" + l.gw, Resync: time.Hour}
	out := &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: io.Discard, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := openControlPlane(ctx, cfg, slog.New(slog.DiscardHandler), env)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cp.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		cp.close()
	})
	var m string
	if mm := regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(out.String()); mm != nil {
		m = mm[1]
	}
	api, err := client.New(cp.URL, m, nil)
	if err != nil {
		t.Fatal(err)
	}

	group := simguard.Group{Name: "meters", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData},
		Egress: []simguard.FlowRule{
			{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "tcp", Ports: []simguard.PortRange{{From: 8443, To: 8443}}},
			{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "udp", Ports: []simguard.PortRange{{From: 5353, To: 5353}}},
			{CIDR: netip.MustParsePrefix("2001:db8:100::100/128"), Proto: "tcp", Ports: []simguard.PortRange{{From: 8443, To: 8443}}},
		},
		Inbound: []simguard.FlowRule{
			{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "tcp", Ports: []simguard.PortRange{{From: 2222, To: 2223}}},
		},
	}}
	if _, err := api.ApplyGroup(ctx, group, 0); err != nil {
		t.Fatal(err)
	}
	sims := `[{"iccid":"8949000000000000018","imsi":"001010000000001","group":"meters","state":"active","static_ip":"10.64.1.2"},
	          {"iccid":"8949000000000000026","imsi":"001010000000002","group":"meters","state":"active","static_ip":"10.64.2.2"},
	          {"iccid":"8949000000000000034","imsi":"001010000000003","group":"meters","state":"active","static_ip":"fd00:64:1::2"}]`
	if n, err := api.ImportSIMs(ctx, strings.NewReader(sims), "application/json", nil); err != nil || n != 3 {
		t.Fatalf("import: %d SIMs, %v", n, err)
	}

	// The policy changes reach the table asynchronously: wait until the
	// allowed endpoint answers (bounded), then assert everything else.
	const wait = 2 * time.Second
	var said string
	deadline := time.Now().Add(20 * time.Second)
	for {
		said, err = l.tcp(l.dev1, "192.0.2.100:8443", wait)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dev1 → allowed endpoint: %v\n%s", err, l.nft(t))
	}
	t.Run("allowed endpoint reachable, seen from the gateway's address (NAT)", func(t *testing.T) {
		if !strings.HasPrefix(said, "192.0.2.1:") {
			t.Errorf("the internet host saw %q, want the gateway's 192.0.2.1 (SNAT)", said)
		}
		got, err := l.udp(l.dev2, "192.0.2.100:5353", wait)
		if err != nil || !strings.HasPrefix(got, "192.0.2.1:") {
			t.Errorf("dev2 → allowed udp endpoint: %q, %v", got, err)
		}
	})
	t.Run("IPv6: allowed endpoint reachable through masquerade, forbidden one not", func(t *testing.T) {
		dial := func(addr string) (string, error) {
			var c net.Conn
			var err error
			l.in(l.dev1, func() {
				d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP("fd00:64:1::2")}}
				c, err = d.Dial("tcp", addr)
			})
			if err != nil {
				return "", err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(wait))
			b, err := io.ReadAll(c)
			return strings.TrimSpace(string(b)), err
		}
		got, err := dial("[2001:db8:100::100]:8443")
		if err != nil || !strings.HasPrefix(got, "[2001:db8:100::1]:") {
			t.Errorf("v6 allowed endpoint: %q, %v (want the gateway's 2001:db8:100::1)", got, err)
		}
		if got, err := dial("[2001:db8:100::101]:8443"); err == nil {
			t.Errorf("v6 forbidden endpoint reached: %q", got)
		}
	})
	t.Run("forbidden endpoint not reachable", func(t *testing.T) {
		if got, err := l.tcp(l.dev1, "192.0.2.101:8443", wait); err == nil {
			t.Errorf("dev1 reached the forbidden endpoint: %q", got)
		}
		if got, err := l.udp(l.dev1, "192.0.2.100:5354", wait); err == nil {
			t.Errorf("dev1 reached a port not allowed: %q", got)
		}
	})
	t.Run("internet cannot open connections to devices", func(t *testing.T) {
		// nc as the outside peer: -z connects only, -w bounds the wait.
		if out, err := l.exec(l.inet, "nc", "-z", "-w", "2", "10.64.1.2", "22"); err == nil {
			t.Errorf("nc from the internet host reached dev1:22: %s", out)
		}
		// The group's inbound rule opens 2222 to 192.0.2.100 only.
		got, err := l.tcp(l.inet, "10.64.1.2:2222", wait)
		if err != nil || !strings.HasPrefix(got, "192.0.2.100:") {
			t.Errorf("allowed inbound 192.0.2.100 → dev1:2222: %q, %v", got, err)
		}
		var c net.Conn
		l.in(l.inet, func() {
			d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP("192.0.2.101")}}
			c, err = d.Dial("tcp", "10.64.1.2:2222")
		})
		if err == nil {
			c.Close()
			t.Errorf("192.0.2.101 reached dev1:2222, which only 192.0.2.100 may")
		}
	})
	t.Run("the gateway host: known devices reach its services, unknown device addresses do not", func(t *testing.T) {
		if got, err := l.tcp(l.dev1, "10.64.1.1:7000", wait); err != nil || !strings.HasPrefix(got, "10.64.1.2:") {
			t.Errorf("dev1 → the gateway's own service: %q, %v", got, err)
		}
		// 10.64.1.77 is inside the device nets but no SIM has it.
		l.ip("-n", l.dev1, "addr", "add", "10.64.1.77/32", "dev", "eth0")
		var c net.Conn
		l.in(l.dev1, func() {
			d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP("10.64.1.77")}}
			c, err = d.Dial("tcp", "10.64.1.1:7000")
		})
		if err == nil {
			c.Close()
			t.Error("an address no SIM has reached the gateway host's service")
		}
	})
	t.Run("a spoofed source from the device side is dropped", func(t *testing.T) {
		// dev1 sends from 10.99.0.2, outside the device nets; routes on
		// the gateway and the internet host carry it both ways, so only
		// the firewall stands in the way (without device_ifaces it
		// would reach even the forbidden endpoint, unNATed).
		l.ip("-n", l.dev1, "addr", "add", "10.99.0.2/32", "dev", "eth0")
		l.ip("-n", l.gw, "route", "add", "10.99.0.2/32", "via", "10.64.1.2")
		l.ip("-n", l.inet, "route", "add", "10.99.0.0/16", "via", "192.0.2.1")
		for _, k := range []string{"all", "default", "d1"} {
			l.exec(l.gw, "sysctl", "-qw", "net.ipv4.conf."+k+".rp_filter=0")
		}
		var c net.Conn
		l.in(l.dev1, func() {
			d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP("10.99.0.2")}}
			c, err = d.Dial("tcp", "192.0.2.101:8443")
		})
		if err == nil {
			c.Close()
			t.Fatal("dev1 reached the forbidden endpoint from a spoofed source 10.99.0.2")
		}
		var st simguard.GatewayStatus
		if err := getJSON(ctx, cp.URL+"/api/v1/gateway", m, &st); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(st.Counters, func(k simguard.GatewayCounter) bool { return k.Name == "source_spoofed" })
		if i < 0 || st.Counters[i].Packets == 0 {
			t.Errorf("no packet counted as source_spoofed: %+v", st.Counters)
		}
	})
	t.Run("nft list ruleset matches what simguard installed", func(t *testing.T) {
		var st simguard.GatewayStatus
		if err := getJSON(ctx, cp.URL+"/api/v1/gateway?ruleset=true", m, &st); err != nil {
			t.Fatal(err)
		}
		if st.SIMs != 3 || st.Blocked != 0 || st.Groups != 1 || !st.Healthy || st.Verified.IsZero() {
			t.Errorf("status %+v", st)
		}
		compareNftJSON(t, l, st.Ruleset)
	})
	t.Run("a denied flow becomes a flow.denied event", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			evs, _, err := api.Events(ctx, client.EventQuery{Type: simguard.EventFlowDenied, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(evs, func(e simguard.Event) bool {
				return e.Attrs["dst"] == "192.0.2.101" && e.Attrs["port"] == "8443" && e.Attrs["proto"] == "tcp"
			})
			if i >= 0 {
				e := evs[i]
				if e.SIMID == 0 || e.Attrs["imsi"] != "001010000000001" || e.Reason != simguard.ReasonDestinationDenied || e.Source != "gateway" {
					t.Errorf("event %+v", e)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no flow.denied event for dev1 → 192.0.2.101:8443; events: %+v", evs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("a SIM suspended through the API loses traffic within 1s", func(t *testing.T) {
		// A flow that is up before the suspension must die too.
		var live net.Conn
		l.in(l.dev2, func() { live, err = net.Dial("udp", "192.0.2.100:5353") })
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		var before simguard.GatewayStatus
		if err := getJSON(ctx, cp.URL+"/api/v1/gateway", m, &before); err != nil {
			t.Fatal(err)
		}
		if _, err := api.SIMAction(ctx, "001010000000002", "suspend", nil, 0); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for {
			live.SetDeadline(time.Now().Add(150 * time.Millisecond))
			live.Write([]byte("ping"))
			b := make([]byte, 100)
			if _, err := live.Read(b); err != nil {
				break // no answer: blocked
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("dev2 still has traffic 5s after the suspension")
			}
		}
		took := time.Since(start)
		t.Logf("traffic stopped %v after the suspend call returned", took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("traffic stopped after %v, want within 1s", took)
		}
		if _, err := l.tcp(l.dev2, "192.0.2.100:8443", wait); err == nil {
			t.Error("suspended dev2 still opens connections")
		}
		if _, err := l.tcp(l.dev2, "10.64.2.1:7000", wait); err == nil {
			t.Error("suspended dev2 still reaches the gateway host's service")
		}
		if _, err := l.tcp(l.dev1, "192.0.2.100:8443", wait); err != nil {
			t.Errorf("dev1 (still active) lost its access: %v", err)
		}
		// The suspension changed set elements only: no new generation.
		var st simguard.GatewayStatus
		if err := getJSON(ctx, cp.URL+"/api/v1/gateway", m, &st); err != nil {
			t.Fatal(err)
		}
		if st.Generation != before.Generation || st.Blocked != 1 {
			t.Errorf("after one suspension: generation %d, was %d (want elements changed only), blocked %d", st.Generation, before.Generation, st.Blocked)
		}
		if _, err := api.SIMAction(ctx, "001010000000002", "activate", nil, 0); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := l.tcp(l.dev2, "192.0.2.100:8443", wait); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("dev2 has no traffic 5s after re-activation")
			}
		}
	})
	t.Run("removing an inbound rule ends a live inbound session", func(t *testing.T) {
		var c net.Conn
		l.in(l.inet, func() { c, err = net.DialTimeout("tcp", "10.64.1.2:2223", wait) })
		if err != nil {
			t.Fatalf("allowed inbound 192.0.2.100 → dev1:2223: %v", err)
		}
		defer c.Close()
		echo := func() error {
			c.SetDeadline(time.Now().Add(wait))
			if _, err := c.Write([]byte("ping\n")); err != nil {
				return err
			}
			b := make([]byte, 5)
			_, err := io.ReadFull(c, b)
			return err
		}
		if err := echo(); err != nil {
			t.Fatalf("the session does not echo while allowed: %v", err)
		}
		var before simguard.GatewayStatus
		if err := getJSON(ctx, cp.URL+"/api/v1/gateway", m, &before); err != nil {
			t.Fatal(err)
		}
		narrowed := group
		narrowed.Policy.Inbound = []simguard.FlowRule{
			{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "tcp", Ports: []simguard.PortRange{{From: 2222, To: 2222}}},
		}
		if _, err := api.ApplyGroup(ctx, narrowed, 0); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			var st simguard.GatewayStatus
			if err := getJSON(ctx, cp.URL+"/api/v1/gateway", m, &st); err != nil {
				t.Fatal(err)
			}
			if st.Generation > before.Generation {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the narrowed group did not reach the table within 20s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := echo(); err == nil {
			t.Error("the inbound session still carries data after its rule was removed")
		}
	})
}

func (l *gwLab) nft(t *testing.T) string {
	out, _ := l.exec(l.gw, "nft", "list", "ruleset")
	return out
}

// compareNftJSON checks the kernel's view (nft -j list table in the
// gateway namespace) against the text simguard says it installed, by
// content: that text is loaded by nft itself into a scratch namespace,
// and both tables must list the same counters, sets with the same
// elements, and chains with the same rules (statements, verdicts, jump
// targets), in the same order. Only what differs between two listings of
// equal tables is dropped: handles, counter values, time left of timed
// elements.
func compareNftJSON(t *testing.T, l *gwLab, installed string) {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	scratch := "sgwcmp" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", scratch).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", scratch, err, out)
	}
	defer exec.Command("ip", "netns", "del", scratch).Run()
	file := filepath.Join(t.TempDir(), "installed.nft")
	if err := os.WriteFile(file, []byte(installed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := l.exec(scratch, "nft", "-f", file); err != nil {
		t.Fatalf("nft -f of the ruleset simguard reports: %v\n%s", err, out)
	}
	list := func(ns string) []string {
		out, err := l.exec(ns, "nft", "-j", "list", "table", "inet", "simguard")
		if err != nil {
			t.Fatalf("nft -j list table in %s: %v\n%s", ns, err, out)
		}
		var doc struct {
			Nftables []map[string]any `json:"nftables"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var objs []string
		for _, o := range doc.Nftables {
			if _, ok := o["metainfo"]; ok {
				continue
			}
			stripVolatile(o)
			j, _ := json.Marshal(o)
			objs = append(objs, string(j))
		}
		return objs
	}
	want, got := list(scratch), list(l.gw)
	if len(want) < 10 {
		t.Fatalf("the reported ruleset lists only %d objects:\n%s", len(want), installed)
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("object %d differs:\n kernel:   %s\n simguard: %s", i, g, w)
		}
	}
	if t.Failed() {
		t.Logf("simguard:\n%s\nkernel:\n%s", installed, l.nft(t))
	}
}

// stripVolatile drops what differs between two listings of equal
// tables.
func stripVolatile(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{"handle", "expires", "packets", "bytes"} {
			delete(x, k)
		}
		for _, y := range x {
			stripVolatile(y)
		}
	case []any:
		for _, y := range x {
			stripVolatile(y)
		}
	}
}

func getJSON(ctx context.Context, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}
