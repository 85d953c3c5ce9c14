package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// SyncItem is one object of the policy state (see GET /api/v1/sync/state).
type SyncItem struct {
	Rev     uint64          `json:"rev"`
	Group   *simguard.Group `json:"group"`
	SIM     *simguard.SIM   `json:"sim"`
	Deleted *struct {
		TenantID int64  `json:"tenant_id"`
		Name     string `json:"name"`
	} `json:"deleted"`
	// Devices is the whole device list, when it is in the state or changed.
	Devices *struct {
		Items []simguard.Device `json:"items"`
	} `json:"devices"`
	// The stream's last line: End is true, Epoch and Rev say where to
	// follow the change feed from.
	End   bool   `json:"end"`
	Epoch string `json:"epoch"`
}

// ErrResync means the change feed cannot continue from where the node is:
// read the whole state again.
var ErrResync = errors.New("the control plane asks for a full resync")

// SyncState streams the whole policy state to fn and returns the feed
// position to follow from. A stream cut short is an error: a partial copy
// of the policy must never be used.
func (c *Client) SyncState(ctx context.Context, fn func(SyncItem) error) (epoch string, rev uint64, err error) {
	u := *c.base
	u.Path += "/api/v1/sync/state"
	req, err := newRequest(ctx, "GET", u.String(), c.token)
	if err != nil {
		return "", 0, err
	}
	hc := *c.http
	hc.Timeout = 0 // a million SIMs take a while; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("sync state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", 0, decodeError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var it SyncItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return "", 0, fmt.Errorf("sync state: bad line: %w", err)
		}
		if it.End {
			return it.Epoch, it.Rev, nil
		}
		if err := fn(it); err != nil {
			return "", 0, err
		}
	}
	if err := sc.Err(); err != nil {
		return "", 0, fmt.Errorf("sync state: %w", err)
	}
	return "", 0, errors.New("sync state: the stream ended without its trailer (cut short)")
}

// SyncChanges long-polls for changes after rev (waiting up to wait).
// ErrResync means start over with SyncState.
func (c *Client) SyncChanges(ctx context.Context, epoch string, rev uint64, wait time.Duration) ([]SyncItem, uint64, error) {
	q := url.Values{"epoch": {epoch}, "rev": {strconv.FormatUint(rev, 10)}, "wait": {wait.String()}}
	var out struct {
		Items []SyncItem `json:"items"`
		Rev   uint64     `json:"rev"`
	}
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sync/changes", query: q}, &out)
	var ce *Error
	if errors.As(err, &ce) && ce.Status == 410 {
		return nil, 0, ErrResync
	}
	return out.Items, out.Rev, err
}

// Feedback reports what a remote enforcement node learned.
func (c *Client) Feedback(ctx context.Context, kind string, simID int64, imei, source string, dataBytes, smsCount int64) error {
	return c.call(ctx, "POST", "/api/v1/sync/feedback", map[string]any{
		"kind": kind, "sim_id": simID, "imei": imei, "source": source, "data_bytes": dataBytes, "sms_count": smsCount,
	}, nil)
}

// AppendEvents sends events from a remote node to the control plane's
// event log.
func (c *Client) AppendEvents(ctx context.Context, events []simguard.Event) error {
	return c.call(ctx, "POST", "/api/v1/sync/events", map[string]any{"events": events}, nil)
}
