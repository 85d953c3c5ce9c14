//go:build linux

package scanbench

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard/scan"
	"github.com/simguard/simguard/scan/scanlab"
)

func TestMain(m *testing.M) {
	scanlab.RunChild()
	os.Exit(m.Run())
}

// labPorts are the open ports of lab host i: a few well-known ones and
// a spread of high ones, different per host, including both ends of the
// port space.
func labPorts(i int) []uint16 {
	ports := []uint16{22, 80, 443, 1883, uint16(8000 + i), uint16(20000 + 1000*i), uint16(40000 + 7*i), uint16(65535 - i)}
	if i == 1 {
		ports = append(ports, 1)
	}
	return ports
}

// BenchmarkFullSweep4Hosts scans all 65,535 TCP ports of 4 lab hosts with
// simguard and with nmap -p- -T4 -n -Pn, and reports both times and the
// ports either tool missed against the lab's truth. Run it with
//
//	go test ./bench/scan -run '^$' -bench FullSweep -benchtime 3x
func BenchmarkFullSweep4Hosts(b *testing.B) {
	if _, err := exec.LookPath("nmap"); err != nil {
		b.Skip("needs nmap")
	}
	lab := scanlab.New(b, 4)
	truth := map[netip.AddrPort]bool{}
	var targets []string
	var addrs []netip.Addr
	for i, h := range lab.Hosts {
		var listen []string
		for _, p := range labPorts(i + 1) {
			ap := netip.AddrPortFrom(h.Addr, p)
			truth[ap] = true
			listen = append(listen, ap.String())
		}
		lab.StartChild(h.NS, "listen", listen...)
		lab.WaitTCP(netip.AddrPortFrom(h.Addr, 22), 10*time.Second)
		targets = append(targets, h.Addr.String())
		addrs = append(addrs, h.Addr)
	}
	in := scanlab.ScanInput{
		Config: scan.Config{
			AuditRanges:    []netip.Prefix{scanlab.Range},
			Rate:           1_000_000,
			Concurrency:    1024,
			ConnectTimeout: time.Second,
		},
		Request: scan.Request{Targets: targets, Ports: "all", PortsOnly: true},
	}
	var sgWall, sgScan, sgCPU, nmapWall, nmapCPU []time.Duration
	var sgMissed, sgExtra, nmapMissed, nmapExtra int
	runSimguard := func() {
		start := time.Now()
		out := lab.Scan(in)
		sgWall = append(sgWall, time.Since(start))
		if out.Error != "" {
			b.Fatalf("simguard: %s", out.Error)
		}
		sgScan = append(sgScan, time.Duration(out.Seconds*float64(time.Second)))
		sgCPU = append(sgCPU, out.CPU)
		got := map[netip.AddrPort]bool{}
		for _, f := range out.Report.Findings {
			got[netip.AddrPortFrom(f.Target, f.Port)] = true
		}
		m, e := compare(truth, got)
		sgMissed, sgExtra = sgMissed+len(m), sgExtra+len(e)
		if len(m)+len(e) > 0 {
			b.Errorf("simguard: missed %v, extra %v", m, e)
		}
	}
	runNmap := func() {
		ref := lab.Nmap([]string{"-p-", "-T4", "-n", "-Pn"}, addrs...)
		nmapWall = append(nmapWall, ref.Elapsed)
		nmapCPU = append(nmapCPU, ref.CPU)
		m, e := compare(truth, ref.Open)
		nmapMissed, nmapExtra = nmapMissed+len(m), nmapExtra+len(e)
		if len(m)+len(e) > 0 {
			b.Logf("nmap: missed %v, extra %v", m, e)
		}
	}
	loadBefore := loadavg()
	for i := range b.N {
		// Alternate who goes first, so neither always meets the caches
		// (or the neighbours' load) the other left behind.
		if i%2 == 0 {
			runSimguard()
			runNmap()
		} else {
			runNmap()
			runSimguard()
		}
		// Per-run lines go to stderr: the testing package keeps only 10
		// lines of a benchmark's log, and the summary below must survive.
		fmt.Fprintf(os.Stderr, "run %d of %d: simguard %.2fs (scan %.2fs, cpu %.2fs), nmap %.2fs (cpu %.2fs)\n", i+1, b.N,
			sgWall[i].Seconds(), sgScan[i].Seconds(), sgCPU[i].Seconds(), nmapWall[i].Seconds(), nmapCPU[i].Seconds())
	}
	n := float64(b.N)
	b.ReportMetric(median(sgWall).Seconds(), "simguard-median-s")
	b.ReportMetric(slices.Min(sgWall).Seconds(), "simguard-best-s")
	b.ReportMetric(median(sgScan).Seconds(), "simguard-scan-median-s")
	b.ReportMetric(median(sgCPU).Seconds(), "simguard-cpu-median-s")
	b.ReportMetric(median(nmapWall).Seconds(), "nmap-median-s")
	b.ReportMetric(slices.Min(nmapWall).Seconds(), "nmap-best-s")
	b.ReportMetric(median(nmapCPU).Seconds(), "nmap-cpu-median-s")
	b.ReportMetric(float64(sgMissed)/n, "simguard-missed/op")
	b.ReportMetric(float64(nmapMissed)/n, "nmap-missed/op")
	b.ReportMetric(float64(sgExtra+nmapExtra)/n, "extra/op")
	b.ReportMetric(float64(len(truth)), "open-ports")
	b.Logf("%d runs, load average %s → %s: simguard median %.2fs best %.2fs (cpu median %.2fs), nmap median %.2fs best %.2fs (cpu median %.2fs); open ports %d; missed simguard %d, nmap %d",
		b.N, loadBefore, loadavg(), median(sgWall).Seconds(), slices.Min(sgWall).Seconds(), median(sgCPU).Seconds(),
		median(nmapWall).Seconds(), slices.Min(nmapWall).Seconds(), median(nmapCPU).Seconds(), len(truth), sgMissed, nmapMissed)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadavg is the machine's 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func compare(truth, got map[netip.AddrPort]bool) (missed, extra []string) {
	for ap := range truth {
		if !got[ap] {
			missed = append(missed, ap.String())
		}
	}
	for ap := range got {
		if !truth[ap] {
			extra = append(extra, ap.String())
		}
	}
	sort.Strings(missed)
	sort.Strings(extra)
	return missed, extra
}
