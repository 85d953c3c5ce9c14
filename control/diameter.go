package control

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/policy"
)

// ChangeDevices: the device list changed; nodes re-read it whole.
const ChangeDevices ChangeKind = "devices"

// maxDeviceImport bounds one bulk import (rows).
const maxDeviceImport = 1_000_000

// loadDevices puts the store's whole device list into the live snapshot.
func (s *Service) loadDevices(ctx context.Context) error {
	var devs []simguard.Device
	if err := s.store.ScanDevices(ctx, func(d simguard.Device) error {
		devs = append(devs, d)
		return nil
	}); err != nil {
		return fmt.Errorf("load devices: %w", err)
	}
	return s.policy.Update(func(p *policy.Snapshot) (*policy.Snapshot, error) { return p.WithDevices(devs) })
}

// devicesChanged reloads the device list into the snapshot and tells
// remote nodes.
func (s *Service) devicesChanged(ctx context.Context) {
	if err := s.loadDevices(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("reload the device list into the policy", "err", err)
	}
	s.feed.add(Change{Kind: ChangeDevices})
	s.Publish(simguard.TopicDevices)
}

// ListDiameterPeers lists the caller's tenant's peers; node tokens (the
// "simguard diameter" node) and provider admins get every tenant's.
func (s *Service) ListDiameterPeers(ctx context.Context) ([]simguard.DiameterPeer, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	tenant := a.TenantID
	if a.Role == simguard.RoleNode || a.Provider {
		tenant = 0
	}
	return s.store.ListDiameterPeers(ctx, tenant)
}

// CreateDiameterPeer allows an MME to connect (admins).
func (s *Service) CreateDiameterPeer(ctx context.Context, p simguard.DiameterPeer) (simguard.DiameterPeer, error) {
	a, err := admin(ctx)
	if err != nil {
		return p, err
	}
	p.ID, p.TenantID = 0, a.TenantID
	created, err := s.store.CreateDiameterPeer(ctx, p, simguard.Change{Actor: a, Action: "diameter.peer.create"})
	if err != nil {
		return created, err
	}
	s.Publish(simguard.TopicDiameterPeers)
	return created, nil
}

// DeleteDiameterPeer removes a peer (admins); its open connection is
// closed by the servers that reload.
func (s *Service) DeleteDiameterPeer(ctx context.Context, id int64) error {
	a, err := admin(ctx)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDiameterPeer(ctx, a.TenantID, id, simguard.Change{Actor: a, Action: "diameter.peer.delete"}); err != nil {
		return err
	}
	s.Publish(simguard.TopicDiameterPeers)
	return nil
}

// ListDevices lists the caller's tenant's device list.
func (s *Service) ListDevices(ctx context.Context) ([]simguard.Device, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ListDevices(ctx, a.TenantID)
}

// PutDevices adds or replaces entries of the caller's tenant's device
// list (writers), all or none; the policy uses them at once.
func (s *Service) PutDevices(ctx context.Context, devs []simguard.Device) ([]simguard.Device, error) {
	a, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	if len(devs) > maxDeviceImport {
		return nil, simguard.FieldError("devices", "at most %d devices at once", maxDeviceImport)
	}
	if err := s.store.PutDevices(ctx, a.TenantID, devs, simguard.Change{Actor: a, Action: "device.put"}); err != nil {
		return nil, err
	}
	s.devicesChanged(ctx)
	return devs, nil
}

// DeleteDevice removes an entry of the caller's tenant's list (writers).
func (s *Service) DeleteDevice(ctx context.Context, imei string) error {
	a, err := writer(ctx)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDevice(ctx, a.TenantID, imei, simguard.Change{Actor: a, Action: "device.delete"}); err != nil {
		return err
	}
	s.devicesChanged(ctx)
	return nil
}

// ParseDevicesCSV reads a device list: a header line naming the columns
// imei and status (note optional, any order), then one device per line.
// Errors name the line.
func ParseDevicesCSV(r io.Reader) ([]simguard.Device, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, simguard.FieldError("csv", "no header line: want imei,status[,note]")
	}
	col := map[string]int{"imei": -1, "status": -1, "note": -1}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, ok := col[h]; !ok {
			return nil, simguard.FieldError("csv", "line 1: unknown column %q; want imei, status, note", clipText(h))
		}
		col[h] = i
	}
	if col["imei"] < 0 || col["status"] < 0 {
		return nil, simguard.FieldError("csv", "line 1: the header needs the columns imei and status")
	}
	var out []simguard.Device
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, simguard.FieldError("csv", "line %d: %v", line, err)
		}
		if len(out) >= maxDeviceImport {
			return nil, simguard.FieldError("csv", "more than %d devices", maxDeviceImport)
		}
		get := func(c string) string {
			if i := col[c]; i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		d := simguard.Device{IMEI: get("imei"), Status: simguard.DeviceStatus(strings.ToLower(get("status"))), Note: get("note")}
		if err := d.Validate(); err != nil {
			var se *simguard.Error
			if errors.As(err, &se) {
				return nil, simguard.FieldError("csv", "line %d: %s: %s", line, se.Field, se.Message)
			}
			return nil, err
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, simguard.FieldError("csv", "no devices after the header")
	}
	return out, nil
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
