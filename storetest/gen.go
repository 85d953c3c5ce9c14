package storetest

import (
	"fmt"

	"github.com/simguard/simguard"
)

// ICCID returns a valid 19-digit ICCID (Luhn-checked) unique for n >= 0.
func ICCID(n int) string {
	p := fmt.Sprintf("8949%014d", n)
	return p + string(rune('0'+luhn(p)))
}

// IMSI returns a 15-digit IMSI unique for 0 <= n < 10^10.
func IMSI(n int) string { return fmt.Sprintf("26201%010d", n) }

// MSISDN returns a 13-digit E.164 number unique for 0 <= n < 10^9.
func MSISDN(n int) string { return fmt.Sprintf("4917%09d", n) }

// SIM returns a valid SIM in group whose identities derive from n.
func SIM(n int, group string) simguard.SIM {
	return simguard.SIM{
		ICCID:    ICCID(n),
		IMSI:     IMSI(n),
		MSISDN:   MSISDN(n),
		State:    simguard.SIMActive,
		Group:    group,
		IMEILock: simguard.IMEILock{Mode: simguard.IMEILockOff},
	}
}

// SIMs returns count SIMs numbered from first.
func SIMs(first, count int, group string) []simguard.SIM {
	out := make([]simguard.SIM, count)
	for i := range out {
		out[i] = SIM(first+i, group)
	}
	return out
}

// luhn returns the Luhn check digit of the digits in payload.
func luhn(payload string) int {
	sum, double := 0, true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}
