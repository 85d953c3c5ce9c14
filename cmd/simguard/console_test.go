package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard/demo"
)

// chromiumPath is Debian's chromium, which the project's test script
// installs; Playwright cannot download a browser here.
const chromiumPath = "/usr/bin/chromium"

// TestConsoleInBrowser drives the web console of a real "serve --demo"
// with headless Chromium through Playwright (console/e2e): log in, find
// a SIM, suspend it with confirmation, see the audit record, see a
// denial reported by an enforcement node appear, edit a group, and check
// that an auditor can change nothing. It saves screenshots of every page
// at laptop and phone size in test-output/console/.
func TestConsoleInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (scripts/test installs it with the other peers): skipping the browser test of the console")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("Debian's chromium is not installed at " + chromiumPath + " (scripts/test installs it): skipping the browser test of the console")
	}
	e2e, err := filepath.Abs(filepath.Join("..", "..", "console", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		// scripts/test runs npm ci for every package-lock.json; a plain
		// "go test" does it here.
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = e2e
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", e2e, err, out)
		}
	}
	out, err := filepath.Abs(filepath.Join("..", "..", "test-output", "console"))
	if err != nil {
		t.Fatal(err)
	}

	s := startServer(t, t.TempDir(), true)
	defer s.stop()
	token := func(role string) string {
		code, text := s.cli(t, s.token, "", "token", "create", "--name", "e2e-"+role, "--role", role)
		secret := regexp.MustCompile(`sgt_\S+`).FindString(text)
		if code != 0 || secret == "" {
			t.Fatalf("token create --role %s: %d %s", role, code, text)
		}
		return secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.test.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"SIMGUARD_URL="+s.url,
		"SIMGUARD_ADMIN_TOKEN="+s.token,
		"SIMGUARD_AUDITOR_TOKEN="+token("auditor"),
		"SIMGUARD_NODE_TOKEN="+token("node"),
		"SIMGUARD_OUT="+out,
		"SIMGUARD_SIM_IMSI="+demo.IMSI(41),
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	t.Logf("browser test output:\n%s", buf.String())
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	if !strings.Contains(buf.String(), " 0 failed") {
		t.Fatal("the browser test did not report its result")
	}
}
