package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

const (
	resultPass = "pass"
	resultFail = "fail"
	resultSkip = "skip"
)

// tracer collects the steps of an explained evaluation.
type tracer struct {
	steps []simguard.Step
}

func (t *tracer) add(check, result, detail string) {
	t.steps = append(t.steps, simguard.Step{Check: check, Result: result, Detail: detail})
}

// clip shortens what a request carried before a trace repeats it.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func fmtNS(ns int64) string {
	if ns == noEnd || ns == noStart {
		return "never"
	}
	return timeOf(ns).Format(time.RFC3339)
}

func svcText(bits uint8) string {
	var names []string
	for _, s := range simguard.Services {
		if bits&serviceBit(s) != 0 {
			names = append(names, string(s))
		}
	}
	if len(names) == 0 {
		return "no service"
	}
	return strings.Join(names, ", ")
}

func identityText(r *simguard.Request) string {
	switch {
	case r.IMSI != "":
		return fmt.Sprintf("IMSI %q", clip(r.IMSI))
	case r.MSISDN != "":
		return fmt.Sprintf("MSISDN %q", clip(r.MSISDN))
	case r.IP.IsValid():
		return "IP " + r.IP.String()
	}
	return "no identity (IMSI, MSISDN or IP) in the request"
}

func cellText(l *simguard.Location) string {
	if l.Cell&(1<<62) != 0 {
		return fmt.Sprintf("%s-%d-%d", l.PLMN, uint16(l.Cell>>16), uint16(l.Cell))
	}
	return fmt.Sprintf("%s-%d", l.PLMN, l.Cell)
}

func ratsText(rs []simguard.RAT) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
