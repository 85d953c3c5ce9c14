package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

// TestGatewayDocConfig: the configuration example of docs/gateway.md loads
// strictly (unknown keys are errors) and validates.
func TestGatewayDocConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "gateway.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(gateway:.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no gateway: example in docs/gateway.md")
	}
	file := filepath.Join(t.TempDir(), "simguard.yaml")
	os.WriteFile(file, m[1], 0o600)
	cfg, err := nodeConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	gc, err := cfg.Gateway.agentConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Gateway.Enabled || len(gc.DeviceNets) != 2 || gc.Uplink != "eth1" || len(gc.DeviceIfaces) != 1 || gc.SNAT != simguard.SNATMasquerade || gc.NFLogGroup != 7 || gc.Table != "simguard" {
		t.Errorf("the example reads as %+v", gc)
	}
}

func TestGatewayConfigErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"no device nets", "gateway: {enabled: true}", "device prefixes"},
		{"snat address without address", "gateway: {enabled: true, device_nets: [10.0.0.0/8], uplink: eth1, snat: address}", "--snat-addr"},
		{"masquerade without uplink", "gateway: {enabled: true, device_nets: [10.0.0.0/8], snat: masquerade}", "--uplink"},
		{"bad snat mode", "gateway: {enabled: true, device_nets: [10.0.0.0/8], uplink: eth1, snat: magic}", "masquerade, address or off"},
		{"bad table name", "gateway: {enabled: true, device_nets: [10.0.0.0/8], table: 'a b'}", "gateway table"},
		{"overlapping device nets", "gateway: {enabled: true, device_nets: [10.64.0.0/16, 10.64.3.0/24]}", "overlap (device_nets"},
		{"long device interface", "gateway: {enabled: true, device_nets: [10.0.0.0/8], device_ifaces: [averyveryverylongname]}", "device_ifaces"},
		{"device interface twice", "gateway: {enabled: true, device_nets: [10.0.0.0/8], device_ifaces: [gtp0, gtp0]}", "listed twice"},
		{"long interface name", "gateway: {enabled: true, device_nets: [10.0.0.0/8], uplink: averyveryverylongname}", "15 characters"},
		{"unknown key", "gateway: {enabled: true, device_net: [10.0.0.0/8]}", "device_net"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "simguard.yaml")
			os.WriteFile(file, []byte(c.yaml), 0o600)
			cfg, err := nodeConfig(file)
			if err == nil {
				err = checkGateway(&cfg, nil)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
