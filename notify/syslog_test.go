package notify

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/simguard/simguard"
)

// rfc5424 is the message grammar (RFC 5424 section 6) for one SD-ELEMENT.
var rfc5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) (\[[^ =\]"]+( [^ =\]"]+="([^"\\\]]|\\["\\\]])*")*\]) \x{feff}(.*)$`)

func newSyslog(t *testing.T, cfg SyslogConfig) *Syslog {
	t.Helper()
	if cfg.Hostname == "" {
		cfg.Hostname = "sg-host"
	}
	s, err := NewSyslog(cfg, SyslogDeps{})
	if err != nil {
		t.Fatal(err)
	}
	s.procID = "4242"
	return s
}

func runSyslog(t *testing.T, s *Syslog) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func TestSyslogFormat(t *testing.T) {
	s := newSyslog(t, SyslogConfig{Address: "127.0.0.1:514"})
	var all []byte
	for _, sev := range simguard.Severities {
		msg := s.Format(notice(simguard.NoticeOpened, sev))
		m := rfc5424.FindSubmatch(msg)
		if m == nil {
			t.Fatalf("not RFC 5424: %q", msg)
		}
		pri, _ := strconv.Atoi(string(m[1]))
		want := map[simguard.Severity]int{"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}[sev]
		if pri != 4*8+want {
			t.Errorf("%s: PRI %d, want %d", sev, pri, 4*8+want)
		}
		all = append(append(all, msg...), '\n')
	}
	golden(t, "syslog.golden", all)
}

func TestSyslogHeaderAndTruncation(t *testing.T) {
	s := newSyslog(t, SyslogConfig{Address: "127.0.0.1:514", Hostname: "bad host", Facility: "local3", AppName: "x"})
	n := notice(simguard.NoticeResolved, simguard.SeverityLow)
	n.Alert.Summary = strings.Repeat("é", 2000)
	msg := s.Format(n)
	if len(msg) > maxUDPMessage || !bytes.HasPrefix(msg, []byte("<157>1 ")) || !bytes.Contains(msg, []byte(" badhost x 4242 alert.resolved ")) {
		t.Errorf("message %q…", msg[:80])
	}
	if !rfc5424.Match(msg) {
		t.Errorf("a truncated message is no longer valid: %q", msg[len(msg)-10:])
	}
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSyslog(t, SyslogConfig{Address: pc.LocalAddr().String()})
	runSyslog(t, s)
	n := notice(simguard.NoticeOpened, simguard.SeverityCritical)
	if err := s.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	k, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:k], s.Format(n)) {
		t.Errorf("datagram %q", buf[:k])
	}
}

// readFrames reads RFC 6587 octet-counted frames.
func readFrames(r *bufio.Reader, n int) ([]string, error) {
	var out []string
	for len(out) < n {
		l, err := r.ReadString(' ')
		if err != nil {
			return out, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			return out, err
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return out, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

func TestSyslogTCPReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newSyslog(t, SyslogConfig{Network: "tcp", Address: ln.Addr().String()})
	runSyslog(t, s)
	ctx := context.Background()
	first := notice(simguard.NoticeOpened, simguard.SeverityHigh)
	_ = s.Notify(ctx, first)
	c1, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = c1.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := readFrames(bufio.NewReader(c1), 1)
	if err != nil || got[0] != string(s.Format(first)) {
		t.Fatalf("frame %q: %v", got, err)
	}
	c1.Close() // the receiver restarts

	second := notice(simguard.NoticeResolved, simguard.SeverityHigh)
	// The first write after the close may still succeed into the dead
	// socket; keep notifying until a new connection arrives.
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	var c2 net.Conn
	eventually(t, "a new connection", func() bool {
		select {
		case c2 = <-accepted:
			return true
		default:
			_ = s.Notify(ctx, second)
			time.Sleep(20 * time.Millisecond)
			return false
		}
	})
	defer c2.Close()
	_ = c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err = readFrames(bufio.NewReader(c2), 1)
	if err != nil || got[0] != string(s.Format(second)) {
		t.Fatalf("frame after reconnect %q: %v", got, err)
	}
}

func TestSyslogStopFlushesQueue(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSyslog(t, SyslogConfig{Address: pc.LocalAddr().String()})
	for i := 0; i < 3; i++ {
		_ = s.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh))
	}
	stop := runSyslog(t, s)
	stop()
	if v := testutil.ToFloat64(s.deliveries.WithLabelValues("syslog", "delivered")); v != 3 {
		t.Errorf("delivered %v of 3 queued before stop", v)
	}
}

func TestSyslogQueueFullAndErrors(t *testing.T) {
	s := newSyslog(t, SyslogConfig{Address: "127.0.0.1:9", QueueSize: 1})
	ctx := context.Background()
	_ = s.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityHigh))
	if err := s.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityHigh)); err == nil {
		t.Error("a full queue must say so")
	}
	cases := []struct {
		cfg  SyslogConfig
		want string
	}{
		{SyslogConfig{Address: "nohost"}, "syslog.address"},
		{SyslogConfig{Address: "h:1", Network: "tls"}, "syslog.network"},
		{SyslogConfig{Address: "h:1", Facility: "security"}, "syslog.facility"},
	}
	for _, c := range cases {
		if _, err := NewSyslog(c.cfg, SyslogDeps{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}
