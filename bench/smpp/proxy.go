package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
	"github.com/simguard/simguard/smpp"
)

// proxy is a running proxy under test.
type proxy struct {
	addr  string
	usage func() procUsage // of the process it runs in
	stop  func()
}

// benchFleet is the policy of the bench: 1,000 active SIMs in a group
// that takes any message, decided by the real policy engine.
func benchFleet() *enforce.Policy {
	groups := []simguard.Group{{TenantID: 2, Name: "bench", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}}}}
	sims := make([]simguard.SIM, benchSIMs)
	for i := range sims {
		sims[i] = simguard.SIM{ID: int64(i + 1), TenantID: 2, ICCID: demo.ICCID(i), IMSI: demo.IMSI(i), MSISDN: benchMSISDNs[i],
			State: simguard.SIMActive, Group: "bench", IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff}}
	}
	snap, err := policy.Compile(groups, sims)
	if err != nil {
		log.Fatal(err)
	}
	return enforce.NewPolicy(snap, nil)
}

type countEvents struct{ n atomic.Int64 }

func (c *countEvents) Emit(simguard.Event) { c.n.Add(1) }

type countUsage struct{ n atomic.Int64 }

func (*countUsage) LearnIMEI(context.Context, int64, string, string) error          { return nil }
func (*countUsage) ReportIMEIMismatch(context.Context, int64, string, string) error { return nil }
func (c *countUsage) AddUsage(_ context.Context, _ int64, _, sms int64) error {
	c.n.Add(sms)
	return nil
}

// oneAccount checks binds as the control plane does (bcrypt).
type oneAccount struct {
	a    simguard.SMPPAccount
	hash []byte
}

func (o oneAccount) AuthenticateSMPP(_ context.Context, id, password string) (simguard.SMPPAccount, error) {
	if id != o.a.SystemID {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "system_id", Message: "unknown"}
	}
	if bcrypt.CompareHashAndPassword(o.hash, []byte(password)) != nil {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "password", Message: "wrong"}
	}
	return o.a, nil
}

// serveProxy starts the proxy on a free port of this process.
func serveProxy(sinkAddr string, binds, window int) (string, func()) {
	hash, err := bcrypt.GenerateFromPassword([]byte("bench"), bcrypt.MinCost)
	if err != nil {
		log.Fatal(err)
	}
	fleet := benchFleet()
	srv, err := smpp.New(smpp.Config{
		Upstreams: []simguard.SMPPUpstream{{Name: "sink", Addrs: []string{sinkAddr}, Binds: binds, Window: window}},
	}, smpp.Deps{
		Evaluator: fleet,
		// As serve wires it: the bench group has no SMS quota.
		QuotaBlocks: func(tenantID int64, group string) bool {
			g, ok := fleet.Snapshot().GroupPolicy(tenantID, group)
			return ok && g.Policy.Quotas.SMSCount > 0 && g.Policy.Quotas.OnExhaustion != "alert"
		},
		Events:     &countEvents{},
		Feedback:   &countUsage{},
		Auth:       oneAccount{a: simguard.SMPPAccount{ID: 1, TenantID: 2, SystemID: "bench"}, hash: hash},
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := srv.Serve(ctx, ln); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		close(done)
	}()
	for deadline := time.Now().Add(5 * time.Second); srv.UpstreamBinds("sink") < binds; {
		if time.Now().After(deadline) {
			log.Fatal("proxy did not bind to the sink")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ln.Addr().String(), func() { cancel(); <-done }
}

func startInProc(sinkAddr string, binds, window int) *proxy {
	addr, stop := serveProxy(sinkAddr, binds, window)
	return &proxy{addr: addr, stop: stop, usage: func() procUsage { return readProc(os.Getpid()) }}
}

// runChild is the child process of -proxy process: it serves until its
// standard input closes.
func runChild(sinkAddr string, binds, window int) {
	addr, stop := serveProxy(sinkAddr, binds, window)
	fmt.Println("LISTEN", addr)
	io.Copy(io.Discard, os.Stdin)
	stop()
}

func startChild(sinkAddr string, binds, window int, cpuprofile string) *proxy {
	cmd := exec.Command(os.Args[0], "-child", sinkAddr, "-binds", fmt.Sprint(binds), "-upstream-window", fmt.Sprint(window),
		"-cpuprofile", cpuprofile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		log.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if err != nil || !ok {
		log.Fatalf("proxy process: %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	return &proxy{addr: addr, usage: func() procUsage { return readProc(pid) }, stop: func() {
		stdin.Close()
		cmd.Wait()
	}}
}

// startServe runs "simguard serve" with the SMS firewall in front of the
// sink, and gives it the bench group, SIMs and ESME account through the
// API, as an operator would.
func startServe(binary, sinkAddr string, binds, window int) *proxy {
	dir, err := os.MkdirTemp("", "smppbench")
	if err != nil {
		log.Fatal(err)
	}
	cfg := fmt.Sprintf("smpp:\n  listen: 127.0.0.1:0\n  upstreams:\n    - name: sink\n      addrs: [%s]\n      system_id: bench\n      binds: %d\n      window: %d\n",
		sinkAddr, binds, window)
	if err := os.WriteFile(filepath.Join(dir, "simguard.yaml"), []byte(cfg), 0o600); err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--config", filepath.Join(dir, "simguard.yaml"), "--log-level", "warn")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	var token, smppAddr, url string
	sc := bufio.NewScanner(stdout)
	for url == "" && sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`SIMGUARD_TOKEN=(sgt_\S+)`).FindStringSubmatch(line); m != nil {
			token = m[1]
		}
		if m := regexp.MustCompile(`listening on (\S+),`).FindStringSubmatch(line); m != nil {
			smppAddr = m[1]
		}
		if m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(line); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if token == "" || smppAddr == "" || url == "" {
		log.Fatalf("simguard serve did not start (token %q, smpp %q, api %q)", token, smppAddr, url)
	}
	provision(url, token)
	pid := cmd.Process.Pid
	return &proxy{addr: smppAddr, usage: func() procUsage { return readProc(pid) }, stop: func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}}
}

func provision(url, token string) {
	ctx := context.Background()
	c, err := client.New(url, token, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.ApplyGroup(ctx, simguard.Group{Name: "bench", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceSMSMO, simguard.ServiceSMSMT}}}, 0); err != nil {
		log.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("iccid,imsi,msisdn,group,state\n")
	for i := range benchSIMs {
		fmt.Fprintf(&b, "%s,%s,%s,bench,active\n", demo.ICCID(i), demo.IMSI(i), benchMSISDNs[i])
	}
	if _, err := c.ImportSIMs(ctx, strings.NewReader(b.String()), "text/csv", nil); err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateSMPPAccount(ctx, client.SMPPAccountInput{SystemID: "bench", Password: "bench"}); err != nil {
		log.Fatal(err)
	}
	// The firewall's upstream bind comes up on its own; give it a moment.
	time.Sleep(500 * time.Millisecond)
}
