package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// capNetAdmin is CAP_NET_ADMIN's bit in the capability sets.
const capNetAdmin = 12

// CheckPrivilege stops the agent early, with a message saying what to do,
// when the process lacks CAP_NET_ADMIN in its effective set. The kernel
// answering EPERM later is caught too (ErrPermission); this check only
// makes the message come before anything else starts.
func CheckPrivilege() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil // not Linux /proc: let netlink decide
	}
	defer f.Close()
	return checkCaps(f)
}

func checkCaps(r io.Reader) error {
	eff, ok, err := capEff(r)
	if err != nil || !ok {
		return nil
	}
	if eff&(1<<capNetAdmin) == 0 {
		return ErrPermission
	}
	return nil
}

func capEff(f io.Reader) (uint64, bool, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, false, fmt.Errorf("CapEff %q: %w", v, err)
			}
			return n, true, nil
		}
	}
	return 0, false, errors.Join(sc.Err())
}
