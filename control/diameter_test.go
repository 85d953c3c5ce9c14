package control_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

// TestDeviceListInPolicy: a device put on the list is denied by the live
// policy at once, a watched one is allowed with DeviceWatch, and remote
// nodes get the list through the change feed.
func TestDeviceListInPolicy(t *testing.T) {
	f := newFixture(t)
	ecr := simguard.Request{Kind: simguard.KindIMEICheck, IMSI: demo.IMSI(0), IMEI: demo.IMEI(0)}
	if d := f.decide(ecr); !d.Allow {
		t.Fatalf("before listing: %+v", d)
	}
	rev := f.svc.Feed().Rev()
	if _, err := f.svc.PutDevices(f.admin, []simguard.Device{{IMEI: demo.IMEI(0), Status: simguard.DeviceStolen}}); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(ecr); d.Allow || d.Reason != simguard.ReasonDeviceBlocked {
		t.Fatalf("stolen device: %+v", d)
	}
	node := f.as(t, simguard.ProviderTenantID, simguard.RoleNode)
	items, _, _, err := f.svc.SyncChanges(node, f.svc.Feed().Epoch, rev, time.Second)
	if err != nil || len(items) != 1 || items[0].Devices == nil || len(items[0].Devices.Items) != 1 {
		t.Fatalf("feed after a device change: %+v, %v", items, err)
	}
	if _, err := f.svc.PutDevices(f.admin, []simguard.Device{{IMEI: demo.IMEI(0), Status: simguard.DeviceWatch}}); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(ecr); !d.Allow || !d.DeviceWatch {
		t.Fatalf("watched device: %+v", d)
	}
	if err := f.svc.DeleteDevice(f.admin, demo.IMEI(0)); err != nil {
		t.Fatal(err)
	}
	if d := f.decide(ecr); !d.Allow || d.DeviceWatch {
		t.Fatalf("after delete: %+v", d)
	}
	auditor := f.as(t, simguard.ProviderTenantID, simguard.RoleAuditor)
	if _, err := f.svc.PutDevices(auditor, []simguard.Device{{IMEI: demo.IMEI(1), Status: simguard.DeviceStolen}}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("auditor writing the list: %v", err)
	}
}

func TestDiameterPeersService(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.CreateDiameterPeer(f.admin, simguard.DiameterPeer{OriginHost: "mme.example.net", Prefix: netip.MustParsePrefix("127.0.0.1/32")})
	if err != nil || p.TenantID != simguard.ProviderTenantID {
		t.Fatalf("create: %+v %v", p, err)
	}
	node := f.as(t, simguard.ProviderTenantID, simguard.RoleNode)
	if list, err := f.svc.ListDiameterPeers(node); err != nil || len(list) != 1 {
		t.Fatalf("node list: %+v %v", list, err)
	}
	op := f.as(t, simguard.ProviderTenantID, simguard.RoleOperator)
	if _, err := f.svc.CreateDiameterPeer(op, simguard.DiameterPeer{OriginHost: "x.example.net", Prefix: netip.MustParsePrefix("127.0.0.2/32")}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("operator creating a peer: %v", err)
	}
	if err := f.svc.DeleteDiameterPeer(f.admin, p.ID); err != nil {
		t.Fatal(err)
	}
}

func TestParseDevicesCSV(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		err      string
	}{
		{"ok", "imei,status,note\n356092040793009,stolen,case 1\n35609204079301,WATCH,\n", 2, ""},
		{"columns in any order, no note", "status,imei\nblocked,35609204079300\n", 1, ""},
		{"bad status", "imei,status\n35609204079300,lost\n", 0, "line 2: status"},
		{"bad check digit", "imei,status\n356092040793001,stolen\n", 0, "line 2: imei"},
		{"unknown column", "imei,status,colour\n", 0, "unknown column"},
		{"missing column", "imei\n35609204079300\n", 0, "needs the columns"},
		{"empty", "imei,status\n", 0, "no devices"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			devs, err := control.ParseDevicesCSV(strings.NewReader(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(devs) != c.n {
				t.Fatalf("%d devices, %v", len(devs), err)
			}
		})
	}
}
