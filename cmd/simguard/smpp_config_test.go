package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSMPPDocConfig: the configuration example of docs/smpp.md loads
// strictly and validates, with every key it shows.
func TestSMPPDocConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "smpp.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(smpp:.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no smpp: example in docs/smpp.md")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smsc.password")
	os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
	file := filepath.Join(dir, "simguard.yaml")
	os.WriteFile(file, []byte(strings.ReplaceAll(string(m[1]), "/etc/simguard/smsc-main.password", pwFile)), 0o600)
	cfg, err := nodeConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	pcfg, err := cfg.SMPP.proxyConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	u := pcfg.Upstreams[0]
	if pcfg.Listen != "127.0.0.1:2775" || u.Password != "s3cret" || u.Binds != 2 || len(u.Addrs) != 2 || pcfg.ESMEWindow != 1024 {
		t.Errorf("the example reads as %+v", pcfg)
	}
	// A password file others may read is refused.
	os.Chmod(pwFile, 0o644)
	if _, err := cfg.SMPP.proxyConfig(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable password file: %v", err)
	}
}

func TestSMPPFlagsAndConfig(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		cfg   smppConfig
		env   map[string]string
		check func(c smppConfig) bool
		err   string
	}{
		{name: "quick start", args: []string{"--smpp-listen", ":2775", "--smpp-upstream", "fw@127.0.0.1:2776,127.0.0.1:2777"},
			env: map[string]string{"SIMGUARD_SMPP_PASSWORD": "pw"},
			check: func(c smppConfig) bool {
				u := c.Upstreams[0]
				return c.Listen == ":2775" && u.Name == "main" && u.SystemID == "fw" && len(u.Addrs) == 2 && u.PasswordEnv == "SIMGUARD_SMPP_PASSWORD"
			}},
		{name: "default system_id", args: []string{"--smpp-upstream", "127.0.0.1:2776"},
			check: func(c smppConfig) bool { return c.Upstreams[0].SystemID == "simguard" }},
		{name: "bad upstream flag", args: []string{"--smpp-upstream", "fw@nowhere"}, err: "host:port"},
		{name: "no upstream", cfg: smppConfig{Listen: ":2775"}, err: "smpp.upstreams"},
		{name: "two password sources", cfg: smppConfig{Listen: ":2775", Upstreams: []smppUpstreamConfig{{Name: "a", Addrs: []string{"h:1"},
			PasswordEnv: "X", PasswordFile: "/x"}}}, err: "smpp.upstreams[0].password_file"},
		{name: "missing password file", cfg: smppConfig{Listen: ":2775", Upstreams: []smppUpstreamConfig{{Name: "a", Addrs: []string{"h:1"},
			PasswordFile: "/nonexistent/pw"}}}, err: "smpp.upstreams[0].password_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			fs := newFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, "serve", "", "")
			smppFlags(fs, &c)
			err := fs.Parse(tc.args)
			if err == nil {
				_, err = c.proxyConfig(func(k string) string { return tc.env[k] })
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("%+v, %v", c, err)
			}
		})
	}
}
