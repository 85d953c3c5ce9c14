package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestGatewayNodeDryRun runs "simguard gateway --dry-run" as a node of a
// running control plane (demo fleet): it follows the policy over the sync
// API with a node token and prints the table as nft text.
func TestGatewayNodeDryRun(t *testing.T) {
	s := startServer(t, t.TempDir(), true)
	defer s.stop()
	code, out := s.cli(t, s.token, "", "token", "create", "--name", "gw-1", "--role", "node")
	nodeToken := regexp.MustCompile(`sgt_\S+`).FindString(out)
	if code != 0 || nodeToken == "" {
		t.Fatalf("token create --role node: exit %d\n%s", code, out)
	}
	cases := []struct {
		name  string
		token string
		args  []string
		code  int
		want  []string
	}{
		{"dry run", nodeToken, []string{"gateway", "--dry-run", "--device-net", "10.0.0.0/8,fd00::/8", "--uplink", "eth1"}, 0,
			[]string{"table inet simguard {", "map sim4_out {", " : goto g", "oifname \"eth1\" ip saddr @devnets4 masquerade", "elements = { 10.0.0.0/8 }"}},
		{"fixed snat", nodeToken, []string{"gateway", "--dry-run", "--device-net", "10.0.0.0/8", "--uplink", "eth1", "--snat", "address", "--snat-addr", "198.51.100.7", "--table", "fw2"}, 0,
			[]string{"table inet fw2 {", "snat ip to 198.51.100.7"}},
		{"no device nets", nodeToken, []string{"gateway", "--dry-run"}, 2, []string{"--device-net"}},
		{"snat without uplink", nodeToken, []string{"gateway", "--dry-run", "--device-net", "10.0.0.0/8", "--snat", "masquerade"}, 2, []string{"--uplink"}},
		{"bad prefix", nodeToken, []string{"gateway", "--device-net", "10.0.0.300/8"}, 1, []string{"CIDR"}},
		{"no token", "", []string{"gateway", "--dry-run", "--device-net", "10.0.0.0/8"}, 1, []string{"SIMGUARD_TOKEN"}},
		{"help", nodeToken, []string{"gateway", "--help"}, 0, []string{"CAP_NET_ADMIN", "--remove-on-exit", "--dry-run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := s.cli(t, c.token, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%.3000s", w, out)
				}
			}
		})
	}
}
