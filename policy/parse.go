package policy

import "github.com/simguard/simguard"

// Parsers of request identifiers. They do not allocate: they run on every
// decision.

// parseIMSI accepts exactly 15 digits, so that the number identifies one
// IMSI string (leading zeros are significant: MCC 001).
func parseIMSI(s string) (uint64, bool) {
	if len(s) != 15 {
		return 0, false
	}
	return simguard.ParseDigits(s)
}

// parseMSISDN accepts what simguard.NormalizeMSISDN accepts.
func parseMSISDN(s string) (uint64, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) < 6 || len(s) > 15 || s[0] == '0' {
		return 0, false
	}
	return simguard.ParseDigits(s)
}

// parseIMEI accepts what simguard.NormalizeIMEI accepts (14 digits, a
// 15-digit IMEI with a right Luhn check digit, or a 16-digit IMEISV) and
// returns the 14 identifying digits as a number.
func parseIMEI(s string) (uint64, bool) {
	if len(s) < 14 || len(s) > 16 {
		return 0, false
	}
	if _, ok := simguard.ParseDigits(s); !ok {
		return 0, false
	}
	if len(s) == 15 && !luhnValid(s) {
		return 0, false
	}
	return simguard.ParseDigits(s[:14])
}

// luhnValid reports whether the last digit of the digit string s is the
// Luhn check digit of the others.
func luhnValid(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsU64(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsCell(s []cellKey, v cellKey) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
