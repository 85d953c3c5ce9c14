package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// SyslogConfig is a syslog receiver.
type SyslogConfig struct {
	// Network is "udp" (default) or "tcp"; TCP frames messages by octet
	// counting (RFC 6587).
	Network string
	// Address is host:port of the receiver.
	Address string
	// Facility is a facility name (kern, user, daemon, auth, authpriv,
	// local0 … local7). Default auth: alerts are security messages.
	Facility string
	// AppName is the APP-NAME field. Default "simguard".
	AppName string
	// Hostname is the HOSTNAME field. Default the machine's name.
	Hostname string
	Filter   Filter
	// QueueSize bounds messages waiting to be written. Default 1,000.
	QueueSize int
	// WriteTimeout bounds one write (and the dial). Default 5s.
	WriteTimeout time.Duration
}

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// maxUDPMessage keeps a datagram within what RFC 5424 says every receiver
// should accept.
const maxUDPMessage = 2048

// SyslogDeps are what a Syslog works with.
type SyslogDeps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Syslog writes notices as RFC 5424 messages.
type Syslog struct {
	cfg        SyslogConfig
	facility   int
	procID     string
	log        *slog.Logger
	queue      chan []byte
	conn       net.Conn
	deliveries *prometheus.CounterVec
}

// NewSyslog makes a Syslog; Run writes.
func NewSyslog(cfg SyslogConfig, deps SyslogDeps) (*Syslog, error) {
	switch cfg.Network {
	case "":
		cfg.Network = "udp"
	case "udp", "tcp":
	default:
		return nil, simguard.FieldError("syslog.network", "must be udp or tcp, got %q", cfg.Network)
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, simguard.FieldError("syslog.address", "must be host:port, e.g. 127.0.0.1:514, got %q", cfg.Address)
	}
	if cfg.Facility == "" {
		cfg.Facility = "auth"
	}
	fac, ok := facilities[cfg.Facility]
	if !ok {
		return nil, simguard.FieldError("syslog.facility", "must be a facility name like auth, daemon or local0, got %q", cfg.Facility)
	}
	if err := cfg.Filter.validate("syslog"); err != nil {
		return nil, err
	}
	if cfg.QueueSize < 0 || cfg.WriteTimeout < 0 {
		return nil, simguard.FieldError("syslog", "queue_size and write_timeout must not be negative")
	}
	if cfg.AppName == "" {
		cfg.AppName = "simguard"
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = 1000
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	d, err := deliveriesVec(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("notify: metrics: %w", err)
	}
	return &Syslog{cfg: cfg, facility: fac, procID: strconv.Itoa(os.Getpid()), log: deps.Logger,
		queue: make(chan []byte, cfg.QueueSize), deliveries: d}, nil
}

// severityCode maps alert severities to syslog severities.
func severityCode(s simguard.Severity) int {
	switch s {
	case simguard.SeverityCritical:
		return 2 // critical
	case simguard.SeverityHigh:
		return 3 // error
	case simguard.SeverityMedium:
		return 4 // warning
	case simguard.SeverityLow:
		return 5 // notice
	}
	return 6 // informational
}

// Format writes n as one RFC 5424 message (without transport framing).
func (s *Syslog) Format(n simguard.AlertNotice) []byte {
	a := n.Alert
	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 %s %s %s %s alert.%s ",
		s.facility*8+severityCode(a.Severity),
		n.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		header(s.cfg.Hostname, 255), header(s.cfg.AppName, 48), header(s.procID, 128), n.Kind)
	// 32473 is the private enterprise number reserved for examples and
	// documentation (RFC 5612); it keeps the SD-ID well-formed without a
	// registered number.
	b.WriteString("[alert@32473")
	params := []struct{ k, v string }{
		{"id", strconv.FormatInt(a.ID, 10)}, {"tenant", strconv.FormatInt(a.TenantID, 10)},
		{"rule", a.Rule}, {"severity", string(a.Severity)}, {"state", string(a.State)},
		{"key", a.Key}, {"sim", strconv.FormatInt(a.SIMID, 10)}, {"count", strconv.FormatInt(a.Count, 10)},
		{"first_event", a.FirstEventAt.UTC().Format(time.RFC3339Nano)},
	}
	for _, p := range params {
		fmt.Fprintf(&b, " %s=\"%s\"", p.k, sdEscape(p.v))
	}
	b.WriteString("] \ufeff")
	b.WriteString(a.Summary)
	msg := []byte(b.String())
	if s.cfg.Network == "udp" && len(msg) > maxUDPMessage {
		cut := maxUDPMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return msg
}

// header makes a header field: printable ASCII without spaces, at most
// max characters, "-" when empty.
func header(s string, max int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// sdEscape escapes a PARAM-VALUE (RFC 5424 6.3.3).
func sdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	return r.Replace(strings.ToValidUTF8(s, "\ufffd"))
}

// Notify queues n; when the queue is full the notice is dropped and
// counted.
func (s *Syslog) Notify(_ context.Context, n simguard.AlertNotice) error {
	if !s.cfg.Filter.Match(n) {
		return nil
	}
	select {
	case s.queue <- s.Format(n):
		return nil
	default:
		s.deliveries.WithLabelValues("syslog", "dropped").Inc()
		return fmt.Errorf("syslog %s: queue full; notice for alert %d dropped", s.cfg.Address, n.Alert.ID)
	}
}

// Run writes queued messages until ctx is done, then writes what is still
// queued (bounded by WriteTimeout each) and closes the connection. A
// failed write is retried once on a new connection; after that the
// message is dropped and counted.
func (s *Syslog) Run(ctx context.Context) error {
	defer func() {
		if s.conn != nil {
			s.conn.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case m := <-s.queue:
					s.write(m)
					continue
				default:
				}
				return nil
			}
		case m := <-s.queue:
			s.write(m)
		}
	}
}

func (s *Syslog) write(msg []byte) {
	frame := msg
	if s.cfg.Network == "tcp" {
		frame = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
	}
	var err error
	for try := 0; try < 2; try++ {
		if s.conn == nil {
			s.conn, err = net.DialTimeout(s.cfg.Network, s.cfg.Address, s.cfg.WriteTimeout)
			if err != nil {
				s.conn = nil
				continue
			}
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err = s.conn.Write(frame); err == nil {
			s.deliveries.WithLabelValues("syslog", "delivered").Inc()
			return
		}
		s.conn.Close()
		s.conn = nil
	}
	s.deliveries.WithLabelValues("syslog", "dropped").Inc()
	s.log.Error("notify: syslog write failed; message dropped", "address", s.cfg.Address, "err", err)
}
