package simguard

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// SMPPAccount is an ESME (a customer's SMS application) that may bind to
// the SMS firewall. The firewall relays its messages to the upstream SMSC
// named by Upstream, and delivers to it the messages devices send to its
// MOPrefixes and the receipts of what it sent.
type SMPPAccount struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// SystemID is the system_id of its bind requests: 1 to 15 printable
	// ASCII characters, unique across the installation.
	SystemID string `json:"system_id"`
	// PasswordHash is a bcrypt hash of the password ("$2a$…"); the
	// password itself is never stored, logged or returned.
	PasswordHash string `json:"-"`
	// Upstream names the SMSC route its messages go to (an
	// SMPPUpstream.Name); empty means the first configured route.
	Upstream string `json:"upstream,omitempty"`
	// MOPrefixes are the destination prefixes (its short codes or long
	// numbers) of device messages delivered to this account. Empty: any
	// device message of its tenant's SIMs may be delivered to it.
	MOPrefixes []string `json:"mo_prefixes,omitempty"`
	// MaxBinds caps its concurrent binds; 0 means the proxy's default.
	MaxBinds int  `json:"max_binds,omitempty"`
	Disabled bool `json:"disabled,omitempty"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the fields an operator sets and normalizes MOPrefixes.
// It does not check that Upstream names a configured route.
func (a *SMPPAccount) Validate() error {
	if len(a.SystemID) == 0 || len(a.SystemID) > 15 || !printableASCII(a.SystemID) {
		return FieldError("system_id", "must be 1-15 printable ASCII characters (SMPP 3.4 allows 15), got %q", clip(a.SystemID))
	}
	if a.Upstream != "" {
		if err := ValidateName(a.Upstream); err != nil {
			return FieldError("upstream", "%s", err.(*Error).Message)
		}
	}
	for i, p := range a.MOPrefixes {
		n, err := NormalizeSMSPeer(p)
		if err != nil {
			return FieldError(fmt.Sprintf("mo_prefixes[%d]", i), "%v", err)
		}
		a.MOPrefixes[i] = n
	}
	if a.MaxBinds < 0 || a.MaxBinds > 1000 {
		return FieldError("max_binds", "must be 0 (default) to 1000, got %d", a.MaxBinds)
	}
	return nil
}

// SMPPUpstream is an SMSC route the firewall binds to as a transceiver:
// Binds parallel binds, each connecting to the first address of Addrs that
// answers (failover in order).
type SMPPUpstream struct {
	Name string `json:"name" yaml:"name"`
	// Addrs are "host:port" in failover order.
	Addrs      []string `json:"addrs" yaml:"addrs"`
	SystemID   string   `json:"system_id" yaml:"system_id"`
	SystemType string   `json:"system_type,omitempty" yaml:"system_type,omitempty"`
	// Password is a secret: a store must keep it encrypted at rest, and no
	// API may return it. It is never logged.
	Password string `json:"password,omitempty" yaml:"password,omitempty"`
	// Binds is the number of parallel binds (default 1).
	Binds int `json:"binds,omitempty" yaml:"binds,omitempty"`
	// Window caps outstanding requests per bind (default 256).
	Window int `json:"window,omitempty" yaml:"window,omitempty"`
}

// Validate checks an upstream and fills in defaults.
func (u *SMPPUpstream) Validate() error {
	if err := ValidateName(u.Name); err != nil {
		return FieldError("name", "%s", err.(*Error).Message)
	}
	if len(u.Addrs) == 0 {
		return FieldError("addrs", "upstream %q needs at least one host:port", u.Name)
	}
	for i, a := range u.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return FieldError(fmt.Sprintf("addrs[%d]", i), "want host:port, got %q", clip(a))
		}
	}
	if len(u.SystemID) > 15 || !printableASCII(u.SystemID) {
		return FieldError("system_id", "must be at most 15 printable ASCII characters")
	}
	if len(u.Password) > 8 {
		return FieldError("password", "SMPP 3.4 passwords have at most 8 characters")
	}
	if len(u.SystemType) > 12 {
		return FieldError("system_type", "must be at most 12 characters")
	}
	if u.Binds == 0 {
		u.Binds = 1
	}
	if u.Binds < 1 || u.Binds > 64 {
		return FieldError("binds", "must be 1-64, got %d", u.Binds)
	}
	if u.Window == 0 {
		u.Window = 256
	}
	if u.Window < 1 || u.Window > 65536 {
		return FieldError("window", "must be 1-65536, got %d", u.Window)
	}
	return nil
}

func printableASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e }) < 0
}

// SMPPStore keeps ESME accounts. Writes are transactional and append their
// audit record in the same transaction; audit records never contain the
// password hash.
type SMPPStore interface {
	// CreateSMPPAccount stores a (ID, Version 1 and times are set). It
	// fails with ECONFLICT when the system_id is taken.
	CreateSMPPAccount(ctx context.Context, a SMPPAccount, ch Change) (SMPPAccount, error)
	GetSMPPAccount(ctx context.Context, tenantID, id int64) (SMPPAccount, error)
	// SMPPAccountBySystemID finds an account of any tenant for a bind;
	// ENOTFOUND if none. It is read on every bind and must be fast.
	SMPPAccountBySystemID(ctx context.Context, systemID string) (SMPPAccount, error)
	ListSMPPAccounts(ctx context.Context, tenantID int64) ([]SMPPAccount, error)
	// UpdateSMPPAccount works like UpdateGroup; fn must not change ID or
	// TenantID. Changing PasswordHash is a "smpp_account.password" change.
	UpdateSMPPAccount(ctx context.Context, tenantID, id, ifVersion int64, ch Change, fn func(*SMPPAccount) error) (SMPPAccount, error)
	DeleteSMPPAccount(ctx context.Context, tenantID, id, ifVersion int64, ch Change) error
}
