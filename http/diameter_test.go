package http_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// TestDiameterPeersOverHTTP: peers are created (admins only), listed and
// deleted; the answers match the OpenAPI document.
func TestDiameterPeersOverHTTP(t *testing.T) {
	a := newAPI(t)
	topic := make(chan struct{}, 8)
	a.svc.OnTopic(simguard.TopicDiameterPeers, func() { topic <- struct{}{} })
	in := map[string]any{"origin_host": "mme1.epc.example", "prefix": "192.0.2.10/32", "plmns": []string{"00101"}}
	if r := a.call(a.token(0, "operator"), "POST", "/api/v1/diameter/peers", in); r.status != 403 {
		t.Fatalf("operator created a peer: %d", r.status)
	}
	r := a.call(a.admin, "POST", "/api/v1/diameter/peers", in)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	<-topic
	var p simguard.DiameterPeer
	r.decode(t, &p)
	if p.PLMNs[0] != "001-01" {
		t.Fatalf("PLMNs not normalized: %+v", p)
	}
	for name, tc := range map[string]struct {
		body map[string]any
		code int
	}{
		"taken host":    {map[string]any{"origin_host": "mme1.epc.example", "prefix": "192.0.2.11/32"}, 409},
		"bad host":      {map[string]any{"origin_host": "mme 1", "prefix": "192.0.2.11/32"}, 400},
		"bad PLMN":      {map[string]any{"origin_host": "mme2.epc.example", "prefix": "192.0.2.11/32", "plmns": []string{"1"}}, 400},
		"unknown field": {map[string]any{"origin_host": "mme2.epc.example", "prefix": "192.0.2.11/32", "secret": "x"}, 400},
	} {
		if r := a.call(a.admin, "POST", "/api/v1/diameter/peers", tc.body); r.status != tc.code {
			t.Errorf("%s: %d %s, want %d", name, r.status, r.body, tc.code)
		}
	}
	var list struct{ Items []simguard.DiameterPeer }
	a.call(a.admin, "GET", "/api/v1/diameter/peers", nil).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("list: %+v", list)
	}
	if r := a.call(a.admin, "DELETE", "/api/v1/diameter/peers/"+itoa(p.ID), nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "DELETE", "/api/v1/diameter/peers/"+itoa(p.ID), nil); r.status != 404 {
		t.Fatalf("delete again: %d", r.status)
	}
}

// TestDevicesOverHTTP: JSON and CSV bulk import, list, delete; bad rows
// name their line.
func TestDevicesOverHTTP(t *testing.T) {
	a := newAPI(t)
	r := a.call(a.admin, "POST", "/api/v1/devices", map[string]any{"items": []map[string]any{
		{"imei": "356092040793009", "status": "stolen", "note": "case 1"}}})
	if r.status != 200 {
		t.Fatalf("put JSON: %d %s", r.status, r.body)
	}
	r = a.call(a.admin, "POST", "/api/v1/devices", "imei,status\n35209900176148,watch\n35209900176149,blocked\n")
	if r.status != 200 {
		t.Fatalf("put CSV: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "POST", "/api/v1/devices", "imei,status\n35209900176148,lost\n"); r.status != 400 || !contains(r.body, "line 2") {
		t.Fatalf("bad CSV row: %d %s", r.status, r.body)
	}
	if r := a.call(a.token(0, "auditor"), "POST", "/api/v1/devices", "imei,status\n35209900176148,watch\n"); r.status != 403 {
		t.Fatalf("auditor wrote the list: %d", r.status)
	}
	var list struct{ Items []simguard.Device }
	a.call(a.admin, "GET", "/api/v1/devices", nil).decode(t, &list)
	if len(list.Items) != 3 || list.Items[0].IMEI != "35609204079300" {
		t.Fatalf("list: %+v", list.Items)
	}
	if r := a.call(a.admin, "DELETE", "/api/v1/devices/356092040793009", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := a.call(a.admin, "DELETE", "/api/v1/devices/356092040793009", nil); r.status != 404 {
		t.Fatalf("delete again: %d", r.status)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
