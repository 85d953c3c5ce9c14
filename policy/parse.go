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
// returns the 14 identifying digits as a number, in one pass.
func parseIMEI(s string) (uint64, bool) {
	n := len(s)
	if n < 14 || n > 16 {
		return 0, false
	}
	var v uint64
	sum := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if i < 14 {
			v = v*10 + uint64(d)
		}
		// Luhn over a 15-digit IMEI doubles every second digit from the
		// right, the check digit itself excluded: the odd positions.
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if n == 15 && sum%10 != 0 {
		return 0, false
	}
	return v, true
}
