package control

import (
	"context"
	"time"

	"github.com/simguard/simguard"
)

// SyncItem is one object of the state a remote node mirrors.
type SyncItem struct {
	Rev   uint64          `json:"rev,omitempty"`
	Group *simguard.Group `json:"group,omitempty"`
	SIM   *simguard.SIM   `json:"sim,omitempty"`
	// Deleted names a removed group (SIMs are never deleted, only
	// terminated).
	Deleted *DeletedGroup `json:"deleted,omitempty"`
	// Devices is the whole device list (every tenant's), sent once in the
	// state and again whenever it changed.
	Devices *DeviceList `json:"devices,omitempty"`
}

// DeviceList carries the device list in a SyncItem.
type DeviceList struct {
	Items []simguard.Device `json:"items"`
}

// DeletedGroup names a group that no longer exists.
type DeletedGroup struct {
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
}

// SyncState streams every group, then every SIM, of every tenant, and
// returns the feed position to follow from. Node tokens only.
func (s *Service) SyncState(ctx context.Context, fn func(SyncItem) error) (epoch string, rev uint64, err error) {
	if _, err := node(ctx); err != nil {
		return "", 0, err
	}
	// Read the position first: a change racing with the scan is then
	// delivered again by the feed, which is harmless.
	epoch, rev = s.feed.Epoch, s.feed.Rev()
	if err := s.store.ScanGroups(ctx, func(g simguard.Group) error {
		return fn(SyncItem{Group: &g})
	}); err != nil {
		return "", 0, err
	}
	if err := s.store.ScanSIMs(ctx, func(sim *simguard.SIM) error {
		c := *sim
		return fn(SyncItem{SIM: &c})
	}); err != nil {
		return "", 0, err
	}
	devs, err := s.store.ListDevices(ctx, 0)
	if err != nil {
		return "", 0, err
	}
	if len(devs) > 0 { // a node starts from an empty list
		if err := fn(SyncItem{Devices: &DeviceList{Items: devs}}); err != nil {
			return "", 0, err
		}
	}
	return epoch, rev, nil
}

// SyncChanges returns the current content of what changed after rev,
// waiting up to wait for something to change. resync is true when the
// node must call SyncState again (another epoch, or too far behind).
func (s *Service) SyncChanges(ctx context.Context, epoch string, rev uint64, wait time.Duration) (items []SyncItem, next uint64, resync bool, err error) {
	if _, err := node(ctx); err != nil {
		return nil, 0, false, err
	}
	if epoch != s.feed.Epoch {
		return nil, 0, true, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	changes, _, ok := s.feed.Since(wctx, rev, 5000)
	if !ok {
		return nil, 0, true, nil
	}
	next = rev
	for _, c := range changes {
		next = c.Rev
		switch c.Kind {
		case ChangeSIM:
			sim, err := s.store.GetSIM(ctx, c.TenantID, c.SIMID)
			if err != nil {
				return nil, 0, false, err
			}
			items = append(items, SyncItem{Rev: c.Rev, SIM: &sim})
		case ChangeDevices:
			devs, err := s.store.ListDevices(ctx, 0)
			if err != nil {
				return nil, 0, false, err
			}
			items = append(items, SyncItem{Rev: c.Rev, Devices: &DeviceList{Items: devs}})
		case ChangeGroup:
			g, err := s.store.GetGroup(ctx, c.TenantID, c.Group)
			if simguard.ErrorCode(err) == simguard.ENOTFOUND {
				items = append(items, SyncItem{Rev: c.Rev, Deleted: &DeletedGroup{TenantID: c.TenantID, Name: c.Group}})
				continue
			}
			if err != nil {
				return nil, 0, false, err
			}
			items = append(items, SyncItem{Rev: c.Rev, Group: &g})
		}
	}
	return items, next, false, nil
}

// NodeFeedback authorizes feedback from a remote node and returns the
// service to call. Local enforcement points call the Feedback methods
// directly.
func (s *Service) NodeFeedback(ctx context.Context) (simguard.Feedback, error) {
	if _, err := node(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// maxNodeEvents bounds one batch of events from a node.
const maxNodeEvents = 10_000

// AppendNodeEvents stores events sent by a remote enforcement node. The
// node says which SIM and tenant each event is about; node tokens are
// trusted with that, as they are trusted to enforce.
func (s *Service) AppendNodeEvents(ctx context.Context, events []simguard.Event) error {
	if _, err := node(ctx); err != nil {
		return err
	}
	if len(events) > maxNodeEvents {
		return simguard.Errorf(simguard.EINVALID, "at most %d events per batch", maxNodeEvents)
	}
	for i := range events {
		e := &events[i]
		e.ID = 0
		if e.Type == "" || e.Source == "" || e.TenantID <= 0 {
			return simguard.Errorf(simguard.EINVALID, "event %d: type, source and tenant_id are required", i+1)
		}
	}
	if err := s.store.AppendEvents(ctx, events); err != nil {
		return err
	}
	s.nodeEventsStored(events)
	return nil
}
