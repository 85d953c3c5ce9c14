package client

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/simguard/simguard"
)

// NASClientInput is what may be set on a RADIUS NAS client. Secret is
// write-only; empty in a replace keeps the current one.
type NASClientInput struct {
	Name                             string                    `json:"name"`
	Prefix                           netip.Prefix              `json:"prefix"`
	Secret                           string                    `json:"secret,omitempty"`
	IdentityOrder                    []simguard.IdentitySource `json:"identity_order,omitempty"`
	AllowMissingMessageAuthenticator bool                      `json:"allow_missing_message_authenticator,omitempty"`
	CoAPort                          uint16                    `json:"coa_port,omitempty"`
	CoAAddr                          netip.Addr                `json:"coa_addr,omitzero"`
}

// NASClients lists the tenant's RADIUS NAS clients (without secrets).
func (c *Client) NASClients(ctx context.Context) ([]simguard.NASClient, error) {
	var l list[simguard.NASClient]
	return l.Items, c.call(ctx, "GET", "/api/v1/radius/nas", nil, &l)
}

// CreateNASClient registers a packet gateway (admins).
func (c *Client) CreateNASClient(ctx context.Context, in NASClientInput) (simguard.NASClient, error) {
	var n simguard.NASClient
	return n, c.call(ctx, "POST", "/api/v1/radius/nas", in, &n)
}

// ReplaceNASClient replaces a NAS client's settings (admins).
func (c *Client) ReplaceNASClient(ctx context.Context, id int64, in NASClientInput, ifVersion int64) (simguard.NASClient, error) {
	b, err := jsonBody(in)
	if err != nil {
		return simguard.NASClient{}, err
	}
	var n simguard.NASClient
	_, err = c.do(ctx, request{method: "PUT", path: "/api/v1/radius/nas/" + strconv.FormatInt(id, 10),
		body: b, contentType: "application/json", ifMatch: ifVersion}, &n)
	return n, err
}

// DeleteNASClient removes a NAS client (admins).
func (c *Client) DeleteNASClient(ctx context.Context, id, ifVersion int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/api/v1/radius/nas/" + strconv.FormatInt(id, 10), ifMatch: ifVersion}, nil)
	return err
}

// RADIUSSessions lists accounting sessions matching f (TenantID only for
// provider admins), and the AfterID of the next page (0: no more).
func (c *Client) RADIUSSessions(ctx context.Context, f simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, int64, error) {
	q := url.Values{}
	set := func(k string, v int64) {
		if v != 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	set("sim", f.SIMID)
	set("tenant", f.TenantID)
	set("after", f.AfterID)
	set("limit", int64(f.Limit))
	if f.NAS != "" {
		q.Set("nas", f.NAS)
	}
	if f.LiveOnly {
		q.Set("live", "true")
	}
	var l list[simguard.RADIUSSession]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/radius/sessions", query: q}, &l)
	return l.Items, l.NextAfter, err
}
