package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// What a RADIUS enforcement node calls on the control plane (node tokens
// only; see /api/v1/sync/radius in the OpenAPI document).

// NodeNASClients reads every tenant's NAS clients with their shared
// secrets. With the etag of the previous answer it returns changed false
// (and no list) when nothing changed since.
func (c *Client) NodeNASClients(ctx context.Context, etag string) (list []simguard.NASClient, tag string, changed bool, err error) {
	u := *c.base
	u.Path += "/api/v1/sync/radius/nas"
	req, err := newRequest(ctx, "GET", u.String(), c.token)
	if err != nil {
		return nil, "", false, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", false, fmt.Errorf("NAS clients: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, etag, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, "", false, decodeError(resp)
	}
	var body struct {
		Items []struct {
			simguard.NASClient
			Secret string `json:"secret"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, "", false, fmt.Errorf("NAS clients: reading the answer: %w", err)
	}
	list = make([]simguard.NASClient, len(body.Items))
	for i, it := range body.Items {
		list[i] = it.NASClient
		list[i].Secret = it.Secret
	}
	return list, resp.Header.Get("ETag"), true, nil
}

func sessionQuery(nas, sessionID string) url.Values {
	return url.Values{"nas": {nas}, "session_id": {sessionID}}
}

// RADIUSLiveSession is RADIUSSessionStore.LiveSession on the control plane.
func (c *Client) RADIUSLiveSession(ctx context.Context, nas, sessionID string) (simguard.RADIUSSession, error) {
	var s simguard.RADIUSSession
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sync/radius/sessions/live", query: sessionQuery(nas, sessionID)}, &s)
	return s, err
}

// RADIUSLastSession is RADIUSSessionStore.LastSession on the control plane.
func (c *Client) RADIUSLastSession(ctx context.Context, nas, sessionID string) (simguard.RADIUSSession, error) {
	var s simguard.RADIUSSession
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sync/radius/sessions/last", query: sessionQuery(nas, sessionID)}, &s)
	return s, err
}

// SaveRADIUSSession is RADIUSSessionStore.SaveSession on the control
// plane: when it returns without error the session is committed there,
// and s has its ID and new Version.
func (c *Client) SaveRADIUSSession(ctx context.Context, s *simguard.RADIUSSession) error {
	var saved simguard.RADIUSSession
	if err := c.call(ctx, "POST", "/api/v1/sync/radius/sessions", s, &saved); err != nil {
		return err
	}
	s.ID, s.Version = saved.ID, saved.Version
	return nil
}

// SetRADIUSSessionDisconnect is RADIUSSessionStore.SetSessionDisconnect.
func (c *Client) SetRADIUSSessionDisconnect(ctx context.Context, id int64, d simguard.RADIUSDisconnect) error {
	return c.call(ctx, "PUT", "/api/v1/sync/radius/sessions/"+strconv.FormatInt(id, 10)+"/disconnect", d, nil)
}

// StopNASSessions is RADIUSSessionStore.StopNASSessions.
func (c *Client) StopNASSessions(ctx context.Context, nas string, at time.Time, cause string) (int64, error) {
	var out struct {
		Stopped int64 `json:"stopped"`
	}
	err := c.call(ctx, "POST", "/api/v1/sync/radius/sessions/stop", map[string]any{"nas": nas, "at": at, "cause": cause}, &out)
	return out.Stopped, err
}

// NodeRADIUSSessions is RADIUSSessionStore.ListSessions, every tenant's.
func (c *Client) NodeRADIUSSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	q := url.Values{}
	for k, v := range map[string]int64{"sim": f.SIMID, "tenant": f.TenantID, "after": f.AfterID, "limit": int64(f.Limit)} {
		if v != 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	if f.NAS != "" {
		q.Set("nas", f.NAS)
	}
	if f.LiveOnly {
		q.Set("live", "true")
	}
	var l list[simguard.RADIUSSession]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sync/radius/sessions", query: q}, &l)
	return l.Items, err
}

// IPLeases is IPLeaseStore.ListLeases on the control plane.
func (c *Client) IPLeases(ctx context.Context, pool string) ([]simguard.IPLease, error) {
	var l list[simguard.IPLease]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sync/radius/leases", query: url.Values{"pool": {pool}}}, &l)
	return l.Items, err
}

// IPLease is IPLeaseStore.GetLease on the control plane.
func (c *Client) IPLease(ctx context.Context, pool string, simID int64) (simguard.IPLease, error) {
	var l simguard.IPLease
	err := c.call(ctx, "GET", "/api/v1/sync/radius/leases/"+url.PathEscape(pool)+"/"+strconv.FormatInt(simID, 10), nil, &l)
	return l, err
}

// CreateIPLease is IPLeaseStore.CreateLease on the control plane (ECONFLICT
// when the address or the SIM is taken in the pool).
func (c *Client) CreateIPLease(ctx context.Context, l simguard.IPLease) error {
	return c.call(ctx, "POST", "/api/v1/sync/radius/leases", l, nil)
}

// ReleaseIPLeases is IPLeaseStore.ReleaseLeases on the control plane.
func (c *Client) ReleaseIPLeases(ctx context.Context, simID int64) (int64, error) {
	var out struct {
		Released int64 `json:"released"`
	}
	_, err := c.do(ctx, request{method: "DELETE", path: "/api/v1/sync/radius/leases", query: url.Values{"sim": {strconv.FormatInt(simID, 10)}}}, &out)
	return out.Released, err
}
