package storetest

import (
	"net/netip"
	"testing"

	"github.com/simguard/simguard"
)

// testDiameter checks Diameter peers and the device list.
func testDiameter(t *testing.T, open func(t *testing.T) simguard.Store) {
	t.Run("Peers", func(t *testing.T) { testDiameterPeers(t, open) })
	t.Run("Devices", func(t *testing.T) { testDevices(t, open) })
}

func testDiameterPeers(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	head := f.head(t)
	p, err := f.s.CreateDiameterPeer(f.ctx, simguard.DiameterPeer{TenantID: f.alpha.ID, OriginHost: "mme1.example.net",
		Prefix: netip.MustParsePrefix("192.0.2.7/24"), PLMNs: []string{"00101", "310-260"}}, Change(f.alpha.ID, "diameter.peer.create"))
	must(t, "CreateDiameterPeer", err)
	if p.ID == 0 || p.Version != 1 || p.Prefix.String() != "192.0.2.0/24" || p.PLMNs[0] != "001-01" {
		t.Fatalf("created peer %+v: want an id, version 1, a masked prefix and normalized PLMNs", p)
	}
	if f.head(t) != head+1 {
		t.Fatalf("creating a peer must append one audit record")
	}
	_, err = f.s.CreateDiameterPeer(f.ctx, simguard.DiameterPeer{TenantID: f.beta.ID, OriginHost: "mme1.example.net",
		Prefix: netip.MustParsePrefix("192.0.2.8/32")}, Change(f.beta.ID, "diameter.peer.create"))
	wantCode(t, "duplicate Origin-Host", err, simguard.ECONFLICT)
	_, err = f.s.CreateDiameterPeer(f.ctx, simguard.DiameterPeer{TenantID: f.alpha.ID, OriginHost: "bad host!",
		Prefix: netip.MustParsePrefix("192.0.2.8/32")}, Change(f.alpha.ID, "diameter.peer.create"))
	wantCode(t, "invalid Origin-Host", err, simguard.EINVALID)

	all, err := f.s.ListDiameterPeers(f.ctx, 0)
	must(t, "ListDiameterPeers(0)", err)
	beta, err := f.s.ListDiameterPeers(f.ctx, f.beta.ID)
	must(t, "ListDiameterPeers(beta)", err)
	if len(all) != 1 || len(beta) != 0 || all[0].OriginHost != "mme1.example.net" || len(all[0].PLMNs) != 2 {
		t.Fatalf("list: all %+v, beta %+v", all, beta)
	}
	wantCode(t, "delete from another tenant", f.s.DeleteDiameterPeer(f.ctx, f.beta.ID, p.ID, Change(f.beta.ID, "diameter.peer.delete")), simguard.ENOTFOUND)
	must(t, "DeleteDiameterPeer", f.s.DeleteDiameterPeer(f.ctx, f.alpha.ID, p.ID, Change(f.alpha.ID, "diameter.peer.delete")))
	if all, _ := f.s.ListDiameterPeers(f.ctx, 0); len(all) != 0 {
		t.Fatalf("peer still listed after delete: %+v", all)
	}
}

func testDevices(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	head := f.head(t)
	devs := []simguard.Device{
		{IMEI: "356092040793009", Status: simguard.DeviceStolen, Note: "case 17"}, // 15 digits with check digit
		{IMEI: "3560920407930101", Status: simguard.DeviceWatch},                  // IMEISV
	}
	must(t, "PutDevices", f.s.PutDevices(f.ctx, f.alpha.ID, devs, Change(f.alpha.ID, "device.put")))
	if devs[0].IMEI != "35609204079300" || devs[1].IMEI != "35609204079301" || devs[0].ID == 0 {
		t.Fatalf("stored devices %+v: want 14-digit IMEIs and ids", devs)
	}
	if f.head(t) != head+1 {
		t.Fatalf("a bulk write must append exactly one audit record")
	}
	// Replacing by IMEI: the status changes, no duplicate appears.
	must(t, "PutDevices again", f.s.PutDevices(f.ctx, f.alpha.ID, []simguard.Device{{IMEI: "35609204079300", Status: simguard.DeviceBlocked}}, Change(f.alpha.ID, "device.put")))
	list, err := f.s.ListDevices(f.ctx, f.alpha.ID)
	must(t, "ListDevices", err)
	if len(list) != 2 || list[0].Status != simguard.DeviceBlocked || list[0].Note != "" {
		t.Fatalf("after replace: %+v", list)
	}
	err = f.s.PutDevices(f.ctx, f.alpha.ID, []simguard.Device{{IMEI: "35609204079300", Status: simguard.DeviceWatch}, {IMEI: "1234", Status: simguard.DeviceStolen}}, Change(f.alpha.ID, "device.put"))
	if e := wantCode(t, "invalid IMEI in a batch", err, simguard.EINVALID); e.Field != "devices[1].imei" {
		t.Fatalf("field %q, want devices[1].imei", e.Field)
	}
	if list, _ := f.s.ListDevices(f.ctx, f.alpha.ID); list[0].Status != simguard.DeviceBlocked {
		t.Fatalf("a rejected batch must change nothing: %+v", list)
	}
	must(t, "PutDevices beta", f.s.PutDevices(f.ctx, f.beta.ID, []simguard.Device{{IMEI: "35609204079300", Status: simguard.DeviceWatch}}, Change(f.beta.ID, "device.put")))
	n := 0
	must(t, "ScanDevices", f.s.ScanDevices(f.ctx, func(simguard.Device) error { n++; return nil }))
	if n != 3 {
		t.Fatalf("ScanDevices saw %d devices, want 3", n)
	}
	wantCode(t, "delete unknown", f.s.DeleteDevice(f.ctx, f.beta.ID, "35609204079301", Change(f.beta.ID, "device.delete")), simguard.ENOTFOUND)
	must(t, "DeleteDevice", f.s.DeleteDevice(f.ctx, f.alpha.ID, "356092040793009", Change(f.alpha.ID, "device.delete")))
	if list, _ := f.s.ListDevices(f.ctx, f.alpha.ID); len(list) != 1 || list[0].IMEI != "35609204079301" {
		t.Fatalf("after delete: %+v", list)
	}
}
