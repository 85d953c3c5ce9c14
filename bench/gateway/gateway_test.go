//go:build linux

// Package gatewaybench measures the gateway firewall: a whole-table
// install of 100,000 SIMs in 1,000 groups with 10 allowlist entries each,
// one SIM change (set elements only), and forwarding throughput through a
// lab gateway (iperf3 in network namespaces) with 10 against 10,000
// allowlist entries. Results and commands: docs/benchmarks.md ("Gateway").
//
//	go test ./bench/gateway -run '^$' -bench . -benchtime 5x
package gatewaybench

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/gateway"
	"github.com/simguard/simguard/policy"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func requireRoot(b testing.TB, tools ...string) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (network namespaces)")
	}
	for _, t := range append([]string{"ip", "nft"}, tools...) {
		if _, err := exec.LookPath(t); err != nil {
			b.Skipf("needs %s", t)
		}
	}
}

// netns makes a namespace that is deleted when the benchmark ends.
func netns(b testing.TB, role string) (string, int) {
	r := make([]byte, 3)
	rand.Read(r)
	name := "sgwb" + hex.EncodeToString(r) + role
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		b.Skipf("the kernel refuses network namespaces: %v: %s", err, out)
	}
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		unix.Close(fd)
		exec.Command("ip", "netns", "del", name).Run()
	})
	return name, fd
}

// cpuTime is the process's user+system time.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func luhn(payload string) string {
	sum := 0
	for i := 0; i < len(payload); i++ {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return payload + string(byte('0'+(10-sum%10)%10))
}

func simN(i int, group string, ip netip.Addr) simguard.SIM {
	return simguard.SIM{ID: int64(i), TenantID: 1, ICCID: luhn(fmt.Sprintf("894900%012d", i)), IMSI: fmt.Sprintf("00101%010d", i),
		State: simguard.SIMActive, Group: group, StaticIP: ip, IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff}}
}

// allowlist makes n distinct entries: host /32s in 198.18.0.0/15 with a
// TCP port each, plus extra (e.g. the iperf3 endpoint).
func allowlist(seed, n int, extra ...simguard.FlowRule) []simguard.FlowRule {
	var rs []simguard.FlowRule
	for i := range n {
		k := seed*n + i
		a := netip.AddrFrom4([4]byte{198, 18 + byte(k>>16&1), byte(k >> 8), byte(k)})
		rs = append(rs, simguard.FlowRule{CIDR: netip.PrefixFrom(a, 32), Proto: "tcp", Ports: []simguard.PortRange{{From: uint16(1000 + i%60000), To: uint16(1000 + i%60000)}}})
	}
	return append(rs, extra...)
}

// fleet is sims SIMs spread over groups groups with entries allowlist
// entries each, at 10.64.0.0/10.
func fleet(b testing.TB, sims, groups, entries int) *policy.Snapshot {
	gs := make([]simguard.Group, groups)
	for i := range gs {
		gs[i] = simguard.Group{ID: int64(i + 1), TenantID: 1, Name: fmt.Sprintf("g%04d", i),
			Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}, Egress: allowlist(i, entries)}}
		if err := gs[i].Validate(); err != nil {
			b.Fatal(err)
		}
	}
	ss := make([]simguard.SIM, sims)
	for i := range ss {
		ip := netip.AddrFrom4([4]byte{10, 64 + byte(i>>16), byte(i >> 8), byte(i)})
		ss[i] = simN(i+1, gs[i%groups].Name, ip)
	}
	snap, err := policy.Compile(gs, ss)
	if err != nil {
		b.Fatal(err)
	}
	return snap
}

func config() gateway.Config {
	c := gateway.Config{DeviceNets: []netip.Prefix{netip.MustParsePrefix("10.64.0.0/10")}, Uplink: "up0"}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

// BenchmarkInstall100kSIMs: compile and install the whole table, one
// netlink batch, into a fresh namespace; then again over the installed
// table (a replacement is what a group change costs).
func BenchmarkInstall100kSIMs(b *testing.B) {
	requireRoot(b)
	snap := fleet(b, 100_000, 1_000, 10)
	ns, fd := netns(b, "i")
	nl := gateway.NewNetlink(fd)
	var compile, install, installCPU time.Duration
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		rs := gateway.Compile(snap, config(), t0, nil)
		compile += time.Since(t)
		t = time.Now()
		c := cpuTime()
		if err := nl.Install(rs); err != nil {
			b.Fatal(err)
		}
		installCPU += cpuTime() - c
		install += time.Since(t)
	}
	b.StopTimer()
	b.ReportMetric(compile.Seconds()/float64(b.N), "compile-s/op")
	b.ReportMetric(install.Seconds()/float64(b.N), "install-s/op")
	// The kernel builds the table inside our sendmsg, so its work counts
	// as our system time: CPU time shows the cost apart from waiting for
	// a core on a shared machine.
	b.ReportMetric(installCPU.Seconds()/float64(b.N), "install-cpu-s/op")
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "map", "inet", "simguard", "sim4_out").Output()
	if err != nil || strings.Count(string(out), "goto") != 100_000 {
		b.Fatalf("the installed map does not hold 100,000 SIMs: %v (%d)", err, strings.Count(string(out), "goto"))
	}
}

