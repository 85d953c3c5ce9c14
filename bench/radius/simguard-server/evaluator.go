package main

import (
	"fmt"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/bench/radius/internal/benchsim"
	"github.com/simguard/simguard/policy"
)

// buildEvaluator compiles the bench policy with the real policy engine:
// one group that allows data on the bench APN only, n active SIMs each
// bound (explicit IMEI lock) to its device — the same three checks as the
// FreeRADIUS users file (IMSI known, IMEI match, APN).
func buildEvaluator(n int) (simguard.Evaluator, error) {
	b, err := policy.NewBuilder([]simguard.Group{{ID: 1, TenantID: 1, Name: "bench", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData},
		APNs:     []string{benchsim.APN},
	}}})
	if err != nil {
		return nil, err
	}
	var sim simguard.SIM
	for i := range n {
		imei, err := simguard.NormalizeIMEI(benchsim.IMEISV(i))
		if err != nil {
			return nil, err
		}
		sim = simguard.SIM{ID: int64(i + 1), TenantID: 1, ICCID: iccid(i), IMSI: benchsim.IMSI(i),
			State: simguard.SIMActive, Group: "bench",
			IMEILock: simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: imei}}
		if err := b.AddSIM(&sim); err != nil {
			return nil, fmt.Errorf("SIM %d: %w", i, err)
		}
	}
	return b.Build(), nil
}

// iccid makes a valid (Luhn) 19-digit ICCID for SIM i.
func iccid(i int) string {
	p := fmt.Sprintf("894900%012d", i)
	sum := 0
	for j := len(p) - 1; j >= 0; j-- {
		d := int(p[j] - '0')
		if (len(p)-j)%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return p + string(rune('0'+(10-sum%10)%10))
}
