package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// t0 is a Wednesday morning; most tests decide at it.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

// luhnDigit computes the check digit for payload (test-side, independent
// of the package's own Luhn code).
func luhnDigit(payload string) byte {
	sum := 0
	for i := 0; i < len(payload); i++ {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func iccidFor(n uint64) string {
	p := fmt.Sprintf("894900%012d", n)
	return p + string(luhnDigit(p))
}

// imei15 gives the 15-digit IMEI (with check digit) of 14 digits.
func imei15(d14 string) string { return d14 + string(luhnDigit(d14)) }

// testSIM is an active SIM of tenant 1 in group "g" with IMSI 00101 + id,
// MSISDN 49170 + id.
func testSIM(id int64) simguard.SIM {
	return simguard.SIM{
		ID:       id,
		TenantID: 1,
		ICCID:    iccidFor(uint64(id)),
		IMSI:     fmt.Sprintf("00101%010d", id),
		MSISDN:   fmt.Sprintf("49170%08d", id),
		State:    simguard.SIMActive,
		Group:    "g",
		IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff},
	}
}

func testGroup(name string, p simguard.Policy) simguard.Group {
	return simguard.Group{ID: 1, TenantID: 1, Name: name, Policy: p}
}

// allServices is a policy that enables everything and restricts nothing.
func allServices() simguard.Policy {
	return simguard.Policy{Services: []simguard.Service{simguard.ServiceData, simguard.ServiceSMSMO, simguard.ServiceSMSMT}}
}

func mustCompile(t testing.TB, groups []simguard.Group, sims []simguard.SIM) *Snapshot {
	t.Helper()
	s, err := Compile(groups, sims)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// reqFor is a request of kind k from SIM id 7 (by IMSI) at t0.
func reqFor(k simguard.RequestKind) simguard.Request {
	r := simguard.Request{Kind: k, Time: t0, IMSI: testSIM(7).IMSI}
	switch k {
	case simguard.KindIMEICheck:
		r.IMEI = imei15("35209900176148")
	case simguard.KindFlow:
		r.IMSI = ""
		r.IP = netip.MustParseAddr("10.0.0.7")
		r.Flow = simguard.Flow{Remote: netip.MustParseAddr("203.0.113.10"), Proto: 6, Port: 443}
	}
	return r
}

var allKinds = []simguard.RequestKind{
	simguard.KindDataSession, simguard.KindSMSMO, simguard.KindSMSMT,
	simguard.KindAttach, simguard.KindIMEICheck, simguard.KindFlow,
}

func asError(err error, target **simguard.Error) bool { return errors.As(err, target) }
