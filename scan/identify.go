package scan

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/simguard/simguard/scan/creds"
	"github.com/simguard/simguard/scan/internal/telnet"
)

// service is what identification learned about one open port.
type service struct {
	name       string
	product    string
	banner     string
	tls        bool
	tlsVersion uint16
	// auth describes how the service authenticates, for the assessment:
	// "none" (it let us in), "basic", "digest", "password", "login", "".
	auth string
	// login is set when the credential audit can try this service.
	login    *creds.Target
	detail   string // protocol details worth a report line (CoAP resources, Modbus ids)
	infoLeak string
}

// exchange talks one protocol over an open connection; ok is whether the
// answer was that protocol's.
type exchange func(s *Scanner, c net.Conn, ap netip.AddrPort) (service, bool)

type step struct {
	name string
	tls  bool
	ex   exchange
}

var (
	stepBanner = step{"banner", false, (*Scanner).exBanner}
	// Where the port says the service speaks first, wait the full probe
	// timeout for it: telnetd looks the client up before its first byte.
	stepBannerLong = step{"banner", false, (*Scanner).exBannerLong}
	stepHTTP       = step{"http", false, (*Scanner).exHTTP}
	stepHTTPS      = step{"https", true, (*Scanner).exHTTP}
	stepMQTT       = step{"mqtt", false, (*Scanner).exMQTT}
	stepMQTTS      = step{"mqtts", true, (*Scanner).exMQTT}
	stepModbus     = step{"modbus", false, (*Scanner).exModbus}
	stepRTSP       = step{"rtsp", false, (*Scanner).exRTSP}
	// A service we do not recognize gets the probes that identify most
	// unknown services: a banner, then TLS, then HTTP.
	fallback = []step{stepBanner, stepHTTPS, stepHTTP}
)

// planFor orders the probes for a port: the ones its number suggests
// first, then the fallback.
func planFor(port uint16) []step {
	var first []step
	switch port {
	case 22, 2222, 23, 2323, 21, 25, 587:
		first = []step{stepBannerLong}
	case 80, 81, 8000, 8008, 8080, 8081, 8888, 7547, 5555:
		first = []step{stepHTTP}
	case 443, 4443, 7443, 8443:
		first = []step{stepHTTPS}
	case 1883, 1884:
		first = []step{stepMQTT}
	case 8883:
		first = []step{stepMQTTS}
	case 502:
		first = []step{stepModbus}
	case 554, 8554:
		first = []step{stepRTSP}
	}
	plan := first
	for _, s := range fallback {
		if !slices.ContainsFunc(plan, func(x step) bool { return x.name == s.name }) {
			plan = append(plan, s)
		}
	}
	return plan
}

// identify runs the plan for an open port until a probe recognizes the
// service. Every probe uses a fresh connection: a wrong guess may leave
// the previous one in a state the next protocol cannot use.
func (s *Scanner) identify(ctx context.Context, ap netip.AddrPort) service {
	unknown := service{name: "unknown"}
	for _, st := range planFor(ap.Port()) {
		if ctx.Err() != nil {
			break
		}
		svc, ok := s.runStep(ctx, ap, st)
		if ok {
			if svc.banner == "" {
				svc.banner = unknown.banner
			}
			return svc
		}
		if unknown.banner == "" {
			unknown.banner = svc.banner
		}
	}
	return unknown
}

func (s *Scanner) runStep(ctx context.Context, ap netip.AddrPort, st step) (service, bool) {
	if s.limit.Take(ctx) != nil {
		return service{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout+s.cfg.BannerWait)
	defer cancel()
	c, err := s.dialer.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return service{}, false
	}
	defer c.Close()
	// The probe's own deadlines are shorter; this one stops a peer that
	// trickles bytes forever.
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	if !st.tls {
		return st.ex(s, c, ap)
	}
	tc := tls.Client(c, &tls.Config{
		// We audit devices, we do not trust them: any certificate will do,
		// and old TLS must still connect so that we can report it.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return service{}, false
	}
	version := tc.ConnectionState().Version
	svc, ok := st.ex(s, tc, ap)
	if !ok {
		// TLS without a protocol we know inside is still worth naming.
		svc, ok = service{name: "tls"}, true
	}
	svc.tls, svc.tlsVersion = true, version
	return svc, ok
}

// readFor reads until done says the answer is complete, max bytes arrive,
// the peer closes, or d passes.
func readFor(c net.Conn, d time.Duration, maxBytes int, done func([]byte) bool) []byte {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 0, 1024)
	tmp := make([]byte, 2048)
	for len(buf) < maxBytes {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil || done != nil && done(buf) {
			break
		}
	}
	return buf[:min(len(buf), maxBytes)]
}

