package simguard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Service is something a SIM can be allowed to use.
type Service string

const (
	ServiceData  Service = "data"   // packet data sessions (RADIUS, S6a attach for data)
	ServiceSMSMO Service = "sms_mo" // messages sent by the device
	ServiceSMSMT Service = "sms_mt" // messages sent to the device
)

// Services lists every service in a fixed order.
var Services = []Service{ServiceData, ServiceSMSMO, ServiceSMSMT}

func (s Service) valid() bool {
	return s == ServiceData || s == ServiceSMSMO || s == ServiceSMSMT
}

// RAT is a radio access technology as policy names it.
type RAT string

const (
	RAT2G    RAT = "2g"     // GERAN
	RAT3G    RAT = "3g"     // UTRAN
	RAT4G    RAT = "4g"     // E-UTRAN
	RATNBIoT RAT = "nb-iot" // E-UTRAN NB-IoT
	RATLTEM  RAT = "lte-m"  // LTE-M (eMTC)
	RAT5G    RAT = "5g"     // NR
)

// RATs lists every radio type in a fixed order.
var RATs = []RAT{RAT2G, RAT3G, RAT4G, RATNBIoT, RATLTEM, RAT5G}

func (r RAT) valid() bool {
	for _, x := range RATs {
		if r == x {
			return true
		}
	}
	return false
}

// Group is a policy profile: every SIM in it follows its Policy. Names are
// unique within a tenant.
type Group struct {
	ID          int64     `json:"id" yaml:"-"`
	TenantID    int64     `json:"tenant_id" yaml:"-"`
	Name        string    `json:"name" yaml:"name"`
	Description string    `json:"description,omitempty" yaml:"description,omitempty"`
	Policy      Policy    `json:"policy" yaml:"policy"`
	Version     int64     `json:"version" yaml:"-"`
	CreatedAt   time.Time `json:"created_at" yaml:"-"`
	UpdatedAt   time.Time `json:"updated_at" yaml:"-"`
}

// Policy is what the SIMs of a group may do. The zero value allows nothing:
// no service is enabled until it is listed. Empty lists in the other
// fields mean "no restriction of this kind".
type Policy struct {
	Services []Service `json:"services" yaml:"services"`
	// Windows limit services to periods of time; see Window.
	Windows  []Window     `json:"windows,omitempty" yaml:"windows,omitempty"`
	APNs     []string     `json:"apns,omitempty" yaml:"apns,omitempty"`
	Location LocationLock `json:"location,omitzero" yaml:"location,omitempty"`
	RATs     []RAT        `json:"rats,omitempty" yaml:"rats,omitempty"`
	// DeviceTACs are allowed device models as IMEI prefixes of 1 to 8
	// digits (a full TAC is 8).
	DeviceTACs []string  `json:"device_tacs,omitempty" yaml:"device_tacs,omitempty"`
	Quotas     Quotas    `json:"quotas,omitzero" yaml:"quotas,omitempty"`
	SMS        SMSPolicy `json:"sms,omitzero" yaml:"sms,omitempty"`
	// Egress lists the destinations devices may reach; nothing else.
	Egress []FlowRule `json:"egress,omitempty" yaml:"egress,omitempty"`
	// Inbound lists who may open connections to devices; nobody else.
	Inbound []FlowRule `json:"inbound,omitempty" yaml:"inbound,omitempty"`
}

// Window is a period in which services are on. A service that some window
// names (or every service, for a window that names none) is on only inside
// one of its windows. From and Until bound the window in absolute time
// (either may be open); Daily ("HH:MM-HH:MM", UTC, may wrap midnight)
// limits it to a time of day.
type Window struct {
	Services []Service  `json:"services,omitempty" yaml:"services,omitempty"`
	From     *time.Time `json:"from,omitempty" yaml:"from,omitempty"`
	Until    *time.Time `json:"until,omitempty" yaml:"until,omitempty"`
	Daily    string     `json:"daily,omitempty" yaml:"daily,omitempty"`
}

