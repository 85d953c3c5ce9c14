//go:build linux

package scanlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/simguard/simguard/scan"
)

// Environment of a child process.
const (
	envRole = "SGSCAN_LAB_CHILD"
	envArgs = "SGSCAN_LAB_ARGS"
)

// RunChild does a lab child's work and exits when this process is one;
// otherwise it returns at once. Call it first in TestMain (or first in
// the test that sets Lab.ChildRun).
func RunChild() {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(envArgs)), &args); err != nil {
		fail("bad %s: %v", envArgs, err)
	}
	switch role {
	case "httpd":
		childHTTPD(args)
	case "listen":
		childListen(args)
	case "coap":
		childCoAP(args)
	case "scan":
		childScan(args)
	default:
		fail("unknown role %q", role)
	}
	os.Exit(0)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scanlab child: "+format+"\n", args...)
	os.Exit(2)
}

// StartChild starts this test binary in ns as a child with role.
func (l *Lab) StartChild(ns, role string, args ...string) {
	l.t.Helper()
	l.start(l.childCmd(ns, role, args...))
}

func (l *Lab) childCmd(ns, role string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	a, _ := json.Marshal(args)
	run := l.ChildRun
	if run == "" {
		run = "^$"
	}
	cmd := l.Command(ns, exe, "-test.run="+run)
	cmd.Env = append(os.Environ(), envRole+"="+role, envArgs+"="+string(a))
	return cmd
}

// childHTTPD serves basic auth on args[0] for user args[1], password
// args[2], like a device's web interface.
func childHTTPD(args []string) {
	if len(args) != 3 {
		fail("httpd: want addr user password")
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != args[1] || p != args[2] {
			w.Header().Set("WWW-Authenticate", `Basic realm="IoT Gateway"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "<html><title>gateway status</title>ok</html>")
	})
	srv := &http.Server{Addr: args[0], Handler: withHeader{h: h}, ReadHeaderTimeout: 5 * time.Second}
	serveUntilSignal(func() error { return srv.ListenAndServe() }, func() { srv.Close() })
}

type withHeader struct{ h http.Handler }

func (w withHeader) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Server", "lab-gateway/1.0")
	w.h.ServeHTTP(rw, r)
}

// childListen accepts and closes connections on each address in args,
// sending nothing: an open port of an unknown service.
func childListen(args []string) {
	for _, a := range args {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fail("listen %s: %v", a, err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	serveUntilSignal(func() error { select {} }, func() {})
}

// childCoAP answers CoAP GET /.well-known/core on args[0] (UDP) with one
// resource, like a constrained sensor.
func childCoAP(args []string) {
	pc, err := net.ListenPacket("udp", args[0])
	if err != nil {
		fail("coap: %v", err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		if n < 4 || b[0]>>6 != 1 || b[1] != 0x01 || !bytes.Contains(b, []byte("core")) {
			continue
		}
		tkl := int(b[0] & 0x0f)
		if n < 4+tkl {
			continue
		}
		resp := []byte{0x60 | byte(tkl), 0x45, b[2], b[3]} // ACK, 2.05 Content, same message ID
		resp = append(resp, b[4:4+tkl]...)
		resp = append(resp, 0xC1, 40) // Content-Format (12): application/link-format (40)
		resp = append(resp, 0xFF)
		resp = append(resp, `</sensors/temp>;rt="temperature";if="sensor"`...)
		pc.WriteTo(resp, from)
	}
}

// ScanInput is what the scan child needs.
type ScanInput struct {
	Config  scan.Config  `json:"config"`
	Request scan.Request `json:"request"`
}

// ScanOutput is what it returns.
type ScanOutput struct {
	Report  *scan.Report `json:"report"`
	Seconds float64      `json:"seconds"` // the Scan call alone, without process start
	Error   string       `json:"error,omitempty"`
	// CPU is the child's user+system time, filled in by Lab.Scan.
	CPU time.Duration `json:"-"`
}

func childScan(args []string) {
	var in ScanInput
	if err := json.Unmarshal([]byte(args[0]), &in); err != nil {
		fail("scan: %v", err)
	}
	s, err := scan.New(in.Config, scan.Deps{})
	if err != nil {
		fail("scan: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("SGSCAN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	start := time.Now()
	rep, err := s.Scan(ctx, in.Request)
	out := ScanOutput{Report: rep, Seconds: time.Since(start).Seconds()}
	if err != nil {
		out.Error = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
	pprof.StopCPUProfile()
}

// Scan runs the scanner in the scanner namespace and returns its output.
func (l *Lab) Scan(in ScanInput) ScanOutput {
	l.t.Helper()
	a, err := json.Marshal(in)
	if err != nil {
		l.t.Fatalf("scanlab: %v", err)
	}
	cmd := l.childCmd(l.Scanner, "scan", string(a))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		l.t.Fatalf("scanlab: scan child: %v\n%s", err, stderr.String())
	}
	var out ScanOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		l.t.Fatalf("scanlab: scan child output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return out
}

func serveUntilSignal(serve func() error, stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case <-sig:
		stop()
	case err := <-errc:
		if err != nil && !strings.Contains(err.Error(), "closed") {
			fail("%v", err)
		}
	}
}