// exBanner listens for a service that speaks first.
func (s *Scanner) exBanner(c net.Conn, ap netip.AddrPort) (service, bool) {
	return s.banner(c, ap, s.cfg.BannerWait)
}

func (s *Scanner) exBannerLong(c net.Conn, ap netip.AddrPort) (service, bool) {
	return s.banner(c, ap, s.cfg.ProbeTimeout)
}

func (s *Scanner) banner(c net.Conn, ap netip.AddrPort, wait time.Duration) (service, bool) {
	b := readFor(c, wait, 2048, func(b []byte) bool { return bytes.IndexByte(b, '\n') >= 0 || telnet.LooksLikeTelnet(b) })
	if len(b) == 0 {
		return service{}, false
	}
	if sb, ok := ParseSSHBanner(b); ok {
		product := sb.Software
		if sb.Comments != "" {
			product += " " + sb.Comments
		}
		return service{name: "ssh", product: product, banner: firstLine(b), auth: "password",
			login: &creds.Target{Addr: ap, Service: "ssh"}}, true
	}
	if telnet.LooksLikeTelnet(b) || looksLikeLoginPrompt(b) {
		return s.telnetBanner(c, ap, b), true
	}
	if g, ok := ParseGreeting(b, ap.Port()); ok {
		svc := service{name: g.Service, banner: g.Text, product: g.Text}
		if g.Service == "ftp" {
			svc.auth = "password"
		}
		return svc, true
	}
	if bytes.HasPrefix(b, []byte("RFB ")) {
		return service{name: "vnc", banner: firstLine(b), product: firstLine(b)}, true
	}
	return service{banner: printable(string(b))}, false
}

// telnetBanner answers the negotiation until the login prompt (or
// silence) so that the banner text is what a user would see.
func (s *Scanner) telnetBanner(c net.Conn, ap netip.AddrPort, first []byte) service {
	text, cmds, rest := telnet.Parse(first)
	deadline := time.Now().Add(s.cfg.ProbeTimeout)
	buf := make([]byte, 2048)
	for i := 0; i < 16 && len(text) < 2048 && !looksLikeLoginPrompt(text) && time.Now().Before(deadline); i++ {
		if ans := telnet.Answer(cmds, "vt100"); len(ans) > 0 {
			c.Write(ans)
		}
		c.SetReadDeadline(minTime(deadline, time.Now().Add(s.cfg.BannerWait)))
		n, err := c.Read(buf)
		if n > 0 {
			var t []byte
			t, cmds, rest = telnet.Parse(append(rest, buf[:n]...))
			text = append(text, t...)
		}
		if err != nil {
			break
		}
	}
	svc := service{name: "telnet", banner: printable(string(bytes.TrimSpace(text))), auth: "login"}
	if looksLikeLoginPrompt(text) {
		svc.login = &creds.Target{Addr: ap, Service: "telnet"}
	}
	return svc
}

var loginWords = [][]byte{[]byte("login:"), []byte("username:"), []byte("user name:"), []byte("password:")}

func looksLikeLoginPrompt(b []byte) bool {
	t := bytes.ToLower(bytes.TrimRight(b, " \t\r\n\x00"))
	for _, w := range loginWords {
		if bytes.HasSuffix(t, w) {
			return true
		}
	}
	return false
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return printable(string(bytes.TrimRight(line, "\r")))
}

func headComplete(b []byte) bool { return bytes.Contains(b, []byte("\r\n\r\n")) }

func joinNonEmpty(sep string, parts ...string) string {
	var out []byte
	for _, p := range parts {
		if p == "" {
			continue
		}
		if len(out) > 0 {
			out = append(out, sep...)
		}
		out = append(out, p...)
	}
	return string(out)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
