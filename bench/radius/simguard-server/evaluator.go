package main

import (
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/bench/radius/internal/benchsim"
)

// standIn is the bench's evaluator until the policy package is in main:
// the same three checks FreeRADIUS' users file makes (IMSI known, IMEI
// match, APN), from a map. TODO(lead): replace with policy.Compile of the
// bench group and SIMs once policy lands (see RESULTS.md).
type standIn struct {
	sims map[string]benchSIM
}

type benchSIM struct {
	id     int64
	imei14 string
}

func buildEvaluator(n int) (simguard.Evaluator, error) {
	e := &standIn{sims: make(map[string]benchSIM, n)}
	for i := range n {
		imei, err := simguard.NormalizeIMEI(benchsim.IMEISV(i))
		if err != nil {
			return nil, err
		}
		e.sims[benchsim.IMSI(i)] = benchSIM{id: int64(i + 1), imei14: imei}
	}
	return e, nil
}

func (e *standIn) Evaluate(r *simguard.Request) simguard.Decision {
	s, ok := e.sims[r.IMSI]
	if !ok {
		return simguard.Decision{Reason: simguard.ReasonSIMUnknown}
	}
	d := simguard.Decision{SIMID: s.id, TenantID: 1, Group: "bench"}
	if len(r.IMEI) < 14 || r.IMEI[:14] != s.imei14 {
		d.Reason = simguard.ReasonIMEIMismatch
		return d
	}
	if r.APN != benchsim.APN {
		d.Reason = simguard.ReasonAPNDenied
		return d
	}
	d.Allow, d.Reason = true, simguard.ReasonAllowed
	return d
}
