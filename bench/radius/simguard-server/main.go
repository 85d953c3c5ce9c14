// Command simguard-server runs simguard's RADIUS server over the bench SIM
// population for bench/radius/run.sh: every SIM active, data on, bound
// (explicit IMEI lock) to its device, allowed only the bench APN.
//
// With -null it instead answers every packet with a fixed Access-Accept
// without looking at it: the load generator's capacity test.
package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/bench/radius/internal/benchsim"
	"github.com/simguard/simguard/radius"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18120", "auth listen address")
	secret := flag.String("secret", "bench-secret", "shared secret of the 127.0.0.0/8 NAS")
	n := flag.Int("sims", 100000, "number of SIMs")
	workers := flag.Int("workers", 0, "reader goroutines per socket (0: radius default)")
	null := flag.Bool("null", false, "answer every packet with a canned reply (load generator capacity test)")
	users := flag.String("write-freeradius-users", "", "write the equivalent FreeRADIUS users file here and exit")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the serving time here")
	flag.Parse()
	if *users != "" {
		if err := writeUsers(*users, *n); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *null {
		log.Fatal(nullServer(*addr, []byte(*secret)))
	}
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	eval, err := buildEvaluator(*n)
	if err != nil {
		log.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "simguard-server: %d SIMs compiled in %s, heap %d MiB\n", *n, time.Since(start).Round(time.Millisecond), ms.HeapAlloc>>20)

	srv, err := radius.New(radius.Config{
		AuthAddrs: []string{*addr}, AcctAddrs: []string{"127.0.0.1:0"}, Workers: *workers, RecheckInterval: -1,
	}, radius.Deps{
		Evaluator: eval, Feedback: nopFeedback{}, Events: newAsyncSink(), Sessions: nopSessions{},
		Clients: []simguard.NASClient{{TenantID: 1, Name: "bench", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: *secret}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println("ready")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx); err != nil {
		log.Fatal(err)
	}
}

// nullServer answers each packet with a 20-octet Access-Accept carrying
// the request's identifier and a valid Response Authenticator: no parsing,
// no policy, one MD5.
func nullServer(addr string, secret []byte) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	buf := make([]byte, 4096)
	resp := make([]byte, 20)
	resp[0], resp[3] = 2, 20
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		if n >= 20 {
			resp[1] = buf[1]
			h := md5.New()
			h.Write(resp[:4])
			h.Write(buf[4:20])
			h.Write(secret)
			h.Sum(resp[4:4])
			_, _ = c.WriteToUDPAddrPort(resp, from)
		}
	}
}

// writeUsers writes a FreeRADIUS users file with the bench policy: each
// SIM's IMSI (as User-Name) is accepted only with its IMEISV and the bench
// APN; everything else is rejected.
func writeUsers(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, "%s\t3GPP-IMEISV == \"%s\", Called-Station-Id == \"%s\", Auth-Type := Accept\n\n",
			benchsim.IMSI(i), benchsim.IMEISV(i), benchsim.APN)
	}
	fmt.Fprintf(w, "DEFAULT\tAuth-Type := Reject\n\tReply-Message = \"denied\"\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
