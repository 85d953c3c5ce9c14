package simguard

import (
	"net/netip"
	"time"
)

// RequestKind is what a request asks for.
type RequestKind uint8

const (
	KindDataSession RequestKind = iota + 1 // a packet data session (RADIUS Access-Request)
	KindSMSMO                              // a message from the device (SMPP deliver_sm)
	KindSMSMT                              // a message to the device (SMPP submit_sm)
	KindAttach                             // network attach / location update (Diameter S6a ULR)
	KindIMEICheck                          // equipment check (Diameter S13 ECR)
	KindFlow                               // a packet flow to or from the device (gateway)
)

var kindNames = [...]string{"", "data_session", "sms_mo", "sms_mt", "attach", "imei_check", "flow"}

func (k RequestKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// ParseRequestKind is the inverse of String.
func ParseRequestKind(s string) (RequestKind, bool) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return RequestKind(i), true
		}
	}
	return 0, false
}

// Request is one question an enforcement point asks the policy: who (one of
// IMSI, MSISDN or IP identifies the SIM), with what device, where, for what
// and when. Adapters fill in what their protocol carries; empty fields are
// "not told", and a check that needs a missing field decides as documented
// on the reason.
type Request struct {
	Kind RequestKind
	Time time.Time

	IMSI   string     // 15 digits
	MSISDN string     // E.164 digits, no "+"
	IP     netip.Addr // the device's address (flows)

	IMEI string // IMEI, IMEISV or 14 digits; empty when not told

	Location Location
	RAT      RAT // empty when not told

	APN string // data sessions

	// Peer is the other end of an SMS: the destination of an MO message,
	// the source of an MT message.
	Peer string
	SMS  SMSInfo

	Flow Flow
}

// SMSInfo is what an adapter decoded about a short message.
type SMSInfo struct {
	// Binary: UDH present (other than only concatenation headers on
	// text), 8-bit data coding, SIM data download (TP-PID 0x7F), class 2
	// (SIM-specific), or a concatenated OTA command.
	Binary bool
	// Silent: TP-PID 0x40 (type 0), a message the handset discards.
	Silent bool
}

// Flow is one packet flow seen by the gateway.
type Flow struct {
	Inbound bool       // from the outside to the device
	Remote  netip.Addr // the other end
	Proto   uint8      // IANA protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
	Port    uint16     // destination port (remote for egress, device for inbound)
}

// Reason is the stable, machine-readable reason of a decision. New reasons
// may be added; existing ones never change meaning.
type Reason string

const (
	ReasonAllowed           Reason = "allowed"
	ReasonSIMUnknown        Reason = "sim_unknown"         // no SIM with that identity
	ReasonSIMInactive       Reason = "sim_inactive"        // still in inventory
	ReasonSIMSuspended      Reason = "sim_suspended"       // suspended by an operator or a rule
	ReasonSIMTerminated     Reason = "sim_terminated"      // terminated
	ReasonServiceDisabled   Reason = "service_disabled"    // the group does not enable the service
	ReasonOutsideWindow     Reason = "outside_window"      // outside every activation window
	ReasonIMEIMissing       Reason = "imei_missing"        // the lock needs an IMEI and none was sent
	ReasonIMEIMismatch      Reason = "imei_mismatch"       // another device than the bound one
	ReasonDeviceModelDenied Reason = "device_model_denied" // TAC not in the allowed models
	ReasonDeviceBlocked     Reason = "device_blocked"      // IMEI on the operator's blocked list
	ReasonLocationDenied    Reason = "location_denied"     // network, area or cell not allowed
	ReasonRATDenied         Reason = "rat_denied"          // radio type not allowed
	ReasonAPNDenied         Reason = "apn_denied"          // APN not allowed
	ReasonQuotaExceeded     Reason = "quota_exceeded"      // data or SMS quota of the period used up
	ReasonSMSPeerDenied     Reason = "sms_peer_denied"     // SMS source/destination not allowed
	ReasonSMSBinaryDenied   Reason = "sms_binary_denied"   // binary/OTA SMS not allowed
	ReasonSMSSilentDenied   Reason = "sms_silent_denied"   // silent SMS not allowed
	ReasonRateLimited       Reason = "rate_limited"        // too many messages/requests (adapter state)
	ReasonDestinationDenied Reason = "destination_denied"  // egress to a destination not allowed
	ReasonInboundDenied     Reason = "inbound_denied"      // inbound connection not allowed
	ReasonBadRequest        Reason = "bad_request"         // the request lacks what the kind needs
	ReasonAuthFailed        Reason = "auth_failed"         // a peer's credentials were wrong (ESME bind, NAS secret)
)

// Decision is the answer of the policy to a Request. It is returned by
// value and holds no pointers into mutable state.
type Decision struct {
	Allow  bool   `json:"allow"`
	Reason Reason `json:"reason"`
	// Rule names what decided, e.g. "group:meters/location.plmns".
	Rule string `json:"rule"`

	SIMID    int64  `json:"sim_id,omitempty"`
	TenantID int64  `json:"tenant_id,omitempty"`
	Group    string `json:"group,omitempty"`

	// ValidUntil is when the answer stops being true because an activation
	// window ends (zero: no end). RADIUS turns it into Session-Timeout.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// StaticIP is the SIM's fixed address, if it has one.
	StaticIP netip.Addr `json:"static_ip,omitzero"`
	// LearnIMEI asks the adapter to bind the request's IMEI to the SIM
	// (learn mode, or a re-pairing window is open). The adapter writes it
	// back through the control plane.
	LearnIMEI bool `json:"learn_imei,omitempty"`
	// QuotaAlert: the quota is used up but the group says alert, not block.
	QuotaAlert bool `json:"quota_alert,omitempty"`
	// DeviceWatch: the device is on the operator's watch list (allowed,
	// and the S13 EIR answers GREYLISTED).
	DeviceWatch bool `json:"device_watch,omitempty"`
	// SMSPerMinute and SMSSourcePerMinute are the group's SMS rate limits
	// (0: none), for the SMS adapter, which keeps the counters.
	SMSPerMinute       int32 `json:"sms_per_minute,omitempty"`
	SMSSourcePerMinute int32 `json:"sms_source_per_minute,omitempty"`
}

// Step is one check of an explained evaluation.
type Step struct {
	Check  string `json:"check"`  // e.g. "imei_lock"
	Result string `json:"result"` // "pass", "fail" or "skip"
	Detail string `json:"detail"` // what was compared, in words
}

// Explanation is a Decision with the trace that led to it.
type Explanation struct {
	Decision Decision `json:"decision"`
	Steps    []Step   `json:"steps"`
}
