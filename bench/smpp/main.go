// Command smpp measures submit_sm throughput and latency of the SMS
// firewall: the same Go ESME client, with the same window, sends to a sink
// SMSC directly and then through the proxy, and the two are compared.
//
//	go run ./bench/smpp
//
// Three scenarios: "saturated" (a sink that answers at once, the client as
// fast as its window allows: the proxy's raw capacity), "smsc-latency" (a
// sink that answers after -smsc-delay, as an SMSC that stores messages
// does) and "paced" (-rate messages per second offered).
//
// The client and the sink run in this process, built on package pdu
// (smpp/smpptest): Perl Net::SMPP, which the acceptance tests use, is far
// too slow to load a proxy. Where the proxy runs is -proxy:
//
//   - process (default): the proxy alone (package smpp) in a child process,
//     deciding with the real policy engine on a fleet of 1,000 SIMs,
//     counting its events and usage in memory. Its CPU time and read/write
//     system calls are taken from /proc, so they are the proxy's own.
//   - serve: the whole product, "simguard serve" (-simguard BINARY) with
//     the SMS firewall on: every decision goes to the SQLite event log and
//     every delivered message to the SIM's usage in SQLite.
//   - inproc: the proxy in this process, as in the first measurements.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/simguard/simguard/smpp/smpptest"
)

// scenario is one load shape, run against the sink directly and through
// the proxy.
type scenario struct {
	name  string
	delay time.Duration // the sink's answer latency
	rate  float64       // messages per second offered; 0: as fast as the window allows
	n     int
}

func main() {
	n := flag.Int("n", 200_000, "messages per run (after warm-up)")
	warm := flag.Int("warmup", 20_000, "messages sent before measuring")
	window := flag.Int("window", 256, "outstanding submit_sm of the client")
	binds := flag.Int("binds", 1, "proxy binds to the sink")
	upWindow := flag.Int("upstream-window", 1024, "outstanding requests per proxy bind")
	rounds := flag.Int("rounds", 3, "alternating direct/proxy rounds; the best of each is reported")
	delay := flag.Duration("smsc-delay", 5*time.Millisecond, "answer latency of the sink in the realistic scenario")
	rate := flag.Float64("rate", 20_000, "offered load of the paced scenario, submit_sm/s")
	only := flag.String("scenario", "", "run only this scenario (saturated, smsc-latency, paced)")
	mode := flag.String("proxy", "process", "where the proxy runs: process, serve or inproc (see the package doc)")
	binary := flag.String("simguard", "", "the simguard binary, for -proxy serve (go build -o /tmp/simguard ./cmd/simguard)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the proxy to this file (-proxy process: of the child's whole life; inproc: of the proxy rounds)")
	child := flag.String("child", "", "internal: run the proxy in front of this sink address")
	flag.Parse()
	log.SetFlags(0)
	if *child != "" {
		if *cpuprofile != "" {
			defer profile(*cpuprofile)()
		}
		runChild(*child, *binds, *upWindow)
		return
	}
	if *mode == "serve" && *binary == "" {
		log.Fatal("-proxy serve needs -simguard BINARY (go build -o /tmp/simguard ./cmd/simguard)")
	}

	fmt.Printf("go %s, GOMAXPROCS %d, %d CPUs; proxy %s; window %d, proxy binds %d, upstream window %d, best of %d rounds\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), *mode, *window, *binds, *upWindow, *rounds)
	fmt.Println(loadAverage())
	scenarios := []scenario{
		{"saturated", 0, 0, *n},
		{"smsc-latency", *delay, 0, *n},
		{"paced", 0, *rate, int(*rate * 5)},
	}
	for _, sc := range scenarios {
		if *only != "" && *only != sc.name {
			continue
		}
		sink, err := smpptest.NewSMSC("127.0.0.1:0", smpptest.SMSCOptions{Delay: sc.delay})
		if err != nil {
			log.Fatal(err)
		}
		var p *proxy
		switch *mode {
		case "process":
			p = startChild(sink.Addr(), *binds, *upWindow, *cpuprofile)
		case "serve":
			p = startServe(*binary, sink.Addr(), *binds, *upWindow)
		case "inproc":
			p = startInProc(sink.Addr(), *binds, *upWindow)
		default:
			log.Fatalf("-proxy %q: want process, serve or inproc", *mode)
		}
		fmt.Printf("\n%s: sink latency %s, offered %s, %d messages per run\n", sc.name, sc.delay, offered(sc.rate), sc.n)
		var best [2]result
		for range *rounds {
			for i, target := range []string{sink.Addr(), p.addr} {
				var stop func()
				if i == 1 && *cpuprofile != "" && *mode == "inproc" {
					stop = profile(*cpuprofile)
				}
				res := run(target, *warm, sc.n, *window, sc.rate, p.usage)
				if i == 0 {
					res.proxy = procUsage{}
				}
				if stop != nil {
					stop()
				}
				if res.rate > best[i].rate {
					best[i] = res
				}
			}
		}
		p.stop()
		sink.Close()
		fmt.Printf("  direct %s\n         %s\n  proxy  %s\n", best[0], best[0].selfCost(), best[1])
		if *mode != "inproc" {
			fmt.Printf("         %s\n", best[1].proxyCost())
		}
		fmt.Printf("  throughput loss through the proxy: %.1f%%\n", 100*(1-best[1].rate/best[0].rate))
	}
}

func offered(rate float64) string {
	if rate == 0 {
		return "as much as the window allows"
	}
	return fmt.Sprintf("%.0f/s", rate)
}

func profile(file string) func() {
	f, err := os.Create(file)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average: unknown"
	}
	return "load average (1, 5, 15 min): " + string(b[:len(b)-1])
}
