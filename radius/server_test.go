package radius

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

func TestConfigValidate(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		name string
		cfg  Config
		want string // "" valid
	}{
		{"defaults", Config{}, ""},
		{"bad addr", Config{AuthAddrs: []string{"1812"}}, "auth_addrs[0]"},
		{"bad ipv6 addr", Config{AcctAddrs: []string{"[::1:1813"}}, "acct_addrs[0]"},
		{"workers", Config{Workers: -1}, "workers"},
		{"interim too short", Config{InterimInterval: time.Second}, "interim_interval"},
		{"disconnect attempts", Config{Disconnect: DisconnectConfig{Attempts: 50}}, "disconnect"},
		{"pool without apn", Config{Pools: []PoolConfig{{Name: "a", Prefixes: []netip.Prefix{pfx("10.0.0.0/24")}}}}, "pools[0].apns"},
		{"pool without prefix", Config{Pools: []PoolConfig{{Name: "a", APNs: []string{"x"}}}}, "pools[0].prefixes"},
		{"apn in two pools", Config{Pools: []PoolConfig{
			{Name: "a", APNs: []string{"x"}, Prefixes: []netip.Prefix{pfx("10.0.0.0/24")}},
			{Name: "b", APNs: []string{"X "}, Prefixes: []netip.Prefix{pfx("10.1.0.0/24")}}}}, "already in pool"},
		{"overlapping pools", Config{Pools: []PoolConfig{
			{Name: "a", APNs: []string{"x"}, Prefixes: []netip.Prefix{pfx("10.0.0.0/16")}},
			{Name: "b", APNs: []string{"y"}, Prefixes: []netip.Prefix{pfx("10.0.5.0/24")}}}}, "overlaps"},
		{"duplicate pool name", Config{Pools: []PoolConfig{
			{Name: "a", APNs: []string{"x"}, Prefixes: []netip.Prefix{pfx("10.0.0.0/24")}},
			{Name: "a", APNs: []string{"y"}, Prefixes: []netip.Prefix{pfx("10.1.0.0/24")}}}}, "pools[1].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNASClientValidate(t *testing.T) {
	ok := simguard.NASClient{Name: "pgw", Prefix: netip.MustParsePrefix("192.0.2.7/24"), Secret: "12345678"}
	if err := ok.Validate(); err != nil || ok.CoAPort != 3799 || ok.Prefix.String() != "192.0.2.0/24" || len(ok.IdentityOrder) != 3 {
		t.Fatalf("Validate() = %v, %+v", err, ok)
	}
	if s := ok.String(); strings.Contains(s, "12345678") {
		t.Errorf("String() shows the secret: %s", s)
	}
	tests := []struct {
		name string
		edit func(*simguard.NASClient)
		want string
	}{
		{"short secret", func(c *simguard.NASClient) { c.Secret = "short" }, "secret"},
		{"no prefix", func(c *simguard.NASClient) { c.Prefix = netip.Prefix{} }, "prefix"},
		{"bad name", func(c *simguard.NASClient) { c.Name = "-x" }, "name"},
		{"bad identity", func(c *simguard.NASClient) { c.IdentityOrder = []simguard.IdentitySource{"imei"} }, "identity_order[0]"},
		{"identity twice", func(c *simguard.NASClient) {
			c.IdentityOrder = []simguard.IdentitySource{simguard.IdentityIMSI, simguard.IdentityIMSI}
		}, "identity_order[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simguard.NASClient{Name: "pgw", Prefix: netip.MustParsePrefix("192.0.2.7/32"), Secret: "12345678"}
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want it to name %q", err, tt.want)
			}
		})
	}
	// Duplicate prefixes are refused by the client table.
	if _, err := newClientTable([]simguard.NASClient{ok, {Name: "b", Prefix: ok.Prefix, Secret: "12345678"}}); err == nil {
		t.Error("two clients with one prefix accepted")
	}
}