// BenchmarkVerify100kSIMs: read the installed table of 100,000 SIMs back
// from the kernel and compare it with the ruleset (what every resync
// does before trusting the kernel's copy): without the verdict maps
// (deep=false, nine resyncs in ten at this size) and with them.
func BenchmarkVerify100kSIMs(b *testing.B) {
	requireRoot(b)
	snap := fleet(b, 100_000, 1_000, 10)
	_, fd := netns(b, "v")
	nl := gateway.NewNetlink(fd)
	rs := gateway.Compile(snap, config(), t0, nil)
	if err := nl.Install(rs); err != nil {
		b.Fatal(err)
	}
	for _, deep := range []bool{false, true} {
		b.Run(fmt.Sprintf("deep=%v", deep), func(b *testing.B) {
			var cpu time.Duration
			for range b.N {
				c := cpuTime()
				if err := nl.Verify(rs, deep); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "verify-cpu-s/op")
		})
	}
}

// BenchmarkOneSIMChange: suspend or re-activate one SIM of the installed
// 100,000: the snapshot update (policy engine), the element delta and its
// netlink batch (one element of the blocked set).
func BenchmarkOneSIMChange(b *testing.B) {
	benchChange(b, func(i, id int, s *simguard.SIM) {
		if i%2 == 0 {
			s.State = simguard.SIMSuspended
		}
	}, 1)
}

// BenchmarkOneSIMGroupMove: move one SIM to another group and back: its
// two verdict map elements (egress, inbound) are replaced. The kernel
// re-validates every verdict map of the table after a new goto element,
// which is what this costs at 100,000 SIMs.
func BenchmarkOneSIMGroupMove(b *testing.B) {
	benchChange(b, func(i, id int, s *simguard.SIM) {
		if i%2 == 0 {
			s.Group = fmt.Sprintf("g%04d", id%1000) // the next group
		}
	}, 4)
}

func benchChange(b *testing.B, change func(i, id int, s *simguard.SIM), wantElems int) {
	requireRoot(b)
	snap := fleet(b, 100_000, 1_000, 10)
	_, fd := netns(b, "c")
	nl := gateway.NewNetlink(fd)
	rs := gateway.Compile(snap, config(), t0, nil)
	if err := nl.Install(rs); err != nil {
		b.Fatal(err)
	}
	var tSnap, tDelta, tApply time.Duration
	var tEven, tOdd time.Duration // the change, and the change back
	b.ResetTimer()
	for i := range b.N {
		id := 1 + (i/2*7919)%100_000
		s := simN(id, fmt.Sprintf("g%04d", (id-1)%1000), netip.AddrFrom4([4]byte{10, 64 + byte((id-1)>>16), byte((id - 1) >> 8), byte(id - 1)}))
		change(i, id, &s)
		t1 := time.Now()
		next, err := snap.WithSIM(&s)
		if err != nil {
			b.Fatal(err)
		}
		snap = next
		t2 := time.Now()
		d := rs.UpdateSIMs(snap, []int64{int64(id)}, t0, nil)
		t3 := time.Now()
		if d.Len() != wantElems {
			b.Fatalf("change %d: %d elements, want %d", i, d.Len(), wantElems)
		}
		if err := nl.Apply(rs, d); err != nil {
			b.Fatal(err)
		}
		tSnap, tDelta, tApply = tSnap+t2.Sub(t1), tDelta+t3.Sub(t2), tApply+time.Since(t3)
		if i%2 == 0 {
			tEven += time.Since(t1)
		} else {
			tOdd += time.Since(t1)
		}
	}
	if n := b.N / 2; n > 0 {
		b.ReportMetric(float64(tEven.Microseconds())/float64(b.N-n), "there-µs/op")
		b.ReportMetric(float64(tOdd.Microseconds())/float64(n), "back-µs/op")
	}
	b.ReportMetric(float64(tSnap.Microseconds())/float64(b.N), "snapshot-µs/op")
	b.ReportMetric(float64(tDelta.Microseconds())/float64(b.N), "delta-µs/op")
	b.ReportMetric(float64(tApply.Microseconds())/float64(b.N), "netlink-µs/op")
}

