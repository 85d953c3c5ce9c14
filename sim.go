package simguard

import (
	"net/netip"
	"time"
)

// SIMState is the lifecycle state of a SIM.
type SIMState string

const (
	SIMInventory  SIMState = "inventory"  // delivered, never activated: no service
	SIMActive     SIMState = "active"     // in service, subject to its group's policy
	SIMSuspended  SIMState = "suspended"  // temporarily without any service
	SIMTerminated SIMState = "terminated" // permanently out of service; cannot come back
)

// Valid reports whether s is a known state.
func (s SIMState) Valid() bool {
	switch s {
	case SIMInventory, SIMActive, SIMSuspended, SIMTerminated:
		return true
	}
	return false
}

// IMEILockMode says how a SIM is bound to its device.
type IMEILockMode string

const (
	IMEILockOff      IMEILockMode = "off"      // any device
	IMEILockExplicit IMEILockMode = "explicit" // only the IMEI the operator set
	IMEILockLearn    IMEILockMode = "learn"    // bind to the first IMEI seen, then enforce
)

// Valid reports whether m is a known mode.
func (m IMEILockMode) Valid() bool {
	switch m {
	case IMEILockOff, IMEILockExplicit, IMEILockLearn:
		return true
	}
	return false
}

// IMEILockState is the visible state of a lock, derived from its fields.
type IMEILockState string

const (
	IMEILockNone     IMEILockState = "off"      // mode off
	IMEILockUnbound  IMEILockState = "unbound"  // learn mode, nothing seen yet
	IMEILockLocked   IMEILockState = "locked"   // bound, last device seen matched
	IMEILockMismatch IMEILockState = "mismatch" // bound, and another device was seen since
)

// IMEILock binds a SIM to a device. IMEIs are kept as the 14 identifying
// digits (see NormalizeIMEI).
type IMEILock struct {
	Mode IMEILockMode `json:"mode" yaml:"mode"`
	// IMEI is the bound device; empty while a learn lock is unbound.
	IMEI    string     `json:"imei,omitempty" yaml:"imei,omitempty"`
	BoundAt *time.Time `json:"bound_at,omitempty" yaml:"bound_at,omitempty"`
	// MismatchIMEI and MismatchAt record the last different device seen.
	// They are cleared when the SIM is re-bound.
	MismatchIMEI string     `json:"mismatch_imei,omitempty" yaml:"mismatch_imei,omitempty"`
	MismatchAt   *time.Time `json:"mismatch_at,omitempty" yaml:"mismatch_at,omitempty"`
	// RepairUntil opens a re-pairing window for a device swap: until then
	// the next device seen becomes the bound one.
	RepairUntil *time.Time `json:"repair_until,omitempty" yaml:"repair_until,omitempty"`
}

// State derives the visible lock state.
func (l IMEILock) State() IMEILockState {
	switch {
	case l.Mode == IMEILockOff || l.Mode == "":
		return IMEILockNone
	case l.IMEI == "":
		return IMEILockUnbound
	case l.MismatchAt != nil && (l.BoundAt == nil || !l.MismatchAt.Before(*l.BoundAt)):
		return IMEILockMismatch
	}
	return IMEILockLocked
}

// Usage is what a SIM consumed in the current quota period.
type Usage struct {
	PeriodStart time.Time `json:"period_start"`
	DataBytes   int64     `json:"data_bytes"`
	SMSCount    int64     `json:"sms_count"`
}

// SIM is one subscription in the inventory. ICCID, IMSI and MSISDN are each
// unique across the whole installation: the network identifies a SIM by
// them before it knows any tenant.
type SIM struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	ICCID    string `json:"iccid"`
	IMSI     string `json:"imsi"`
	// MSISDN is E.164 digits without "+"; empty for data-only SIMs.
	MSISDN string            `json:"msisdn,omitempty"`
	State  SIMState          `json:"state"`
	Group  string            `json:"group"`
	Labels map[string]string `json:"labels,omitempty"`
	// StaticIP is handed out in Access-Accept when valid.
	StaticIP netip.Addr `json:"static_ip,omitzero"`
	IMEILock IMEILock   `json:"imei_lock"`
	// ActiveFrom starts a scheduled activation ("between 08:00 and
	// 18:00 on Monday"): before it every service is outside its window.
	ActiveFrom *time.Time `json:"active_from,omitempty"`
	// ActiveUntil ends a time-limited activation ("activate for 2h"):
	// after it every service is outside its window.
	ActiveUntil *time.Time `json:"active_until,omitempty"`
	Usage       Usage      `json:"usage"`
	// Version increases with every change; it is the ETag.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the fields an operator sets and normalizes MSISDN and
// IMEI in place. It does not check that the group exists.
func (s *SIM) Validate() error {
	if err := ValidateICCID(s.ICCID); err != nil {
		return err
	}
	if err := ValidateIMSI(s.IMSI); err != nil {
		return err
	}
	if s.MSISDN != "" {
		m, err := NormalizeMSISDN(s.MSISDN)
		if err != nil {
			return err
		}
		s.MSISDN = m
	}
	if s.State == "" {
		s.State = SIMInventory
	}
	if !s.State.Valid() {
		return FieldError("state", "must be one of inventory, active, suspended, terminated, got %q", clip(string(s.State)))
	}
	if err := ValidateName(s.Group); err != nil {
		return FieldError("group", "%s", err.(*Error).Message)
	}
	for k, v := range s.Labels {
		if err := validateLabel(k, v); err != nil {
			return err
		}
	}
	if s.StaticIP.IsValid() && (s.StaticIP.IsUnspecified() || s.StaticIP.IsMulticast()) {
		return FieldError("static_ip", "%s cannot be a device address", s.StaticIP)
	}
	if s.IMEILock.Mode == "" {
		s.IMEILock.Mode = IMEILockOff
	}
	if !s.IMEILock.Mode.Valid() {
		return FieldError("imei_lock.mode", "must be off, explicit or learn, got %q", clip(string(s.IMEILock.Mode)))
	}
	if s.IMEILock.IMEI != "" {
		imei, err := NormalizeIMEI(s.IMEILock.IMEI)
		if err != nil {
			return FieldError("imei_lock.imei", "%s", err.(*Error).Message)
		}
		s.IMEILock.IMEI = imei
	}
	if s.IMEILock.Mode == IMEILockExplicit && s.IMEILock.IMEI == "" {
		return FieldError("imei_lock.imei", "an explicit IMEI lock needs an IMEI")
	}
	if s.ActiveFrom != nil && s.ActiveUntil != nil && !s.ActiveUntil.After(*s.ActiveFrom) {
		return FieldError("active_until", "must be after active_from")
	}
	return nil
}

func validateLabel(k, v string) error {
	if len(k) == 0 || len(k) > 63 || !nameChars(k) {
		return FieldError("labels", "label key %q must be 1-63 of a-z, A-Z, 0-9, '-', '_', '.'", clip(k))
	}
	if len(v) > 255 {
		return FieldError("labels", "value of label %q is longer than 255 characters", k)
	}
	return nil
}

// ValidateName checks a name of a group or tenant: 1 to 63 characters of
// letters, digits, '-', '_' and '.', starting with a letter or digit.
func ValidateName(s string) error {
	if len(s) == 0 || len(s) > 63 || !nameChars(s) || s[0] == '-' || s[0] == '.' || s[0] == '_' {
		return FieldError("name", "must be 1-63 of a-z, A-Z, 0-9, '-', '_', '.', starting with a letter or digit, got %q", clip(s))
	}
	return nil
}

func nameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
