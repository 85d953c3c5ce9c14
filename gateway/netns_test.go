//go:build linux

package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requireNetns skips when network namespaces cannot be made here (not
// root, or a kernel that refuses them) and when nft is missing.
func requireNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespace tests need root (ip netns add)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("network namespace tests need %s: %v", tool, err)
		}
	}
}

// newNetns makes a namespace with a random name, returns its name and an
// open descriptor, and deletes it when the test ends.
func newNetns(t testing.TB, prefix string) (string, int) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("the kernel refuses network namespaces here: ip netns add: %v: %s", err, out)
	}
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		exec.Command("ip", "netns", "del", name).Run()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fd)
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	return name, fd
}

// expires drops the time left of elements with a timeout from nft's
// listing: it differs between two listings of the same table.
var expires = regexp.MustCompile(` expires [0-9dhms]+`)

// listTable lists a table of ns as nft prints it, without the time left
// of timed elements.
func listTable(t testing.TB, ns, table string) string {
	t.Helper()
	return expires.ReplaceAllString(inNS(t, ns, "nft", "list", "table", "inet", table), "")
}

// inNS runs a command inside a namespace and returns its output.
func inNS(t testing.TB, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}
