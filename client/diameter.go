package client

import (
	"context"
	"io"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/simguard/simguard"
)

// DiameterPeerInput is what may be set on a Diameter peer.
type DiameterPeerInput struct {
	OriginHost string       `json:"origin_host"`
	Realm      string       `json:"realm,omitempty"`
	Prefix     netip.Prefix `json:"prefix"`
	PLMNs      []string     `json:"plmns,omitempty"`
}

// DiameterPeers lists the Diameter peers (node tokens: every tenant's).
func (c *Client) DiameterPeers(ctx context.Context) ([]simguard.DiameterPeer, error) {
	var l list[simguard.DiameterPeer]
	return l.Items, c.call(ctx, "GET", "/api/v1/diameter/peers", nil, &l)
}

// CreateDiameterPeer allows an MME to connect (admins).
func (c *Client) CreateDiameterPeer(ctx context.Context, in DiameterPeerInput) (simguard.DiameterPeer, error) {
	var p simguard.DiameterPeer
	return p, c.call(ctx, "POST", "/api/v1/diameter/peers", in, &p)
}

// DeleteDiameterPeer removes a peer (admins).
func (c *Client) DeleteDiameterPeer(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", "/api/v1/diameter/peers/"+strconv.FormatInt(id, 10), nil, nil)
}

// Devices lists the tenant's device list.
func (c *Client) Devices(ctx context.Context) ([]simguard.Device, error) {
	var l list[simguard.Device]
	return l.Items, c.call(ctx, "GET", "/api/v1/devices", nil, &l)
}

// PutDevices adds or replaces devices (writers) and returns how many were stored.
func (c *Client) PutDevices(ctx context.Context, devs []simguard.Device) (int, error) {
	type item struct {
		IMEI   string                `json:"imei"`
		Status simguard.DeviceStatus `json:"status"`
		Note   string                `json:"note,omitempty"`
	}
	in := struct {
		Items []item `json:"items"`
	}{}
	for _, d := range devs {
		in.Items = append(in.Items, item{d.IMEI, d.Status, d.Note})
	}
	var out struct {
		Stored int `json:"stored"`
	}
	return out.Stored, c.call(ctx, "POST", "/api/v1/devices", in, &out)
}

// ImportDevicesCSV uploads a CSV device list (header imei,status[,note]).
func (c *Client) ImportDevicesCSV(ctx context.Context, csv io.Reader) (int, error) {
	var out struct {
		Stored int `json:"stored"`
	}
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/devices", body: csv, contentType: "text/csv"}, &out)
	return out.Stored, err
}

// DeleteDevice removes a device from the list (writers).
func (c *Client) DeleteDevice(ctx context.Context, imei string) error {
	return c.call(ctx, "DELETE", "/api/v1/devices/"+url.PathEscape(imei), nil, nil)
}