// LocationLock limits where SIMs may use the network. Empty lists allow
// anywhere.
type LocationLock struct {
	// PLMNs are allowed networks as "MCC-MNC" (e.g. "262-01", "310-260").
	PLMNs []string `json:"plmns,omitempty" yaml:"plmns,omitempty"`
	// Areas are allowed tracking or location areas as "MCC-MNC-TAC" or
	// "MCC-MNC-LAC" (decimal).
	Areas []string `json:"areas,omitempty" yaml:"areas,omitempty"`
	// Cells are allowed cells: "MCC-MNC-ECI" for E-UTRAN and NR cells
	// (ECI or NCI, decimal), "MCC-MNC-LAC-CI" for GERAN/UTRAN cells (CI or
	// SAC, decimal).
	Cells []string `json:"cells,omitempty" yaml:"cells,omitempty"`
}

// Quotas cap usage per period. Zero means unlimited.
type Quotas struct {
	Period       string `json:"period,omitempty" yaml:"period,omitempty"` // "day" or "month" (default)
	DataBytes    int64  `json:"data_bytes,omitempty" yaml:"data_bytes,omitempty"`
	SMSCount     int64  `json:"sms_count,omitempty" yaml:"sms_count,omitempty"`
	OnExhaustion string `json:"on_exhaustion,omitempty" yaml:"on_exhaustion,omitempty"` // "block" (default) or "alert"
}

// SMSPolicy filters short messages.
type SMSPolicy struct {
	// MO limits the destinations devices may send to.
	MO SMSPeers `json:"mo,omitzero" yaml:"mo,omitempty"`
	// MT limits the sources that may send to devices.
	MT     SMSPeers  `json:"mt,omitzero" yaml:"mt,omitempty"`
	Binary BinarySMS `json:"binary,omitzero" yaml:"binary,omitempty"`
	// AllowSilent lets silent SMS (TP-PID 0x40, "type 0") through.
	AllowSilent bool `json:"allow_silent,omitempty" yaml:"allow_silent,omitempty"`
	// PerMinute caps messages per SIM per minute; SourcePerMinute caps
	// messages from one source address per minute. Zero: no cap.
	PerMinute       int `json:"per_minute,omitempty" yaml:"per_minute,omitempty"`
	SourcePerMinute int `json:"source_per_minute,omitempty" yaml:"source_per_minute,omitempty"`
}

// SMSPeers are number prefixes (digits, optional leading "+", or an
// alphanumeric sender). Deny wins over Allow; an empty Allow allows any
// peer not denied.
type SMSPeers struct {
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty" yaml:"deny,omitempty"`
}

// BinarySMS says whether binary messages (UDH, SIM data download, class 2,
// OTA) may reach devices, and from which source prefixes.
type BinarySMS struct {
	Allow   bool     `json:"allow,omitempty" yaml:"allow,omitempty"`
	Sources []string `json:"sources,omitempty" yaml:"sources,omitempty"`
}

// FlowRule allows traffic: for Egress, to CIDR; for Inbound, from CIDR.
type FlowRule struct {
	CIDR  netip.Prefix `json:"cidr" yaml:"cidr"`
	Proto string       `json:"proto,omitempty" yaml:"proto,omitempty"` // tcp, udp, icmp or any (default)
	Ports []PortRange  `json:"ports,omitempty" yaml:"ports,omitempty"` // empty: every port
}

// PortRange is an inclusive port range written "443" or "8000-8100".
type PortRange struct {
	From, To uint16
}

// Contains reports whether port p is in the range.
func (r PortRange) Contains(p uint16) bool { return p >= r.From && p <= r.To }

