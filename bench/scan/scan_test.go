//go:build linux

package scanbench

import (
	"net/netip"
	"os"
	"os/exec"
	"sort"
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
	var sgWall, sgScan, sgCPU, nmapWall, nmapCPU time.Duration
	var sgMissed, sgExtra, nmapMissed, nmapExtra int
	for range b.N {
		start := time.Now()
		out := lab.Scan(in)
		sgWall += time.Since(start)
		if out.Error != "" {
			b.Fatalf("simguard: %s", out.Error)
		}
		sgScan += time.Duration(out.Seconds * float64(time.Second))
		sgCPU += out.CPU
		got := map[netip.AddrPort]bool{}
		for _, f := range out.Report.Findings {
			got[netip.AddrPortFrom(f.Target, f.Port)] = true
		}
		m, e := compare(truth, got)
		sgMissed, sgExtra = sgMissed+len(m), sgExtra+len(e)
		if len(m)+len(e) > 0 {
			b.Errorf("simguard: missed %v, extra %v", m, e)
		}

		ref := lab.Nmap([]string{"-p-", "-T4", "-n", "-Pn"}, addrs...)
		nmapWall += ref.Elapsed
		nmapCPU += ref.CPU
		m, e = compare(truth, ref.Open)
		nmapMissed, nmapExtra = nmapMissed+len(m), nmapExtra+len(e)
		if len(m)+len(e) > 0 {
			b.Logf("nmap: missed %v, extra %v", m, e)
		}
	}
	n := float64(b.N)
	b.ReportMetric(sgWall.Seconds()/n, "simguard-s/op")
	b.ReportMetric(sgScan.Seconds()/n, "simguard-scan-s/op")
	b.ReportMetric(nmapWall.Seconds()/n, "nmap-s/op")
	b.ReportMetric(sgCPU.Seconds()/n, "simguard-cpu-s/op")
	b.ReportMetric(nmapCPU.Seconds()/n, "nmap-cpu-s/op")
	b.ReportMetric(float64(sgMissed)/n, "simguard-missed/op")
	b.ReportMetric(float64(nmapMissed)/n, "nmap-missed/op")
	b.ReportMetric(float64(sgExtra+nmapExtra)/n, "extra/op")
	b.ReportMetric(float64(len(truth)), "open-ports")
	b.Logf("%d runs: simguard %.2fs (scan %.2fs, cpu %.2fs), nmap %.2fs (cpu %.2fs) per run; open ports %d; missed simguard %d, nmap %d",
		b.N, sgWall.Seconds()/n, sgScan.Seconds()/n, sgCPU.Seconds()/n, nmapWall.Seconds()/n, nmapCPU.Seconds()/n, len(truth), sgMissed, nmapMissed)
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
