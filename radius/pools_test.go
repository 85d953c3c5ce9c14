package radius

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// TestPoolLeases: SIMs without a static IP get an address from their
// APN's pool; a SIM keeps it across sessions and restarts; no address is
// handed out twice; an exhausted pool rejects with ip_pool_exhausted.
func TestPoolLeases(t *testing.T) {
	needRadclient(t)
	var sims []testSIM
	for i := range 4 {
		s := baseSIM(int64(i+1), "00101000000000"+string(rune('1'+i)))
		s.APNs = []string{testAPN, "other"}
		sims = append(sims, s)
	}
	leases := &testLeases{}
	// A /30 has two hosts; .1 is excluded, .2 goes to the first SIM, and
	// the 2001:db8::/127 prefix adds two more.
	pool := func(c *Config, d *Deps) {
		c.Pools = []PoolConfig{{Name: "iot", APNs: []string{testAPN},
			Prefixes: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/30"), netip.MustParsePrefix("2001:db8::/127")},
			Exclude:  []netip.Addr{netip.MustParseAddr("10.77.0.1")}}}
		d.Leases = leases
	}
	eval := newTestEvaluator(sims...)
	h := startServer(t, eval, pool)
	ipOf := func(h *harness, imsi, apn string) (string, radclientResult) {
		res := radclient(t, h.auth, "auth", testSecret, accessAttrs(imsi, "", apn)...)
		for _, line := range strings.Split(res.out, "\n") {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "Framed-IP-Address = "); ok {
				return v, res
			}
			if v, ok := strings.CutPrefix(line, "Framed-IPv6-Address = "); ok {
				return v, res
			}
		}
		return "", res
	}
	got := map[string]string{}
	for _, s := range sims[:3] {
		ip, res := ipOf(h, s.IMSI, testAPN)
		if !res.accepted() || ip == "" {
			t.Fatalf("%s: no address:\n%s", s.IMSI, res.out)
		}
		got[s.IMSI] = ip
	}
	// Both addresses of a /127 are hosts (RFC 6164).
	if got[sims[0].IMSI] != "10.77.0.2" || got[sims[1].IMSI] != "2001:db8::" || got[sims[2].IMSI] != "2001:db8::1" {
		t.Errorf("addresses = %v", got)
	}
	if ip, _ := ipOf(h, sims[0].IMSI, testAPN); ip != got[sims[0].IMSI] {
		t.Errorf("second session got %s, want the same %s", ip, got[sims[0].IMSI])
	}
	if ip, res := ipOf(h, sims[3].IMSI, "other"); !res.accepted() || ip != "" {
		t.Errorf("an APN without a pool got %q:\n%s", ip, res.out)
	}
	res := radclient(t, h.auth, "auth", testSecret, accessAttrs(sims[3].IMSI, "", testAPN)...)
	if !res.rejected() || !res.has(`Reply-Message = "ip_pool_exhausted"`) {
		t.Errorf("exhausted pool:\n%s", res.out)
	}
	h.stop()

	// Restart with the same store: every SIM keeps its address.
	h2 := startServer(t, eval, pool)
	for _, s := range sims[:3] {
		if ip, _ := ipOf(h2, s.IMSI, testAPN); ip != got[s.IMSI] {
			t.Errorf("%s after restart: %s, want %s", s.IMSI, ip, got[s.IMSI])
		}
	}
	if len(leases.leases) != 3 {
		t.Errorf("%d leases stored, want 3", len(leases.leases))
	}
	// A released lease (SIM 1 terminated) frees its address for SIM 4.
	if n, err := h2.srv.ReleaseLeases(t.Context(), 1); err != nil || n != 1 {
		t.Fatalf("ReleaseLeases = %d, %v", n, err)
	}
	if ip, res := ipOf(h2, sims[3].IMSI, testAPN); ip != "10.77.0.2" {
		t.Errorf("SIM 4 got %q after the release, want 10.77.0.2:\n%s", ip, res.out)
	}
	_ = simguard.IPLease{}
}

// TestPoolSkipsStaticIPs: an address a SIM holds as its static IP is never
// leased to another SIM, even when the pool's prefix covers it.
func TestPoolSkipsStaticIPs(t *testing.T) {
	static := map[netip.Addr]bool{netip.MustParseAddr("10.78.0.1"): true, netip.MustParseAddr("10.78.0.3"): true}
	ps := newPools([]PoolConfig{{Name: "iot", APNs: []string{testAPN}, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.78.0.0/29")}}},
		&testLeases{}, func(a netip.Addr) bool { return static[a] })
	var got []string
	for sim := int64(1); sim <= 4; sim++ {
		a, err := ps.acquire(t.Context(), time.Second, testAPN, sim, 1, time.Now())
		if err != nil {
			t.Fatalf("SIM %d: %v", sim, err)
		}
		got = append(got, a.String())
	}
	if want := "10.78.0.2 10.78.0.4 10.78.0.5 10.78.0.6"; strings.Join(got, " ") != want {
		t.Errorf("leased %v, want %s", got, want)
	}
	if _, err := ps.acquire(t.Context(), time.Second, testAPN, 5, 1, time.Now()); err != errPoolExhausted {
		t.Errorf("fifth SIM: %v, want the pool exhausted", err)
	}
}
