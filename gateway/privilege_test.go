package gateway

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCheckCaps(t *testing.T) {
	cases := []struct {
		name, status string
		want         error
	}{
		{"root", "Name:\tsimguard\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n", nil},
		{"only net_admin", "CapEff:\t0000000000001000\n", nil},
		{"unprivileged", "CapEff:\t0000000000000000\n", ErrPermission},
		{"net_raw without net_admin", "CapEff:\t0000000000002000\n", ErrPermission},
		{"no CapEff line", "Name:\tx\n", nil},
		{"garbage", "CapEff:\tzz\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := checkCaps(strings.NewReader(c.status)); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestWithoutNetAdmin re-runs this test binary without CAP_NET_ADMIN
// (setpriv drops it from the bounding set, so the exec'd process cannot
// have it): the check refuses, and so does the kernel, with the message
// that names the capability.
func TestWithoutNetAdmin(t *testing.T) {
	if os.Getenv("SGW_NOCAP_CHILD") == "1" {
		if err := CheckPrivilege(); !errors.Is(err, ErrPermission) {
			t.Fatalf("CheckPrivilege without CAP_NET_ADMIN: %v", err)
		}
		// Only now, with the capability certainly gone, ask the kernel:
		// it must refuse, and the error must say why.
		err := NewNetlink(0).Remove("sgw_nocap_probe")
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("netlink without CAP_NET_ADMIN: %v", err)
		}
		t.Log(err)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop a capability")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin", exe, "-test.run", "^TestWithoutNetAdmin$", "-test.v")
	cmd.Env = append(os.Environ(), "SGW_NOCAP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CAP_NET_ADMIN") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