// forwardLab is dev ── gw ── inet, with iperf3 -s in inet.
type forwardLab struct {
	dev, gw, inet string
	gwFD          int
}

func newForwardLab(b *testing.B) *forwardLab {
	l := &forwardLab{}
	l.dev, _ = netns(b, "d")
	l.gw, l.gwFD = netns(b, "g")
	l.inet, _ = netns(b, "n")
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	for _, ns := range []string{l.dev, l.gw, l.inet} {
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("-n", l.dev, "link", "add", "eth0", "type", "veth", "peer", "name", "d1", "netns", l.gw)
	ip("-n", l.inet, "link", "add", "eth0", "type", "veth", "peer", "name", "up0", "netns", l.gw)
	for _, x := range [][3]string{{l.dev, "eth0", "10.64.1.2/24"}, {l.gw, "d1", "10.64.1.1/24"}, {l.gw, "up0", "192.0.2.1/24"}, {l.inet, "eth0", "192.0.2.100/24"}} {
		ip("-n", x[0], "addr", "add", x[2], "dev", x[1])
		ip("-n", x[0], "link", "set", x[1], "up")
	}
	ip("-n", l.dev, "route", "add", "default", "via", "10.64.1.1")
	if out, err := exec.Command("ip", "netns", "exec", l.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		b.Fatalf("sysctl: %v %s", err, out)
	}
	srv := exec.Command("ip", "netns", "exec", l.inet, "iperf3", "-s", "-B", "192.0.2.100", "-p", "5201")
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	time.Sleep(300 * time.Millisecond)
	return l
}

// iperf runs one iperf3 client from the device: TCP (bulk, with GSO the
// firewall sees few large packets) or UDP with 64-byte payloads at full
// speed (the firewall sees every packet). It returns bits/s received and
// packets/s received.
func (l *forwardLab) iperf(b *testing.B, udp bool, seconds int) (float64, float64) {
	args := []string{"netns", "exec", l.dev, "iperf3", "-c", "192.0.2.100", "-p", "5201", "-t", fmt.Sprint(seconds), "-J"}
	if udp {
		args = append(args, "-u", "-b", "0", "-l", "64")
	}
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		b.Fatalf("iperf3: %v\n%s", err, out)
	}
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			Sum struct {
				Seconds     float64 `json:"seconds"`
				Packets     float64 `json:"packets"`
				LostPackets float64 `json:"lost_packets"`
			} `json:"sum"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatal(err)
	}
	if !udp {
		return r.End.SumReceived.BitsPerSecond, 0
	}
	pps := (r.End.Sum.Packets - r.End.Sum.LostPackets) / r.End.Sum.Seconds
	return pps * 64 * 8, pps
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// BenchmarkForwarding: iperf3 from a device through the lab gateway, its
// group's allowlist holding 10 or 10,000 entries (the iperf3 endpoint
// among them), alternating the two tables run by run so that a change of
// machine load hits both alike. Reports the medians of TCP Gbit/s and of
// UDP packets/s (64-byte payloads) for each, and the medians of the ratios
// of each round's two runs (10,000 over 10).
func BenchmarkForwarding(b *testing.B) {
	requireRoot(b, "iperf3")
	l := newForwardLab(b)
	endpoint := []simguard.FlowRule{
		{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "tcp", Ports: []simguard.PortRange{{From: 5201, To: 5201}}},
		{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "udp", Ports: []simguard.PortRange{{From: 5201, To: 5201}}},
	}
	tables := map[int]*gateway.Ruleset{}
	for _, n := range []int{10, 10_000} {
		g := simguard.Group{ID: 1, TenantID: 1, Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}, Egress: allowlist(0, n-2, endpoint...)}}
		if err := g.Validate(); err != nil {
			b.Fatal(err)
		}
		snap, err := policy.Compile([]simguard.Group{g}, []simguard.SIM{simN(1, "meters", netip.MustParseAddr("10.64.1.2"))})
		if err != nil {
			b.Fatal(err)
		}
		tables[n] = gateway.Compile(snap, config(), t0, nil)
	}
	nl := gateway.NewNetlink(l.gwFD)
	tcp, pps := map[int][]float64{}, map[int][]float64{}
	var tcpRatios, ppsRatios []float64
	b.ResetTimer()
	for i := range b.N {
		rt, rp := map[int]float64{}, map[int]float64{}
		for _, n := range [][]int{{10, 10_000}, {10_000, 10}}[i%2] {
			if err := nl.Install(tables[n]); err != nil {
				b.Fatal(err)
			}
			rt[n], _ = l.iperf(b, false, 5)
			_, rp[n] = l.iperf(b, true, 5)
			b.Logf("run %d, %5d entries: TCP %.2f Gbit/s, UDP 64 B %.0f packets/s", i, n, rt[n]/1e9, rp[n])
			tcp[n] = append(tcp[n], rt[n])
			pps[n] = append(pps[n], rp[n])
		}
		tcpRatios = append(tcpRatios, rt[10_000]/rt[10])
		ppsRatios = append(ppsRatios, rp[10_000]/rp[10])
	}
	b.StopTimer()
	b.ReportMetric(median(tcp[10])/1e9, "tcp-Gbit/s-10")
	b.ReportMetric(median(tcp[10_000])/1e9, "tcp-Gbit/s-10000")
	b.ReportMetric(median(tcpRatios), "tcp-ratio")
	b.ReportMetric(median(pps[10]), "udp-pps-10")
	b.ReportMetric(median(pps[10_000]), "udp-pps-10000")
	b.ReportMetric(median(ppsRatios), "udp-ratio")
	out, _ := exec.Command("ip", "netns", "exec", l.gw, "nft", "list", "counter", "inet", "simguard", "g1_allowed").Output()
	if !strings.Contains(string(out), "packets") || strings.Contains(string(out), "packets 0 ") {
		b.Fatalf("the iperf3 traffic did not pass the group's allowlist:\n%s", out)
	}
}

// inNetns runs fn on an OS thread switched into the namespace fd; sockets
// made there stay in it. The thread is never unlocked, so it is thrown
// away and nothing else ever runs in the lab's namespace by accident.
func inNetns(b *testing.B, fd int, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			b.Errorf("setns: %v", err)
			return
		}
		fn()
	}()
	<-done
}

// BenchmarkForwardingUDPBlast: a Go UDP blaster in the device namespace
// sends 64-byte datagrams as fast as it can for 1 s to a sink in the
// internet namespace, through the lab gateway whose group allowlist
// holds 10 or 10,000 entries; 2×b.N rounds alternate the two tables.
// Reports the medians of packets/s delivered and the median of the
// ratios of neighbouring rounds (10,000 over 10), which cancels most of
// the drift of a shared machine's load.
func BenchmarkForwardingUDPBlast(b *testing.B) {
	requireRoot(b)
	l := newForwardLab(b)
	var fds = map[string]int{}
	for _, ns := range []string{l.dev, l.inet} {
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		fds[ns] = fd
	}
	endpoint := simguard.FlowRule{CIDR: netip.MustParsePrefix("192.0.2.100/32"), Proto: "udp", Ports: []simguard.PortRange{{From: 9000, To: 9000}}}
	tables := map[int]*gateway.Ruleset{}
	for _, n := range []int{10, 10_000} {
		g := simguard.Group{ID: 1, TenantID: 1, Name: "meters", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}, Egress: allowlist(0, n-1, endpoint)}}
		if err := g.Validate(); err != nil {
			b.Fatal(err)
		}
		snap, err := policy.Compile([]simguard.Group{g}, []simguard.SIM{simN(1, "meters", netip.MustParseAddr("10.64.1.2"))})
		if err != nil {
			b.Fatal(err)
		}
		tables[n] = gateway.Compile(snap, config(), t0, nil)
	}
	var sink net.PacketConn
	var err error
	inNetns(b, fds[l.inet], func() { sink, err = net.ListenPacket("udp", "192.0.2.100:9000") })
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	var got atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	var conn net.Conn
	inNetns(b, fds[l.dev], func() { conn, err = net.Dial("udp", "192.0.2.100:9000") })
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	nl := gateway.NewNetlink(l.gwFD)
	blast := func(n int) float64 {
		if err := nl.Install(tables[n]); err != nil {
			b.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		payload := make([]byte, 64)
		got.Store(0)
		start := time.Now()
		for time.Since(start) < time.Second {
			for range 256 {
				conn.Write(payload) // a full queue drops: what arrives counts
			}
		}
		time.Sleep(100 * time.Millisecond) // let the last ones arrive
		return float64(got.Load()) / time.Since(start).Seconds()
	}
	pps := map[int][]float64{}
	var ratios []float64
	b.ResetTimer()
	for i := range b.N {
		order := [][]int{{10, 10_000}, {10_000, 10}}[i%2]
		r := map[int]float64{}
		for _, n := range order {
			r[n] = blast(n)
			pps[n] = append(pps[n], r[n])
		}
		ratios = append(ratios, r[10_000]/r[10])
		b.Logf("round %d: 10 entries %.0f packets/s, 10,000 entries %.0f packets/s", i, r[10], r[10_000])
	}
	b.StopTimer()
	b.ReportMetric(median(pps[10]), "pps-10")
	b.ReportMetric(median(pps[10_000]), "pps-10000")
	b.ReportMetric(median(ratios), "ratio")
}