func TestClientLookup(t *testing.T) {
	tab, err := newClientTable([]simguard.NASClient{
		{Name: "wide", Prefix: netip.MustParsePrefix("10.0.0.0/8"), Secret: "12345678"},
		{Name: "narrow", Prefix: netip.MustParsePrefix("10.1.0.0/16"), Secret: "12345678"},
		{Name: "host", Prefix: netip.MustParsePrefix("10.1.2.3/32"), Secret: "12345678"},
		{Name: "v6", Prefix: netip.MustParsePrefix("2001:db8::/32"), Secret: "12345678"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"10.9.9.9": "wide", "10.1.9.9": "narrow", "10.1.2.3": "host", "::ffff:10.1.2.3": "host",
		"2001:db8::1": "v6", "192.0.2.1": "", "2001:db9::1": "",
	} {
		c := tab.lookup(netip.MustParseAddr(addr))
		if got := ""; c != nil {
			got = c.Name
			if got != want {
				t.Errorf("%s: %s, want %q", addr, got, want)
			}
		} else if want != "" {
			t.Errorf("%s: no client, want %s", addr, want)
		}
	}
}

func TestRATMapping(t *testing.T) {
	want := map[byte]simguard.RAT{1: "3g", 2: "2g", 3: "wlan", 4: "gan", 5: "3g", 6: "4g", 7: "virtual",
		8: "nb-iot", 9: "lte-m", 10: "5g", 0: "rat-0", 11: "rat-11", 102: "rat-102"}
	for in, w := range want {
		if got := ratFromType(in); got != w {
			t.Errorf("RAT type %d: %q, want %q", in, got, w)
		}
	}
}

// TestMetricNames: every metric is simguard_radius_* (STYLE.md).
func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.requests.WithLabelValues("x").Inc()
	m.decisions.WithLabelValues("x", "y").Inc()
	m.latency.WithLabelValues("x").Observe(1)
	m.drops.WithLabelValues("x").Inc()
	m.duplicates.WithLabelValues("x").Inc()
	m.accounting.WithLabelValues("x").Inc()
	m.anomalies.WithLabelValues("x").Inc()
	m.disconnect.WithLabelValues("x").Inc()
	m.feedback.WithLabelValues("x").Inc()
	mfs, _ := reg.Gather()
	if len(mfs) != 10 {
		t.Errorf("%d metric families, want 10", len(mfs))
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "simguard_radius_") {
			t.Errorf("metric %s is not simguard_radius_*", mf.GetName())
		}
	}
}

// TestShutdownLeavesNoGoroutines: Serve returns on cancel after in-flight
// work (here a Disconnect-Request waiting for a silent NAS) and leaves
// nothing running.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		nas := newTestNAS(t, testSecret, nil) // silent
		defer nas.conn.Close()
		eval := newTestEvaluator(baseSIM(1, "001010000000001"))
		h := startServer(t, eval, func(c *Config, d *Deps) {
			d.Clients = []simguard.NASClient{{TenantID: 1, Name: "pgw", Prefix: netip.MustParsePrefix("127.0.0.1/32"),
				Secret: testSecret, CoAPort: nas.port()}}
			c.RecheckInterval = time.Hour
		})
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if resp := exchange(t, conn, h.auth, accessRequest(t, testSecret, 1, "001010000000001", testAPN), 2*time.Second); resp == nil {
			t.Fatal("no answer")
		}
		h.srv.live.put(&liveSession{id: 1, simID: 1, key: sessKey{"pgw", "x"}, nasAddr: netip.MustParseAddr("127.0.0.1"),
			req: simguard.Request{Kind: simguard.KindDataSession, IMSI: "001010000000001", APN: testAPN}})
		eval.change("001010000000001", func(s *testSIM) { s.State = simguard.SIMSuspended })
		if n := h.srv.OnPolicyChange(context.Background(), eval); n != 1 {
			t.Fatalf("%d disconnects started", n)
		}
		h.stop()
		if n := len(h.sink.find(EventDisconnect, map[string]string{"outcome": "timeout"})); n != 1 {
			t.Errorf("Serve returned before the disconnect finished (%d events)", n)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkAccessRequest measures the Access-Request path without the
// network: authenticate, decode, evaluate, encode the answer.
func BenchmarkAccessRequest(b *testing.B) {
	s, l, from, _ := fuzzServer(b)
	s.events = discardSink{}
	req := accessRequest(b, testSecret, 1, "001010000000001", testAPN)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A new authenticator each time, or the duplicate cache answers.
		req[4], req[5] = byte(i), byte(i>>8)
		req[6], req[7] = byte(i>>16), byte(i>>24)
		i++
		resignMA(req)
		if resp, _ := s.process(ctx, l, req, from); resp == nil {
			b.Fatal("no answer")
		}
	}
}

func resignMA(b []byte) {
	copy(b[22:38], make([]byte, 16))
	ma := messageAuthenticator(b, 22, b[4:20], []byte(testSecret))
	copy(b[22:38], ma[:])
}

type discardSink struct{}

func (discardSink) Emit(simguard.Event) {}