func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(int(r.From))
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// MarshalText writes "443" or "8000-8100".
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "443" or "8000-8100".
func (r *PortRange) UnmarshalText(b []byte) error {
	s := string(b)
	lo, hi, isRange := strings.Cut(s, "-")
	from, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	to := from
	var err2 error
	if isRange {
		to, err2 = strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	}
	if err1 != nil || err2 != nil || from == 0 || to < from {
		return fmt.Errorf("port range %q: want a port 1-65535 or a range like 8000-8100", clip(s))
	}
	r.From, r.To = uint16(from), uint16(to)
	return nil
}

// Validate checks a group and normalizes its policy in place (lower-case
// APNs and protocols, defaults filled in). Errors name the field by its
// path, e.g. "policy.location.plmns[1]".
func (g *Group) Validate() error {
	if err := ValidateName(g.Name); err != nil {
		return err
	}
	if len(g.Description) > 1024 {
		return FieldError("description", "longer than 1024 characters")
	}
	return g.Policy.Validate()
}

// Validate checks and normalizes a policy; see Group.Validate.
func (p *Policy) Validate() error {
	for i, s := range p.Services {
		if !s.valid() {
			return FieldError(fmt.Sprintf("policy.services[%d]", i), "must be data, sms_mo or sms_mt, got %q", clip(string(s)))
		}
	}
	for i := range p.Windows {
		if err := p.Windows[i].validate(fmt.Sprintf("policy.windows[%d]", i)); err != nil {
			return err
		}
	}
	for i, a := range p.APNs {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || len(a) > 100 {
			return FieldError(fmt.Sprintf("policy.apns[%d]", i), "must be an APN name of 1-100 characters")
		}
		p.APNs[i] = a
	}
	if err := p.Location.validate(); err != nil {
		return err
	}
	for i, r := range p.RATs {
		if !r.valid() {
			return FieldError(fmt.Sprintf("policy.rats[%d]", i), "must be one of 2g, 3g, 4g, nb-iot, lte-m, 5g, got %q", clip(string(r)))
		}
	}
	for i, t := range p.DeviceTACs {
		if len(t) == 0 || len(t) > 8 || !allDigits(t) {
			return FieldError(fmt.Sprintf("policy.device_tacs[%d]", i), "must be an IMEI prefix of 1-8 digits (a TAC is 8), got %q", clip(t))
		}
	}
	if err := p.Quotas.validate(); err != nil {
		return err
	}
	if err := p.SMS.validate(); err != nil {
		return err
	}
	for i := range p.Egress {
		if err := p.Egress[i].validate(fmt.Sprintf("policy.egress[%d]", i)); err != nil {
			return err
		}
	}
	for i := range p.Inbound {
		if err := p.Inbound[i].validate(fmt.Sprintf("policy.inbound[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// HasService reports whether s is enabled.
func (p *Policy) HasService(s Service) bool {
	for _, x := range p.Services {
		if x == s {
			return true
		}
	}
	return false
}

func (w *Window) validate(path string) error {
	for i, s := range w.Services {
		if !s.valid() {
			return FieldError(fmt.Sprintf("%s.services[%d]", path, i), "must be data, sms_mo or sms_mt, got %q", clip(string(s)))
		}
	}
	if w.From != nil && w.Until != nil && !w.Until.After(*w.From) {
		return FieldError(path+".until", "must be after from")
	}
	if w.Daily != "" {
		if _, _, err := ParseDaily(w.Daily); err != nil {
			return FieldError(path+".daily", "%v", err)
		}
	}
	if w.From == nil && w.Until == nil && w.Daily == "" {
		return FieldError(path, "a window needs from, until or daily")
	}
	return nil
}

// ParseDaily reads "HH:MM-HH:MM" into minutes after midnight UTC. End may be
// before start: the window then wraps midnight.
func ParseDaily(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM (UTC), got %q", clip(s))
	}
	if start, err = parseClock(a); err == nil {
		end, err = parseClock(b)
	}
	if err == nil && start == end {
		err = fmt.Errorf("start and end of %q are equal", s)
	}
	return start, end, err
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("want HH:MM, got %q", clip(s))
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (l *LocationLock) validate() error {
	for i, s := range l.PLMNs {
		p, err := ParsePLMN(s)
		if err != nil {
			return FieldError(fmt.Sprintf("policy.location.plmns[%d]", i), "%v", err)
		}
		l.PLMNs[i] = p.String()
	}
	for i, s := range l.Areas {
		if _, _, err := ParseArea(s); err != nil {
			return FieldError(fmt.Sprintf("policy.location.areas[%d]", i), "%v", err)
		}
	}
	for i, s := range l.Cells {
		if _, _, err := ParseCell(s); err != nil {
			return FieldError(fmt.Sprintf("policy.location.cells[%d]", i), "%v", err)
		}
	}
	return nil
}

func (q *Quotas) validate() error {
	switch q.Period {
	case "":
		q.Period = "month"
	case "day", "month":
	default:
		return FieldError("policy.quotas.period", "must be day or month, got %q", clip(q.Period))
	}
	switch q.OnExhaustion {
	case "":
		q.OnExhaustion = "block"
	case "block", "alert":
	default:
		return FieldError("policy.quotas.on_exhaustion", "must be block or alert, got %q", clip(q.OnExhaustion))
	}
	if q.DataBytes < 0 {
		return FieldError("policy.quotas.data_bytes", "must not be negative")
	}
	if q.SMSCount < 0 {
		return FieldError("policy.quotas.sms_count", "must not be negative")
	}
	return nil
}

func (s *SMSPolicy) validate() error {
	lists := []struct {
		path string
		l    []string
	}{
		{"policy.sms.mo.allow", s.MO.Allow}, {"policy.sms.mo.deny", s.MO.Deny},
		{"policy.sms.mt.allow", s.MT.Allow}, {"policy.sms.mt.deny", s.MT.Deny},
		{"policy.sms.binary.sources", s.Binary.Sources},
	}
	for _, x := range lists {
		for i, p := range x.l {
			n, err := NormalizeSMSPeer(p)
			if err != nil {
				return FieldError(fmt.Sprintf("%s[%d]", x.path, i), "%v", err)
			}
			x.l[i] = n
		}
	}
	if s.PerMinute < 0 || s.SourcePerMinute < 0 {
		return FieldError("policy.sms.per_minute", "must not be negative")
	}
	return nil
}

// NormalizeSMSPeer normalizes an SMS address or prefix: a leading "+" is
// dropped from numbers; alphanumeric senders are kept as they are.
func NormalizeSMSPeer(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "+") {
		t = t[1:]
		if !allDigits(t) {
			return "", fmt.Errorf("%q: after + only digits may follow", clip(s))
		}
	}
	if len(t) == 0 || len(t) > 20 {
		return "", fmt.Errorf("%q: want 1-20 characters", clip(s))
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return "", fmt.Errorf("%q: only printable ASCII allowed", clip(s))
		}
	}
	return t, nil
}

func (r *FlowRule) validate(path string) error {
	if !r.CIDR.IsValid() {
		return FieldError(path+".cidr", "must be a CIDR like 203.0.113.0/24 or 2001:db8::/32")
	}
	r.CIDR = r.CIDR.Masked()
	r.Proto = strings.ToLower(r.Proto)
	switch r.Proto {
	case "":
		r.Proto = "any"
	case "tcp", "udp", "icmp", "any":
	default:
		return FieldError(path+".proto", "must be tcp, udp, icmp or any, got %q", clip(r.Proto))
	}
	if len(r.Ports) > 0 && (r.Proto == "icmp" || r.Proto == "any") {
		return FieldError(path+".ports", "ports need proto tcp or udp")
	}
	for i, p := range r.Ports {
		if p.From == 0 || p.To < p.From {
			return FieldError(fmt.Sprintf("%s.ports[%d]", path, i), "must be a port 1-65535 or a range like 8000-8100")
		}
	}
	return nil
}
