package simguard

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Diameter domain: the peers (MMEs) allowed to talk to simguard's S13 EIR
// and S6a guard, and the operator's device list (stolen, blocked, watched
// IMEIs) that the policy consults for every request that carries an IMEI.

// TopicDiameterPeers is published after Diameter peers changed, so that
// running Diameter servers reload them.
const TopicDiameterPeers = "diameter.peers"

// DiameterPeer is a Diameter client (an MME or SGSN) allowed to connect:
// its Origin-Host must match and its connection must come from Prefix.
type DiameterPeer struct {
	ID         int64        `json:"id"`
	TenantID   int64        `json:"tenant_id"`
	OriginHost string       `json:"origin_host"`
	Realm      string       `json:"realm,omitempty"` // Origin-Realm it must send; empty: any
	Prefix     netip.Prefix `json:"prefix"`
	// PLMNs the peer may report as Visited-PLMN-Id in S6a ULRs ("MCC-MNC");
	// empty: any. An MME of one network claiming another is denied.
	PLMNs     []string  `json:"plmns,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a peer and normalizes it (masked prefix, PLMN spelling).
func (p *DiameterPeer) Validate() error {
	if p.OriginHost == "" || len(p.OriginHost) > 255 || !isIdentity(p.OriginHost) {
		return FieldError("origin_host", "must be a DiameterIdentity (FQDN) like mme1.epc.mnc001.mcc001.3gppnetwork.org")
	}
	if p.Realm != "" && (len(p.Realm) > 255 || !isIdentity(p.Realm)) {
		return FieldError("realm", "must be a realm (FQDN) like epc.mnc001.mcc001.3gppnetwork.org")
	}
	if !p.Prefix.IsValid() {
		return FieldError("prefix", "must be an address or CIDR like 192.0.2.10/32")
	}
	p.Prefix = netip.PrefixFrom(p.Prefix.Addr().Unmap(), p.Prefix.Bits()).Masked()
	for i, s := range p.PLMNs {
		pl, err := ParsePLMN(s)
		if err != nil {
			return FieldError(fmt.Sprintf("plmns[%d]", i), "%s", err.Error())
		}
		p.PLMNs[i] = pl.String()
	}
	return nil
}

// AllowsPLMN reports whether the peer may serve pl.
func (p *DiameterPeer) AllowsPLMN(pl PLMN) bool {
	if len(p.PLMNs) == 0 {
		return true
	}
	s := pl.String()
	for _, x := range p.PLMNs {
		if x == s {
			return true
		}
	}
	return false
}

func isIdentity(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".")
}

// DiameterPeerStore keeps Diameter peers. Writes are audited.
type DiameterPeerStore interface {
	// CreateDiameterPeer fails with ECONFLICT when the Origin-Host is taken.
	CreateDiameterPeer(ctx context.Context, p DiameterPeer, ch Change) (DiameterPeer, error)
	// ListDiameterPeers lists a tenant's peers; tenantID 0 lists all.
	ListDiameterPeers(ctx context.Context, tenantID int64) ([]DiameterPeer, error)
	DeleteDiameterPeer(ctx context.Context, tenantID, id int64, ch Change) error
}

// DeviceStatus is why a device is on the operator's list.
type DeviceStatus string

const (
	DeviceStolen  DeviceStatus = "stolen"  // reported stolen: denied, EIR BLACKLISTED
	DeviceBlocked DeviceStatus = "blocked" // blocked by the operator: denied, EIR BLACKLISTED
	DeviceWatch   DeviceStatus = "watch"   // allowed but watched: EIR GREYLISTED
)

// TopicDevices is published after the device list changed.
const TopicDevices = "devices"

// Device is one entry of the operator's device list. IMEI is the 14-digit
// TAC+SNR (a 15-digit IMEI's check digit and a 16-digit IMEISV's software
// version are dropped), so every form of one device matches one entry.
// A device listed by the provider tenant applies to every tenant's SIMs;
// one listed by another tenant to that tenant's SIMs only.
type Device struct {
	ID        int64        `json:"id"`
	TenantID  int64        `json:"tenant_id"`
	IMEI      string       `json:"imei"`
	Status    DeviceStatus `json:"status"`
	Note      string       `json:"note,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// Validate checks a device entry and normalizes its IMEI to 14 digits.
func (d *Device) Validate() error {
	imei, err := NormalizeIMEI(d.IMEI)
	if err != nil {
		return err
	}
	d.IMEI = imei
	switch d.Status {
	case DeviceStolen, DeviceBlocked, DeviceWatch:
	default:
		return FieldError("status", "must be stolen, blocked or watch, got %q", clip(string(d.Status)))
	}
	if len(d.Note) > 500 {
		return FieldError("note", "at most 500 characters")
	}
	return nil
}

// DeviceStore keeps the operator's device list. Writes are audited.
type DeviceStore interface {
	// PutDevices inserts or replaces (by tenant and IMEI) every device or
	// none, with one audit record.
	PutDevices(ctx context.Context, tenantID int64, devs []Device, ch Change) error
	ListDevices(ctx context.Context, tenantID int64) ([]Device, error)
	// DeleteDevice removes a tenant's entry; ENOTFOUND when there is none.
	DeleteDevice(ctx context.Context, tenantID int64, imei string, ch Change) error
	// ScanDevices calls fn for every device of every tenant.
	ScanDevices(ctx context.Context, fn func(Device) error) error
}

// DiameterStore is what the control plane keeps for Diameter.
type DiameterStore interface {
	DiameterPeerStore
	DeviceStore
}
