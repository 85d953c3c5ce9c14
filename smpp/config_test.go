package smpp

import (
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func TestConfigValidation(t *testing.T) {
	ok := func() Config {
		return Config{Upstreams: []simguard.SMPPUpstream{{Name: "main", Addrs: []string{"127.0.0.1:2775"}}}}
	}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no upstream", func(c *Config) { c.Upstreams = nil }, "smpp.upstreams"},
		{"upstream without address", func(c *Config) { c.Upstreams[0].Addrs = nil }, "smpp.upstreams[0].addrs"},
		{"upstream address without port", func(c *Config) { c.Upstreams[0].Addrs = []string{"smsc"} }, "smpp.upstreams[0].addrs[0]"},
		{"upstream bad name", func(c *Config) { c.Upstreams[0].Name = "-x" }, "smpp.upstreams[0].name"},
		{"duplicate upstream", func(c *Config) { c.Upstreams = append(c.Upstreams, c.Upstreams[0]) }, "smpp.upstreams[1].name"},
		{"upstream password too long", func(c *Config) { c.Upstreams[0].Password = "123456789" }, "smpp.upstreams[0].password"},
		{"upstream window", func(c *Config) { c.Upstreams[0].Window = -1 }, "smpp.upstreams[0].window"},
		{"listen", func(c *Config) { c.Listen = "2775" }, "smpp.listen"},
		{"system_id", func(c *Config) { c.SystemID = "a-very-long-system-id" }, "smpp.system_id"},
		{"max_pdu", func(c *Config) { c.MaxPDU = 100 }, "smpp.max_pdu"},
		{"negative duration", func(c *Config) { c.ResponseTimeout = -time.Second }, "smpp.response_timeout"},
		{"backoff bounds", func(c *Config) { c.ReconnectMin, c.ReconnectMax = time.Minute, time.Second }, "smpp.reconnect_max"},
		{"window", func(c *Config) { c.ESMEWindow = -1 }, "smpp.esme_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.SystemID != "simguard" || c.MaxPDU != 65536 || c.Upstreams[0].Binds != 1 || c.Upstreams[0].Window != 256 || c.ESMEWindow != 1024 {
					t.Errorf("defaults not applied: %+v", c)
				}
				return
			}
			e, isErr := err.(*simguard.Error)
			if !isErr || e.Field != tc.field {
				t.Errorf("got %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestNewNeedsDeps(t *testing.T) {
	cfg := Config{Upstreams: []simguard.SMPPUpstream{{Name: "main", Addrs: []string{"127.0.0.1:2775"}}}}
	if _, err := New(cfg, Deps{}); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("got %v", err)
	}
}
